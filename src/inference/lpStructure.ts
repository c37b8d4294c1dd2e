/**
 * The piecewise-linear structure of a ReLU / leaky-ReLU ICNN with x fixed, for exact LP inference
 * (../shared/icnn-paper.md §3.1, architectures §1.1-§1.2).
 *
 * With x fixed, every layer i of an FICNN or PICNN is an affine map of (z_i, y) followed by the activation:
 *   s_i = A_i z_i + B_i y + c_i,   z_{i+1} = g(s_i)  (hidden layers),   f = s_{k-1}  (last layer, width 1, linear)
 * - PICNN (§1.2): A_i = W^(z)_i scaled by the z-gate [W^(zu) u_i + b^(z)]_+ ≥ 0 (per input unit of z_i),
 *   B_i = W^(y)_i scaled by the y-gate W^(yu) u_i + b^(y) (per coordinate of y), c_i = W^(u) u_i + b_i.
 * - FICNN (§1.1): A_i = W^(z)_i, B_i = the y-rows of the passthrough W^(v)_i, c_i = the x-part plus the bias.
 * - FeedForward with energy 'linear': f = -g(x)ᵀy, a single linear layer (no hidden units).
 * A_i ≥ 0 is what makes the LP of §3.1 exact; it is checked here.
 *
 * Matrices are row-major Float64Array: A_i is [m_{i+1} × m_i], B_i is [m_{i+1} × yDim].
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeContext, type EnergyContext, type EnergyModel } from '../models/energyModel.js';
import { FICNN } from '../models/ficnn.js';
import { PICNN } from '../models/picnn.js';
import { FeedForward } from '../models/feedForward.js';
import { fail } from '../util/errors.js';

/** One layer's affine map s = A z + B y + c for one batch row. */
export interface LpLayer {
  /** Output width m_{i+1}. */
  outDim: number;
  /** Width of the z input m_i (0 for the first layer). */
  zDim: number;
  /** [outDim × zDim] row-major, every entry ≥ 0; null when zDim = 0. */
  A: Float64Array | null;
  /** [outDim × yDim] row-major. */
  B: Float64Array;
  /** [outDim]. */
  c: Float64Array;
}

