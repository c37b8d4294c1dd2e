/**
 * The training loop: minibatches, Adam, projection after every step (§1.4), validation metrics per epoch, early
 * stopping, checkpoints and resuming, with a seeded, reproducible shuffle.
 *
 *   const history = await fit(model, { x, y }, { objective: 'unrolled-gd', epochs: 20, batchSize: 32,
 *     learningRate: 1e-3, seed: 1, validation: { x: xv, y: yv }, onEpochEnd: ({ epoch, metrics }) => … });
 *
 * Hooks: `optimizer` injects any tf.Optimizer (default Adam with `learningRate`); `callbacks` takes tfjs-style
 * callbacks (`onTrainBegin`, `onEpochBegin(epoch)`, `onBatchEnd(batch, logs)`, `onEpochEnd(epoch, logs)`,
 * `onTrainEnd`, awaited when they return promises; epochs and batches 0-based, logs `{ loss, val_<metric> }`), so
 * that `tfvis.show.fitCallbacks` and `tf.node.tensorBoard` plug in; a callback stops training as in tfjs by setting
 * `this.model.stopTraining = true` (the object `setModel` gave it), which ends the epoch after the current batch.
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
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyModel } from '../models/energyModel.js';
import type { Batch, Objective } from './objectives/objective.js';
import { createObjective, OBJECTIVE_NAMES, type ObjectiveName } from './objectives/index.js';
import { evaluate, isRegressionObjective, LOWER_IS_BETTER, metricNamesFor, type Metrics } from './metrics.js';
import { isOutOfRangeMessage } from '../util/numbers.js';
import type { CheckpointWriter } from './checkpoint.js';
import { importNodeOnly } from '../util/nodeOnly.js';
import { ensureInit } from '../backend/backend.js';
import { checkProgressOption, formatEpochLine, formatNumber, progressSink, type ProgressMode, type ProgressSink } from './progress.js';
import { deriveSeed, Rng } from '../util/random.js';
import { fail } from '../util/errors.js';
import * as v from 'valibot';
import { POSITIVE } from '../util/numbers.js';
import { func, instance, num, optionsSchema, parseOptions, parseWith } from '../util/schema.js';
import { SHARED_FIT_ENTRIES, type CheckpointOptions, type EarlyStoppingOptions } from './fitOptions.js';
import { assertFinite, isTensor, ownTensor } from '../util/tensors.js';
import { Sha256 } from '../util/sha256.js';
import { defaultAdam } from './fusedAdam.js';

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

export type { CheckpointOptions, EarlyStoppingOptions };

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

/** Logs as tfjs passes them to callbacks: `loss` (training) and `val_<metric>` (validation). */
export type FitLogs = Record<string, number>;

/** What `setModel` gives a callback: setting `stopTraining` ends training, as tfjs's `model.stopTraining`. */
export interface FitControl {
  stopTraining: boolean;
  model: EnergyModel;
}

/** tfjs-style callbacks (tf.CustomCallbackArgs or a tf.Callback object); each may return a promise, which fit awaits. */
export interface FitCallbacks {
  /** Called once before training with `{ epochs, initialEpoch, steps, samples }` (per epoch; steps and samples null for streams). */
  setParams?(params: Record<string, unknown>): void;
  /** Called once before training with the run's control object; set its `stopTraining` to end training. */
  setModel?(control: FitControl): void;
  /** Called once before the first epoch, with empty logs. */
  onTrainBegin?(logs?: FitLogs): unknown;
  /** Called once after the last epoch, with the last epoch's logs (empty if no epoch ran). */
  onTrainEnd?(logs?: FitLogs): unknown;
  /** Called before each epoch (`epoch` 0-based), with empty logs. */
  onEpochBegin?(epoch: number, logs?: FitLogs): unknown;
  /** Called after each epoch (0-based) with `loss` (mean training loss) and `val_<metric>` for each validation metric. */
  onEpochEnd?(epoch: number, logs?: FitLogs): unknown;
  /** Called before each batch (0-based within the epoch) with `{ batch, size }`. */
  onBatchBegin?(batch: number, logs?: FitLogs): unknown;
  /** Called after each optimizer step with `{ batch, size, loss }` (the batch's mean loss). */
  onBatchEnd?(batch: number, logs?: FitLogs): unknown;
}

