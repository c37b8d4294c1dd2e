/**
 * The continuous-control experiment loop of §5.4 (the authors' `RL/src/main.py`), for any agent and environment:
 *
 *   t = 0
 *   while t < steps:
 *     one test episode without noise (the env's own time limit), its raw return recorded at step t
 *     training episodes with exploration noise until t crosses the next multiple of testInterval
 *       (each episode capped at maxEpisodeSteps = 1000; one update per step once the agent is warm)
 *   one final test episode at t = steps
 *
 * Learning sees reward·rewardScale (the authors' `reward_k`); returns are reported in raw reward. Observations
 * and actions pass through ./agents/normalizedEnv.ts ([−1, 1] actions). The paper's metric (`analyze.random-search.py`):
 * the test returns smoothed by a rolling mean of window 10 ('valid' convolution), then its maximum
 * (`maxTestReward`, Table 3), its last value (`finalTestReward`) and its sum (`cumulativeTestReward`); runs with
 * ≤ 10 tests have no metric (the authors skip them).
 *
 * Deviations from the authors' loop, all deliberate:
 * - The step budget is exact: the last training episode is cut at t = steps (theirs runs to its end).
 * - A final test at t = steps (theirs stops after the last training block).
 * - Time-limit truncation is not stored as terminal (theirs stores `done` from Gym's TimeLimit, so it never
 *   bootstraps past the 1000th step: `main.py:133`); `timeLimitTerminal: true` stores it as theirs does.
 * - Tests run on a second instance of the environment when it is given by name.
 *
 * With an ICNN agent each test point after the first update also records the TD-error decomposition of
 * ./valueGap.ts on a replay sample (`valueGapRows`), so that a run explains its own value estimate as it goes.
 *
 * With `outDir`, the run writes (each atomically) `results.json`, `learning-curve.png`, `diagnostics.png`
 * (./diagnosticsChart.ts, once there are updates) and, every
 * `checkpointInterval` steps at a block boundary, `checkpoint.json` + `checkpoint-<t>.bin` (agent weights, target
 * weights, optimizer moments, replay, counters). A run started again with the same outDir resumes from the
 * checkpoint and, because every random stream is derived from the seed and the counters (./noise.ts), continues
 * as the uninterrupted run would have.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { backendInfo, ready } from '../backend/backend.js';
import { fail } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomicFile.js';
import * as v from 'valibot';
import { NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT } from '../util/numbers.js';
import { bool, func, instance, nonEmptyString, num, oneOf, optionsSchema, parseOptions } from '../util/schema.js';
import { ENV_SPECS, makeEnv, resolveEnvName, type MakeEnvOptions } from './envs/registry.js';
import type { Env } from './envs/env.js';
import { valueGap, type ValueGap } from './valueGap.js';
import { Rng } from '../util/random.js';
import { AGENT_KINDS, createAgent, ICNNAgent, NormalizedEnv, type Agent, type AgentKind, type AgentOptions, type UpdateStats } from './agents/index.js';
import { deriveSeed } from './noise.js';
import { previousCompleteRun, readJsonFileIfExists } from './previousRun.js';
import { presetSettings, RL_PRESETS } from './presets.js';
import { writeDiagnosticsChart } from './diagnosticsChart.js';
import { PROGRESS_MODES, checkProgressOption, progressSink, type ProgressMode, type ProgressSink } from '../learning/progress.js';

/**
 * The named `progress` modes of `runRl`: 'auto', 'bar' and 'lines' print one line per test (the CLI passes its own bar
 * sink), 'none' (default) is silent.
 */
export const RL_PROGRESS_MODES = PROGRESS_MODES;
/** One of `RL_PROGRESS_MODES`. */
export type RlProgressMode = ProgressMode;

/** The paper's budgets (§5.4): total training steps and test interval per task. */
export const PAPER_BUDGETS: Readonly<Record<string, { steps: number; testInterval: number }>> = Object.freeze({
  InvertedPendulum: { steps: 10_000, testInterval: 100 },
  InvertedDoublePendulum: { steps: 10_000, testInterval: 100 },
  Reacher: { steps: 10_000, testInterval: 100 },
  HalfCheetah: { steps: 100_000, testInterval: 1000 },
  Hopper: { steps: 100_000, testInterval: 1000 },
  Swimmer: { steps: 100_000, testInterval: 1000 },
  Ant: { steps: 100_000, testInterval: 1000 },
  Humanoid: { steps: 100_000, testInterval: 1000 },
  HumanoidStandup: { steps: 100_000, testInterval: 1000 },
  Walker2d: { steps: 200_000, testInterval: 2000 },
});

