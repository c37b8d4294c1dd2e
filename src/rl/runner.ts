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
 *   bootstraps past the 1000th step).
 * - Tests run on a second instance of the environment when it is given by name.
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
import cliProgress from 'cli-progress';
import { backendInfo, ready } from '../backend/backend.js';
import { fail } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomicFile.js';
import { checkNonNegativeInt, checkOneOf, checkOptionKeys, checkPositiveInt } from '../util/options.js';
import { makeEnv, resolveEnvName, type MakeEnvOptions } from './envs/registry.js';
import type { Env } from './envs/env.js';
import { AGENT_KINDS, createAgent, NormalizedEnv, type Agent, type AgentKind, type AgentOptions, type UpdateStats } from './agents/index.js';
import { deriveSeed } from './noise.js';
import { previousCompleteRun, readJsonFileIfExists } from './previousRun.js';
import { presetSettings, type RlPreset } from './presets.js';
import { writeDiagnosticsChart } from './diagnosticsChart.js';

/** How `runRl` reports progress: 'auto', a bar, one line per test, or nothing. */
export const RL_PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
/** One of `RL_PROGRESS_MODES`. */
export type RlProgressMode = (typeof RL_PROGRESS_MODES)[number];

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

/** Options of `runRl`: environment, agent and its options, steps, seed, tests, output folder, checkpoints, progress. */
export interface RunRlOptions {
  /** An environment name (`makeEnv`) or instance (then also used for the tests). */
  env: string | Env;
  /** Options for `makeEnv` when `env` is a name (the seed is the run's). */
  envOptions?: Omit<MakeEnvOptions, 'seed'>;
  /** An agent kind or an agent built for this environment's sizes. */
  agent: AgentKind | Agent;
  /** Options for the agent when `agent` is a kind (its seed defaults to the run's seed). */
  agentOptions?: AgentOptions;
  /** Total training steps. */
  steps: number;
  /** Seed of the run: environment resets, agent initialization, noise, replay sampling (default 0). */
  seed?: number;
  /** Training steps between test episodes (default: the paper's for the task, else 1000). */
  testInterval?: number;
  /** Test episodes per test point (default 1, as the paper). */
  testEpisodes?: number;
  /** Cap on a training episode's length (default 1000, the authors' `tmax`; the env's own limit also applies). */
  maxEpisodeSteps?: number;
  /** Reward multiplier for learning (default: the preset's, else 1; the authors' `reward_k`). */
  rewardScale?: number;
  /** Named settings (./presets.ts): 'paper' is the authors' per-task table; explicit options override it (default 'none'). */
  preset?: RlPreset;
  /** Gradient steps per environment step once warm (default 1). */
  updatesPerStep?: number;
  /** Directory for results.json, learning-curve.png and checkpoints. */
  outDir?: string;
  /**
   * Steps between checkpoints (at block boundaries; default 10·testInterval, at most half the run so that a short
   * run checkpoints too; 0: none). Needs outDir.
   */
  checkpointInterval?: number;
  /** Resume from outDir's checkpoint when there is one (default true). */
  resume?: boolean;
  /**
   * Replace a complete run in outDir (default false: a complete run of the same settings is returned as it is,
   * one of other settings is an error; see ./previousRun.ts).
   */
  overwrite?: boolean;
  /** Write learning-curve.png (default true with outDir). */
  chart?: boolean;
  /** 'auto' (bar on a TTY, else one line per test), 'bar', 'lines', 'none' (default). */
  progress?: RlProgressMode;
  /** Where progress goes (default process.stderr). */
  progressStream?: NodeJS.WritableStream;
  /** Called after every test point and at the end. */
  onProgress?: (p: RlProgress) => void;
}

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
  /** Steps already done when this process resumed the run (0 for a fresh run). */
  resumedAt: number;
  /** The tfjs backend that ran this process's part of the run (timings depend on it). */
  backend: string;
}

