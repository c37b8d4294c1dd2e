/**
 * The training loop: minibatches, Adam, projection after every step (§1.4), validation metrics per epoch, early
 * stopping, checkpoints and resuming, with a seeded, reproducible shuffle.
 *
 *   const history = await fit(model, { x, y }, { objective: 'unrolled-gd', epochs: 20, batchSize: 32,
 *     learningRate: 1e-3, seed: 1, validation: { x: xv, y: yv }, onEpochEnd: ({ epoch, metrics }) => … });
 *
 * Data: an in-memory dataset `{ x, y, target? }` (x null for models without x), shuffled every epoch and cut into
 * `batchSize` rows (the last batch may be smaller); or streamed batches for data that does not fit in memory: an
 * async iterable of `{ x, y, target? }` batches, used in the order given (no shuffle) and disposed by fit after their
 * step. Every epoch iterates the stream anew, so pass an object whose [Symbol.asyncIterator]() starts a new pass,
 * or a function returning one (a generator object can be iterated only once).
 *
 * Determinism: the permutation of epoch e is drawn from a generator seeded by (seed, e), so the shuffle "RNG state"
 * a checkpoint records is (seed, epoch, batches taken). With the same seed and model initialization, two runs give
 * the same parameters; on the cpu backend a run resumed from a checkpoint gives the same parameters, bit for bit,
 * as an uninterrupted one.
 *
 * Failure: a NaN or infinite loss (or gradient) stops training with an IcnnError naming the step; the step is not
 * applied, so the model keeps the parameters of the previous step, and no checkpoint is written after it.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import type { EnergyModel } from '../models/energyModel.js';
import type { Batch, Objective } from './objectives/objective.js';
import { createObjective, OBJECTIVE_NAMES, type ObjectiveName } from './objectives/index.js';
import { evaluate, isRegressionObjective, LOWER_IS_BETTER, metricNamesFor, type Metrics } from './metrics.js';
import { isOutOfRangeMessage } from '../util/numbers.js';
import { CheckpointWriter, readCheckpoint, restoreModel, restoreOptimizer } from './checkpoint.js';
import { checkProgressMode, Progress, type ProgressMode } from './progress.js';
import { Rng } from '../util/random.js';
import { fail } from '../util/errors.js';
import { checkOptionKeys } from '../util/options.js';
import { assertFinite } from '../util/tensors.js';

/** An in-memory dataset. */
export interface Dataset {
  /** [N, xDim], or null for a model without x. */
  x: tf.Tensor2D | null;
  /** Shape [N, yDim]: targets y* (structured objectives) or the points where the energy is known (energy regression). */
  y: tf.Tensor2D;
  /** [N] energies (energy regression only). */
  target?: tf.Tensor1D;
}

/** Streamed batches: an async iterable (iterated once per epoch) or a function returning a fresh one. */
export type BatchStream = AsyncIterable<Batch> | (() => AsyncIterable<Batch>);

/** Training data for `fit`: an in-memory `Dataset` or a stream of batches. */
export type FitData = Dataset | BatchStream;

export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. */
  patience: number;
  /** Metric to watch: a validation metric name or 'trainLoss' (default: exampleF1 / mse with validation data, else trainLoss). */
  metric?: string;
  /** Whether smaller or larger is better (default: 'min' for losses and errors, 'max' otherwise). */
  mode?: 'min' | 'max';
  /** An improvement must exceed this (default 0). */
  minDelta?: number;
}

export interface CheckpointOptions {
  /** Checkpoint root directory (see ./checkpoint.ts). */
  dir: string;
  /** Also checkpoint every this many steps (checkpoints are always written at the end of every epoch). */
  everySteps?: number;
  /** Checkpoints kept (default 2). */
  keep?: number;
}

/** One epoch of a `fit` run as its history records it. */
export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's examples (each batch's mean loss weighted by its rows). */
  trainLoss: number;
  /** Validation metrics (empty without validation data). */
  metrics: Metrics;
  /** Wall time of the epoch, validation included. */
  seconds: number;
  /** Optimizer steps taken so far (all epochs). */
  steps: number;
  /** Training examples seen in this epoch. */
  examples: number;
}

