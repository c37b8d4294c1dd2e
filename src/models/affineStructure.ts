/**
 * The affine structure of a model with x fixed (`../shared/icnn-paper.md` §3.1, architectures §1.1-§1.2): every
 * layer i is an affine map of (z_i, y) followed by the hidden activation,
 *   s_i = A_i z_i + B_i y + c_i,   z_{i+1} = g(s_i)  (hidden layers),   f = s_{k-1}  (last layer, width 1, linear),
 * with A_i ≥ 0 for a convex model. The models build it from their blocks and context (`affineStructure`), and
 * exact LP inference (../inference/lpStructure.ts) and the RL agents' float64 oracle consume it.
 *
 * Matrices are row-major Float64Array: A_i is [m_{i+1} × m_i], B_i is [m_{i+1} × yDim].
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ConvexActivation } from './activations.js';

/** One layer's affine map s = A z + B y + c for one batch row. */
export interface AffineLayer {
  /** Output width m_{i+1}. */
  outDim: number;
  /** Width of the z input m_i (0 for the first layer). */
  zDim: number;
  /** [outDim × zDim] row-major; null when zDim = 0. */
  A: Float64Array | null;
  /** [outDim × yDim] row-major. */
  B: Float64Array;
  /** [outDim]. */
  c: Float64Array;
}

/** The effective values of one convex-path weight W^(z) (before any gating), for feasibility checks. */
export interface PositiveWeightValues {
  /** The parameter's name (for messages). */
  name: string;
  values: Float32Array;
}

/**
 * A model's layers as affine maps s_i = A_i z_i + B_i y + c_i per batch row, with x fixed (§3.1): what exact LP
 * inference and the RL agents' float64 oracle evaluate instead of the tensors.
 */
export interface AffineStructure {
  /** Number of batch rows. */
  readonly rows: number;
  readonly yDim: number;
  /** Output width of every layer; the last is 1 (the energy). */
  readonly widths: readonly number[];
  /** The hidden activation g and its leaky slope; null when there are no hidden layers. */
  readonly hidden: { activation: ConvexActivation; leakySlope: number } | null;
  /** α of the model's (α/2)·||y||² term (0 for none). */
  readonly strongConvexity: number;
  /** True when every row has the same structure (a model without x): solve once. */
  readonly shared: boolean;
  /** The convex-path weights whose non-negativity makes A_i ≥ 0. */
  readonly positiveWeights: PositiveWeightValues[];
  /** The affine maps of batch row `row` (0 ≤ row < rows, not checked), in layer order. */
  layers(row: number): AffineLayer[];
}

/** A context tensor's values, with its number of rows (1 for a broadcast row) and width. */
export interface Rows {
  data: Float32Array;
  rows: number;
  width: number;
}

export function readRows(t: tf.Tensor2D): Rows {
  return { data: Float32Array.from(t.dataSync() as Float32Array), rows: t.shape[0], width: t.shape[1] };
}

/** Row `row` of a context tensor read by `readRows` (row 0 when it is a broadcast row), as float64. */
export function rowOf(t: Rows, row: number): Float64Array {
  const r = t.rows === 1 ? 0 : row;
  return Float64Array.from(t.data.subarray(r * t.width, (r + 1) * t.width));
}

/**
 * The transpose of the [inDim × outDim] row-major weight W (a variable's layout), as the [outDim × inDim] matrix of
 * an affine layer, with column j scaled by `colScale[j]` when given (the gates of a PICNN).
 */
export function transposed(W: Float32Array, inDim: number, outDim: number, colScale?: ArrayLike<number>, rowOffset = 0): Float64Array {
  const out = new Float64Array(outDim * inDim);
  for (let j = 0; j < inDim; j++) {
    const g = colScale === undefined ? 1 : colScale[j];
    if (g === 0) continue;
    const base = (rowOffset + j) * outDim;
    for (let k = 0; k < outDim; k++) out[k * inDim + j] = colScale === undefined ? W[base + k] : W[base + k] * g;
  }
  return out;
}