const RUN_RL_OPTIONS = optionsSchema({
  /** An environment name (`makeEnv`) or instance (then also used for the tests). */
  env: instance<string | Env>((x) => typeof x === 'string' || (typeof x === 'object' && x !== null), 'an environment name or an Env'),
  /** Options for `makeEnv` when `env` is a name (the seed is the run's; checked by makeEnv). */
  envOptions: v.optional(v.custom<Omit<MakeEnvOptions, 'seed'>>(() => true)),
  /** An agent kind or an agent built for this environment's sizes. */
  agent: instance<AgentKind | Agent>((x) => typeof x === 'string' || (typeof x === 'object' && x !== null), 'an agent kind or an Agent'),
  /** Options for the agent when `agent` is a kind (its seed defaults to the run's seed; checked by the agent). */
  agentOptions: v.optional(v.custom<AgentOptions>(() => true)),
  /** Total training steps. */
  steps: num(POSITIVE_INT),
  /** Seed of the run: environment resets, agent initialization, noise, replay sampling (default 0). */
  seed: v.optional(num({ integer: true, min: 0, max: 0xffffffff })),
  /** Training steps between test episodes (default: the paper's for the task, else 1000). */
  testInterval: v.optional(num(POSITIVE_INT)),
  /** Test episodes per test point (default 1, as the paper). */
  testEpisodes: v.optional(num(POSITIVE_INT)),
  /** Cap on a training episode's length (default 1000, the authors' `tmax`; the env's own limit also applies). */
  maxEpisodeSteps: v.optional(num(POSITIVE_INT)),
  /**
   * Store a training episode's time-limit step (the env's limit or maxEpisodeSteps) as terminal, so its TD target
   * is r alone, as the authors' loop did (`RL/src/main.py:133`, Gym's `done`). Default false: bootstrap through
   * truncation, which is the correct target for a time-unaware Q. The step budget's own cut is never terminal.
   */
  timeLimitTerminal: v.optional(bool),
  /** Reward multiplier for learning (default: the preset's, else 1; the authors' `reward_k`). */
  rewardScale: v.optional(num(POSITIVE)),
  /** Named settings (./presets.ts): 'paper' is the authors' per-task table; explicit options override it (default 'none'). */
  preset: v.optional(oneOf(RL_PRESETS)),
  /** Gradient steps per environment step once warm (default 1). */
  updatesPerStep: v.optional(num(NON_NEGATIVE_INT)),
  /** Directory for results.json, learning-curve.png and checkpoints. */
  outDir: v.optional(nonEmptyString),
  /**
   * Steps between checkpoints (at block boundaries; default 10·testInterval, at most half the run so that a short
   * run checkpoints too; 0: none). Needs outDir.
   */
  checkpointInterval: v.optional(num(NON_NEGATIVE_INT)),
  /** Resume from outDir's checkpoint when there is one (default true). */
  resume: v.optional(bool),
  /**
   * Replace a complete run in outDir (default false: a complete run of the same settings is returned as it is,
   * one of other settings is an error; see ./previousRun.ts).
   */
  overwrite: v.optional(bool),
  /** Write learning-curve.png (default true with outDir). */
  chart: v.optional(bool),
  /**
   * With an ICNN agent: at each test point after the first update, split the mean TD error of this many replayed
   * transitions into its parts (./valueGap.ts: greedy gap, target lag, …) and record them with the test
   * (`TestPoint.valueGap`), so that a run whose Q̃ runs away shows when the greedy gap outran the discount
   * (default 256; 0: off). It draws on its own random stream and leaves the agent unchanged.
   */
  valueGapRows: v.optional(num(NON_NEGATIVE_INT)),
  /** A progress sink (../learning/progress.ts; the CLI passes its bar), or 'auto'/'bar'/'lines' (one line per test), 'none' (default); checked by resolveSettings. */
  progress: v.optional(v.custom<RlProgressMode | ProgressSink>(() => true)),
  /** Where progress goes (default process.stderr). */
  progressStream: v.optional(v.custom<NodeJS.WritableStream>(() => true)),
  /** Called after every test point and at the end. */
  onProgress: v.optional(func<(p: RlProgress) => void>()),
});
/**
 * Options of `runRl` (§5.4): the environment and agent, seed or preset, the step budget and test interval, reward
 * scaling, the output directory (results, charts, checkpoints to resume from) and progress reporting.
 */
export type RunRlOptions = v.InferOutput<typeof RUN_RL_OPTIONS>;