export interface BestMetric {
  metric: string;
  mode: 'min' | 'max';
  value: number;
  epoch: number;
}

/** What `fit` returns: per-epoch records, steps, early stopping, the best metric, resume and checkpoint facts. */
export interface FitHistory {
  objective: string;
  epochs: EpochRecord[];
  /** Optimizer steps taken in total (including those before a resume). */
  steps: number;
  stoppedEarly: boolean;
  /** The best value of the watched metric (early stopping's, or the default one) and its epoch. */
  best: BestMetric | null;
  resumedFrom: { dir: string; step: number; epoch: number } | null;
  /** The newest checkpoint written, if any. */
  lastCheckpoint: string | null;
  /** Wall time of this call. */
  seconds: number;
}

export interface EpochEndInfo {
  epoch: number;
  trainLoss: number;
  metrics: Metrics;
  model: EnergyModel;
  steps: number;
  seconds: number;
  history: readonly EpochRecord[];
}

export interface StepInfo {
  step: number;
  /** 1-based epoch and batch within it. */
  epoch: number;
  batch: number;
  loss: number;
}

/**
 * Options of `fit`: the objective (§4), epochs, batch size, Adam's learning rate, validation, checkpoints, callbacks.
 */
export interface FitOptions {
  /** An objective name or an Objective instance. */
  objective: ObjectiveName | Objective;
  /** Options of an objective given by name (unknown names refused). */
  objectiveOptions?: Record<string, unknown>;
  /** Total epochs (a resumed run continues up to this many). */
  epochs: number;
  /** Rows per minibatch for in-memory data (default 32). */
  batchSize?: number;
  /** Adam's learning rate (default 1e-3, the authors' setting). */
  learningRate?: number;
  /** Seed of the shuffle (default 0). The model's initialization has its own seed. */
  seed?: number;
  /** Validation data: metrics are computed with objective.predict after every epoch. */
  validation?: Dataset;
  /** Only these validation metrics (default: all that apply). */
  metrics?: string[];
  /** Threshold of the multi-label metrics (default 0.5). */
  threshold?: number;
  /** Rows per prediction batch during validation (default 256). */
  evalBatchSize?: number;
  earlyStopping?: EarlyStoppingOptions;
  checkpoint?: CheckpointOptions;
  /** Continue from a checkpoint: its root directory (LATEST is followed) or one checkpoint directory. */
  resume?: string;
  /** true/'auto': a bar on a TTY, else one line per epoch; 'bar', 'lines'; false/'none' (default): silent. */
  progress?: boolean | ProgressMode;
  /** Where progress goes (default process.stderr). */
  progressStream?: NodeJS.WritableStream;
  /** Called after every epoch (validation and checkpoint done) with the epoch's loss and metrics; awaited. */
  onEpochEnd?: (info: EpochEndInfo) => void | Promise<void>;
  /** Called after every optimizer step with its loss; awaited. */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** Called after every checkpoint written, with its directory; awaited. */
  onCheckpoint?: (info: { dir: string; step: number; epoch: number }) => void | Promise<void>;
}

const FIT_KEYS = [
  'objective', 'objectiveOptions', 'epochs', 'batchSize', 'learningRate', 'seed', 'validation', 'metrics', 'threshold',
  'evalBatchSize', 'earlyStopping', 'checkpoint', 'resume', 'progress', 'progressStream', 'onEpochEnd', 'onStep', 'onCheckpoint',
] as const;

/** The loop's state, as a checkpoint stores it (JSON). */
export interface TrainingState {
  objective: string;
  seed: number;
  batchSize: number | null;
  /** Rows of the in-memory training set (null for streams). */
  dataRows: number | null;
  /** sha256 of the in-memory training set (x, y, target as float32); null for streams. Absent in older checkpoints. */
  dataDigest?: string | null;
  learningRate: number;
  step: number;
  /** Completed epochs. */
  epoch: number;
  /** The shuffle's position: batches already taken in the current epoch (permutation drawn from (seed, epoch)). */
  batchInEpoch: number;
  epochLossSum: number;
  epochRows: number;
  epochSeconds: number;
  history: EpochRecord[];
  best: BestMetric | null;
  /** Epochs since the watched metric last improved. */
  wait: number;
  stoppedEarly: boolean;
}