/** A callback option: a function of the given signature. */
const callback = <T>() => v.optional(func<(info: T) => void | Promise<void>>());

/** fit's options, declared once (the type below is inferred from it); the shared groups are in ./fitOptions.ts. */
const FIT_OPTIONS = optionsSchema({
  /** An objective name or an Objective instance (checked by resolveObjective: a name, or an object with step and predict). */
  objective: v.custom<ObjectiveName | Objective>(() => true),
  /** Options of an objective given by name (unknown names refused by the objective). */
  objectiveOptions: v.optional(instance<Record<string, unknown>>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'an object')),
  /** Adam's learning rate (default 1e-3, the authors' setting); not with `optimizer`. */
  learningRate: v.optional(num(POSITIVE)),
  /** An optimizer to use instead of Adam (fit does not dispose it); its state goes into checkpoints. */
  optimizer: v.optional(instance<tf.Optimizer>((x) => x instanceof tf.Optimizer, 'a tf.Optimizer (e.g. tf.train.sgd(0.01))')),
  ...SHARED_FIT_ENTRIES,
  /** Validation data: metrics are computed with objective.predict after every epoch (checked by checkDataset). */
  validation: v.optional(v.custom<Dataset>(() => true)),
  /**
   * A progress sink (./progress.ts; the CLI passes its bars), or true/'auto'/'bar'/'lines': one line per epoch;
   * false/'none' (default): silent (checked by checkProgressOption).
   */
  progress: v.optional(v.custom<boolean | ProgressMode | ProgressSink>(() => true)),
  /** Where progress goes (default process.stderr). */
  progressStream: v.optional(instance<NodeJS.WritableStream>((x) => typeof x === 'object' && x !== null && typeof (x as { write?: unknown }).write === 'function', 'a writable stream')),
  onEpochEnd: callback<EpochEndInfo>(),
  onStep: callback<StepInfo>(),
  onCheckpoint: callback<{ dir: string; step: number; epoch: number }>(),
  /** tfjs-style callbacks (see the module comment; checked by resolveCallbacks). */
  callbacks: v.optional(v.custom<FitCallbacks | FitCallbacks[]>(() => true)),
});
/**
 * Options of `fit`: the objective, the optimizer (Adam with `learningRate` unless `optimizer` is given), epochs and
 * batches, validation, early stopping, checkpoints and resuming, progress and callbacks (see the module comment).
 */
export type FitOptions = v.InferOutput<typeof FIT_OPTIONS>;


