/**
 * `icnn train --config FILE`: train a model as a JSON config says, save it to `out/model` and the history to
 * `out/history.json` (both atomically).
 *
 * Config (paths are relative to the config file; unknown keys are refused with their path, e.g.
 * `config.objectiveOptions.stepz`):
 *   {
 *     "model": { "kind": "PICNN", "xDim": 10, "yDim": 6, "hidden": [32, 32] }   // constructor options,
 *              | { "load": "DIR" },                                            // or a saved model
 *     "data": SOURCE, "validation": SOURCE,                                    // validation optional
 *     "objective": "unrolled-gd", "objectiveOptions": { "steps": 30 },
 *     "optimizer": { "name": "adam", "learningRate": 0.001 },
 *     "epochs": 10, "batchSize": 32, "seed": 0,
 *     "metrics": ["exampleF1"], "threshold": 0.5, "evalBatchSize": 256,
 *     "earlyStopping": { "patience": 3, "metric": "exampleF1", "mode": "max", "minDelta": 0 },
 *     "checkpoint": { "dir": "ckpt", "everySteps": 100, "keep": 2 }, "resume": "ckpt",
 *     "out": "out"
 *   }
 * SOURCE: { "json": FILE } with { "x": rows | null, "y": rows, "target": [..] } (x omitted or null for models
 * without x); { "csv": { "x": FILE, "y": FILE, "target": FILE } } (one row per line, optional header; target one
 * value per line); or { "synthetic-multilabel": { "n": 512, "xDim": 10, "yDim": 6, "seed": 1, "sampleSeed": 2 } }:
 * x ~ N(0, I) and binary labels y_j = [w_j·x + b_j > 0] of a hidden random linear-threshold model drawn from
 * `seed` (use the same seed and another sampleSeed for validation data).
 */
import { Command, InvalidArgumentError } from 'commander';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnergyModel } from '../../models/energyModel.js';
import type { Dataset, FitHistory, FitOptions } from '../../learning/fit.js';
import { IcnnError, fail } from '../../util/errors.js';
import { Rng } from '../../util/random.js';
import * as v from 'valibot';
import { POSITIVE, POSITIVE_INT, stringifyFinite } from '../../util/numbers.js';
import { SHARED_FIT_ENTRIES, type CheckpointOptions, type EarlyStoppingOptions } from '../../learning/fitOptions.js';
import { nonEmptyString, num, optionsSchema, parseWith, show } from '../../util/schema.js';
import { probeOutputDir } from '../../util/outputDir.js';
import { guardCheckpointRoot, guardFinishedOutput } from '../runGuard.js';
import { cliProgressSink } from '../progressBar.js';
import { jsonRows, parseRows, readInputText } from '../rows.js';
import { hashFile } from '../../data/resolve.js';
import type { ProgressMode } from '../../learning/progress.js';

// ---- config -------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

const INTEGER = { integer: true };
const anyObject = v.custom<Json>((x) => typeof x === 'object' && x !== null && !Array.isArray(x),
  (issue) => `must be an object, got ${Array.isArray(issue.input) ? 'an array' : show(issue.input)}`);

const SYNTHETIC_MULTILABEL = optionsSchema({
  n: num(POSITIVE_INT),
  xDim: num(POSITIVE_INT),
  yDim: num(POSITIVE_INT),
  /** Seed of the hidden model (default 0). */
  seed: v.optional(num(INTEGER)),
  /** Seed of the sampled inputs (default seed + 1). */
  sampleSeed: v.optional(num(INTEGER)),
});
export type SyntheticMultilabelOptions = v.InferOutput<typeof SYNTHETIC_MULTILABEL>;

const SOURCE_KINDS = "'json', 'csv', 'synthetic-multilabel'";
const SOURCE = v.pipe(
  optionsSchema({
    json: v.optional(nonEmptyString),
    csv: v.optional(optionsSchema({ x: v.optional(nonEmptyString), y: nonEmptyString, target: v.optional(nonEmptyString) })),
    'synthetic-multilabel': v.optional(SYNTHETIC_MULTILABEL),
  }),
  v.check((o) => Object.keys(o).length === 1, (issue) => {
    const kinds = Object.keys(issue.input as object);
    return `must have exactly one of ${SOURCE_KINDS}, got ${kinds.length === 0 ? 'none' : kinds.join(', ')}`;
  }),
);