// ---- validation ---------------------------------------------------------------------------------------------

function positiveInt(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(`${where} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function checkDataset(name_: 'data' | 'validation', model: EnergyModel, d: unknown, { needTarget }: { needTarget: boolean }): Dataset {
  const where = `fit: ${name_}`;
  if (typeof d !== 'object' || d === null) fail(`${where} must be { x, y, target? }, got ${d === null ? 'null' : typeof d}`);
  checkOptionKeys(where, d, ['x', 'y', 'target']);
  const { x, y, target } = d as Partial<Dataset>;
  if (!(y instanceof tf.Tensor) || y.isDisposed) fail(`${where}.y must be a tensor [N, ${model.yDim}]`);
  if (y.rank !== 2 || y.shape[1] !== model.yDim || y.shape[0] === 0) {
    fail(`${where}.y must have shape [N, ${model.yDim}] with N > 0, got [${y.shape.join(', ')}]`);
  }
  const rows = y.shape[0];
  if (model.xDim === 0) {
    if (x !== null && x !== undefined) fail(`${where}.x must be null: this ${model.kind} takes no x`);
  } else {
    if (!(x instanceof tf.Tensor) || x.isDisposed) fail(`${where}.x must be a tensor [N, ${model.xDim}] (this ${model.kind} takes x)`);
    if (x.rank !== 2 || x.shape[0] !== rows || x.shape[1] !== model.xDim) {
      fail(`${where}.x must have shape [${rows}, ${model.xDim}] (as many rows as y), got [${x.shape.join(', ')}]`);
    }
  }
  if (target !== undefined) {
    if (!(target instanceof tf.Tensor) || target.isDisposed || target.rank !== 1 || target.shape[0] !== rows) {
      fail(`${where}.target must be a tensor [${rows}] (one energy per row)`);
    }
  } else if (needTarget) {
    fail(`${where}.target is required by energy regression (the energy at each (x, y))`);
  }
  for (const [name, t] of [['x', x], ['y', y], ['target', target]] as const) {
    if (!t) continue;
    if (t.dtype !== 'float32') fail(`${where}.${name} must be float32, got ${t.dtype}`);
    assertFinite('fit', `${name_}.${name}`, t);
  }
  return { x: x ?? null, y, ...(target ? { target } : {}) };
}

function isStream(d: unknown): d is BatchStream {
  return typeof d === 'function' || (typeof d === 'object' && d !== null && Symbol.asyncIterator in d);
}

interface Resolved {
  objective: Objective;
  epochs: number;
  batchSize: number | null;
  learningRate: number;
  seed: number;
  validation: Dataset | null;
  metrics: string[] | undefined;
  threshold: number;
  evalBatchSize: number;
  monitor: { metric: string; mode: 'min' | 'max'; minDelta: number; patience: number | null };
  checkpoint: { dir: string; everySteps: number | null; keep: number } | null;
  resume: string | null;
  progress: ProgressMode;
}

function resolveOptions(model: EnergyModel, data: FitData, options: FitOptions): Resolved {
  if (typeof options !== 'object' || options === null) fail('fit: options { objective, epochs, … } are required');
  checkOptionKeys('fit', options, FIT_KEYS);
  let objective: Objective;
  if (typeof options.objective === 'string') {
    objective = createObjective(options.objective, options.objectiveOptions, 'fit: objectiveOptions');
  } else if (typeof options.objective === 'object' && options.objective !== null && typeof options.objective.step === 'function' &&
    typeof options.objective.predict === 'function') {
    if (options.objectiveOptions !== undefined) fail('fit: objectiveOptions apply to an objective given by name, not to an Objective instance');
    objective = options.objective;
  } else {
    fail(`fit: objective must be one of ${OBJECTIVE_NAMES.map((n) => `'${n}'`).join(', ')} or an Objective, got ${JSON.stringify(options.objective)}`);
  }
  const regression = isRegressionObjective(objective);
  const epochs = positiveInt('fit: epochs', options.epochs);
  const stream = isStream(data);
  if (stream && options.batchSize !== undefined) fail('fit: batchSize applies to in-memory data; streamed data comes in its own batches');
  const batchSize = stream ? null : positiveInt('fit: batchSize', options.batchSize ?? 32);
  const learningRate = options.learningRate ?? 1e-3;
  if (typeof learningRate !== 'number' || !(learningRate > 0) || !Number.isFinite(learningRate)) {
    fail(`fit: learningRate must be a positive finite number, got ${JSON.stringify(options.learningRate)}`);
  }
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) fail(`fit: seed must be an integer, got ${JSON.stringify(options.seed)}`);
  const validation = options.validation === undefined ? null : checkDataset('validation', model, options.validation, { needTarget: regression });
  const available = metricNamesFor(objective) as readonly string[];
  if (options.metrics !== undefined) {
    if (!Array.isArray(options.metrics)) fail('fit: metrics must be an array of metric names');
    for (const m of options.metrics) {
      if (!available.includes(m)) fail(`fit: unknown metric ${JSON.stringify(m)} for objective '${objective.name}' (expected one of: ${available.join(', ')})`);
    }
  }
  const threshold = options.threshold ?? 0.5;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) fail(`fit: threshold must be in (0, 1), got ${JSON.stringify(options.threshold)}`);
  const evalBatchSize = positiveInt('fit: evalBatchSize', options.evalBatchSize ?? 256);

  const es = options.earlyStopping;
  if (es !== undefined) {
    if (typeof es !== 'object' || es === null) fail('fit: earlyStopping must be { patience, metric?, mode?, minDelta? }');
    checkOptionKeys('fit: earlyStopping', es, ['patience', 'metric', 'mode', 'minDelta']);
    positiveInt('fit: earlyStopping.patience', es.patience);
  }
  const computed = options.metrics ?? available;
  // The watched metric: the one asked for, else the objective's usual validation metric when it is computed, else
  // the first computed validation metric (e.g. metrics: ['mse'] for a multi-label objective), else the train loss.
  const preferred = regression ? 'mse' : 'exampleF1';
  const metric = es?.metric ?? (!validation || computed.length === 0 ? 'trainLoss' : computed.includes(preferred) ? preferred : computed[0]);
  if (metric !== 'trainLoss') {
    if (!validation) fail(`fit: earlyStopping.metric '${metric}' is a validation metric, but no validation data was given`);
    if (!computed.includes(metric)) fail(`fit: earlyStopping.metric ${JSON.stringify(metric)} is not computed (metrics: trainLoss, ${computed.join(', ')})`);
  }
  const mode = es?.mode ?? (LOWER_IS_BETTER.includes(metric) ? 'min' : 'max');
  if (mode !== 'min' && mode !== 'max') fail(`fit: earlyStopping.mode must be 'min' or 'max', got ${JSON.stringify(mode)}`);
  const minDelta = es?.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !(minDelta >= 0) || !Number.isFinite(minDelta)) fail(`fit: earlyStopping.minDelta must be a non-negative number, got ${JSON.stringify(minDelta)}`);

  let checkpoint: Resolved['checkpoint'] = null;
  if (options.checkpoint !== undefined) {
    const c = options.checkpoint;
    if (typeof c !== 'object' || c === null) fail('fit: checkpoint must be { dir, everySteps?, keep? }');
    checkOptionKeys('fit: checkpoint', c, ['dir', 'everySteps', 'keep']);
    if (typeof c.dir !== 'string' || c.dir === '') fail(`fit: checkpoint.dir must be a directory path, got ${JSON.stringify(c.dir)}`);
    checkpoint = {
      dir: c.dir,
      everySteps: c.everySteps === undefined ? null : positiveInt('fit: checkpoint.everySteps', c.everySteps),
      keep: c.keep === undefined ? 2 : positiveInt('fit: checkpoint.keep', c.keep),
    };
  }
  if (options.resume !== undefined && (typeof options.resume !== 'string' || options.resume === '')) {
    fail(`fit: resume must be a checkpoint directory, got ${JSON.stringify(options.resume)}`);
  }
  for (const k of ['onEpochEnd', 'onStep', 'onCheckpoint'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') fail(`fit: ${k} must be a function`);
  }
  return {
    objective, epochs, batchSize, learningRate, seed, validation, metrics: options.metrics, threshold, evalBatchSize,
    monitor: { metric, mode, minDelta, patience: es ? es.patience : null },
    checkpoint, resume: options.resume ?? null,
    progress: checkProgressMode('fit: progress', options.progress ?? 'none'),
  };
}

// ---- data ---------------------------------------------------------------------------------------------------

/** A 32-bit seed for the permutation of `epoch` (splitmix-style mixing of seed and epoch). */
function epochSeed(seed: number, epoch: number): number {
  let h = (Math.floor(seed) ^ Math.imul(Math.floor(seed / 4294967296), 0x85ebca6b)) >>> 0;
  h = (h + Math.imul(epoch + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The shuffled order of `n` rows in `epoch` (Fisher–Yates). */
export function epochPermutation(n: number, seed: number, epoch: number): Int32Array {
  const rng = new Rng(epochSeed(seed, epoch));
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

interface Source {
  stepsPerEpoch: number | null;
  rows: number | null;
  digest: string | null;
  /** The batches of `epoch` (0-based), skipping the first `skip`; the caller disposes each batch's tensors. */
  batches(epoch: number, skip: number): AsyncGenerator<Batch>;
}

function memorySource(d: Dataset, batchSize: number, seed: number): Source {
  const n = d.y.shape[0];
  const steps = Math.ceil(n / batchSize);
  return {
    stepsPerEpoch: steps,
    rows: n,
    digest: datasetDigest(d),
    async *batches(epoch, skip) {
      const perm = epochPermutation(n, seed, epoch);
      for (let b = skip; b < steps; b++) {
        const idx = tf.tensor1d(perm.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize)), 'int32');
        const batch: Batch = {
          x: d.x === null ? null : tf.gather(d.x, idx) as tf.Tensor2D,
          y: tf.gather(d.y, idx) as tf.Tensor2D,
          ...(d.target ? { target: tf.gather(d.target, idx) as tf.Tensor1D } : {}),
        };
        idx.dispose();
        yield batch;
      }
    },
  };
}

/** sha256 of a data set's values, so that a resume can tell other data of the same size (a row count cannot). */
function datasetDigest(d: Dataset): string {
  const hash = createHash('sha256');
  for (const t of [d.x, d.y, d.target]) {
    if (!t) continue;
    const v = t.dataSync();
    hash.update(`${t.shape.join('x')};`).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return hash.digest('hex');
}

function disposeBatch(b: Batch): void {
  tf.dispose([b.y, ...(b.x ? [b.x] : []), ...(b.target ? [b.target] : [])]);
}

function streamSource(model: EnergyModel, s: BatchStream, needTarget: boolean): Source {
  return {
    stepsPerEpoch: null,
    rows: null,
    digest: null,
    async *batches(epoch, skip) {
      const iterable = typeof s === 'function' ? s() : s;
      if (typeof iterable !== 'object' || iterable === null || !(Symbol.asyncIterator in iterable)) {
        fail('fit: the data function must return an async iterable of batches');
      }
      let i = 0;
      for await (const raw of iterable) {
        const where = `fit: data batch ${i + 1} of epoch ${epoch + 1}`;
        let batch: Batch;
        try {
          batch = checkStreamBatch(where, model, raw, needTarget);
        } catch (e) {
          if (raw && typeof raw === 'object') disposeBatch(raw as Batch);
          throw e;
        }
        if (i++ < skip) {
          disposeBatch(batch);
          continue;
        }
        yield batch;
      }
      if (i === 0) {
        fail(`fit: the data stream yielded no batches in epoch ${epoch + 1}` +
          (epoch > 0 ? ' (a generator can be iterated only once: pass a function returning a fresh async iterable, or an object whose [Symbol.asyncIterator]() starts a new pass)' : ''));
      }
      if (i < skip) fail(`fit: resuming at batch ${skip + 1} of epoch ${epoch + 1}, but the stream yielded only ${i} batches`);
    },
  };
}

/** Shapes only (no finiteness check: a non-finite batch shows up as a non-finite loss naming its step). */
function checkStreamBatch(where: string, model: EnergyModel, raw: unknown, needTarget: boolean): Batch {
  if (typeof raw !== 'object' || raw === null) fail(`${where} must be { x, y, target? }, got ${raw === null ? 'null' : typeof raw}`);
  const { x, y, target } = raw as Partial<Batch>;
  if (!(y instanceof tf.Tensor) || y.rank !== 2 || y.shape[1] !== model.yDim || y.shape[0] === 0) {
    fail(`${where}: y must be a tensor [B, ${model.yDim}] with B > 0`);
  }
  const rows = y.shape[0];
  if (model.xDim === 0) {
    if (x !== null && x !== undefined) fail(`${where}: x must be null, this ${model.kind} takes no x`);
  } else if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[0] !== rows || x.shape[1] !== model.xDim) {
    fail(`${where}: x must be a tensor [${rows}, ${model.xDim}]`);
  }
  if (target !== undefined && (!(target instanceof tf.Tensor) || target.rank !== 1 || target.shape[0] !== rows)) {
    fail(`${where}: target must be a tensor [${rows}]`);
  }
  if (needTarget && target === undefined) fail(`${where}: target is required by energy regression`);
  return { x: x ?? null, y, ...(target ? { target } : {}) };
}

// ---- the loop -----------------------------------------------------------------------------------------------

function initialState(o: Resolved, source: Source): TrainingState {
  return {
    objective: o.objective.name, seed: o.seed, batchSize: o.batchSize, dataRows: source.rows, dataDigest: source.digest, learningRate: o.learningRate,
    step: 0, epoch: 0, batchInEpoch: 0, epochLossSum: 0, epochRows: 0, epochSeconds: 0,
    history: [], best: null, wait: 0, stoppedEarly: false,
  };
}

function checkResumable(saved: TrainingState, fresh: TrainingState, dir: string): void {
  const where = `fit: resume from ${dir}`;
  if (typeof saved !== 'object' || saved === null || !Number.isInteger(saved.step) || !Number.isInteger(saved.epoch) ||
    !Number.isInteger(saved.batchInEpoch) || !Array.isArray(saved.history)) {
    fail(`${where}: the checkpoint holds no training state of this loop`);
  }
  for (const k of ['objective', 'seed', 'batchSize', 'dataRows'] as const) {
    if (saved[k] !== fresh[k]) {
      fail(`${where}: the checkpoint was trained with ${k} ${JSON.stringify(saved[k])}, this run has ${JSON.stringify(fresh[k])}; ` +
        'resuming needs the same objective, seed, batch size and training data');
    }
  }
  if (typeof saved.dataDigest === 'string' && saved.dataDigest !== fresh.dataDigest) {
    fail(`${where}: the training data differ from the checkpoint's (same ${fresh.dataRows} rows, other values: sha256 ${String(fresh.dataDigest).slice(0, 12)}…, ` +
      `the checkpoint's ${saved.dataDigest.slice(0, 12)}…); resume with the data it was trained on, or start over with --force`);
  }
}

