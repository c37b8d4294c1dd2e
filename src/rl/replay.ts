/**
 * Experience replay (§4.5, Algorithm 3's R): a circular buffer of transitions (s, a, r, s', terminal) in
 * Float32Array storage, sampled uniformly with replacement from a caller-supplied seeded generator, as the
 * authors' `ReplayMemory.minibatch` (numpy `randint`) does. When full, the oldest transition is overwritten.
 *
 * `terminal` is the environment's own end of the episode (a fall, a goal): the learner does not bootstrap past
 * it. A time-limit truncation is not terminal (see ../runner.ts).
 */
import { fail } from '../util/errors.js';
import { checkPositiveInt } from '../util/options.js';
import type { Rng } from '../util/random.js';

/** A minibatch, row-major: `observations` is [size × observationSize], `actions` [size × actionSize], etc. */
export interface Batch {
  readonly size: number;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly observations: Float32Array;
  readonly actions: Float32Array;
  readonly rewards: Float32Array;
  readonly nextObservations: Float32Array;
  /** 1 where the transition ended the episode (no bootstrapping), else 0. */
  readonly terminals: Float32Array;
  /** The storage slot of each row (set by `sample` and `gather`; lets an agent cache per-transition work). */
  readonly indices?: Int32Array;
}

/** The serializable contents of a buffer (only the filled part). */
export interface ReplayState {
  capacity: number;
  observationSize: number;
  actionSize: number;
  /** Transitions stored (≤ capacity). */
  size: number;
  /** Index the next transition is written to. */
  next: number;
  /** Transitions ever added. */
  added: number;
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObservations: Float32Array;
  terminals: Float32Array;
}

/** A fixed-capacity ring buffer of transitions, sampled uniformly in minibatches. */
export class ReplayBuffer {
  readonly capacity: number;
  readonly observationSize: number;
  readonly actionSize: number;
  private obs: Float32Array;
  private act: Float32Array;
  private rew: Float32Array;
  private obs2: Float32Array;
  private term: Float32Array;
  private count = 0;
  private head = 0;
  private total = 0;

  constructor(capacity: number, observationSize: number, actionSize: number) {
    this.capacity = checkPositiveInt('ReplayBuffer', 'capacity', capacity);
    this.observationSize = checkPositiveInt('ReplayBuffer', 'observationSize', observationSize);
    this.actionSize = checkPositiveInt('ReplayBuffer', 'actionSize', actionSize);
    // Storage grows geometrically up to the capacity, so a 500k-transition buffer costs nothing until it fills.
    const initial = Math.min(this.capacity, 1024);
    this.obs = new Float32Array(initial * observationSize);
    this.act = new Float32Array(initial * actionSize);
    this.rew = new Float32Array(initial);
    this.obs2 = new Float32Array(initial * observationSize);
    this.term = new Float32Array(initial);
  }

  /** Transitions currently stored. */
  get size(): number {
    return this.count;
  }

  /** The storage slot the next `add` writes to. */
  get nextSlot(): number {
    return this.head;
  }

  /** Transitions ever added (including overwritten ones). */
  get added(): number {
    return this.total;
  }

