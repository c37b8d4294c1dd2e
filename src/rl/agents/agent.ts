/**
 * The interface shared by the continuous-control agents (DDPG, NAF, ICNN Q-learning; §4.5, §5.4) and the
 * bookkeeping they share: options common to all three (with the defaults of the authors' code), the replay
 * buffer, Ornstein-Uhlenbeck exploration, counters, and checkpoint state.
 *
 * Actions are normalized to [−1, 1]^d (see ./normalizedEnv.ts); rewards are whatever the caller stores (the
 * runner stores reward · rewardScale).
 *
 * Use:
 *   agent.startEpisode();                              // resets the exploration noise
 *   const a = await agent.act(obs, { explore: true }); // greedy action + OU noise, clipped to [−1, 1]
 *   agent.observe({ observation: obs, action: a, reward, nextObservation, terminal });
 *   if (agent.warm) await agent.update();              // one gradient step on a sampled minibatch
 */
import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../../util/errors.js';
import * as v from 'valibot';
import { NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT } from '../../util/numbers.js';
import { bool, num, optionsSchema, parseOptions, show, type OptionsOf } from '../../util/schema.js';
import { Rng } from '../../util/random.js';
import { deriveSeed, OrnsteinUhlenbeckNoise } from '../noise.js';
import { ReplayBuffer, type Batch, type ReplayState } from '../replay.js';
import { disposeVariables, type Adam, type NamedVariable } from './nets.js';
import { readStateFile, writeStateFile } from './state.js';

/** The agents of §5.4: DDPG and NAF (the baselines) and the ICNN agent (§4.5). */
export const AGENT_KINDS = ['ddpg', 'naf', 'icnn'] as const;
/** One of `AGENT_KINDS`. */
export type AgentKind = (typeof AGENT_KINDS)[number];

/** One environment transition (s, a, r, s', terminal) as stored in the replay buffer. */
export interface Transition {
  observation: ArrayLike<number>;
  /** The action taken, in [−1, 1]^d. */
  action: ArrayLike<number>;
  reward: number;
  nextObservation: ArrayLike<number>;
  /** The episode ended by the task itself (no bootstrapping); a time-limit truncation is not terminal. */
  terminal: boolean;
}

const ACT_OPTIONS = optionsSchema({
  /** Add exploration noise (training); default false (the greedy test policy). */
  explore: v.optional(bool),
});
/** Options of `Agent.act`: `explore` adds the exploration noise (training); left out, the greedy test policy. */
export type ActOptions = v.InferOutput<typeof ACT_OPTIONS>;

/** What one gradient step reports. `loss` is the TD (critic) loss before the step, without the L2 term. */
export interface UpdateStats {
  loss: number;
  /** Mean Q(s, a) over the minibatch, before the step. */
  q: number;
  /** Agent-specific extras (DDPG: actorLoss; ICNN: clippedFraction, targetIterations). */
  [key: string]: number;
}

const TWO_WIDTHS = (issue: v.BaseIssue<unknown>) => `must be two layer widths [l1, l2], got ${show(issue.input)}`;

/** Options every agent takes, declared once; defaults are the authors' (`RL/src/agent.py`), see §4.5 of the digest. */
export const COMMON_OPTION_ENTRIES = {
  /** Seed of the initialization, exploration noise and replay sampling (default 0). */
  seed: v.optional(num({ integer: true, min: 0, max: 0xffffffff })),
  /** Discount factor γ (default 0.99). */
  gamma: v.optional(num({ min: 0, max: 1 })),
  /** Soft target update rate τ (default 0.01). */
  tau: v.optional(num({ min: 0, exclusiveMin: true, max: 1 })),
  /** Minibatch size of an update (default 256). */
  batchSize: v.optional(num(POSITIVE_INT)),
  /** Transitions the replay buffer holds (default 500 000). */
  replayCapacity: v.optional(num(POSITIVE_INT)),
  /** Transitions observed before updates start (default 1000). */
  warmup: v.optional(num(NON_NEGATIVE_INT)),
  /** The two hidden layer widths [l1, l2] (default [200, 200]). */
  hidden: v.optional(v.pipe(
    v.array(v.unknown(), TWO_WIDTHS),
    v.length(2, TWO_WIDTHS),
    v.strictTuple([num(POSITIVE_INT), num(POSITIVE_INT)]),
  )),
  /** Adam learning rate of the Q-function (default 1e-3). */
  learningRate: v.optional(num(POSITIVE)),
  /** Adam's ε (default per agent: 1e-8 for ICNN, 1e-4 for DDPG and NAF). */
  adamEpsilon: v.optional(num(POSITIVE)),
  /** Weight of the L2 penalty l2·Σ½‖W‖² on the Q-function's weights (default 0 for ICNN, 1e-4 for DDPG and NAF). */
  l2: v.optional(num(NON_NEGATIVE)),
  /** Mean reversion θ of the Ornstein-Uhlenbeck exploration noise (default 0.15). */
  ouTheta: v.optional(num({ min: 0, max: 1 })),
  /** Scale σ of the Ornstein-Uhlenbeck exploration noise (default 0.1). */
  ouSigma: v.optional(num(NON_NEGATIVE)),
};
/** The options every agent takes (§4.5): seed, γ, τ, replay and minibatch sizes, warmup, widths, Adam, L2 and OU noise. */
export type CommonAgentOptions = OptionsOf<typeof COMMON_OPTION_ENTRIES>;
export type ResolvedCommonOptions = Required<CommonAgentOptions>;

