/**
 * Evaluation metrics for the training loop (./fit.ts) and `icnn evaluate`.
 *
 * Multi-label (structured objectives; predictions ŷ ∈ [0,1]^n thresholded at `threshold`, default 0.5, as
 * ŷ ≥ threshold like the authors' `util.macroF1`):
 * - `exampleF1`: mean over examples of the per-example F1 = 2TP / (2TP + FP + FN). This is what the paper's
 *   BibTeX table calls "macro-F1" (§5.2: sklearn `f1_score(trueY.T, predY.T, average='macro')` on transposed
 *   matrices averages over examples).
 * - `labelMacroF1`: the usual macro-F1, mean over labels of the per-label F1.
 * - `microF1`: one F1 of the counts pooled over the whole matrix, 2ΣTP / (2ΣTP + ΣFP + ΣFN): what the authors'
 *   BibTeX scripts scored before their commit d956176 (reproduction-audit.md, BibTeX #5).
 * - `hammingAccuracy`: fraction of label entries predicted correctly; `subsetAccuracy`: fraction of examples with
 *   every label right; `mse`: mean squared error of the unthresholded ŷ against the targets.
 * An F1 with nothing to count (truth and prediction both empty, so 0/0) is `zeroDivision`, default 0: sklearn's
 * default (`zero_division='warn'` acts as 0; the 2016 sklearn the authors used set F = 0 wherever TP = 0).
 *
 * Regression (energy regression, §4.1): `mse`, `rmse`, `mae` of the predicted energies against the targets.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyModel } from '../models/energyModel.js';
import type { Objective } from './objectives/objective.js';
import { fail } from '../util/errors.js';

export const MULTILABEL_METRICS = ['exampleF1', 'labelMacroF1', 'microF1', 'hammingAccuracy', 'subsetAccuracy', 'mse'] as const;
export const REGRESSION_METRICS = ['mse', 'rmse', 'mae'] as const;
export type MultiLabelMetricName = (typeof MULTILABEL_METRICS)[number];
export type RegressionMetricName = (typeof REGRESSION_METRICS)[number];
export type MetricName = MultiLabelMetricName | RegressionMetricName;

/** Metric values by name. */
export type Metrics = Record<string, number>;

/** Metrics where smaller is better (early stopping infers its mode from this). */
export const LOWER_IS_BETTER: readonly string[] = ['mse', 'rmse', 'mae', 'trainLoss'];

export interface F1Options {
  /** F1 of an example (or label) whose truth and prediction are both empty; default 0 (sklearn). */
  zeroDivision?: 0 | 1;
}

export interface MultiLabelOptions extends F1Options {
  /** Predictions ≥ threshold count as positive (default 0.5). */
  threshold?: number;
}

function checkSizes(where: string, pred: ArrayLike<number>, truth: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows <= 0 || !Number.isInteger(cols) || cols <= 0) {
    fail(`${where}: rows and cols must be positive integers, got ${rows} × ${cols}`);
  }
  if (pred.length !== rows * cols || truth.length !== rows * cols) {
    fail(`${where}: expected ${rows} × ${cols} = ${rows * cols} entries, got ${pred.length} predictions and ${truth.length} targets`);
  }
}

function f1(tp: number, fp: number, fn: number, zeroDivision: number): number {
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? zeroDivision : (2 * tp) / denom;
}

/** Counts (TP, FP, FN) over binary matrices (entries > 0.5 are positive), per row or per column. */
function counts(pred: ArrayLike<number>, truth: ArrayLike<number>, rows: number, cols: number, byRow: boolean):
  { tp: Float64Array; fp: Float64Array; fn: Float64Array } {
  const m = byRow ? rows : cols;
  const tp = new Float64Array(m);
  const fp = new Float64Array(m);
  const fn = new Float64Array(m);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const p = pred[r * cols + c] > 0.5;
      const t = truth[r * cols + c] > 0.5;
      const k = byRow ? r : c;
      if (p && t) tp[k]++;
      else if (p) fp[k]++;
      else if (t) fn[k]++;
    }
  }
  return { tp, fp, fn };
}

function meanF1(c: { tp: Float64Array; fp: Float64Array; fn: Float64Array }, zeroDivision: number): number {
  let s = 0;
  for (let k = 0; k < c.tp.length; k++) s += f1(c.tp[k], c.fp[k], c.fn[k], zeroDivision);
  return s / c.tp.length;
}

/**
 * Mean over examples (rows) of the per-example F1 of binary row-major matrices [rows, cols] (entries > 0.5 are
 * positive): the authors' "macro-F1" (§5.2).
 */
export function exampleF1(pred: ArrayLike<number>, truth: ArrayLike<number>, rows: number, cols: number, o: F1Options = {}): number {
  checkSizes('exampleF1', pred, truth, rows, cols);
  return meanF1(counts(pred, truth, rows, cols, true), o.zeroDivision ?? 0);
}

/** Mean over labels (columns) of the per-label F1 (the usual macro-F1). */
export function labelMacroF1(pred: ArrayLike<number>, truth: ArrayLike<number>, rows: number, cols: number, o: F1Options = {}): number {
  checkSizes('labelMacroF1', pred, truth, rows, cols);
  return meanF1(counts(pred, truth, rows, cols, false), o.zeroDivision ?? 0);
}