/** A data source with its paths resolved: exactly one kind. */
export type DataSource =
  | { json: string }
  | { csv: { x?: string; y: string; target?: string } }
  | { 'synthetic-multilabel': SyntheticMultilabelOptions };

/** The config document (see the top of this file), declared once. */
const TRAIN_CONFIG = optionsSchema({
  model: anyObject, // { load } or constructor options with kind, checked below and by the model
  data: SOURCE,
  validation: v.optional(SOURCE),
  objective: nonEmptyString,
  objectiveOptions: v.optional(anyObject), // checked by the objective (createObjective)
  optimizer: v.optional(optionsSchema({
    name: v.optional(v.literal('adam', (issue) => `must be 'adam' (the only optimizer), got ${show(issue.input)}`)),
    learningRate: v.optional(num(POSITIVE)),
  })),
  ...SHARED_FIT_ENTRIES,
  out: nonEmptyString,
});
type RawSource = v.InferOutput<typeof SOURCE>;

export interface TrainConfig {
  /** Directory the config's relative paths are resolved against. */
  baseDir: string;
  model: { kind: string; options: Json } | { load: string };
  data: DataSource;
  validation: DataSource | null;
  objective: string;
  objectiveOptions: Json | undefined;
  learningRate: number;
  epochs: number;
  batchSize: number;
  seed: number;
  metrics: string[] | undefined;
  threshold: number | undefined;
  evalBatchSize: number | undefined;
  earlyStopping: EarlyStoppingOptions | undefined;
  checkpoint: CheckpointOptions | undefined;
  resume: string | undefined;
  out: string;
}

/** The source with its paths resolved against `baseDir` (the schema made sure exactly one kind is given). */
function resolveSource(s: RawSource, baseDir: string): DataSource {
  if (s.json !== undefined) return { json: path.resolve(baseDir, s.json) };
  if (s.csv !== undefined) {
    const { x, y, target } = s.csv;
    return {
      csv: {
        ...(x !== undefined ? { x: path.resolve(baseDir, x) } : {}),
        y: path.resolve(baseDir, y),
        ...(target !== undefined ? { target: path.resolve(baseDir, target) } : {}),
      },
    };
  }
  return { 'synthetic-multilabel': s['synthetic-multilabel']! };
}

const SAVED_MODEL = optionsSchema({ load: nonEmptyString });

/** Check a parsed config document; errors name the offending path (`config.…`). */
export function parseTrainConfig(raw: unknown, baseDir: string): TrainConfig {
  const c = parseWith(TRAIN_CONFIG, raw, { root: 'config' });
  let model: TrainConfig['model'];
  if ('load' in c.model) {
    model = { load: path.resolve(baseDir, parseWith(SAVED_MODEL, c.model, { root: 'config.model' }).load) };
  } else {
    const { kind, ...modelOptions } = c.model;
    model = { kind: parseWith(nonEmptyString, kind, { root: 'config.model.kind' }), options: modelOptions };
  }
  return {
    baseDir,
    model,
    data: resolveSource(c.data, baseDir),
    validation: c.validation === undefined ? null : resolveSource(c.validation, baseDir),
    objective: c.objective,
    objectiveOptions: c.objectiveOptions,
    learningRate: c.optimizer?.learningRate ?? 1e-3,
    epochs: c.epochs,
    batchSize: c.batchSize ?? 32,
    seed: c.seed ?? 0,
    metrics: c.metrics,
    threshold: c.threshold,
    evalBatchSize: c.evalBatchSize,
    earlyStopping: c.earlyStopping,
    checkpoint: c.checkpoint === undefined ? undefined : { ...c.checkpoint, dir: path.resolve(baseDir, c.checkpoint.dir) },
    resume: c.resume === undefined ? undefined : path.resolve(baseDir, c.resume),
    out: path.resolve(baseDir, c.out),
  };
}

// ---- data ---------------------------------------------------------------------------------------------------

/**
 * A synthetic multi-label task: x ~ N(0, I_xDim) and y_j = [w_j·x + b_j > 0] with unit-norm random w_j and
 * b_j ~ U(-1, 0.5) (label frequencies between about 16% and 69%), drawn from `seed`; inputs from `sampleSeed`.
 */