/** What `runRl` passes to `onProgress` after each step. */
export interface RlProgress {
  step: number;
  steps: number;
  episodes: number;
  /** Raw return of the last completed training episode. */
  lastTrainReturn: number | null;
  /** The last test point. */
  lastTest: TestPoint | null;
  /** TD loss of the last update. */
  loss: number | null;
  seconds: number;
  stepsPerSecond: number;
}

/** One test of the greedy policy during a run: step and mean return over the test episodes. */
export interface TestPoint {
  step: number;
  /** Raw return (mean over the test episodes of this point). */
  reward: number;
  length: number;
  /** ICNN runs (`valueGapRows`): the TD-error decomposition of ./valueGap.ts on replayed transitions at this step. */
  valueGap?: ValueGap;
}

/** One training episode of a run: its end step, return, length and update statistics. */
export interface EpisodeRecord {
  /** Training step at the episode's end. */
  step: number;
  reward: number;
  length: number;
  /**
   * Means over the episode's updates of the agent's update statistics (TD loss, mean Q of the minibatch, and the
   * agent's extras such as ICNN's clippedFraction); absent for episodes without updates (warm-up).
   */
  updates?: Record<string, number>;
}

/** The paper's statistics of a run's test returns (§5.4 tables). */
export interface RlMetrics {
  window: number;
  /** Max of the rolling mean (Table 3's statistic), its last value, its sum; null with ≤ window tests. */
  maxTestReward: number | null;
  finalTestReward: number | null;
  cumulativeTestReward: number | null;
  rolling: number[];
  /** Unsmoothed: the best single test return and the last. */
  bestTestReward: number | null;
  lastTestReward: number | null;
}

/** A run's wall time: total, steps per second, per action choice, per update, and the tests'. */
export interface RlTiming {
  seconds: number;
  stepsPerSecond: number;
  /** Mean wall time per action choice (training and test), in ms. */
  actMs: number;
  /** Mean wall time per gradient step, in ms. */
  updateMs: number;
  /** Total wall time of the test episodes, in s. */
  testSeconds: number;
  actions: number;
  updates: number;
}

/** What `runRl` returns and writes to results.json: settings, tests, training episodes, metrics, timing. */
export interface RlResult {
  format: 'icnn-rl-results';
  version: 1;
  env: string;
  agent: AgentKind;
  seed: number;
  steps: number;
  testInterval: number;
  testEpisodes: number;
  maxEpisodeSteps: number;
  rewardScale: number;
  updatesPerStep: number;
  agentOptions: Record<string, unknown>;
  complete: boolean;
  tests: TestPoint[];
  train: EpisodeRecord[];
  metrics: RlMetrics;
  timing: RlTiming;
  /** Present (true) when the time-limit step was stored as terminal (`timeLimitTerminal`). */
  timeLimitTerminal?: boolean;
  /** Steps already done when this process resumed the run (0 for a fresh run). */
  resumedAt: number;
  /** The tfjs backend that ran this process's part of the run (timings depend on it). */
  backend: string;
  /**
   * Set when training diverged (a non-finite loss or action): the step and what was not finite. The run ends there,
   * complete, with the tests made before; a random-search sample with bad hyperparameters counts with what it reached.
   */
  diverged?: { step: number; reason: string };
}

/** Thrown inside a run when training diverged; the run records it and ends (`RlResult.diverged`). */
class RunDiverged extends Error {
  constructor(readonly step: number, readonly reason: string) {
    super(`diverged at step ${step}: ${reason}`);
  }
}


const STREAM_TRAIN_RESET = 3;
const STREAM_TEST_RESET = 4;
/** The replay sample of `valueGapRows` (the agents use 1, 2 and 5). */
const STREAM_VALUE_GAP = 6;
/** Default `valueGapRows`. */
const VALUE_GAP_ROWS = 256;
const ROLLING_WINDOW = 10;

/** Rolling mean of window `w` ('valid' convolution: n − w + 1 values) and the paper's three statistics. */
export function testMetrics(rewards: readonly number[], w = ROLLING_WINDOW): RlMetrics {
  const rolling: number[] = [];
  for (let i = 0; i + w <= rewards.length; i++) {
    let s = 0;
    for (let k = i; k < i + w; k++) s += rewards[k];
    rolling.push(s / w);
  }
  const enough = rewards.length > w;
  return {
    window: w,
    maxTestReward: enough ? Math.max(...rolling) : null,
    finalTestReward: enough ? rolling[rolling.length - 1] : null,
    cumulativeTestReward: enough ? rolling.reduce((a, b) => a + b, 0) : null,
    rolling,
    bestTestReward: rewards.length > 0 ? Math.max(...rewards) : null,
    lastTestReward: rewards.length > 0 ? rewards[rewards.length - 1] : null,
  };
}