const KEYS = ['env', 'envOptions', 'agent', 'agentOptions', 'steps', 'seed', 'testInterval', 'testEpisodes', 'maxEpisodeSteps', 'rewardScale',
  'preset', 'updatesPerStep', 'outDir', 'checkpointInterval', 'resume', 'overwrite', 'chart', 'progress', 'progressStream', 'onProgress'];

const STREAM_TRAIN_RESET = 3;
const STREAM_TEST_RESET = 4;
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

interface Checkpoint {
  format: 'icnn-rl-checkpoint';
  version: 1;
  env: string;
  agent: AgentKind;
  seed: number;
  testInterval: number;
  testEpisodes: number;
  maxEpisodeSteps: number;
  rewardScale: number;
  updatesPerStep: number;
  agentOptions: Record<string, unknown>;
  agentFile: string;
  state: RunnerState;
}

/** A progress reporter: a cli-progress bar over the steps, or one line per test point. */
class Reporter {
  readonly mode: 'bar' | 'lines' | 'none';
  private bar: cliProgress.SingleBar | null = null;

  constructor(mode: RlProgressMode, private readonly stream: NodeJS.WritableStream, private readonly label: string) {
    const tty = (stream as NodeJS.WriteStream).isTTY === true;
    this.mode = mode === 'auto' ? (tty ? 'bar' : 'lines') : mode;
  }

  start(total: number, done: number): void {
    if (this.mode !== 'bar') return;
    this.bar = new cliProgress.SingleBar({
      stream: this.stream, barsize: 30, hideCursor: false, clearOnComplete: true, noTTYOutput: true, notTTYSchedule: 2000,
      format: `${this.label} [{bar}] {value}/{total} | test {test} | loss {loss} | {sps} steps/s | {duration_formatted} (eta {eta_formatted})`,
    }, cliProgress.Presets.legacy);
    this.bar.start(total, done, { test: '-', loss: '-', sps: '-' });
  }

  update(p: RlProgress): void {
    if (this.bar) {
      this.bar.update(p.step, { test: p.lastTest ? p.lastTest.reward.toFixed(1) : '-', loss: p.loss === null ? '-' : p.loss.toPrecision(3), sps: p.stepsPerSecond.toFixed(1) });
    }
  }