export function syntheticMultilabel(o: SyntheticMultilabelOptions): { x: Float32Array; y: Float32Array } {
  const hidden = new Rng(o.seed ?? 0);
  const w = new Float64Array(o.yDim * o.xDim);
  const b = new Float64Array(o.yDim);
  for (let j = 0; j < o.yDim; j++) {
    let norm = 0;
    for (let i = 0; i < o.xDim; i++) {
      const v = hidden.normal();
      w[j * o.xDim + i] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < o.xDim; i++) w[j * o.xDim + i] /= norm;
    b[j] = -1 + 1.5 * hidden.uniform();
  }
  const sample = new Rng(o.sampleSeed ?? (o.seed ?? 0) + 1);
  const x = sample.fillNormal(o.n * o.xDim);
  const y = new Float32Array(o.n * o.yDim);
  for (let r = 0; r < o.n; r++) {
    for (let j = 0; j < o.yDim; j++) {
      let s = b[j];
      for (let i = 0; i < o.xDim; i++) s += w[j * o.xDim + i] * x[r * o.xDim + i];
      y[r * o.yDim + j] = s > 0 ? 1 : 0;
    }
  }
  return { x, y };
}

/** A JSON data file: rows of y, of x (absent or null for models without x) and optionally targets. */
const DATA_FILE = optionsSchema({ x: v.optional(v.unknown()), y: v.optional(v.unknown()), target: v.optional(v.unknown()) });

/** Load a data source as tensors for `model` (the caller disposes them). */
export async function loadDataSource(src: DataSource, model: EnergyModel, what: string): Promise<Dataset> {
  const tf = await import('@tensorflow/tfjs');
  let x: Float32Array | null = null;
  let y: Float32Array;
  let target: Float32Array | undefined;
  if ('synthetic-multilabel' in src) {
    const s = src['synthetic-multilabel'];
    if (s.xDim !== model.xDim || s.yDim !== model.yDim) {
      fail(`${what}.synthetic-multilabel: xDim ${s.xDim} and yDim ${s.yDim} must match the model's (${model.xDim}, ${model.yDim})`);
    }
    ({ x, y } = syntheticMultilabel(s));
  } else if ('json' in src) {
    const file = src.json;
    let doc: unknown;
    try {
      doc = JSON.parse(await readInputText(file, `${what} ${file}`));
    } catch (e) {
      if (e instanceof IcnnError) throw e;
      fail(`${what}: ${file} is not valid JSON (${(e as Error).message})`);
    }
    const d = parseWith(DATA_FILE, doc, { root: file });
    y = jsonRows(d.y, model.yDim, { label: file, name: 'y' }, 'y');
    if (model.xDim > 0) x = jsonRows(d.x, model.xDim, { label: file, name: 'x' }, 'x');
    else if (d.x !== undefined && d.x !== null) fail(`${file}: x must be absent or null, the ${model.kind} takes no x`);
    if (d.target !== undefined) {
      if (!Array.isArray(d.target)) fail(`${file}: target must be an array of numbers`);
      target = jsonRows((d.target as unknown[]).map((v) => [v]), 1, { label: file, name: 'target' }, 'target');
    }
  } else {
    const c = src.csv;
    const read = async (file: string, name: 'x' | 'y' | 'target', width: number): Promise<Float32Array> =>
      parseRows(await readInputText(file, `${what}.csv.${name} ${file}`), file, width, { label: file, name });
    y = await read(c.y, 'y', model.yDim);
    if (model.xDim > 0) {
      if (c.x === undefined) fail(`${what}.csv.x is required: the ${model.kind} takes x of width ${model.xDim}`);
      x = await read(c.x, 'x', model.xDim);
    } else if (c.x !== undefined) {
      fail(`${what}.csv.x: the ${model.kind} takes no x`);
    }
    if (c.target !== undefined) target = await read(c.target, 'target', 1);
  }
  const rows = y.length / model.yDim;
  if (x !== null && x.length / model.xDim !== rows) fail(`${what}: x has ${x.length / model.xDim} rows but y has ${rows}`);
  if (target !== undefined && target.length !== rows) fail(`${what}: target has ${target.length} values but y has ${rows} rows`);
  return {
    x: x === null ? null : tf.tensor2d(x, [rows, model.xDim]),
    y: tf.tensor2d(y, [rows, model.yDim]),
    ...(target !== undefined ? { target: tf.tensor1d(target) } : {}),
  };
}