interface RunnerState {
  t: number;
  trainEpisodes: number;
  testEpisodes: number;
  tests: TestPoint[];
  train: EpisodeRecord[];
  timing: { seconds: number; actMs: number; actions: number; updateMs: number; updates: number; testSeconds: number };
}

/** The settings that identify a run: a checkpoint of other settings is not resumed, a result of these is reused. */
const RUN_HEADER_KEYS = [
  'env', 'agent', 'seed', 'testInterval', 'testEpisodes', 'maxEpisodeSteps', 'rewardScale', 'updatesPerStep', 'agentOptions', 'timeLimitTerminal',
] as const;
type RunHeader = Pick<RlResult, (typeof RUN_HEADER_KEYS)[number]>;

/** The header fields of a checkpoint, result or header, every key present (an optional one left out is undefined). */
function headerOf(o: RunHeader): Record<string, unknown> {
  return Object.fromEntries(RUN_HEADER_KEYS.map((k) => [k, o[k]]));
}

interface Checkpoint extends RunHeader {
  format: 'icnn-rl-checkpoint';
  version: 1;
  agentFile: string;
  state: RunnerState;
}

/** A progress mode by name (booleans are fit's shorthand, not runRl's). */
function oneOfModes(where: string, mode: unknown): RlProgressMode {
  if (typeof mode !== 'string' || !(RL_PROGRESS_MODES as readonly string[]).includes(mode)) {
    fail(`${where}: progress must be one of ${RL_PROGRESS_MODES.map((m) => `'${m}'`).join(', ')} or a progress sink, got ${JSON.stringify(mode)}`);
  }
  return mode as RlProgressMode;
}

/** Default checkpoint interval: 10 test intervals, but at most half the run (whole blocks), so short runs checkpoint. */
function defaultCheckpointInterval(steps: number, testInterval: number): number {
  return Math.min(10 * testInterval, Math.max(testInterval, Math.floor(steps / 2 / testInterval) * testInterval));
}

/** The run's settings, checked (no side effects). */
interface RlSettings {
  steps: number;
  seed: number;
  envName: string;
  testInterval: number;
  testEpisodes: number;
  maxEpisodeSteps: number;
  timeLimitTerminal: boolean;
  preset: ReturnType<typeof presetSettings>;
  rewardScale: number;
  updatesPerStep: number;
  outDir: string | undefined;
  checkpointInterval: number;
  progress: RlProgressMode | ProgressSink;
  chart: boolean;
  valueGapRows: number;
}

function resolveSettings(options: RunRlOptions): RlSettings {
  const where = 'runRl';
  if (options === null || typeof options !== 'object') fail(`${where}: options { env, agent, steps } are required`);
  const o = parseOptions(where, RUN_RL_OPTIONS, options);
  const steps = o.steps;
  const seed = o.seed ?? 0;
  const envName = typeof o.env === 'string' ? resolveEnvName(o.env) : o.env.name;
  if (typeof envName !== 'string') fail(`${where}: env must be an environment name or an Env`);
  const testInterval = o.testInterval ?? PAPER_BUDGETS[envName]?.testInterval ?? 1000;
  const testEpisodes = o.testEpisodes ?? 1;
  const maxEpisodeSteps = o.maxEpisodeSteps ?? 1000;
  if (o.preset !== undefined && o.preset !== 'none' && typeof o.agent !== 'string') fail(`${where}: preset applies only when agent is a kind`);
  const preset = presetSettings(o.preset, envName, o.agent as AgentKind);
  const rewardScale = o.rewardScale ?? preset.rewardScale ?? 1;
  const updatesPerStep = o.updatesPerStep ?? 1;
  const outDir = o.outDir;
  const checkpointInterval = o.checkpointInterval ?? (outDir ? defaultCheckpointInterval(steps, testInterval) : 0);
  if (checkpointInterval > 0 && outDir === undefined) fail(`${where}: checkpointInterval needs outDir`);
  const progress = typeof o.progress === 'object' && o.progress !== null
    ? checkProgressOption(`${where}: progress`, o.progress)
    : oneOfModes(where, o.progress ?? 'none');
  return {
    steps, seed, envName, testInterval, testEpisodes, maxEpisodeSteps, timeLimitTerminal: o.timeLimitTerminal ?? false, preset, rewardScale,
    updatesPerStep, outDir, checkpointInterval, progress, chart: o.chart ?? outDir !== undefined, valueGapRows: o.valueGapRows ?? VALUE_GAP_ROWS,
  };
}