/** Update the best value of the watched metric and the epochs-without-improvement counter with one epoch. */
function track(state: TrainingState, m: Resolved['monitor'], record: EpochRecord): void {
  const value = m.metric === 'trainLoss' ? record.trainLoss : record.metrics[m.metric];
  const better = value !== undefined && Number.isFinite(value) && (state.best === null ||
    (m.mode === 'min' ? value < state.best.value - m.minDelta : value > state.best.value + m.minDelta));
  if (better) {
    state.best = { metric: m.metric, mode: m.mode, value, epoch: record.epoch };
    state.wait = 0;
  } else {
    state.wait++;
  }
}

/** One fused read: whether every entry of every tensor is finite. */
function allFinite(tensors: tf.Tensor[]): boolean {
  if (tensors.length === 0) return true;
  const probe = tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.mul(t, 0)))));
  const ok = Number.isFinite(probe.dataSync()[0]);
  probe.dispose();
  return ok;
}

/**
 * Run one objective step; a solver inside it that fails on values out of float32 range (the parameters diverged,
 * e.g. after too large a learning rate) is reported as the training failure it is, not as the solver's message.
 */
async function stepOrExplain<T>(step: () => Promise<T>, stepNo: number, epoch: number, lastCheckpoint: string | null): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (!isOutOfRangeMessage((e as Error).message)) throw e;
    fail(`fit: the loss or its gradient is not finite at step ${stepNo} (epoch ${epoch}): the parameters left the float32 range; ` +
      `lower the learning rate (config.optimizer.learningRate); last good checkpoint: ${lastCheckpoint ?? 'none written'}`);
  }
}

