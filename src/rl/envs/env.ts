/**
 * The environment interface of the continuous-control study (paper §4.5, §5.4) and the bookkeeping every
 * environment shares: action validation and clipping, the episode step counter and time limit, seeding.
 *
 * Conventions (Gymnasium-like):
 * - `reset(seed?)` starts an episode and returns the first observation. With a seed the environment's generator is
 *   re-seeded, so the same seed gives the same episode; without one the generator's stream continues (the first
 *   stream comes from the `seed` option, default 0, so an environment is deterministic unless told otherwise).
 * - `step(action)` needs a running episode: before the first `reset` or after an episode ended (terminated or
 *   truncated) it throws; call `reset()`.
 * - Actions must have `actionSize` finite numbers (NaN or ±Infinity is refused with an IcnnError); each coordinate
 *   is then clipped to [actionLow, actionHigh], as Gym's `ClipAction` wrapper does, and the clipped action is what
 *   the dynamics and the reward see.
 * - `truncated` is true on the step that reaches `maxEpisodeSteps` (Gym's `TimeLimit`); it may be true together
 *   with `terminated`. A learner should bootstrap through truncation but not through termination.
 * - Observations are fresh `Float64Array`s the caller may keep.
 */
import { fail, IcnnError } from '../../util/errors.js';
import { checkPositiveInt } from '../../util/options.js';
import { Rng } from '../../util/random.js';

export interface StepResult {
  readonly observation: Float64Array;
  readonly reward: number;
  /** The task's own end (a fall, the goal): no bootstrapping past this step. */
  readonly terminated: boolean;
  /** The time limit `maxEpisodeSteps` was reached. */
  readonly truncated: boolean;
  /** Reward terms and diagnostics, task-specific. */
  readonly info?: Readonly<Record<string, number>>;
}

export interface Env {
  readonly name: string;
  readonly observationSize: number;
  readonly actionSize: number;
  /** Copies: changing them does not change the environment. */
  readonly actionLow: Float64Array;
  readonly actionHigh: Float64Array;
  /** ±Infinity where the observation is unbounded. */
  readonly observationLow: Float64Array;
  readonly observationHigh: Float64Array;
  readonly maxEpisodeSteps: number;
  /** Start an episode (reseeding the environment when `seed` is given); returns the first observation. */
  reset(seed?: number): Float64Array;
  /** Apply an action and advance one control step; returns the observation, reward and whether the episode ended. */
  step(action: ArrayLike<number>): StepResult;
  /** Frees the environment's resources (MuJoCo model and data); later calls throw. Calling it twice is harmless. */
  close(): void;
}

/** What a task implementation returns from one step, before the time limit is applied. */
export interface TaskStep {
  observation: Float64Array;
  reward: number;
  terminated: boolean;
  info?: Record<string, number>;
}

export interface EnvSpaces {
  name: string;
  actionLow: ArrayLike<number>;
  actionHigh: ArrayLike<number>;
  observationLow: ArrayLike<number>;
  observationHigh: ArrayLike<number>;
  maxEpisodeSteps: number;
  seed?: number;
}

/** A seed is an integer in [0, 2^32). */
export function checkSeed(where: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    fail(`${where}: seed must be an integer in [0, 2^32), got ${typeof seed === 'number' ? seed : JSON.stringify(seed)}`);
  }
  return seed;
}

/**
 * The shared part of every environment. Subclasses implement `resetTask` (draw the initial state from the given
 * generator, return the observation) and `stepTask` (advance with an already validated and clipped action).
 */
export abstract class BaseEnv implements Env {
  readonly name: string;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly maxEpisodeSteps: number;
  protected readonly low: Float64Array;
  protected readonly high: Float64Array;
  private readonly obsLow: Float64Array;
  private readonly obsHigh: Float64Array;
  private readonly clipped: Float64Array;
  private rng: Rng;
  private steps = 0;
  private running = false;
  private closed = false;

  protected constructor(spaces: EnvSpaces) {
    this.name = spaces.name;
    this.low = Float64Array.from(spaces.actionLow);
    this.high = Float64Array.from(spaces.actionHigh);
    this.obsLow = Float64Array.from(spaces.observationLow);
    this.obsHigh = Float64Array.from(spaces.observationHigh);
    if (this.low.length !== this.high.length || this.obsLow.length !== this.obsHigh.length) {
      throw new Error(`${this.name}: inconsistent space bounds`);
    }
    for (let i = 0; i < this.low.length; i++) {
      if (!(this.low[i] < this.high[i])) throw new Error(`${this.name}: empty action range at ${i}`);
    }
    this.actionSize = this.low.length;
    this.observationSize = this.obsLow.length;
    this.maxEpisodeSteps = checkPositiveInt(this.name, 'maxEpisodeSteps', spaces.maxEpisodeSteps);
    this.clipped = new Float64Array(this.actionSize);
    this.rng = new Rng(checkSeed(this.name, spaces.seed ?? 0));
  }

  get actionLow(): Float64Array {
    return this.low.slice();
  }

  get actionHigh(): Float64Array {
    return this.high.slice();
  }

  get observationLow(): Float64Array {
    return this.obsLow.slice();
  }

  get observationHigh(): Float64Array {
    return this.obsHigh.slice();
  }

  /** Steps taken in the current episode. */
  get elapsedSteps(): number {
    return this.steps;
  }

  reset(seed?: number): Float64Array {
    this.checkOpen('reset');
    if (seed !== undefined) this.rng = new Rng(checkSeed(`${this.name}.reset`, seed));
    const obs = this.resetTask(this.rng);
    this.steps = 0;
    this.running = true;
    return obs;
  }

  step(action: ArrayLike<number>): StepResult {
    this.checkOpen('step');
    if (!this.running) {
      fail(this.steps === 0
        ? `${this.name}.step: call reset() before the first step`
        : `${this.name}.step: the episode ended after ${this.steps} steps; call reset() to start a new one`);
    }
    const a = this.validateAction(action);
    const r = this.stepTask(a);
    this.steps++;
    const truncated = this.steps >= this.maxEpisodeSteps;
    if (r.terminated || truncated) this.running = false;
    const out: StepResult = { observation: r.observation, reward: r.reward, terminated: r.terminated, truncated };
    return r.info === undefined ? out : { ...out, info: r.info };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    this.closeTask();
  }

  protected abstract resetTask(rng: Rng): Float64Array;
  protected abstract stepTask(action: Float64Array): TaskStep;
  protected closeTask(): void {}

  protected checkOpen(what: string): void {
    if (this.closed) throw new IcnnError(`${this.name}.${what}: the environment is closed`);
  }

  /** Length and finiteness checks, then clipping into the action box (the returned buffer is reused). */
  private validateAction(action: ArrayLike<number>): Float64Array {
    if (action === null || typeof action !== 'object' || typeof action.length !== 'number') {
      fail(`${this.name}.step: action must be an array of ${this.actionSize} numbers, got ${action === null ? 'null' : typeof action}`);
    }
    if (action.length !== this.actionSize) {
      fail(`${this.name}.step: action must have length ${this.actionSize}, got ${action.length}`);
    }
    for (let i = 0; i < this.actionSize; i++) {
      const v = action[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        fail(`${this.name}.step: action[${i}] must be a finite number, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
      }
      this.clipped[i] = v < this.low[i] ? this.low[i] : v > this.high[i] ? this.high[i] : v;
    }
    return this.clipped;
  }
}