export const COMMON_OPTION_KEYS = Object.keys(COMMON_OPTION_ENTRIES) as (keyof typeof COMMON_OPTION_ENTRIES)[];

/** The common options (already parsed by the agent's schema) with their defaults. */
export function resolveCommonOptions(o: CommonAgentOptions, defaults: { adamEpsilon: number; l2: number }): ResolvedCommonOptions {
  return {
    seed: o.seed ?? 0,
    gamma: o.gamma ?? 0.99,
    tau: o.tau ?? 0.01,
    batchSize: o.batchSize ?? 256,
    replayCapacity: o.replayCapacity ?? 500_000,
    warmup: o.warmup ?? 1000,
    hidden: o.hidden ?? [200, 200],
    learningRate: o.learningRate ?? 1e-3,
    adamEpsilon: o.adamEpsilon ?? defaults.adamEpsilon,
    l2: o.l2 ?? defaults.l2,
    ouTheta: o.ouTheta ?? 0.15,
    ouSigma: o.ouSigma ?? 0.1,
  };
}

/** A continuous-control agent: acts, observes transitions, updates its Q-function from replay, saves and loads. */
export interface Agent {
  readonly kind: AgentKind;
  readonly observationSize: number;
  readonly actionSize: number;
  /** Every option with its default filled in. */
  readonly options: Readonly<ResolvedCommonOptions>;
  readonly replay: ReplayBuffer;
  /** Transitions observed, gradient steps taken, episodes started. */
  readonly observed: number;
  readonly updates: number;
  readonly episodes: number;
  /** More than `warmup` transitions observed: `update()` may be called (the authors' `t > warmup`). */
  readonly warm: boolean;
  /** Start an episode: reset the exploration noise (its stream is derived from the seed and the episode number). */
  startEpisode(): void;
  /** The action for one observation, in [−1, 1]^d. */
  act(observation: ArrayLike<number>, options?: ActOptions): Promise<Float64Array>;
  /** Greedy actions for a batch of observations (rows of width observationSize). */
  greedyActions(observations: Float32Array): Promise<Float32Array>;
  /** Store a transition in the replay buffer. */
  observe(t: Transition): void;
  /** One gradient step on `batch`, or on a minibatch sampled from the replay buffer. */
  update(batch?: Batch): Promise<UpdateStats>;
  /** The TD loss on a batch with the current networks (no update). */
  tdLoss(batch: Batch): Promise<number>;
  /** Q(s, a) per row (for ICNN: −f(s, a) of the PICNN, without the entropy term). */
  qValues(observations: Float32Array, actions: Float32Array): Float64Array;
  /** Save everything needed to continue (weights, target weights, optimizer moments, replay, counters). */
  save(file: string): Promise<void>;
  /** Restore what `save` wrote; the kind, sizes and options must match this agent's. */
  load(file: string): Promise<void>;
  /** Free the agent's tensors; the agent is unusable afterwards. */
  dispose(): void;
}

/** Streams of derived seeds (see ../noise.ts). */
const STREAM_NOISE = 1;
const STREAM_SAMPLE = 2;

/** What the three agents share: options, replay buffer, exploration noise, seeds, save and load of the common state. */
export abstract class BaseAgent implements Agent {
  abstract readonly kind: AgentKind;
  readonly replay: ReplayBuffer;
  protected readonly noise: OrnsteinUhlenbeckNoise;
  protected observedCount = 0;
  protected updateCount = 0;
  protected episodeCount = 0;
  private disposed = false;