/** The loop's state, as a checkpoint stores it (JSON). */
export interface TrainingState {
  objective: string;
  seed: number;
  batchSize: number | null;
  /** Rows of the in-memory training set (null for streams). */
  dataRows: number | null;
  /** sha256 of the in-memory training set (x, y, target as float32); null for streams. Absent in older checkpoints. */
  dataDigest?: string | null;
  /** The default Adam's learning rate (null with an injected optimizer). */
  learningRate: number | null;
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

/** A dataset's keys; the tensors are checked against the model below. */
const DATASET_FIELDS = optionsSchema({ x: v.optional(v.unknown()), y: v.optional(v.unknown()), target: v.optional(v.unknown()) });

function checkDataset(name_: 'data' | 'validation', model: EnergyModel, d: unknown, { needTarget }: { needTarget: boolean }): Dataset {
  const where = `fit: ${name_}`;
  if (typeof d !== 'object' || d === null) fail(`${where} must be { x, y, target? }, got ${d === null ? 'null' : typeof d}`);
  const { x, y, target } = parseWith(DATASET_FIELDS, d, { where }) as Partial<Dataset>;
  if (!isTensor(y) || y.isDisposed) fail(`${where}.y must be a tensor [N, ${model.yDim}]`);
  if (y.rank !== 2 || y.shape[1] !== model.yDim || y.shape[0] === 0) {
    fail(`${where}.y must have shape [N, ${model.yDim}] with N > 0, got [${y.shape.join(', ')}]`);
  }
  const rows = y.shape[0];
  if (model.xDim === 0) {
    if (x !== null && x !== undefined) fail(`${where}.x must be null: this ${model.kind} takes no x`);
  } else {
    if (!isTensor(x) || x.isDisposed) fail(`${where}.x must be a tensor [N, ${model.xDim}] (this ${model.kind} takes x)`);
    if (x.rank !== 2 || x.shape[0] !== rows || x.shape[1] !== model.xDim) {
      fail(`${where}.x must have shape [${rows}, ${model.xDim}] (as many rows as y), got [${x.shape.join(', ')}]`);
    }
  }
  if (target !== undefined) {
    if (!isTensor(target) || target.isDisposed || target.rank !== 1 || target.shape[0] !== rows) {
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
  /** The default Adam's learning rate; null with an injected optimizer. */
  learningRate: number | null;
  optimizer: tf.Optimizer | null;
  seed: number;
  validation: Dataset | null;
  metrics: string[] | undefined;
  threshold: number;
  evalBatchSize: number;
  monitor: { metric: string; mode: 'min' | 'max'; minDelta: number; patience: number | null };
  checkpoint: { dir: string; everySteps: number | null; keep: number } | null;
  resume: string | null;
  progress: ProgressMode | ProgressSink;
  callbacks: FitCallbacks[];
}

function resolveObjective(options: FitOptions): Objective {
  if (typeof options.objective === 'string') return createObjective(options.objective, options.objectiveOptions, 'fit: objectiveOptions');
  if (typeof options.objective === 'object' && options.objective !== null && typeof options.objective.step === 'function' &&
    typeof options.objective.predict === 'function') {
    if (options.objectiveOptions !== undefined) fail('fit: objectiveOptions apply to an objective given by name, not to an Objective instance');
    return options.objective;
  }
  fail(`fit: objective must be one of ${OBJECTIVE_NAMES.map((n) => `'${n}'`).join(', ')} or an Objective, got ${JSON.stringify(options.objective)}`);
}

/** The default Adam's learning rate, or the injected optimizer. */
function resolveOptimizer(options: FitOptions): { learningRate: number | null; optimizer: tf.Optimizer | null } {
  if (options.optimizer !== undefined) {
    if (!(options.optimizer instanceof tf.Optimizer)) fail('fit: optimizer must be a tf.Optimizer (e.g. tf.train.sgd(0.01))');
    if (options.learningRate !== undefined) fail('fit: learningRate sets the default Adam; an injected optimizer has its own');
    return { learningRate: null, optimizer: options.optimizer };
  }
  const learningRate = options.learningRate ?? 1e-3;
  if (typeof learningRate !== 'number' || !(learningRate > 0) || !Number.isFinite(learningRate)) {
    fail(`fit: learningRate must be a positive finite number, got ${JSON.stringify(options.learningRate)}`);
  }
  return { learningRate, optimizer: null };
}

function checkMetrics(options: FitOptions, objective: Objective): readonly string[] {
  const available = metricNamesFor(objective) as readonly string[];
  if (options.metrics !== undefined) {
    if (!Array.isArray(options.metrics)) fail('fit: metrics must be an array of metric names');
    for (const m of options.metrics) {
      if (!available.includes(m)) fail(`fit: unknown metric ${JSON.stringify(m)} for objective '${objective.name}' (expected one of: ${available.join(', ')})`);
    }
  }
  return options.metrics ?? available;
}

/** The watched metric (early stopping's, or the default one that `best` reports). */
function resolveMonitor(options: FitOptions, objective: Objective, computed: readonly string[], hasValidation: boolean): Resolved['monitor'] {
  const es = options.earlyStopping;
  // The watched metric: the one asked for, else the objective's usual validation metric when it is computed, else
  // the first computed validation metric (e.g. metrics: ['mse'] for a multi-label objective), else the train loss.
  const preferred = isRegressionObjective(objective) ? 'mse' : 'exampleF1';
  const metric = es?.metric ?? (!hasValidation || computed.length === 0 ? 'trainLoss' : computed.includes(preferred) ? preferred : computed[0]);
  if (metric !== 'trainLoss') {
    if (!hasValidation) fail(`fit: earlyStopping.metric '${metric}' is a validation metric, but no validation data was given`);
    if (!computed.includes(metric)) fail(`fit: earlyStopping.metric ${JSON.stringify(metric)} is not computed (metrics: trainLoss, ${computed.join(', ')})`);
  }
  const mode = es?.mode ?? (LOWER_IS_BETTER.includes(metric) ? 'min' : 'max');
  if (mode !== 'min' && mode !== 'max') fail(`fit: earlyStopping.mode must be 'min' or 'max', got ${JSON.stringify(mode)}`);
  const minDelta = es?.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !(minDelta >= 0) || !Number.isFinite(minDelta)) fail(`fit: earlyStopping.minDelta must be a non-negative number, got ${JSON.stringify(minDelta)}`);
  return { metric, mode, minDelta, patience: es ? es.patience : null };
}

function resolveCheckpoint(options: FitOptions): Resolved['checkpoint'] {
  const c = options.checkpoint;
  if (c === undefined) return null;
  return {
    dir: c.dir,
    everySteps: c.everySteps ?? null,
    keep: c.keep ?? 2,
  };
}

function resolveCallbacks(options: FitOptions): FitCallbacks[] {
  for (const k of ['onEpochEnd', 'onStep', 'onCheckpoint'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') fail(`fit: ${k} must be a function`);
  }
  const list = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
  list.forEach((c, i) => {
    if (typeof c !== 'object' || c === null) fail(`fit: callbacks[${i}] must be an object of callback functions (onEpochEnd, onBatchEnd, …)`);
  });
  return list;
}

function resolveOptions(model: EnergyModel, data: FitData, options: FitOptions): Resolved {
  if (typeof options !== 'object' || options === null) fail('fit: options { objective, epochs, … } are required');
  options = parseOptions('fit', FIT_OPTIONS, options);
  const objective = resolveObjective(options);
  const epochs = options.epochs;
  const stream = isStream(data);
  if (stream && options.batchSize !== undefined) fail('fit: batchSize applies to in-memory data; streamed data comes in its own batches');
  const batchSize = stream ? null : options.batchSize ?? 32;
  const seed = options.seed ?? 0;
  const validation = options.validation === undefined ? null : checkDataset('validation', model, options.validation, { needTarget: isRegressionObjective(objective) });
  const computed = checkMetrics(options, objective);
  const threshold = options.threshold ?? 0.5;
  const evalBatchSize = options.evalBatchSize ?? 256;
  const monitor = resolveMonitor(options, objective, computed, validation !== null);
  const checkpoint = resolveCheckpoint(options);
  const callbacks = resolveCallbacks(options);
  return {
    objective, epochs, batchSize, ...resolveOptimizer(options), seed, validation, metrics: options.metrics, threshold, evalBatchSize,
    monitor, checkpoint, resume: options.resume ?? null, progress: checkProgressOption('fit: progress', options.progress ?? 'none'), callbacks,
  };
}

// ---- data ---------------------------------------------------------------------------------------------------

/** deriveSeed's stream number of the per-epoch shuffle. */
const SHUFFLE_STREAM = 1;

/** The shuffled order of `n` rows in `epoch` (Fisher–Yates). */
export function epochPermutation(n: number, seed: number, epoch: number): Int32Array {
  const rng = new Rng(deriveSeed(seed, SHUFFLE_STREAM, epoch));
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
  const hash = new Sha256();
  for (const t of [d.x, d.y, d.target]) {
    if (!t) continue;
    hash.update(new TextEncoder().encode(`${t.shape.join('x')};`)).update(t.dataSync());
  }
  return hash.hex();
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
  if (!isTensor(y) || y.rank !== 2 || y.shape[1] !== model.yDim || y.shape[0] === 0) {
    fail(`${where}: y must be a tensor [B, ${model.yDim}] with B > 0`);
  }
  const rows = y.shape[0];
  if (model.xDim === 0) {
    if (x !== null && x !== undefined) fail(`${where}: x must be null, this ${model.kind} takes no x`);
  } else if (!isTensor(x) || x.rank !== 2 || x.shape[0] !== rows || x.shape[1] !== model.xDim) {
    fail(`${where}: x must be a tensor [${rows}, ${model.xDim}]`);
  }
  if (target !== undefined && (!isTensor(target) || target.rank !== 1 || target.shape[0] !== rows)) {
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

/** Copies of the epoch's numbers as tfjs logs: `loss` and `val_<metric>`. */
function epochLogs(record: EpochRecord): FitLogs {
  return { loss: record.trainLoss, ...Object.fromEntries(Object.entries(record.metrics).map(([k, v]) => [`val_${k}`, v])) };
}

/** One call of `fit`: the loop's state and its named steps (resume, train a batch, checkpoint, end an epoch). */
class FitRun {
  state: TrainingState;
  readonly optimizer: tf.Optimizer;
  readonly sink: ProgressSink;
  readonly control: FitControl;
  resumedFrom: FitHistory['resumedFrom'] = null;
  lastCheckpoint: string | null = null;
  private writer: CheckpointWriter | null = null;
  private checkpoints: typeof import('./checkpoint.js') | null = null;
  private readonly vars: tf.Variable[];
  private readonly t0 = performance.now();

  constructor(readonly model: EnergyModel, readonly o: Resolved, readonly source: Source, readonly options: FitOptions) {
    this.state = initialState(o, source);
    this.optimizer = o.optimizer ?? defaultAdam(o.learningRate!);
    this.sink = progressSink(o.progress, options.progressStream);
    this.control = { stopTraining: false, model };
    this.vars = model.trainableVariables;
  }

  /** Every tfjs-style callback that has `name`, awaited in order. */
  private async call<K extends Exclude<keyof FitCallbacks, 'setParams' | 'setModel'>>(name: K, ...args: Parameters<NonNullable<FitCallbacks[K]>>): Promise<void> {
    for (const c of this.o.callbacks) await (c[name] as ((...a: unknown[]) => unknown) | undefined)?.call(c, ...args);
  }

  /** Resume (when asked), write nothing yet, and tell the callbacks that training begins. */
  async begin(): Promise<void> {
    // Checkpoints live on disk: their module is loaded only when asked for (Node only), so the core imports no files.
    if (this.o.resume || this.o.checkpoint) {
      this.checkpoints = await importNodeOnly<typeof import('./checkpoint.js')>('../learning/checkpoint.js', 'fit: checkpoint/resume');
    }
    if (this.o.resume) await this.resume(this.o.resume);
    if (this.o.checkpoint) this.writer = new this.checkpoints!.CheckpointWriter(this.o.checkpoint.dir, this.o.checkpoint.keep, this.resumedFrom?.dir);
    for (const c of this.o.callbacks) {
      c.setParams?.({ epochs: this.o.epochs, initialEpoch: this.state.epoch, steps: this.source.stepsPerEpoch, samples: this.source.rows });
      c.setModel?.(this.control);
    }
    await this.call('onTrainBegin', {});
  }

  private async resume(from: string): Promise<void> {
    const { readCheckpoint, restoreModel, restoreOptimizer } = this.checkpoints!;
    const ckpt = await readCheckpoint<TrainingState>(from);
    checkResumable(ckpt.document.training, this.state, ckpt.dir);
    await restoreModel(this.model, ckpt.dir);
    await restoreOptimizer(this.optimizer, this.model, ckpt);
    const state: TrainingState = { ...ckpt.document.training, learningRate: this.o.learningRate, dataDigest: this.source.digest };
    // The best value and the patience counter follow this run's watched metric (it may differ from the saved run's).
    state.best = null;
    state.wait = 0;
    for (const r of state.history) track(state, this.o.monitor, r);
    state.stoppedEarly = this.o.monitor.patience !== null && state.wait >= this.o.monitor.patience && state.epoch < this.o.epochs;
    this.state = state;
    this.resumedFrom = { dir: ckpt.dir, step: state.step, epoch: state.epoch };
    this.lastCheckpoint = ckpt.dir;
    this.sink.line?.(`resumed from ${ckpt.dir} (step ${state.step}, epoch ${state.epoch})`);
  }

  get running(): boolean {
    return !this.state.stoppedEarly && this.state.epoch < this.o.epochs;
  }

  /** One epoch: its batches (from the shuffle position a resume left), then validation, tracking and checkpoint. */
  async epoch(): Promise<void> {
    const { state, source } = this;
    const epoch = state.epoch;
    const epochStart = performance.now() - state.epochSeconds * 1000;
    await this.call('onEpochBegin', epoch, {});
    this.sink.begin?.({ label: `epoch ${epoch + 1}/${this.o.epochs}`, total: source.stepsPerEpoch, done: state.batchInEpoch, fields: ['loss'] });
    for await (const batch of source.batches(epoch, state.batchInEpoch)) {
      await this.call('onBatchBegin', state.batchInEpoch, { batch: state.batchInEpoch, size: batch.y.shape[0] });
      const rows = batch.y.shape[0];
      const loss = await this.trainBatch(batch, epoch);
      state.step++;
      state.batchInEpoch++;
      state.epochLossSum += loss * rows;
      state.epochRows += rows;
      this.sink.advance?.(state.batchInEpoch, { loss: formatNumber(loss) });
      await this.options.onStep?.({ step: state.step, epoch: epoch + 1, batch: state.batchInEpoch, loss });
      await this.call('onBatchEnd', state.batchInEpoch - 1, { batch: state.batchInEpoch - 1, size: rows, loss });
      const endOfEpoch = source.stepsPerEpoch !== null && state.batchInEpoch === source.stepsPerEpoch;
      if (this.o.checkpoint?.everySteps && state.step % this.o.checkpoint.everySteps === 0 && !endOfEpoch) {
        state.epochSeconds = (performance.now() - epochStart) / 1000;
        await this.checkpoint();
      }
      if (this.control.stopTraining) break;
    }
    await this.endEpoch(epoch, epochStart);
  }

  /** One optimizer step on `batch` (disposed here), then the projection (§1.4); returns the batch's mean loss. */
  private async trainBatch(batch: Batch, epoch: number): Promise<number> {
    const { state } = this;
    try {
      const result = await stepOrExplain(() => this.o.objective.step(this.model, batch), state.step + 1, epoch + 1, this.lastCheckpoint);
      const grads = this.vars.map((v) => ({ name: v.name, tensor: result.grads[v.name] }));
      const present = grads.map((g) => g.tensor).filter((t): t is tf.Tensor => t !== undefined);
      try {
        const where = `step ${state.step + 1} (epoch ${epoch + 1}, batch ${state.batchInEpoch + 1}` +
          `${this.source.stepsPerEpoch ? ` of ${this.source.stepsPerEpoch}` : ''})`;
        const kept = `the model keeps its parameters from before this step; last good checkpoint: ${this.lastCheckpoint ?? 'none written'}`;
        if (!Number.isFinite(result.loss)) fail(`fit: the loss is ${result.loss} at ${where}; training stopped, ${kept}`);
        if (!allFinite(present)) fail(`fit: a gradient is not finite at ${where} (loss ${result.loss}); training stopped, ${kept}`);
        // Positional: Adam keeps its slots by the index of each variable in this list.
        this.optimizer.applyGradients(grads as { name: string; tensor: tf.Tensor }[]);
      } finally {
        tf.dispose(Object.values(result.grads));
      }
      this.model.project();
      return result.loss;
    } finally {
      disposeBatch(batch);
    }
  }

  /** Validation metrics, the epoch's record, early stopping, the checkpoint, then the epoch callbacks. */
  private async endEpoch(epoch: number, epochStart: number): Promise<void> {
    const { state, o } = this;
    const metrics = o.validation
      ? await evaluate(this.model, o.objective, o.validation, { batchSize: o.evalBatchSize, threshold: o.threshold, metrics: o.metrics })
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
    this.sink.end?.();
    this.sink.line?.(formatEpochLine({ epoch: record.epoch, trainLoss: record.trainLoss, metrics, seconds: record.seconds, steps: state.step }, o.epochs));
    if (state.stoppedEarly) this.sink.line?.(`early stopping: ${m.metric} has not improved for ${state.wait} epochs (best ${state.best?.value} at epoch ${state.best?.epoch})`);
    await this.checkpoint();
    await this.options.onEpochEnd?.({
      epoch: record.epoch, trainLoss: record.trainLoss, metrics: { ...metrics }, model: this.model, steps: state.step, seconds: record.seconds,
      history: state.history,
    });
    await this.call('onEpochEnd', epoch, epochLogs(record));
    if (this.control.stopTraining && state.epoch < o.epochs) state.stoppedEarly = true;
  }

  /** A checkpoint of the model, the optimizer and the loop's state, when checkpoints are on. */
  private async checkpoint(): Promise<void> {
    if (!this.writer) return;
    const { state } = this;
    if (!allFinite(this.model.parameters().map((p) => p.variable))) {
      fail(`fit: the parameters are not finite after step ${state.step}; no checkpoint written (last good: ${this.lastCheckpoint ?? 'none'})`);
    }
    this.lastCheckpoint = await this.writer.write(this.model, this.optimizer, state, state.step);
    this.sink.line?.(`checkpoint ${this.lastCheckpoint} (step ${state.step})`);
    await this.options.onCheckpoint?.({ dir: this.lastCheckpoint, step: state.step, epoch: state.epoch });
  }

  history(): FitHistory {
    const { state } = this;
    return {
      objective: this.o.objective.name, epochs: state.history.map((r) => ({ ...r, metrics: { ...r.metrics } })), steps: state.step,
      stoppedEarly: state.stoppedEarly, best: state.best && { ...state.best }, resumedFrom: this.resumedFrom, lastCheckpoint: this.lastCheckpoint,
      seconds: (performance.now() - this.t0) / 1000,
    };
  }

  /** The end: the callbacks' onTrainEnd, then the history. */
  async finish(): Promise<FitHistory> {
    const last = this.state.history[this.state.history.length - 1];
    await this.call('onTrainEnd', last ? epochLogs(last) : {});
    return this.history();
  }

  dispose(): void {
    this.sink.end?.();
    if (this.o.optimizer === null) this.optimizer.dispose();
  }
}

/**
 * Train `model` in place. Returns the history (per-epoch train loss, metrics, wall time, steps; early stop; best
 * metric). See the module comment for data, determinism, hooks and failures.
 */
export async function fit(model: EnergyModel, data: FitData, options: FitOptions): Promise<FitHistory> {
  await ensureInit();
  // Tensors made by another copy of tfjs (see isTensor) are copied into this one for the run, and the copies freed.
  const adopted: tf.Tensor[] = [];
  try {
    const own = typeof options === 'object' && options !== null && options.validation !== undefined
      ? { ...options, validation: adoptDataset(options.validation, adopted) as Dataset } : options;
    return await fitOwnTensors(model, adoptDataset(data, adopted) as FitData, own);
  } finally {
    tf.dispose(adopted);
  }
}

/** `d` with any tensor of another tfjs copy replaced by a copy in this one (added to `adopted`); anything else as is. */
function adoptDataset(d: unknown, adopted: tf.Tensor[]): unknown {
  if (typeof d !== 'object' || d === null || isStream(d)) return d;
  const entries = Object.entries(d).map(([k, v]) => {
    if (!isTensor(v) || v.isDisposed || v instanceof tf.Tensor) return [k, v];
    const copy = ownTensor(v);
    adopted.push(copy);
    return [k, copy];
  });
  return Object.fromEntries(entries);
}

async function fitOwnTensors(model: EnergyModel, data: FitData, options: FitOptions): Promise<FitHistory> {
  if (model === null || typeof model !== 'object' || typeof model.project !== 'function') fail('fit: the first argument must be a model');
  const o = resolveOptions(model, data, options);
  const source = isStream(data)
    ? streamSource(model, data, isRegressionObjective(o.objective))
    : memorySource(checkDataset('data', model, data, { needTarget: isRegressionObjective(o.objective) }), o.batchSize!, o.seed);
  const run = new FitRun(model, o, source, options);
  try {
    await run.begin();
    while (run.running) await run.epoch();
    return await run.finish();
  } finally {
    run.dispose();
  }
}
