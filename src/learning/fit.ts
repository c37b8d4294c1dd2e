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
import { SHARED_FIT_ENTRIES } from './fitOptions.js';
import { CheckpointWriter, readCheckpoint, restoreModel, restoreOptimizer } from './checkpoint.js';
import { checkProgressMode, Progress, type ProgressMode } from './progress.js';
import { Rng } from '../util/random.js';
import { fail } from '../util/errors.js';
import * as v from 'valibot';
import { isOutOfRangeMessage, POSITIVE } from '../util/numbers.js';
import { func, instance, num, optionsSchema, parseOptions, parseWith } from '../util/schema.js';
import { assertFinite } from '../util/tensors.js';

/** An in-memory dataset. */
export interface Dataset {
  /** [N, xDim], or null for a model without x. */
  x: tf.Tensor2D | null;
  /** [N, yDim]: targets y* (structured objectives) or the points where the energy is known (energy regression). */
  y: tf.Tensor2D;
  /** [N] energies (energy regression only). */
  target?: tf.Tensor1D;
}

/** Streamed batches: an async iterable (iterated once per epoch) or a function returning a fresh one. */
export type BatchStream = AsyncIterable<Batch> | (() => AsyncIterable<Batch>);

export type FitData = Dataset | BatchStream;

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

/** A callback option: a function of the given signature. */
const callback = <T>() => v.optional(func<(info: T) => void | Promise<void>>());

const FIT_OPTIONS = optionsSchema({
  /** An objective name or an Objective instance (checked in resolveOptions: a name, or an object with step and predict). */
  objective: v.custom<ObjectiveName | Objective>(() => true),
  /** Options of an objective given by name (unknown names refused by the objective). */
  objectiveOptions: v.optional(instance<Record<string, unknown>>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'an object')),
  /** Adam's learning rate (default 1e-3, the authors' setting). */
  learningRate: v.optional(num(POSITIVE)),
  ...SHARED_FIT_ENTRIES,
  /** Validation data: metrics are computed with objective.predict after every epoch (checked by checkDataset). */
  validation: v.optional(v.custom<Dataset>(() => true)),
  /** true/'auto': a bar on a TTY, else one line per epoch; 'bar', 'lines'; false/'none' (default): silent (checked by checkProgressMode). */
  progress: v.optional(v.custom<boolean | ProgressMode>(() => true)),
  /** Where progress goes (default process.stderr). */
  progressStream: v.optional(instance<NodeJS.WritableStream>((x) => typeof x === 'object' && x !== null && typeof (x as { write?: unknown }).write === 'function', 'a writable stream')),
  onEpochEnd: callback<EpochEndInfo>(),
  onStep: callback<StepInfo>(),
  onCheckpoint: callback<{ dir: string; step: number; epoch: number }>(),
});
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

/** A dataset's keys; the tensors are checked against the model below. */
const DATASET_FIELDS = optionsSchema({ x: v.optional(v.unknown()), y: v.optional(v.unknown()), target: v.optional(v.unknown()) });

function checkDataset(name_: 'data' | 'validation', model: EnergyModel, d: unknown, { needTarget }: { needTarget: boolean }): Dataset {
  const where = `fit: ${name_}`;
  if (typeof d !== 'object' || d === null) fail(`${where} must be { x, y, target? }, got ${d === null ? 'null' : typeof d}`);
  const { x, y, target } = parseWith(DATASET_FIELDS, d, { where }) as Partial<Dataset>;
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
  options = parseOptions('fit', FIT_OPTIONS, options);
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
  const epochs = options.epochs;
  const stream = isStream(data);
  if (stream && options.batchSize !== undefined) fail('fit: batchSize applies to in-memory data; streamed data comes in its own batches');
  const batchSize = stream ? null : options.batchSize ?? 32;
  const learningRate = options.learningRate ?? 1e-3;
  const seed = options.seed ?? 0;
  const validation = options.validation === undefined ? null : checkDataset('validation', model, options.validation, { needTarget: regression });
  const available = metricNamesFor(objective) as readonly string[];
  if (options.metrics !== undefined) {
    for (const m of options.metrics) {
      if (!available.includes(m)) fail(`fit: unknown metric ${JSON.stringify(m)} for objective '${objective.name}' (expected one of: ${available.join(', ')})`);
    }
  }
  const threshold = options.threshold ?? 0.5;
  const evalBatchSize = options.evalBatchSize ?? 256;
  const es = options.earlyStopping;
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
  const minDelta = es?.minDelta ?? 0;
  const c = options.checkpoint;
  const checkpoint: Resolved['checkpoint'] = c === undefined ? null : { dir: c.dir, everySteps: c.everySteps ?? null, keep: c.keep ?? 2 };
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