  protected constructor(readonly observationSize: number, readonly actionSize: number,
    readonly options: Readonly<ResolvedCommonOptions>) {
    this.replay = new ReplayBuffer(options.replayCapacity, observationSize, actionSize);
    this.noise = new OrnsteinUhlenbeckNoise(actionSize, { theta: options.ouTheta, sigma: options.ouSigma }, deriveSeed(options.seed, STREAM_NOISE, 0));
  }

  get observed(): number {
    return this.observedCount;
  }

  get updates(): number {
    return this.updateCount;
  }

  get episodes(): number {
    return this.episodeCount;
  }

  get warm(): boolean {
    return this.observedCount > this.options.warmup && this.replay.size > 0;
  }

  startEpisode(): void {
    this.noise.reset(deriveSeed(this.options.seed, STREAM_NOISE, this.episodeCount));
    this.episodeCount++;
  }

  async act(observation: ArrayLike<number>, options: ActOptions = {}): Promise<Float64Array> {
    this.assertAlive();
    parseOptions(`${this.kind}.act`, ACT_OPTIONS, options);
    const obs = checkRow(`${this.kind}.act`, 'observation', observation, this.observationSize);
    const greedy = await this.greedyActions(obs);
    const a = Float64Array.from(greedy);
    if (options.explore) {
      const n = this.noise.sample();
      for (let i = 0; i < a.length; i++) a[i] += n[i];
    }
    for (let i = 0; i < a.length; i++) a[i] = Math.min(1, Math.max(-1, a[i]));
    return a;
  }

  observe(t: Transition): void {
    this.assertAlive();
    this.replay.add(t.observation, t.action, t.reward, t.nextObservation, t.terminal);
    this.observedCount++;
  }

  async update(batch?: Batch): Promise<UpdateStats> {
    this.assertAlive();
    let b = batch;
    if (b === undefined) {
      if (this.replay.size === 0) fail(`${this.kind}.update: the replay buffer is empty; observe transitions first`);
      b = this.replay.sample(this.options.batchSize, new Rng(deriveSeed(this.options.seed, STREAM_SAMPLE, this.updateCount)));
    } else {
      this.checkBatch(b);
    }
    const stats = await this.train(b);
    this.updateCount++;
    return stats;
  }

  abstract greedyActions(observations: Float32Array): Promise<Float32Array>;
  abstract tdLoss(batch: Batch): Promise<number>;
  abstract qValues(observations: Float32Array, actions: Float32Array): Float64Array;
  /** One gradient step (plus projection and target updates) on a checked batch. */
  protected abstract train(batch: Batch): Promise<UpdateStats>;
  /** Every variable the agent owns (online and target networks), under stable names. */
  protected abstract namedVariables(): NamedVariable[];
  /** The agent's optimizers, under stable names. */
  protected abstract namedOptimizers(): [string, Adam][];
  /** Free anything beyond the named variables and optimizers. */
  protected disposeExtra(): void {}

  async save(file: string): Promise<void> {
    this.assertAlive();
    const arrays = new Map<string, Float32Array>();
    for (const { name, variable } of this.namedVariables()) arrays.set(`var/${name}`, Float32Array.from(variable.dataSync() as Float32Array));
    const optimizers: Record<string, number> = {};
    for (const [name, opt] of this.namedOptimizers()) {
      const st = opt.getState();
      optimizers[name] = st.t;
      st.m.forEach((a, i) => arrays.set(`opt/${name}/m/${i}`, a));
      st.v.forEach((a, i) => arrays.set(`opt/${name}/v/${i}`, a));
    }
    const r: ReplayState = this.replay.getState();
    arrays.set('replay/observations', r.observations);
    arrays.set('replay/actions', r.actions);
    arrays.set('replay/rewards', r.rewards);
    arrays.set('replay/nextObservations', r.nextObservations);
    arrays.set('replay/terminals', r.terminals);
    const meta = {
      format: 'icnn-rl-agent', version: 1, kind: this.kind, observationSize: this.observationSize, actionSize: this.actionSize,
      options: this.options, counters: { observed: this.observedCount, updates: this.updateCount, episodes: this.episodeCount },
      replay: { capacity: r.capacity, size: r.size, next: r.next, added: r.added }, optimizers,
    };
    await writeStateFile(file, meta, arrays);
  }