/** The environments (training, test) and the agent of a run, and which of them the run made (and so closes). */
interface RlParts {
  rawEnv: Env;
  rawTestEnv: Env;
  env: NormalizedEnv;
  testEnv: NormalizedEnv;
  agent: Agent | null;
  dispose(): void;
}

async function buildParts(s: RlSettings, options: RunRlOptions): Promise<RlParts> {
  const where = 'runRl';
  const ownsEnv = typeof options.env === 'string';
  const rawEnv: Env = typeof options.env === 'string' ? await makeEnv(s.envName, { ...options.envOptions, seed: deriveSeed(s.seed, STREAM_TRAIN_RESET, 0) }) : options.env;
  const parts: Partial<RlParts> & Pick<RlParts, 'rawEnv' | 'rawTestEnv' | 'agent' | 'dispose'> = {
    rawEnv, rawTestEnv: rawEnv, agent: null,
    dispose() {
      if (typeof options.agent === 'string') this.agent?.dispose();
      if (ownsEnv) {
        this.rawEnv.close();
        if (this.rawTestEnv !== this.rawEnv) this.rawTestEnv.close();
      }
    },
  };
  try {
    if (typeof options.env === 'string') parts.rawTestEnv = await makeEnv(s.envName, { ...options.envOptions, seed: deriveSeed(s.seed, STREAM_TEST_RESET, 0) });
    const env = new NormalizedEnv(rawEnv);
    parts.env = env;
    parts.testEnv = parts.rawTestEnv === rawEnv ? env : new NormalizedEnv(parts.rawTestEnv);
    if (typeof options.agent === 'string') {
      if (!(AGENT_KINDS as readonly string[]).includes(options.agent)) fail(`${where}: unknown agent '${options.agent}' (expected one of: ${AGENT_KINDS.join(', ')})`);
      parts.agent = createAgent(options.agent, env.observationSize, env.actionSize, { seed: s.seed, ...s.preset.agentOptions, ...options.agentOptions } as AgentOptions);
    } else {
      if (options.agentOptions !== undefined) fail(`${where}: agentOptions apply only when agent is a kind, not an Agent instance`);
      parts.agent = options.agent;
      if (parts.agent.observationSize !== env.observationSize || parts.agent.actionSize !== env.actionSize) {
        fail(`${where}: the agent is for observations ${parts.agent.observationSize} and actions ${parts.agent.actionSize}, ${s.envName} has ${env.observationSize} and ${env.actionSize}`);
      }
    }
  } catch (e) {
    parts.dispose();
    throw e;
  }
  return parts as RlParts;
}

/** One run of the §5.4 loop: its state and its named steps (resume, test, train episode, checkpoint, outputs). */
class RlRun {
  state: RunnerState = {
    t: 0, trainEpisodes: 0, testEpisodes: 0, tests: [], train: [],
    timing: { seconds: 0, actMs: 0, actions: 0, updateMs: 0, updates: 0, testSeconds: 0 },
  };
  resumedAt = 0;
  private diverged: { step: number; reason: string } | undefined;
  private lastLoss: number | null = null;
  private lastCheckpointAt = 0;
  private startWall = performance.now();
  private before = { ...this.state.timing };
  private readonly sink: ProgressSink;
  private readonly label: string;

  constructor(readonly s: RlSettings, readonly parts: RlParts, readonly agent: Agent, readonly header: RunHeader, readonly options: RunRlOptions) {
    this.sink = progressSink(s.progress, options.progressStream);
    this.label = `${s.envName}/${agent.kind}`;
  }

  /** Continue from outDir's checkpoint when there is one of this run. */
  async resume(): Promise<void> {
    const { outDir } = this.s;
    if (outDir === undefined || this.options.resume === false) return;
    const ck = await readCheckpoint(outDir);
    if (ck === null) return;
    const mine = JSON.stringify(headerOf(this.header));
    const theirs = JSON.stringify(headerOf(ck));
    if (mine !== theirs) fail(`runRl: ${outDir} holds a checkpoint of another run (${theirs}); this run is ${mine}. Choose another --out, or give --force to start over (API: resume: false)`);
    await this.agent.load(path.join(outDir, ck.agentFile));
    this.state = ck.state;
    this.resumedAt = this.state.t;
    this.lastCheckpointAt = this.state.t;
    this.before = { ...this.state.timing };
    this.startWall = performance.now();
  }

  private seconds(): number {
    return this.before.seconds + (performance.now() - this.startWall) / 1000;
  }