export interface LpStructure {
  readonly kind: 'FICNN' | 'PICNN' | 'FeedForward';
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

interface FicnnContextView extends EnergyContext {
  xTerms: tf.Tensor2D[];
}

interface PicnnContextView extends EnergyContext {
  zGates: tf.Tensor2D[];
  yGates: tf.Tensor2D[];
  uTerms: tf.Tensor2D[];
}

interface FeedForwardContextView extends EnergyContext {
  features: tf.Tensor2D;
}

/** A tensor's values, with the number of rows (1 for a broadcast row). */
interface Rows {
  data: Float32Array;
  rows: number;
  width: number;
}

function readRows(t: tf.Tensor2D): Rows {
  return { data: Float32Array.from(t.dataSync() as Float32Array), rows: t.shape[0], width: t.shape[1] };
}

/** The effective values of named parameters (softplus of the stored variable for W^(z) under 'softplus'). */
function readParameters(model: EnergyModel, names: string[]): Map<string, Float32Array> {
  const byName = new Map(model.parameters().map((p) => [p.name, p]));
  const out = new Map<string, Float32Array>();
  for (const name of names) {
    const p = byName.get(name);
    if (!p) fail(`lp: internal: ${model.kind} has no parameter '${name}'`);
    const softplus = p.role === 'convex' && model.positivity === 'softplus';
    const t = softplus ? tf.tidy(() => tf.softplus(p.variable)) : p.variable;
    out.set(name, Float32Array.from(t.dataSync() as Float32Array));
    if (softplus) t.dispose();
  }
  return out;
}

function checkConvexWeights(kind: string, params: Map<string, Float32Array>, names: string[]): void {
  for (const name of names) {
    const w = params.get(name) as Float32Array;
    let min = Infinity;
    for (let i = 0; i < w.length; i++) if (w[i] < min) min = w[i];
    if (min < 0) {
      fail(`lp: ${kind} parameter ${name} (W^(z)) has negative entries (min ${min}); the LP of §3.1 is exact only for ` +
        'W^(z) ≥ 0: call model.project() after the optimizer step');
    }
  }
}

function hiddenSlope(kind: string, activation: string, leakySlope: number): number {
  if (activation === 'relu') return 0;
  if (activation === 'leaky-relu') return leakySlope;
  return fail(`lp: ${kind} with activation '${activation}' is not piecewise linear, so its inference is not an LP ` +
    "(exact LP inference needs activation 'relu' or 'leaky-relu'; use gradient-based or bundle inference)");
}

function checkPositivity(model: EnergyModel): void {
  if (model.positivity === 'none') {
    fail(`lp: ${model.kind} has positivity 'none' (the nonconvex ablation): with negative W^(z) the LP of §3.1 is a ` +
      "relaxation, not exact inference; use positivity 'clip' or 'softplus'");
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
  if (model instanceof FICNN) return ficnnStructure(model, x, batch);
  if (model instanceof PICNN) return picnnStructure(model, x, batch);
  if (model instanceof FeedForward) return feedForwardStructure(model, x, batch);
  return fail(`lp: exact LP inference supports FICNN and PICNN (and FeedForward with energy 'linear'), not ${model.kind}`);
}

function ficnnStructure(model: FICNN, x: tf.Tensor2D | null, batch: number): LpStructure {
  checkPositivity(model);
  const { xDim, yDim, hidden, activation, leakySlope, strongConvexity } = model.config;
  const slope = hiddenSlope('FICNN', activation, leakySlope);
  const widths = [...hidden, 1];
  const wv = widths.map((_, i) => `layer${i}.Wv`);
  const wz = widths.map((_, i) => `layer${i}.Wz`).slice(1);
  const params = readParameters(model, [...wv, ...wz]);
  checkConvexWeights('FICNN', params, wz);
  const ctx = model.context(xDim === 0 ? null : x, { batch }) as FicnnContextView;
  let xTerms: Rows[];
  try {
    xTerms = ctx.xTerms.map(readRows);
  } finally {
    disposeContext(ctx);
  }
  const shared = xTerms.every((t) => t.rows === 1);
  const layers = (row: number): LpLayer[] => widths.map((m, i) => {
    const Wv = params.get(wv[i]) as Float32Array;
    const B = new Float64Array(m * yDim);
    for (let j = 0; j < yDim; j++) {
      const base = (xDim + j) * m;
      for (let k = 0; k < m; k++) B[k * yDim + j] = Wv[base + k];
    }
    const t = xTerms[i];
    const r = t.rows === 1 ? 0 : row;
    const c = Float64Array.from(t.data.subarray(r * m, (r + 1) * m));
    if (i === 0) return { outDim: m, zDim: 0, A: null, B, c };
    const mPrev = widths[i - 1];
    const Wz = params.get(`layer${i}.Wz`) as Float32Array;
    const A = new Float64Array(m * mPrev);
    for (let j = 0; j < mPrev; j++) {
      for (let k = 0; k < m; k++) A[k * mPrev + j] = Wz[j * m + k];
    }
    return { outDim: m, zDim: mPrev, A, B, c };
  });
  return { kind: 'FICNN', rows: batch, yDim, widths, leakySlope: slope, strongConvexity, shared, layers: rowChecked(batch, layers) };
}

function picnnStructure(model: PICNN, x: tf.Tensor2D | null, batch: number): LpStructure {
  checkPositivity(model);
  if (x === null) fail('lp: PICNN: x is required');
  const { yDim, hidden, activation, leakySlope, strongConvexity } = model.config;
  const slope = hiddenSlope('PICNN', activation, leakySlope);
  const widths = [...hidden, 1];
  const wy = widths.map((_, i) => `z${i}.Wy`);
  const wz = widths.map((_, i) => `z${i}.Wz`).slice(1);
  const params = readParameters(model, [...wy, ...wz]);
  checkConvexWeights('PICNN', params, wz);
  const ctx = model.context(x) as PicnnContextView;
  let zGates: Rows[];
  let yGates: Rows[];
  let uTerms: Rows[];
  try {
    zGates = ctx.zGates.map(readRows);
    yGates = ctx.yGates.map(readRows);
    uTerms = ctx.uTerms.map(readRows);
  } finally {
    disposeContext(ctx);
  }
  const layers = (row: number): LpLayer[] => widths.map((m, i) => {
    const Wy = params.get(wy[i]) as Float32Array;
    const yGate = yGates[i].data.subarray(row * yDim, (row + 1) * yDim);
    const B = new Float64Array(m * yDim);
    for (let j = 0; j < yDim; j++) {
      const g = yGate[j];
      const base = j * m;
      for (let k = 0; k < m; k++) B[k * yDim + j] = Wy[base + k] * g;
    }
    const c = Float64Array.from(uTerms[i].data.subarray(row * m, (row + 1) * m));
    if (i === 0) return { outDim: m, zDim: 0, A: null, B, c };
    const mPrev = widths[i - 1];
    const Wz = params.get(`z${i}.Wz`) as Float32Array;
    const zGate = zGates[i - 1].data.subarray(row * mPrev, (row + 1) * mPrev);
    const A = new Float64Array(m * mPrev);
    for (let j = 0; j < mPrev; j++) {
      const g = zGate[j];
      if (g === 0) continue;
      const base = j * m;
      for (let k = 0; k < m; k++) A[k * mPrev + j] = Wz[base + k] * g;
    }
    return { outDim: m, zDim: mPrev, A, B, c };
  });
  return { kind: 'PICNN', rows: batch, yDim, widths, leakySlope: slope, strongConvexity, shared: false, layers: rowChecked(batch, layers) };
}

function feedForwardStructure(model: FeedForward, x: tf.Tensor2D | null, batch: number): LpStructure {
  if (model.config.energy !== 'linear') {
    fail("lp: FeedForward with energy 'joint' is not convex in y; exact LP inference needs energy 'linear' (or an FICNN/PICNN)");
  }
  if (x === null) fail('lp: FeedForward: x is required');
  const yDim = model.config.yDim;
  const ctx = model.context(x) as FeedForwardContextView;
  let g: Rows;
  try {
    g = readRows(ctx.features);
  } finally {
    disposeContext(ctx);
  }
  const layers = (row: number): LpLayer[] => {
    const B = new Float64Array(yDim);
    for (let j = 0; j < yDim; j++) B[j] = -g.data[row * yDim + j];
    return [{ outDim: 1, zDim: 0, A: null, B, c: new Float64Array(1) }];
  };
  return { kind: 'FeedForward', rows: batch, yDim, widths: [1], leakySlope: 0, strongConvexity: 0, shared: false, layers: rowChecked(batch, layers) };
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