  /**
   * Store one transition, overwriting the oldest when full.
   *
   * @param observation - s
   * @param action - a, in [−1, 1]^d
   * @param reward - r
   * @param nextObservation - s'
   * @param terminal - whether the task ended the episode (no bootstrapping from s')
   */
  add(observation: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextObservation: ArrayLike<number>, terminal: boolean): void {
    const where = 'ReplayBuffer.add';
    checkRow(where, 'observation', observation, this.observationSize);
    checkRow(where, 'action', action, this.actionSize);
    checkRow(where, 'nextObservation', nextObservation, this.observationSize);
    if (typeof reward !== 'number' || !Number.isFinite(reward)) fail(`${where}: reward must be a finite number, got ${String(reward)}`);
    if (typeof terminal !== 'boolean') fail(`${where}: terminal must be a boolean, got ${JSON.stringify(terminal)}`);
    if (this.count < this.capacity && this.head >= this.rew.length) this.grow();
    const i = this.head;
    const o = this.observationSize;
    const a = this.actionSize;
    for (let k = 0; k < o; k++) {
      this.obs[i * o + k] = observation[k];
      this.obs2[i * o + k] = nextObservation[k];
    }
    for (let k = 0; k < a; k++) this.act[i * a + k] = action[k];
    this.rew[i] = reward;
    this.term[i] = terminal ? 1 : 0;
    this.head = (this.head + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    this.total++;
  }

  /** `size` transitions drawn uniformly with replacement. */
  sample(size: number, rng: Rng): Batch {
    checkPositiveInt('ReplayBuffer.sample', 'size', size);
    if (this.count === 0) fail('ReplayBuffer.sample: the buffer is empty');
    const indices = new Int32Array(size);
    for (let r = 0; r < size; r++) indices[r] = rng.int(this.count);
    return this.gather(indices);
  }

  /** The transitions at the given storage indices (each in [0, size)), in that order. */
  gather(indices: ArrayLike<number>): Batch {
    const n = indices.length;
    const o = this.observationSize;
    const a = this.actionSize;
    const b = {
      size: n, observationSize: o, actionSize: a,
      observations: new Float32Array(n * o), actions: new Float32Array(n * a), rewards: new Float32Array(n),
      nextObservations: new Float32Array(n * o), terminals: new Float32Array(n), indices: Int32Array.from(indices),
    };
    for (let r = 0; r < n; r++) {
      const i = indices[r];
      if (!Number.isInteger(i) || i < 0 || i >= this.count) fail(`ReplayBuffer.gather: index ${i} is outside [0, ${this.count})`);
      b.observations.set(this.obs.subarray(i * o, (i + 1) * o), r * o);
      b.nextObservations.set(this.obs2.subarray(i * o, (i + 1) * o), r * o);
      b.actions.set(this.act.subarray(i * a, (i + 1) * a), r * a);
      b.rewards[r] = this.rew[i];
      b.terminals[r] = this.term[i];
    }
    return b;
  }

  /** A copy of the filled part, for checkpoints. */
  getState(): ReplayState {
    const n = this.count;
    return {
      capacity: this.capacity, observationSize: this.observationSize, actionSize: this.actionSize,
      size: n, next: this.head, added: this.total,
      observations: this.obs.slice(0, n * this.observationSize), actions: this.act.slice(0, n * this.actionSize),
      rewards: this.rew.slice(0, n), nextObservations: this.obs2.slice(0, n * this.observationSize), terminals: this.term.slice(0, n),
    };
  }

  /** Restore `getState()` output; the capacity and the row widths must match this buffer's. */
  setState(s: ReplayState): void {
    const where = 'ReplayBuffer.setState';
    if (s.capacity !== this.capacity || s.observationSize !== this.observationSize || s.actionSize !== this.actionSize) {
      fail(`${where}: the state is for a buffer of capacity ${s.capacity} with rows (${s.observationSize}, ${s.actionSize}), ` +
        `this one has capacity ${this.capacity} with rows (${this.observationSize}, ${this.actionSize})`);
    }
    const n = s.size;
    if (!Number.isInteger(n) || n < 0 || n > this.capacity || !Number.isInteger(s.next) || s.next < 0 || s.next >= this.capacity ||
      (n < this.capacity && s.next !== n) || !Number.isInteger(s.added) || s.added < n) {
      fail(`${where}: inconsistent counters (size ${n}, next ${s.next}, added ${s.added}, capacity ${this.capacity})`);
    }
    const lengths: [string, Float32Array, number][] = [
      ['observations', s.observations, n * this.observationSize], ['actions', s.actions, n * this.actionSize],
      ['rewards', s.rewards, n], ['nextObservations', s.nextObservations, n * this.observationSize], ['terminals', s.terminals, n],
    ];
    for (const [name, arr, len] of lengths) {
      if (!(arr instanceof Float32Array) || arr.length !== len) fail(`${where}: ${name} must be a Float32Array of ${len} values`);
    }
    const room = Math.max(n, Math.min(this.capacity, 1024));
    this.obs = new Float32Array(room * this.observationSize);
    this.act = new Float32Array(room * this.actionSize);
    this.rew = new Float32Array(room);
    this.obs2 = new Float32Array(room * this.observationSize);
    this.term = new Float32Array(room);
    this.obs.set(s.observations);
    this.act.set(s.actions);
    this.rew.set(s.rewards);
    this.obs2.set(s.nextObservations);
    this.term.set(s.terminals);
    this.count = n;
    this.head = s.next;
    this.total = s.added;
  }

  private grow(): void {
    const rows = Math.min(this.capacity, this.rew.length * 2);
    const o = this.observationSize;
    const a = this.actionSize;
    const resize = (old: Float32Array, width: number): Float32Array => {
      const next = new Float32Array(rows * width);
      next.set(old);
      return next;
    };
    this.obs = resize(this.obs, o);
    this.obs2 = resize(this.obs2, o);
    this.act = resize(this.act, a);
    this.rew = resize(this.rew, 1);
    this.term = resize(this.term, 1);
  }
}

function checkRow(where: string, name: string, row: ArrayLike<number>, width: number): void {
  if (row === null || typeof row !== 'object' || row.length !== width) {
    fail(`${where}: ${name} must be an array of ${width} numbers, got ${row === null || typeof row !== 'object' ? String(row) : `length ${row.length}`}`);
  }
  for (let k = 0; k < width; k++) {
    if (typeof row[k] !== 'number' || !Number.isFinite(row[k])) fail(`${where}: ${name}[${k}] must be a finite number, got ${String(row[k])}`);
  }
}