  progress(): RlProgress {
    const { state } = this;
    const secHere = (performance.now() - this.startWall) / 1000;
    return {
      step: state.t, steps: this.s.steps, episodes: state.trainEpisodes, lastTrainReturn: state.train.length ? state.train[state.train.length - 1].reward : null,
      lastTest: state.tests.length ? state.tests[state.tests.length - 1] : null, loss: this.lastLoss, seconds: this.seconds(),
      stepsPerSecond: secHere > 0 ? (state.t - this.resumedAt) / secHere : 0,
    };
  }

  private async timedAct(obs: Float64Array, explore: boolean): Promise<Float64Array> {
    const t0 = performance.now();
    const act = await this.agent.act(obs, { explore });
    this.state.timing.actMs += performance.now() - t0;
    this.state.timing.actions++;
    const bad = act.findIndex((a) => !Number.isFinite(a));
    if (bad >= 0) throw new RunDiverged(this.state.t, `the ${explore ? 'training' : 'test'} action's entry ${bad} is ${act[bad]}`);
    return act;
  }

  /** One test point: `testEpisodes` noiseless episodes on the test environment. */
  private async runTest(): Promise<void> {
    const { state, s } = this;
    const t0 = performance.now();
    let total = 0;
    let length = 0;
    for (let k = 0; k < s.testEpisodes; k++) {
      let obs = this.parts.testEnv.reset(deriveSeed(s.seed, STREAM_TEST_RESET, state.testEpisodes++));
      for (;;) {
        const r = this.parts.testEnv.step(await this.timedAct(obs, false));
        total += r.reward;
        length++;
        obs = r.observation;
        if (r.terminated || r.truncated) break;
      }
    }
    state.timing.testSeconds += (performance.now() - t0) / 1000;
    const gap = await this.valueGap();
    state.tests.push({ step: state.t, reward: total / s.testEpisodes, length: length / s.testEpisodes, ...(gap ? { valueGap: gap } : {}) });
    const p = this.progress();
    this.sink.line?.(`${this.label} seed ${s.seed}  step ${state.t}/${s.steps}  test ${(total / s.testEpisodes).toFixed(2)}  ` +
      `episodes ${state.trainEpisodes}  ${p.stepsPerSecond.toFixed(1)} steps/s  ${p.seconds.toFixed(0)} s`);
    this.sink.advance?.(p.step, { test: p.lastTest ? p.lastTest.reward.toFixed(1) : '-', loss: p.loss === null ? '-' : p.loss.toPrecision(3), sps: p.stepsPerSecond.toFixed(1) });
    this.options.onProgress?.(p);
  }

  /** `valueGapRows` > 0, an ICNN agent that has learned: ./valueGap.ts on a replay sample of its own stream. */
  private async valueGap(): Promise<ValueGap | undefined> {
    const { agent, s } = this;
    if (s.valueGapRows === 0 || !(agent instanceof ICNNAgent) || agent.updates === 0) return undefined;
    const batch = agent.replay.sample(s.valueGapRows, new Rng(deriveSeed(s.seed, STREAM_VALUE_GAP, this.state.tests.length)));
    return valueGap(agent, batch);
  }

  /** `updatesPerStep` updates once the agent is warm; their statistics are added into `sums`. Returns how many. */
  private async update(sums: Record<string, number>): Promise<number> {
    if (!this.agent.warm) return 0;
    for (let k = 0; k < this.s.updatesPerStep; k++) {
      const t0 = performance.now();
      const stats: UpdateStats = await this.agent.update();
      this.state.timing.updateMs += performance.now() - t0;
      this.state.timing.updates++;
      if (!Number.isFinite(stats.loss)) throw new RunDiverged(this.state.t, `the update's loss is ${stats.loss}`);
      this.lastLoss = stats.loss;
      for (const [key, value] of Object.entries(stats)) sums[key] = (sums[key] ?? 0) + value;
    }
    return this.s.updatesPerStep;
  }

  /** One training episode with exploration noise, cut at maxEpisodeSteps and at the step budget. */
  private async runTrainEpisode(): Promise<void> {
    const { state, s, agent } = this;
    const env = this.parts.env;
    agent.startEpisode();
    let obs = env.reset(deriveSeed(s.seed, STREAM_TRAIN_RESET, state.trainEpisodes++));
    let total = 0;
    let length = 0;
    const sums: Record<string, number> = {};
    let updates = 0;
    while (state.t < s.steps) {
      const act = await this.timedAct(obs, true);
      const r = env.step(act);
      const timeLimit = r.truncated || length + 1 >= s.maxEpisodeSteps;
      const terminal = r.terminated || (s.timeLimitTerminal && timeLimit);
      agent.observe({ observation: obs, action: act, reward: r.reward * s.rewardScale, nextObservation: r.observation, terminal });
      total += r.reward;
      length++;
      state.t++;
      obs = r.observation;
      updates += await this.update(sums);
      if (r.terminated || timeLimit) break;
    }
    state.train.push({
      step: state.t, reward: total, length,
      ...(updates > 0 ? { updates: Object.fromEntries(Object.entries(sums).map(([key, sum]) => [key, sum / updates])) } : {}),
    });
  }

