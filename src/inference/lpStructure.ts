/**
 * The piecewise-linear structure of a ReLU / leaky-ReLU ICNN with x fixed, for exact LP inference
 * (../shared/icnn-paper.md §3.1, architectures §1.1-§1.2). Each model gives its per-row affine maps
 *   s_i = A_i z_i + B_i y + c_i,   z_{i+1} = g(s_i)  (hidden layers),   f = s_{k-1}  (last layer, width 1, linear)
 * through `EnergyModel.affineStructure` (../models/affineStructure.ts): FICNN and PICNN, and FeedForward with energy
 * 'linear' (f = -g(x)ᵀy, a single linear layer). This file checks what makes the LP of §3.1 exact: a convex model,
 * a piecewise-linear activation, and A_i ≥ 0, i.e. every W^(z) ≥ 0.
 *
 * Matrices are row-major Float64Array: A_i is [m_{i+1} × m_i], B_i is [m_{i+1} × yDim].
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { AffineLayer, AffineStructure, PositiveWeightValues } from '../models/affineStructure.js';
import type { EnergyModel, ModelKind } from '../models/energyModel.js';
import { FeedForward } from '../models/feedForward.js';
import { fail } from '../util/errors.js';

/** One layer's affine map s = A z + B y + c for one batch row (A ≥ 0 once checked here). */
export type LpLayer = AffineLayer;

export interface LpStructure {
  readonly kind: ModelKind;
  /** Number of batch rows. */
  readonly rows: number;
  readonly yDim: number;
  /** Output width of every layer; the last is 1 (the energy). */
  readonly widths: readonly number[];
  /** Negative-side slope of the hidden activation: 0 for ReLU, a ∈ (0, 1] for leaky ReLU (g(s) = max(s, a·s)). */
  readonly leakySlope: number;
  /** α of the model's (α/2)·||y||² term (0 for none). */
  readonly strongConvexity: number;
  /** True when every row has the same structure (a model without x): solve once. */
  readonly shared: boolean;
  /** The affine maps of batch row `row`, in layer order. */
  layers(row: number): LpLayer[];
}

function checkConvexWeights(kind: string, weights: PositiveWeightValues[]): void {
  for (const { name, values: w } of weights) {
    let min = Infinity;
    for (let i = 0; i < w.length; i++) if (w[i] < min) min = w[i];
    if (min < 0) {
      fail(`lp: ${kind} parameter ${name} (W^(z)) has negative entries (min ${min}); the LP of §3.1 is exact only for ` +
        'W^(z) ≥ 0: call model.project() after the optimizer step');
    }
  }
}

/** The negative-side slope of the hidden activation (0 without hidden layers); refuses a non-piecewise-linear one. */
function hiddenSlope(kind: string, hidden: AffineStructure['hidden']): number {
  if (hidden === null || hidden.activation === 'relu') return 0;
  if (hidden.activation === 'leaky-relu') return hidden.leakySlope;
  return fail(`lp: ${kind} with activation '${hidden.activation}' is not piecewise linear, so its inference is not an LP ` +
    "(exact LP inference needs activation 'relu' or 'leaky-relu'; use gradient-based or bundle inference)");
}

/** Refuses models whose LP would not be exact inference: the nonconvex ablation and the joint feed-forward energy. */
function checkConvex(model: EnergyModel): void {
  if (model.positivity === 'none') {
    fail(`lp: ${model.kind} has positivity 'none' (the nonconvex ablation): with negative W^(z) the LP of §3.1 is a ` +
      "relaxation, not exact inference; use positivity 'clip' or 'softplus'");
  }
  if (model instanceof FeedForward && model.config.energy !== 'linear') {
    fail("lp: FeedForward with energy 'joint' is not convex in y; exact LP inference needs energy 'linear' (or an FICNN/PICNN)");
  }
}

function checkRowsOf(kind: string, x: tf.Tensor2D | null, batch: number): void {
  if (x !== null && x.shape[0] !== batch) fail(`lp: internal: x has ${x.shape[0]} rows, expected ${batch}`);
  if (!Number.isInteger(batch) || batch <= 0) fail(`lp: ${kind}: batch must be a positive integer, got ${batch}`);
}

/**
 * Extract the per-row affine maps of `model` with x fixed. `x` is [batch, xDim] (already validated), or null for
 * a model without x (then every one of the `batch` rows is the same).
 */
export function extractLpStructure(model: EnergyModel, x: tf.Tensor2D | null, batch: number): LpStructure {
  checkRowsOf(model.kind, x, batch);
  checkConvex(model);
  if (model.xDim > 0 && x === null) fail(`lp: ${model.kind}: x is required`);
  const s = model.affineStructure(x, batch);
  if (s === null) return fail(`lp: exact LP inference supports FICNN and PICNN (and FeedForward with energy 'linear'), not ${model.kind}`);
  const leakySlope = hiddenSlope(model.kind, s.hidden);
  checkConvexWeights(model.kind, s.positiveWeights);
  const { rows, yDim, widths, strongConvexity, shared } = s;
  return { kind: model.kind, rows, yDim, widths, leakySlope, strongConvexity, shared, layers: rowChecked(batch, (row) => s.layers(row)) };
}

function rowChecked(batch: number, fn: (row: number) => LpLayer[]): (row: number) => LpLayer[] {
  return (row: number) => {
    if (!Number.isInteger(row) || row < 0 || row >= batch) fail(`lp: row must be an integer in [0, ${batch}), got ${row}`);
    return fn(row);
  };
}

/**
 * The energy f(y) of one row from its affine maps, in float64: a reference for the LP and for tests.
 * Hidden layers apply max(s, a·s) (ReLU when a = 0); the last layer is linear; plus (α/2)||y||².
 */
export function evaluateLpLayers(layers: LpLayer[], leakySlope: number, strongConvexity: number, y: ArrayLike<number>): number {
  const n = y.length;
  let z = new Float64Array(0);
  let out = NaN;
  layers.forEach((L, i) => {
    const s = new Float64Array(L.outDim);
    for (let k = 0; k < L.outDim; k++) {
      let v = L.c[k];
      for (let j = 0; j < n; j++) v += L.B[k * n + j] * y[j];
      if (L.A) for (let j = 0; j < L.zDim; j++) v += L.A[k * L.zDim + j] * z[j];
      s[k] = i === layers.length - 1 ? v : Math.max(v, leakySlope * v);
    }
    if (i === layers.length - 1) out = s[0];
    z = s;
  });
  let sq = 0;
  for (let j = 0; j < n; j++) sq += y[j] * y[j];
  return out + (strongConvexity / 2) * sq;
}