  line(text: string): void {
    if (this.mode === 'lines') this.stream.write(`${text}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

function checkNumberOption(name: string, v: unknown, ok: (v: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(`runRl: ${name} must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

/** Default checkpoint interval: 10 test intervals, but at most half the run (whole blocks), so short runs checkpoint. */
function defaultCheckpointInterval(steps: number, testInterval: number): number {
  return Math.min(10 * testInterval, Math.max(testInterval, Math.floor(steps / 2 / testInterval) * testInterval));
}

/** Run (or resume) one training run; see the module comment. */
export async function runRl(options: RunRlOptions): Promise<RlResult> {
  const where = 'runRl';
  if (options === null || typeof options !== 'object') fail(`${where}: options { env, agent, steps } are required`);
  checkOptionKeys(where, options, KEYS);
  const steps = checkPositiveInt(where, 'steps', options.steps);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) fail(`${where}: seed must be an integer in [0, 2^32), got ${JSON.stringify(seed)}`);
  const envName = typeof options.env === 'string' ? resolveEnvName(options.env) : options.env?.name;
  if (typeof envName !== 'string') fail(`${where}: env must be an environment name or an Env`);
  const testInterval = checkPositiveInt(where, 'testInterval', options.testInterval ?? PAPER_BUDGETS[envName]?.testInterval ?? 1000);
  const testEpisodes = checkPositiveInt(where, 'testEpisodes', options.testEpisodes ?? 1);
  const maxEpisodeSteps = checkPositiveInt(where, 'maxEpisodeSteps', options.maxEpisodeSteps ?? 1000);
  if (options.preset !== undefined && options.preset !== 'none' && typeof options.agent !== 'string') fail(`${where}: preset applies only when agent is a kind`);
  const preset = presetSettings(options.preset, envName, options.agent as AgentKind);
  const rewardScale = checkNumberOption('rewardScale', options.rewardScale ?? preset.rewardScale ?? 1, (v) => v > 0, 'a number > 0');
  const updatesPerStep = checkNonNegativeInt(where, 'updatesPerStep', options.updatesPerStep ?? 1);
  const outDir = options.outDir;
  if (outDir !== undefined && (typeof outDir !== 'string' || outDir === '')) fail(`${where}: outDir must be a non-empty string`);
  const checkpointInterval = checkNonNegativeInt(where, 'checkpointInterval', options.checkpointInterval ?? (outDir ? defaultCheckpointInterval(steps, testInterval) : 0));
  if (checkpointInterval > 0 && outDir === undefined) fail(`${where}: checkpointInterval needs outDir`);
  const progressMode = checkOneOf(where, 'progress', options.progress ?? 'none', RL_PROGRESS_MODES);
  const chart = options.chart ?? outDir !== undefined;
  await ready();

  // ---- environment and agent ---------------------------------------------------------------------------------
  const ownsEnv = typeof options.env === 'string';
  const rawEnv: Env = typeof options.env === 'string' ? await makeEnv(envName, { ...options.envOptions, seed: deriveSeed(seed, STREAM_TRAIN_RESET, 0) }) : options.env;
  let rawTestEnv: Env = rawEnv;
  let agent: Agent | null = null;
  const ownsAgent = typeof options.agent === 'string';
  try {
    if (typeof options.env === 'string') rawTestEnv = await makeEnv(envName, { ...options.envOptions, seed: deriveSeed(seed, STREAM_TEST_RESET, 0) });
    const env = new NormalizedEnv(rawEnv);
    const testEnv = rawTestEnv === rawEnv ? env : new NormalizedEnv(rawTestEnv);
    if (typeof options.agent === 'string') {
      if (!(AGENT_KINDS as readonly string[]).includes(options.agent)) fail(`${where}: unknown agent '${options.agent}' (expected one of: ${AGENT_KINDS.join(', ')})`);
      agent = createAgent(options.agent, env.observationSize, env.actionSize, { seed, ...preset.agentOptions, ...options.agentOptions } as AgentOptions);
    } else {
      if (options.agentOptions !== undefined) fail(`${where}: agentOptions apply only when agent is a kind, not an Agent instance`);
      agent = options.agent;
      if (agent.observationSize !== env.observationSize || agent.actionSize !== env.actionSize) {
        fail(`${where}: the agent is for observations ${agent.observationSize} and actions ${agent.actionSize}, ${envName} has ${env.observationSize} and ${env.actionSize}`);
      }
    }
    const a = agent;
    const agentOptions = { ...(a.options as unknown as Record<string, unknown>) };
    const header = { env: envName, agent: a.kind, seed, testInterval, testEpisodes, maxEpisodeSteps, rewardScale, updatesPerStep, agentOptions };

    if (outDir !== undefined) {
      const done = await previousCompleteRun<RlResult>(outDir, { ...header, steps }, options.overwrite === true);
      if (done !== null) {
        (options.progressStream ?? process.stderr).write(`${envName}/${a.kind} seed ${seed}: reusing ${outDir}/results.json (a complete run with these settings)\n`);
        return done;
      }
    }

    // ---- resume ----------------------------------------------------------------------------------------------
    let state: RunnerState = {
      t: 0, trainEpisodes: 0, testEpisodes: 0, tests: [], train: [],
      timing: { seconds: 0, actMs: 0, actions: 0, updateMs: 0, updates: 0, testSeconds: 0 },
    };
    let resumedAt = 0;
    if (outDir !== undefined && options.resume !== false) {
      const ck = await readJsonFileIfExists(path.join(outDir, 'checkpoint.json'), 'checkpoint') as Checkpoint | null;
      if (ck !== null) {
        if (ck.format !== 'icnn-rl-checkpoint') fail(`${where}: ${outDir}/checkpoint.json is not an RL checkpoint`);
        const mine = JSON.stringify(header);
        const theirs = JSON.stringify({ env: ck.env, agent: ck.agent, seed: ck.seed, testInterval: ck.testInterval, testEpisodes: ck.testEpisodes, maxEpisodeSteps: ck.maxEpisodeSteps, rewardScale: ck.rewardScale, updatesPerStep: ck.updatesPerStep, agentOptions: ck.agentOptions });
        if (mine !== theirs) fail(`${where}: ${outDir} holds a checkpoint of another run (${theirs}); this run is ${mine}. Choose another --out, or give --force to start over (API: resume: false)`);
        await a.load(path.join(outDir, ck.agentFile));
        state = ck.state;
        resumedAt = state.t;
      }
    }

    // ---- the loop --------------------------------------------------------------------------------------------
    const stream = options.progressStream ?? process.stderr;
    const reporter = new Reporter(progressMode, stream, `${envName}/${a.kind}`);
    const startWall = performance.now();
    const before = { ...state.timing };
    let lastLoss: number | null = null;
    let lastCheckpointAt = state.t;
    const seconds = () => before.seconds + (performance.now() - startWall) / 1000;
    const progress = (): RlProgress => {
      const sec = seconds();
      const doneHere = state.t - resumedAt;
      const secHere = (performance.now() - startWall) / 1000;
      return {
        step: state.t, steps, episodes: state.trainEpisodes, lastTrainReturn: state.train.length ? state.train[state.train.length - 1].reward : null,
        lastTest: state.tests.length ? state.tests[state.tests.length - 1] : null, loss: lastLoss, seconds: sec,
        stepsPerSecond: secHere > 0 ? doneHere / secHere : 0,
      };
    };
    const timedAct = async (obs: Float64Array, explore: boolean): Promise<Float64Array> => {
      const t0 = performance.now();
      const act = await a.act(obs, { explore });
      state.timing.actMs += performance.now() - t0;
      state.timing.actions++;
      return act;
    };
    const runTest = async (): Promise<void> => {
      const t0 = performance.now();
      let total = 0;
      let length = 0;
      for (let k = 0; k < testEpisodes; k++) {
        let obs = testEnv.reset(deriveSeed(seed, STREAM_TEST_RESET, state.testEpisodes++));
        for (;;) {
          const r = testEnv.step(await timedAct(obs, false));
          total += r.reward;
          length++;
          obs = r.observation;
          if (r.terminated || r.truncated) break;
        }
      }
      state.tests.push({ step: state.t, reward: total / testEpisodes, length: length / testEpisodes });
      state.timing.testSeconds += (performance.now() - t0) / 1000;
      const p = progress();
      reporter.line(`${envName}/${a.kind} seed ${seed}  step ${state.t}/${steps}  test ${(total / testEpisodes).toFixed(2)}  ` +
        `episodes ${state.trainEpisodes}  ${p.stepsPerSecond.toFixed(1)} steps/s  ${p.seconds.toFixed(0)} s`);
      reporter.update(p);
      options.onProgress?.(p);
    };
    const runTrainEpisode = async (): Promise<void> => {
      a.startEpisode();
      let obs = env.reset(deriveSeed(seed, STREAM_TRAIN_RESET, state.trainEpisodes++));
      let total = 0;
      let length = 0;
      const sums: Record<string, number> = {};
      let updates = 0;
      while (state.t < steps) {
        const act = await timedAct(obs, true);
        const r = env.step(act);
        a.observe({ observation: obs, action: act, reward: r.reward * rewardScale, nextObservation: r.observation, terminal: r.terminated });
        total += r.reward;
        length++;
        state.t++;
        obs = r.observation;
        if (a.warm) {
          for (let k = 0; k < updatesPerStep; k++) {
            const t0 = performance.now();
            const s: UpdateStats = await a.update();
            state.timing.updateMs += performance.now() - t0;
            state.timing.updates++;
            lastLoss = s.loss;
            for (const [key, value] of Object.entries(s)) sums[key] = (sums[key] ?? 0) + value;
            updates++;
          }
        }
        if (r.terminated || r.truncated || length >= maxEpisodeSteps) break;
      }
      state.train.push({
        step: state.t, reward: total, length,
        ...(updates > 0 ? { updates: Object.fromEntries(Object.entries(sums).map(([key, sum]) => [key, sum / updates])) } : {}),
      });
    };

    const result = (complete: boolean): RlResult => {
      const timing = state.timing;
      const sec = seconds();
      return {
        format: 'icnn-rl-results', version: 1, ...header, steps, complete, tests: state.tests, train: state.train,
        metrics: testMetrics(state.tests.map((p) => p.reward)),
        timing: {
          seconds: sec, stepsPerSecond: sec > 0 ? state.t / sec : 0, actMs: timing.actions ? timing.actMs / timing.actions : 0,
          updateMs: timing.updates ? timing.updateMs / timing.updates : 0, testSeconds: timing.testSeconds, actions: timing.actions, updates: timing.updates,
        },
        resumedAt,
        backend: backendInfo().name,
      };
    };
    const writeOutputs = async (complete: boolean): Promise<RlResult> => {
      const r = result(complete);
      if (outDir !== undefined) {
        await writeFileAtomic(path.join(outDir, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
        if (chart && r.tests.length > 0) await writeLearningCurve(path.join(outDir, 'learning-curve.png'), r);
        if (chart && r.train.some((e) => e.updates !== undefined)) await writeDiagnosticsChart(path.join(outDir, 'diagnostics.png'), r);
      }
      return r;
    };
    const checkpoint = async (): Promise<void> => {
      if (outDir === undefined || checkpointInterval === 0) return;
      const agentFile = `checkpoint-${state.t}.bin`;
      await a.save(path.join(outDir, agentFile));
      const ck: Checkpoint = { format: 'icnn-rl-checkpoint', version: 1, ...header, agentFile, state: { ...state, timing: { ...state.timing, seconds: seconds() } } };
      await writeFileAtomic(path.join(outDir, 'checkpoint.json'), `${JSON.stringify(ck)}\n`);
      for (const f of await fs.readdir(outDir)) {
        if (/^checkpoint-\d+\.bin$/.test(f) && f !== agentFile) await fs.rm(path.join(outDir, f), { force: true });
      }
      lastCheckpointAt = state.t;
      reporter.line(`${envName}/${a.kind} seed ${seed}  checkpoint at step ${state.t}`);
      await writeOutputs(false);
    };

    reporter.start(steps, state.t);
    try {
      while (state.t < steps) {
        await runTest();
        const block = Math.floor(state.t / testInterval);
        while (state.t < steps && Math.floor(state.t / testInterval) === block) await runTrainEpisode();
        if (checkpointInterval > 0 && state.t < steps && state.t - lastCheckpointAt >= checkpointInterval) await checkpoint();
      }
      if (state.tests.length === 0 || state.tests[state.tests.length - 1].step !== state.t) await runTest();
    } finally {
      reporter.stop();
    }
    state.timing.seconds = seconds();
    const final = await writeOutputs(true);
    if (outDir !== undefined && checkpointInterval > 0) {
      // The run is complete: results.json is the record; drop the checkpoint.
      for (const f of await fs.readdir(outDir)) {
        if (/^checkpoint-\d+\.bin$/.test(f) || f === 'checkpoint.json') await fs.rm(path.join(outDir, f), { force: true });
      }
    }
    options.onProgress?.(progress());
    return final;
  } finally {
    if (ownsAgent) agent?.dispose();
    if (ownsEnv) {
      rawEnv.close();
      if (rawTestEnv !== rawEnv) rawTestEnv.close();
    }
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