  private result(complete: boolean): RlResult {
    const { state } = this;
    const timing = state.timing;
    const sec = this.seconds();
    return {
      format: 'icnn-rl-results', version: 1, ...this.header, steps: this.s.steps, complete, tests: state.tests, train: state.train,
      metrics: testMetrics(state.tests.map((p) => p.reward)),
      timing: {
        seconds: sec, stepsPerSecond: sec > 0 ? state.t / sec : 0, actMs: timing.actions ? timing.actMs / timing.actions : 0,
        updateMs: timing.updates ? timing.updateMs / timing.updates : 0, testSeconds: timing.testSeconds, actions: timing.actions, updates: timing.updates,
      },
      resumedAt: this.resumedAt,
      backend: backendInfo().name,
      ...(this.diverged ? { diverged: this.diverged } : {}),
    };
  }

  /** results.json and the charts (with outDir). */
  private async writeOutputs(complete: boolean): Promise<RlResult> {
    const r = this.result(complete);
    const { outDir, chart } = this.s;
    if (outDir !== undefined) {
      await writeFileAtomic(path.join(outDir, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
      if (chart && r.tests.length > 0) await writeLearningCurve(path.join(outDir, 'learning-curve.png'), r);
      if (chart && r.train.some((e) => e.updates !== undefined)) await writeDiagnosticsChart(path.join(outDir, 'diagnostics.png'), r);
    }
    return r;
  }

  /** The agent's state file, then checkpoint.json naming it (atomically), then older state files removed. */
  private async checkpoint(): Promise<void> {
    const { outDir } = this.s;
    if (outDir === undefined || this.s.checkpointInterval === 0) return;
    const { state } = this;
    const agentFile = `checkpoint-${state.t}.bin`;
    await this.agent.save(path.join(outDir, agentFile));
    const ck: Checkpoint = { format: 'icnn-rl-checkpoint', version: 1, ...this.header, agentFile, state: { ...state, timing: { ...state.timing, seconds: this.seconds() } } };
    await writeFileAtomic(path.join(outDir, 'checkpoint.json'), `${JSON.stringify(ck)}\n`);
    for (const f of await fs.readdir(outDir)) {
      if (/^checkpoint-\d+\.bin$/.test(f) && f !== agentFile) await fs.rm(path.join(outDir, f), { force: true });
    }
    this.lastCheckpointAt = state.t;
    this.sink.line?.(`${this.label} seed ${this.s.seed}  checkpoint at step ${state.t}`);
    await this.writeOutputs(false);
  }

  /** Test, train to the next multiple of testInterval, checkpoint when due; a final test at t = steps. */
  async loop(): Promise<void> {
    const { state, s } = this;
    this.sink.begin?.({ label: this.label, total: s.steps, done: state.t, fields: ['test', 'loss', 'sps'] });
    try {
      while (state.t < s.steps) {
        await this.runTest();
        const block = Math.floor(state.t / s.testInterval);
        while (state.t < s.steps && Math.floor(state.t / s.testInterval) === block) await this.runTrainEpisode();
        if (s.checkpointInterval > 0 && state.t < s.steps && state.t - this.lastCheckpointAt >= s.checkpointInterval) await this.checkpoint();
      }
      if (state.tests.length === 0 || state.tests[state.tests.length - 1].step !== state.t) await this.runTest();
    } catch (e) {
      if (!(e instanceof RunDiverged)) throw e;
      // Resuming would only diverge again (the run is deterministic): the run ends here, with its tests so far.
      this.diverged = { step: e.step, reason: e.reason };
      this.sink.line?.(`${this.label} seed ${s.seed}  diverged at step ${e.step} (${e.reason}); the run ends with the ${state.tests.length} test(s) made before`);
    } finally {
      this.sink.end?.();
    }
  }

  /** The complete run's outputs; its checkpoint is dropped (results.json is the record). */
  async finish(): Promise<RlResult> {
    this.state.timing.seconds = this.seconds();
    const final = await this.writeOutputs(true);
    const { outDir } = this.s;
    if (outDir !== undefined && this.s.checkpointInterval > 0) {
      for (const f of await fs.readdir(outDir)) {
        if (/^checkpoint-\d+\.bin$/.test(f) || f === 'checkpoint.json') await fs.rm(path.join(outDir, f), { force: true });
      }
    }
    this.options.onProgress?.(this.progress());
    return final;
  }
}

/** outDir's checkpoint.json, or null when there is none; anything else there is an error naming the file. */
async function readCheckpoint(outDir: string): Promise<Checkpoint | null> {
  const ck = await readJsonFileIfExists(path.join(outDir, 'checkpoint.json'), 'checkpoint') as Checkpoint | null;
  if (ck !== null && (typeof ck !== 'object' || ck.format !== 'icnn-rl-checkpoint')) fail(`runRl: ${outDir}/checkpoint.json is not an RL checkpoint`);
  return ck;
}

/**
 * The agent of a run's last checkpoint (weights, target weights, optimizer moments, replay), to inspect a run that
 * is under way or was stopped; a finished run has removed its checkpoints. The caller disposes the agent.
 */
export async function loadCheckpointAgent(outDir: string): Promise<{ agent: Agent; env: string; seed: number; step: number; agentFile: string }> {
  const ck = await readCheckpoint(outDir);
  if (ck === null) fail(`${outDir}: no checkpoint.json (runs keep their last checkpoint only until they finish)`);
  const spec = ENV_SPECS[resolveEnvName(ck.env)];
  await ready();
  const agent = createAgent(ck.agent, spec.observationSize, spec.actionSize, ck.agentOptions as AgentOptions);
  try {
    await agent.load(path.join(outDir, ck.agentFile));
  } catch (e) {
    agent.dispose();
    throw e;
  }
  return { agent, env: ck.env, seed: ck.seed, step: ck.state.t, agentFile: path.join(outDir, ck.agentFile) };
}

/** Run (or resume) one training run; see the module comment. */
export async function runRl(options: RunRlOptions): Promise<RlResult> {
  const s = resolveSettings(options);
  await ready();
  const parts = await buildParts(s, options);
  try {
    const agent = parts.agent as Agent;
    const header: RunHeader = {
      env: s.envName, agent: agent.kind, seed: s.seed, testInterval: s.testInterval, testEpisodes: s.testEpisodes, maxEpisodeSteps: s.maxEpisodeSteps,
      rewardScale: s.rewardScale, updatesPerStep: s.updatesPerStep, agentOptions: { ...(agent.options as unknown as Record<string, unknown>) },
      // Only when set, so that runs and checkpoints from before the option still match their settings.
      ...(s.timeLimitTerminal ? { timeLimitTerminal: true } : {}),
    };
    if (s.outDir !== undefined) {
      const done = await previousCompleteRun<RlResult>(s.outDir, { ...headerOf(header), steps: s.steps }, options.overwrite === true);
      if (done !== null) {
        (options.progressStream ?? process.stderr).write(`${s.envName}/${agent.kind} seed ${s.seed}: reusing ${s.outDir}/results.json (a complete run with these settings)\n`);
        return done;
      }
    }
    const run = new RlRun(s, parts, agent, header, options);
    await run.resume();
    await run.loop();
    return await run.finish();
  } finally {
    parts.dispose();
  }
}

/** Test returns, their rolling mean and the training returns against training steps. */
export async function writeLearningCurve(file: string, r: RlResult): Promise<void> {
  const { lineChart, writeSvgAsPng } = await import('../report/index.js');
  const series = [
    { name: 'test return', points: r.tests.map((p) => [p.step, p.reward] as const) },
    ...(r.metrics.rolling.length > 0
      ? [{ name: `rolling mean (${r.metrics.window})`, points: r.metrics.rolling.map((v, i) => [r.tests[i + r.metrics.window - 1].step, v] as const) }]
      : []),
    ...(r.train.length > 0 ? [{ name: 'training episode return', points: r.train.map((e) => [e.step, e.reward] as const) }] : []),
  ];
  const m = r.metrics;
  const subtitle = `seed ${r.seed}, ${r.steps} steps, test every ${r.testInterval}` +
    (m.maxTestReward !== null ? `; max rolling mean ${m.maxTestReward.toFixed(1)}, final ${(m.finalTestReward as number).toFixed(1)}` : '');
  const svg = await lineChart({
    title: `${r.env}: ${r.agent.toUpperCase()}`, subtitle, xLabel: 'training steps', yLabel: 'return (raw reward)', series,
    markPoints: false, dashed: series.some((s) => s.name === 'training episode return') ? ['training episode return'] : [],
  });
  await writeSvgAsPng(file, svg);
}