/**
 * Train `model` in place. Returns the history (per-epoch train loss, metrics, wall time, steps; early stop; best
 * metric). See the module comment for data, determinism and failures.
 */
export async function fit(model: EnergyModel, data: FitData, options: FitOptions): Promise<FitHistory> {
  const t0 = performance.now();
  if (model === null || typeof model !== 'object' || typeof model.project !== 'function') fail('fit: the first argument must be a model');
  const o = resolveOptions(model, data, options);
  const regression = isRegressionObjective(o.objective);
  const source = isStream(data)
    ? streamSource(model, data, regression)
    : memorySource(checkDataset('data', model, data, { needTarget: regression }), o.batchSize!, o.seed);
  let state = initialState(o, source);
  const optimizer = tf.train.adam(o.learningRate);
  const progress = new Progress({ mode: o.progress, stream: options.progressStream, epochs: o.epochs, stepsPerEpoch: source.stepsPerEpoch });
  let resumedFrom: FitHistory['resumedFrom'] = null;
  let lastCheckpoint: string | null = null;
  const vars = model.trainableVariables;
  const history = (): FitHistory => ({
    objective: o.objective.name, epochs: state.history.map((r) => ({ ...r, metrics: { ...r.metrics } })), steps: state.step,
    stoppedEarly: state.stoppedEarly, best: state.best && { ...state.best }, resumedFrom, lastCheckpoint, seconds: (performance.now() - t0) / 1000,
  });
  try {
    if (o.resume) {
      const ckpt = await readCheckpoint<TrainingState>(o.resume);
      checkResumable(ckpt.document.training, state, ckpt.dir);
      await restoreModel(model, ckpt.dir);
      await restoreOptimizer(optimizer, model, ckpt);
      state = { ...ckpt.document.training, learningRate: o.learningRate, dataDigest: source.digest };
      // The best value and the patience counter follow this run's watched metric (it may differ from the saved run's).
      state.best = null;
      state.wait = 0;
      for (const r of state.history) track(state, o.monitor, r);
      state.stoppedEarly = o.monitor.patience !== null && state.wait >= o.monitor.patience && state.epoch < o.epochs;
      resumedFrom = { dir: ckpt.dir, step: state.step, epoch: state.epoch };
      lastCheckpoint = ckpt.dir;
      progress.message(`resumed from ${ckpt.dir} (step ${state.step}, epoch ${state.epoch})`);
    }
    const writer = o.checkpoint ? new CheckpointWriter(o.checkpoint.dir, o.checkpoint.keep, resumedFrom?.dir) : null;
    const saveCheckpoint = async () => {
      if (!writer) return;
      if (!allFinite(model.parameters().map((p) => p.variable))) {
        fail(`fit: the parameters are not finite after step ${state.step}; no checkpoint written (last good: ${lastCheckpoint ?? 'none'})`);
      }
      lastCheckpoint = await writer.write(model, optimizer, state, state.step);
      progress.message(`checkpoint ${lastCheckpoint} (step ${state.step})`);
      await options.onCheckpoint?.({ dir: lastCheckpoint, step: state.step, epoch: state.epoch });
    };

    while (!state.stoppedEarly && state.epoch < o.epochs) {
      const epoch = state.epoch;
      const epochStart = performance.now() - state.epochSeconds * 1000;
      progress.startEpoch(epoch + 1, state.batchInEpoch);
      for await (const batch of source.batches(epoch, state.batchInEpoch)) {
        const rows = batch.y.shape[0];
        let loss: number;
        try {
          const result = await stepOrExplain(() => o.objective.step(model, batch), state.step + 1, epoch + 1, lastCheckpoint);
          loss = result.loss;
          const grads = vars.map((v) => ({ name: v.name, tensor: result.grads[v.name] }));
          const present = grads.map((g) => g.tensor).filter((t): t is tf.Tensor => t !== undefined);
          try {
            const where = `step ${state.step + 1} (epoch ${epoch + 1}, batch ${state.batchInEpoch + 1}` +
              `${source.stepsPerEpoch ? ` of ${source.stepsPerEpoch}` : ''})`;
            const kept = `the model keeps its parameters from before this step; last good checkpoint: ${lastCheckpoint ?? 'none written'}`;
            if (!Number.isFinite(loss)) fail(`fit: the loss is ${loss} at ${where}; training stopped, ${kept}`);
            if (!allFinite(present)) fail(`fit: a gradient is not finite at ${where} (loss ${loss}); training stopped, ${kept}`);
            // Positional: Adam keeps its slots by the index of each variable in this list.
            optimizer.applyGradients(grads as { name: string; tensor: tf.Tensor }[]);
          } finally {
            tf.dispose(Object.values(result.grads));
          }
        } finally {
          disposeBatch(batch);
        }
        model.project();
        state.step++;
        state.batchInEpoch++;
        state.epochLossSum += loss * rows;
        state.epochRows += rows;
        progress.step(loss);
        await options.onStep?.({ step: state.step, epoch: epoch + 1, batch: state.batchInEpoch, loss });
        const endOfEpoch = source.stepsPerEpoch !== null && state.batchInEpoch === source.stepsPerEpoch;
        if (o.checkpoint?.everySteps && state.step % o.checkpoint.everySteps === 0 && !endOfEpoch) {
          state.epochSeconds = (performance.now() - epochStart) / 1000;
          await saveCheckpoint();
        }
      }
      const metrics = o.validation
        ? await evaluate(model, o.objective, o.validation, { batchSize: o.evalBatchSize, threshold: o.threshold, metrics: o.metrics })
        : {};
      const record: EpochRecord = {
        epoch: epoch + 1, trainLoss: state.epochRows > 0 ? state.epochLossSum / state.epochRows : NaN, metrics,
        seconds: (performance.now() - epochStart) / 1000, steps: state.step, examples: state.epochRows,
      };
      state.history.push(record);
      state.epoch++;
      state.batchInEpoch = 0;
      state.epochLossSum = 0;
      state.epochRows = 0;
      state.epochSeconds = 0;
      const m = o.monitor;
      track(state, m, record);
      if (m.patience !== null && state.wait >= m.patience && state.epoch < o.epochs) state.stoppedEarly = true;
      progress.endEpoch({ epoch: record.epoch, trainLoss: record.trainLoss, metrics, seconds: record.seconds, steps: state.step });
      if (state.stoppedEarly) progress.message(`early stopping: ${m.metric} has not improved for ${state.wait} epochs (best ${state.best?.value} at epoch ${state.best?.epoch})`);
      await saveCheckpoint();
      await options.onEpochEnd?.({
        epoch: record.epoch, trainLoss: record.trainLoss, metrics: { ...metrics }, model, steps: state.step, seconds: record.seconds,
        history: state.history,
      });
    }
    return history();
  } finally {
    progress.stop();
    optimizer.dispose();
  }
}