/** F1 of the counts pooled over every entry of binary row-major matrices [rows, cols] (micro-averaged F1). */
export function microF1(pred: ArrayLike<number>, truth: ArrayLike<number>, rows: number, cols: number, o: F1Options = {}): number {
  checkSizes('microF1', pred, truth, rows, cols);
  const c = counts(pred, truth, rows, cols, true);
  const sum = (v: Float64Array) => v.reduce((a, x) => a + x, 0);
  return f1(sum(c.tp), sum(c.fp), sum(c.fn), o.zeroDivision ?? 0);
}

/** Binarize continuous predictions: 1 where ŷ ≥ threshold. */
export function threshold(pred: ArrayLike<number>, t = 0.5): Uint8Array {
  const out = new Uint8Array(pred.length);
  for (let i = 0; i < pred.length; i++) out[i] = pred[i] >= t ? 1 : 0;
  return out;
}

/** Every multi-label metric of continuous predictions ŷ [rows, cols] against binary targets. */
export function multiLabelMetrics(pred: ArrayLike<number>, truth: ArrayLike<number>, rows: number, cols: number,
  o: MultiLabelOptions = {}): Record<MultiLabelMetricName, number> {
  checkSizes('multiLabelMetrics', pred, truth, rows, cols);
  const t = o.threshold ?? 0.5;
  if (!(t > 0 && t < 1)) fail(`multiLabelMetrics: threshold must be in (0, 1), got ${t}`);
  const bin = threshold(pred, t);
  let correct = 0;
  let exact = 0;
  let sq = 0;
  for (let r = 0; r < rows; r++) {
    let rowOk = true;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const ok = (bin[i] === 1) === (truth[i] > 0.5);
      if (ok) correct++;
      else rowOk = false;
      sq += (pred[i] - truth[i]) ** 2;
    }
    if (rowOk) exact++;
  }
  const zd = { zeroDivision: o.zeroDivision ?? 0 };
  return {
    exampleF1: exampleF1(bin, truth, rows, cols, zd),
    labelMacroF1: labelMacroF1(bin, truth, rows, cols, zd),
    microF1: microF1(bin, truth, rows, cols, zd),
    hammingAccuracy: correct / (rows * cols),
    subsetAccuracy: exact / rows,
    mse: sq / (rows * cols),
  };
}

/** MSE, RMSE and MAE of predicted energies against targets. */
export function regressionMetrics(pred: ArrayLike<number>, target: ArrayLike<number>): Record<RegressionMetricName, number> {
  if (pred.length !== target.length || pred.length === 0) {
    fail(`regressionMetrics: expected as many predictions as targets (and at least one), got ${pred.length} and ${target.length}`);
  }
  let sq = 0;
  let abs = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i] - target[i];
    sq += d * d;
    abs += Math.abs(d);
  }
  const mse = sq / pred.length;
  return { mse, rmse: Math.sqrt(mse), mae: abs / pred.length };
}

/** Whether an objective predicts energies (energy regression, §4.1) rather than structured outputs ŷ. */
export function isRegressionObjective(objective: Objective): boolean {
  return objective.name === 'energy-regression';
}

/** The metrics an objective's evaluation produces. */
export function metricNamesFor(objective: Objective): readonly MetricName[] {
  return isRegressionObjective(objective) ? REGRESSION_METRICS : MULTILABEL_METRICS;
}

export interface EvaluationData {
  x: tf.Tensor2D | null;
  y: tf.Tensor2D;
  target?: tf.Tensor1D;
}

export interface EvaluateOptions extends MultiLabelOptions {
  /** Rows per prediction batch (default 256). */
  batchSize?: number;
  /** Compute only these metrics (default: all that apply). */
  metrics?: readonly string[];
}

type EnergyPredictor = (model: EnergyModel, x: tf.Tensor2D | null, batch: number, y?: tf.Tensor2D) => Promise<tf.Tensor>;

/**
 * Predict with `objective.predict` in batches and compute the metrics: multi-label metrics of ŷ against `data.y`,
 * or, for energy regression, regression metrics of f(x, y) against `data.target`. Tensors are not kept.
 */
export async function evaluate(model: EnergyModel, objective: Objective, data: EvaluationData, o: EvaluateOptions = {}): Promise<Metrics> {
  const rows = data.y.shape[0];
  const batchSize = o.batchSize ?? 256;
  const regression = isRegressionObjective(objective);
  if (regression && !data.target) fail("evaluate: energy regression needs the energies at each (x, y) as 'target'");
  const width = regression ? 1 : model.yDim;
  const pred = new Float64Array(rows * width);
  for (let start = 0; start < rows; start += batchSize) {
    const size = Math.min(batchSize, rows - start);
    const x = data.x === null ? null : tf.slice(data.x, [start, 0], [size, -1]);
    const y = regression ? tf.slice(data.y, [start, 0], [size, -1]) : undefined;
    try {
      const out = await (objective.predict as EnergyPredictor).call(objective, model, x, size, y);
      const values = await out.data();
      out.dispose();
      if (values.length !== size * width) {
        fail(`evaluate: objective '${objective.name}' predicted ${values.length} values for ${size} rows (expected ${size * width})`);
      }
      pred.set(values, start * width);
    } finally {
      x?.dispose();
      y?.dispose();
    }
  }
  const all: Metrics = regression
    ? regressionMetrics(pred, await data.target!.data())
    : multiLabelMetrics(pred, await data.y.data(), rows, width, o);
  if (!o.metrics) return all;
  const picked: Metrics = {};
  for (const name of o.metrics) {
    if (!(name in all)) fail(`evaluate: unknown metric '${name}' for objective '${objective.name}' (expected one of: ${Object.keys(all).join(', ')})`);
    picked[name] = all[name];
  }
  return picked;
}