export function disposeDataset(d: Dataset | null | undefined): void {
  if (!d) return;
  d.x?.dispose();
  d.y.dispose();
  d.target?.dispose();
}

/** Build (or load) the config's model; construction errors are prefixed with `config.model`. */
export async function modelFromConfig(m: TrainConfig['model']): Promise<EnergyModel> {
  const { loadModel } = await import('../../models/modelFiles.js');
  const { buildModel } = await import('../../models/registry.js');
  await import('../../models/index.js'); // registers every model kind
  if ('load' in m) return loadModel(m.load);
  try {
    return buildModel(m.kind, m.options, 'config.model.kind');
  } catch (e) {
    if (e instanceof IcnnError && !e.message.startsWith('config.')) fail(`config.model: ${e.message}`);
    throw e;
  }
}

export async function readConfigFile(file: string): Promise<TrainConfig> {
  const text = await readInputText(file, `--config ${file}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(`--config ${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseTrainConfig(raw, path.dirname(path.resolve(file)));
}

// ---- the command ----------------------------------------------------------------------------------------------

interface TrainFlags {
  config: string;
  resume?: string;
  out?: string;
  progress: string;
  json?: boolean;
  force?: boolean;
}

function progressMode(v: string): string {
  if (!['auto', 'bar', 'lines', 'none'].includes(v)) throw new InvalidArgumentError('expected auto, bar, lines or none.');
  return v;
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train a model as a JSON config says; saves out/model and out/history.json')
    .requiredOption('--config <file>', 'training config (JSON): model, data, objective, optimizer, epochs, out, …')
    .option('--resume <dir>', 'continue from this checkpoint (overrides config.resume)')
    .option('--out <dir>', 'output directory (overrides config.out)')
    .option('--progress <mode>', 'auto (a bar on a terminal, else one line per epoch), bar, lines or none', progressMode, 'auto')
    .option('--json', 'print the history as JSON on stdout')
    .option('--force', 'start over even if the checkpoint dir holds an earlier run (its checkpoints get pruned), and overwrite a finished --out')
    .action(async (flags: TrainFlags) => runTrain(flags));
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a === 0 ? '0' : a >= 1e-3 && a < 1e5 ? v.toFixed(4) : v.toExponential(3);
}

/** sha256 of a file's bytes, or null when it cannot be read (the data loader then names the problem). */
async function fileDigest(file: string): Promise<string | null> {
  return hashFile(file).then((h) => h.sha256, () => null);
}

/** The files a data source or a saved model reads. */
async function inputFiles(config: TrainConfig): Promise<string[]> {
  const files: string[] = [];
  for (const src of [config.data, config.validation]) {
    if (src === null) continue;
    if ('json' in src) files.push(src.json);
    if ('csv' in src) files.push(...[src.csv.x, src.csv.y, src.csv.target].filter((f): f is string => f !== undefined));
  }
  if ('load' in config.model) {
    const dir = config.model.load;
    files.push(...(await fs.readdir(dir).catch(() => [] as string[])).sort().map((f) => path.join(dir, f)));
  }
  return files;
}

/**
 * What determines a training run's result: the config less where it writes and resumes from, and the digests of
 * the files it reads. A finished run with the same settings is reused rather than retrained (issue #19).
 */
async function trainSettings(config: TrainConfig): Promise<Json> {
  const { out: _out, resume: _resume, baseDir: _base, checkpoint: _checkpoint, ...rest } = config;
  const files = await inputFiles(config);
  const digests: Record<string, string | null> = {};
  for (const f of files) digests[f] = await fileDigest(f);
  return { ...rest, inputDigests: digests } as unknown as Json;
}

/** A finished run with identical settings: say so, and print its summary (or its history with --json). */
async function reportReusedRun(out: string, json: boolean): Promise<void> {
  const file = path.join(out, 'history.json');
  const doc = JSON.parse(await fs.readFile(file, 'utf8')) as { history: FitHistory };
  process.stderr.write(`train: ${out} already holds a finished run with identical settings; reusing it (give --force to train again)\n`);
  if (json) {
    process.stdout.write(`${stringifyFinite('train --json', doc.history)}\n`);
    return;
  }
  const h = doc.history;
  process.stdout.write(`reused ${file}: ${h.epochs.length} epochs, ${h.steps} steps, trained in ${h.seconds.toFixed(1)} s\n`);
}

async function runTrain(flags: TrainFlags): Promise<void> {
  const config = await readConfigFile(flags.config);
  if (flags.resume !== undefined) config.resume = path.resolve(flags.resume);
  if (flags.out !== undefined) config.out = path.resolve(flags.out);
  const { ready } = await import('../../backend/backend.js');
  await ready();
  const { fit } = await import('../../learning/fit.js');
  const { createObjective } = await import('../../learning/objectives/index.js');
  const { writeFileAtomic } = await import('../../util/atomicFile.js');
  // Check the objective and its options before the (possibly slow) data loading.
  createObjective(config.objective, config.objectiveOptions, 'config.objectiveOptions');
  // Nothing lost, and fail before work: see ../runGuard.ts and ../../util/outputDir.ts.
  // history.json is written last: without it the run did not finish, and a resumed run may replace its model.
  const settings = { file: 'history.json', value: await trainSettings(config) };
  if (await guardFinishedOutput(config.out, config.resume ? ['history.json'] : ['model', 'history.json'], flags.force === true, settings)) {
    await reportReusedRun(config.out, flags.json === true);
    return;
  }
  if (config.checkpoint) await guardCheckpointRoot(config.checkpoint.dir, config.resume, flags.force === true);
  await probeOutputDir(flags.out !== undefined ? '--out' : 'config.out', config.out);
  if (config.checkpoint) await probeOutputDir('config.checkpoint.dir', config.checkpoint.dir);
  const model = await modelFromConfig(config.model);
  let data: Dataset | null = null;
  let validation: Dataset | null = null;
  try {
    data = await loadDataSource(config.data, model, 'config.data');
    if (config.validation) validation = await loadDataSource(config.validation, model, 'config.validation');
    const options: FitOptions = {
      objective: config.objective as FitOptions['objective'],
      ...(config.objectiveOptions ? { objectiveOptions: config.objectiveOptions } : {}),
      epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, seed: config.seed,
      ...(validation ? { validation } : {}),
      ...(config.metrics ? { metrics: config.metrics } : {}),
      ...(config.threshold !== undefined ? { threshold: config.threshold } : {}),
      ...(config.evalBatchSize !== undefined ? { evalBatchSize: config.evalBatchSize } : {}),
      ...(config.earlyStopping ? { earlyStopping: config.earlyStopping } : {}),
      ...(config.checkpoint ? { checkpoint: config.checkpoint } : {}),
      ...(config.resume ? { resume: config.resume } : {}),
      progress: cliProgressSink(flags.progress as ProgressMode),
    };
    const history: FitHistory = await fit(model, data, options);
    const modelDir = path.join(config.out, 'model');
    await model.save(modelDir);
    const historyFile = path.join(config.out, 'history.json');
    await writeFileAtomic(historyFile, `${stringifyFinite(historyFile, {
      format: 'icnn-training-history', model: { kind: model.kind, config: model.config },
      objective: config.objective, objectiveOptions: config.objectiveOptions ?? {}, learningRate: config.learningRate,
      batchSize: config.batchSize, seed: config.seed, runSettings: settings.value, history,
    }, 2)}\n`);
    if (flags.json) {
      process.stdout.write(`${stringifyFinite('train --json', history)}\n`);
      return;
    }
    const last = history.epochs[history.epochs.length - 1];
    const lines = [
      `trained ${model.kind} with ${config.objective}: ${history.epochs.length} epoch${history.epochs.length === 1 ? '' : 's'}, ` +
        `${history.steps} steps, ${history.seconds.toFixed(1)} s${history.stoppedEarly ? ' (stopped early)' : ''}`,
    ];
    if (last) {
      lines.push(`epoch ${last.epoch}: loss ${fmt(last.trainLoss)}${Object.entries(last.metrics).map(([k, v]) => `  ${k} ${fmt(v)}`).join('')}`);
    }
    if (history.best && history.best.metric !== 'trainLoss') lines.push(`best ${history.best.metric} ${fmt(history.best.value)} at epoch ${history.best.epoch}`);
    if (history.lastCheckpoint) lines.push(`last checkpoint: ${history.lastCheckpoint}`);
    lines.push(`wrote ${modelDir} and ${historyFile}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    disposeDataset(data);
    disposeDataset(validation);
    model.dispose();
  }
}