  async load(file: string): Promise<void> {
    this.assertAlive();
    const where = `${this.kind}.load(${file})`;
    const { meta, arrays } = await readStateFile(file);
    if (meta.format !== 'icnn-rl-agent' || meta.kind !== this.kind) fail(`${where}: the file holds ${String(meta.kind ?? meta.format)}, not a ${this.kind} agent`);
    if (meta.observationSize !== this.observationSize || meta.actionSize !== this.actionSize) {
      fail(`${where}: the agent was saved for observations ${String(meta.observationSize)} and actions ${String(meta.actionSize)}, this one has ${this.observationSize} and ${this.actionSize}`);
    }
    const saved = JSON.stringify(meta.options);
    if (saved !== JSON.stringify(this.options)) fail(`${where}: the saved options differ from this agent's: ${saved} vs ${JSON.stringify(this.options)}`);
    const get = (name: string, length?: number): Float32Array => {
      const a = arrays.get(name);
      if (a === undefined) fail(`${where}: missing array ${name}`);
      if (length !== undefined && a.length !== length) fail(`${where}: array ${name} has ${a.length} values, expected ${length}`);
      return a;
    };
    const vars = this.namedVariables();
    for (const { name, variable } of vars) get(`var/${name}`, variable.size);
    const optMeta = meta.optimizers as Record<string, number>;
    const restored = this.namedOptimizers().map(([name, opt]) => {
      const t = optMeta?.[name];
      if (typeof t !== 'number') fail(`${where}: missing the state of optimizer ${name}`);
      return {
        opt, t,
        m: opt.variables.map((v, i) => get(`opt/${name}/m/${i}`, v.size)),
        v: opt.variables.map((v, i) => get(`opt/${name}/v/${i}`, v.size)),
      };
    });
    tf.tidy(() => {
      for (const { name, variable } of vars) variable.assign(tf.tensor(get(`var/${name}`), variable.shape, 'float32'));
    });
    for (const r of restored) r.opt.setState(r);
    const rc = meta.replay as { capacity: number; size: number; next: number; added: number };
    const o = this.observationSize;
    const a = this.actionSize;
    this.replay.setState({
      capacity: rc.capacity, observationSize: o, actionSize: a, size: rc.size, next: rc.next, added: rc.added,
      observations: get('replay/observations', rc.size * o), actions: get('replay/actions', rc.size * a), rewards: get('replay/rewards', rc.size),
      nextObservations: get('replay/nextObservations', rc.size * o), terminals: get('replay/terminals', rc.size),
    });
    const c = meta.counters as { observed: number; updates: number; episodes: number };
    this.observedCount = c.observed;
    this.updateCount = c.updates;
    this.episodeCount = c.episodes;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeResources();
  }

  /** Free the agent's tensors: by default the named variables, then `disposeExtra`. */
  protected disposeResources(): void {
    disposeVariables(this.namedVariables());
    this.disposeExtra();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  protected assertAlive(): void {
    if (this.disposed) fail(`${this.kind}: the agent has been disposed`);
  }

  protected checkBatch(b: Batch): void {
    const where = `${this.kind}.update`;
    if (b.observationSize !== this.observationSize || b.actionSize !== this.actionSize) {
      fail(`${where}: the batch has rows (${b.observationSize}, ${b.actionSize}), the agent (${this.observationSize}, ${this.actionSize})`);
    }
    if (b.size <= 0 || b.observations.length !== b.size * b.observationSize || b.actions.length !== b.size * b.actionSize ||
      b.rewards.length !== b.size || b.terminals.length !== b.size || b.nextObservations.length !== b.size * b.observationSize) {
      fail(`${where}: inconsistent batch arrays for size ${b.size}`);
    }
  }

  /** Tensors of a batch (caller disposes, or builds inside tf.tidy). */
  protected batchTensors(b: Batch): { s: tf.Tensor2D; a: tf.Tensor2D; r: tf.Tensor1D; s2: tf.Tensor2D; notDone: tf.Tensor1D } {
    return tf.tidy(() => ({
      s: tf.tensor2d(b.observations, [b.size, b.observationSize]),
      a: tf.tensor2d(b.actions, [b.size, b.actionSize]),
      r: tf.tensor1d(b.rewards),
      s2: tf.tensor2d(b.nextObservations, [b.size, b.observationSize]),
      notDone: tf.sub(1, tf.tensor1d(b.terminals)) as tf.Tensor1D,
    }));
  }
}

/** An observation row as float32, checked for width and finiteness. */
export function checkRow(where: string, name: string, row: ArrayLike<number>, width: number): Float32Array {
  if (row === null || typeof row !== 'object' || row.length !== width) {
    fail(`${where}: ${name} must be an array of ${width} numbers, got ${row === null || typeof row !== 'object' ? String(row) : `length ${row.length}`}`);
  }
  const out = new Float32Array(width);
  for (let i = 0; i < width; i++) {
    if (typeof row[i] !== 'number' || !Number.isFinite(row[i])) fail(`${where}: ${name}[${i}] must be a finite number, got ${String(row[i])}`);
    out[i] = row[i];
  }
  return out;
}
