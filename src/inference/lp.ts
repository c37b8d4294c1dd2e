/**
 * Exact inference ŷ = argmin_{y ∈ [lower, upper]} f(x, y) for ReLU and leaky-ReLU FICNN / PICNN, as the linear
 * program of ../shared/icnn-paper.md §3.1 (the supplementary's eq. 22), solved with HiGHS (npm `highs`, wasm).
 *
 * With x fixed each layer is affine in (z_i, y): s_i = A_i z_i + B_i y + c_i with A_i ≥ 0 (see lpStructure.ts).
 * Per batch row, over the variables y (box bounds) and the hidden units z_1 … z_{k-1}:
 *   minimize    A_{k-1} z_{k-1} + B_{k-1} y + c_{k-1}        (= z_k, the energy; + (α/2)||y||² → a convex QP)
 *   subject to  z_{i+1} ≥ s_i := A_i z_i + B_i y + c_i,  z_{i+1} ≥ 0        (ReLU)
 *               z_{i+1} ≥ s_i,  z_{i+1} ≥ a·s_i                             (leaky ReLU max(s, a·s), slope a ∈ (0, 1])
 * (for 0 < a < 1 the equivalent form z = a·s + (1 − a)·t, t ≥ s, t ≥ 0 is used: one dense row per unit, not two;
 * see buildLpModel). The objective is non-decreasing in every z (A ≥ 0), so lowering each z to its activation value
 * never hurts: the optimal value is exactly min_y f(x, y), and f at the optimal y equals it. The authors call this
 * impractical at network scale (§3.1; §6, item 3): the LP has one variable per activation and dense rows.
 *
 * Supported: FICNN (with or without x) and PICNN with activation 'relu' or 'leaky-relu', positivity 'clip' (W^(z)
 * must be ≥ 0: call project() after optimizer steps) or 'softplus', with or without strongConvexity; FeedForward with
 * energy 'linear' (f = -g(x)ᵀy, no hidden units). Refused: softplus activations (not piecewise linear),
 * positivity 'none' (the LP is only a relaxation), FeedForward 'joint' (nonconvex), ConvPICNN.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureInit } from '../backend/backend.js';
import type { Highs, ModelData } from 'highs';
import type { EnergyModel } from '../models/energyModel.js';
import { fail } from '../util/errors.js';
import * as v from 'valibot';
import { NON_NEGATIVE, POSITIVE_INT } from '../util/numbers.js';
import { num, optionsSchema, parseOptions } from '../util/schema.js';
import { assertFinite, toFlatBatch, type BatchInput } from '../util/tensors.js';
import { extractLpStructure, type LpLayer } from './lpStructure.js';
import { loadHighs } from './highs.js';

/** A box bound: one number for every coordinate or one per coordinate (checked against yDim by boxBound). */
const boxBoundSchema = v.optional(v.custom<number | number[]>(() => true));

const LP_OPTIONS = optionsSchema({
  /** Lower bound of the box for y: one number for every coordinate or one per coordinate (default 0). */
  lower: boxBoundSchema,
  /** Upper bound of the box for y (default 1); every lower bound must be below its upper bound. */
  upper: boxBoundSchema,
  /** Number of rows when the model takes no x (default 1; every row is the same problem, solved once). */
  batch: v.optional(num(POSITIVE_INT)),
  /**
   * Relative tolerance of the check that the model's own (float32) energy at the returned y equals the LP optimum:
   * |f(x, ŷ) − LP| ≤ tol · max(1, |LP|), else an error is thrown. Default 1e-4; null skips the check.
   */
  checkTolerance: v.optional(v.nullable(num(NON_NEGATIVE))),
});
export type LpOptions = v.InferOutput<typeof LP_OPTIONS>;

export interface LpResult {
  /** The minimizer per row, [N, yDim] (NaN in rows whose status is not 'optimal'). */
  y: tf.Tensor2D;
  /** The LP's optimal value per row, min_y f(x, y) (NaN in rows whose status is not 'optimal'). */
  energy: Float64Array;
  /** HiGHS model status per row: 'optimal', or e.g. 'time-limit', 'solve-error'. */
  status: string[];
}

function statusName(highs: Highs, code: number): string {
  for (const [name, value] of Object.entries(highs.constants.modelStatus)) {
    if (value === code) return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  }
  return `status-${code}`;
}

function boxBound(name: string, v: unknown, fallback: number, n: number): Float64Array {
  if (v === undefined) return new Float64Array(n).fill(fallback);
  const values = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(values)) fail(`solveLp: ${name} must be a number or an array of ${n} numbers, got ${JSON.stringify(v)}`);
  if (values.length !== n) fail(`solveLp: ${name} must have one entry per coordinate of y (${n}), got ${values.length}`);
  const out = new Float64Array(n);
  values.forEach((e: unknown, j) => {
    if (typeof e !== 'number' || !Number.isFinite(e)) fail(`solveLp: ${name}[${j}] must be a finite number, got ${JSON.stringify(e)}`);
    out[j] = e;
  });
  return out;
}

/** Rows of a sparse matrix in CSR form, appended one at a time (column indices increasing within a row). */
class CsrBuilder {
  starts: number[] = [0];
  indices: Int32Array;
  values: Float64Array;
  lower: number[] = [];
  upper: number[] = [];
  private nnz = 0;

  constructor(capacity: number) {
    this.indices = new Int32Array(Math.max(capacity, 16));
    this.values = new Float64Array(Math.max(capacity, 16));
  }

  push(index: number, value: number): void {
    if (value === 0) return;
    if (this.nnz === this.indices.length) {
      const indices = new Int32Array(this.nnz * 2);
      const values = new Float64Array(this.nnz * 2);
      indices.set(this.indices);
      values.set(this.values);
      this.indices = indices;
      this.values = values;
    }
    this.indices[this.nnz] = index;
    this.values[this.nnz++] = value;
  }

  /** −scale·(B_k y + A_k z_prev), the dense part of unit k's row; z_prev starts at column `prev`. */
  pushAffine(L: LpLayer, k: number, yDim: number, prev: number, scale: number): void {
    for (let j = 0; j < yDim; j++) this.push(j, -scale * L.B[k * yDim + j]);
    if (L.A) for (let j = 0; j < L.zDim; j++) this.push(prev + j, -scale * L.A[k * L.zDim + j]);
  }

  endRow(lower: number, upper: number): void {
    this.starts.push(this.nnz);
    this.lower.push(lower);
    this.upper.push(upper);
  }

  get numRows(): number {
    return this.lower.length;
  }

  get size(): number {
    return this.nnz;
  }
}

/**
 * The LP (or QP when α > 0) of one row, in HiGHS's format. Columns start with y; then, per hidden layer:
 * - ReLU (a = 0): z ≥ 0 with rows z − A z_prev − B y ≥ c (at the optimum z = max(s, 0));
 * - leaky ReLU, 0 < a < 1: s (free), t ≥ 0 and z (free), with rows s − A z_prev − B y = c, t − s ≥ 0 and
 *   z − a·s − (1 − a)·t = 0 (z = a·s + (1 − a)·max(s, 0) at the optimum; one dense row per unit instead of two);
 * - a = 1 (linear units): z (free) with rows z − A z_prev − B y ≥ c.
 * The objective is the last layer, A_{k-1} z_{k-1} + B_{k-1} y + c_{k-1}, plus (α/2)||y||² as a diagonal Hessian.
 */
export function buildLpModel(layers: LpLayer[], yDim: number, leakySlope: number, strongConvexity: number,
  lower: Float64Array, upper: Float64Array, infinity: number): ModelData {
  const hidden = layers.slice(0, -1);
  const last = layers[layers.length - 1];
  const a = leakySlope;
  const split = a > 0 && a < 1;
  const colLower: number[] = Array.from(lower);
  const colUpper: number[] = Array.from(upper);
  const addCols = (count: number, lo: number): number => {
    const first = colLower.length;
    for (let k = 0; k < count; k++) {
      colLower.push(lo);
      colUpper.push(infinity);
    }
    return first;
  };
  let capacity = 0;
  for (const L of hidden) capacity += L.B.length + (L.A ? L.A.length : 0) + 5 * L.outDim;
  const rows = new CsrBuilder(capacity);
  let prev = -1;
  for (const L of hidden) {
    if (split) {
      const sCol = addCols(L.outDim, -infinity);
      const tCol = addCols(L.outDim, 0);
      const zCol = addCols(L.outDim, -infinity);
      for (let k = 0; k < L.outDim; k++) {
        rows.pushAffine(L, k, yDim, prev, 1);
        rows.push(sCol + k, 1);
        rows.endRow(L.c[k], L.c[k]);
      }
      for (let k = 0; k < L.outDim; k++) {
        rows.push(sCol + k, -1);
        rows.push(tCol + k, 1);
        rows.endRow(0, infinity);
      }
      for (let k = 0; k < L.outDim; k++) {
        rows.push(sCol + k, -a);
        rows.push(tCol + k, -(1 - a));
        rows.push(zCol + k, 1);
        rows.endRow(0, 0);
      }
      prev = zCol;
    } else {
      const zCol = addCols(L.outDim, a === 0 ? 0 : -infinity);
      for (let k = 0; k < L.outDim; k++) {
        rows.pushAffine(L, k, yDim, prev, 1);
        rows.push(zCol + k, 1);
        rows.endRow(L.c[k], infinity);
      }
      prev = zCol;
    }
  }

  const numCols = colLower.length;
  const numRows = rows.numRows;
  const colCost = new Float64Array(numCols);
  for (let j = 0; j < yDim; j++) colCost[j] = last.B[j];
  if (last.A) for (let j = 0; j < last.zDim; j++) colCost[prev + j] = last.A[j];
  const model: ModelData = {
    numCols, numRows, colCost, colLower: Float64Array.from(colLower), colUpper: Float64Array.from(colUpper),
    rowLower: Float64Array.from(rows.lower), rowUpper: Float64Array.from(rows.upper), offset: last.c[0],
    matrix: {
      format: 'csr', numRows, numCols, starts: Int32Array.from(rows.starts),
      indices: rows.indices.subarray(0, rows.size), values: rows.values.subarray(0, rows.size),
    },
  };
  if (strongConvexity === 0) return model;
  const hStarts = new Int32Array(numCols + 1);
  for (let j = 0; j <= numCols; j++) hStarts[j] = Math.min(j, yDim);
  const hIndices = Int32Array.from({ length: yDim }, (_, j) => j);
  const hValues = new Float64Array(yDim).fill(strongConvexity);
  return { ...model, hessian: { format: 'triangular', dimension: numCols, starts: hStarts, indices: hIndices, values: hValues } };
}

/**
 * Exact inference by linear programming (§3.1): for every row of x, the y in the box [lower, upper] that minimizes
 * f(x, y), and the minimum. `x` is [N, xDim], or null for a model without x (then `options.batch` rows, default 1).
 */
export async function solveLp(model: EnergyModel, x: tf.Tensor2D | BatchInput | null, lpOptions: LpOptions = {}): Promise<LpResult> {
  const options = parseOptions('solveLp', LP_OPTIONS, lpOptions);
  await ensureInit();
  if (model === null || typeof model !== 'object' || typeof model.energy !== 'function') {
    fail('solveLp: model must be an EnergyModel (FICNN, PICNN or FeedForward)');
  }
  if (model.isDisposed) fail(`solveLp: the ${model.kind} has been disposed`);
  if (model.kind === 'ConvPICNN') fail('solveLp: exact LP inference supports FICNN and PICNN (and FeedForward \'linear\'), not ConvPICNN');
  const n = model.yDim;
  const lower = boxBound('lower', options.lower, 0, n);
  const upper = boxBound('upper', options.upper, 1, n);
  for (let j = 0; j < n; j++) {
    if (!(lower[j] < upper[j])) fail(`solveLp: the box must have lower < upper in every coordinate, got lower[${j}] = ${lower[j]} ≥ upper[${j}] = ${upper[j]}`);
  }
  const tol = options.checkTolerance === undefined ? 1e-4 : options.checkTolerance;

  let xFlat: tf.Tensor2D | null = null;
  let batch: number;
  if (model.xDim === 0) {
    if (x !== null && x !== undefined) fail(`solveLp: this ${model.kind} takes no x (xDim 0); pass null for x and options.batch for the number of rows`);
    batch = options.batch ?? 1;
  } else {
    if (x === null || x === undefined) fail(`solveLp: x is required for this ${model.kind} (expected shape [N, ${model.xShape.join(', ')}]), got ${x}`);
    xFlat = toFlatBatch('solveLp', 'x', x, model.xShape);
    batch = xFlat.shape[0];
    if (options.batch !== undefined && options.batch !== batch) {
      if (xFlat !== x) xFlat.dispose();
      fail(`solveLp: options.batch (${JSON.stringify(options.batch)}) disagrees with the ${batch} rows of x; leave it out when x is given`);
    }
  }

  try {
    if (xFlat) assertFinite('solveLp', 'x', xFlat);
    const structure = extractLpStructure(model, xFlat, batch);
    const highs = await loadHighs();
    const yOut = new Float32Array(batch * n);
    const energy = new Float64Array(batch);
    const status: string[] = new Array<string>(batch);
    const solveRows = structure.shared ? 1 : batch;
    for (let row = 0; row < solveRows; row++) {
      const data = buildLpModel(structure.layers(row), n, structure.leakySlope, structure.strongConvexity, lower, upper, highs.infinity);
      let lp: ReturnType<Highs['createModel']>;
      try {
        lp = highs.createModel(data);
      } catch (err) {
        return fail(`solveLp: HiGHS refused the LP of row ${row}: ${(err as Error).message}`);
      }
      try {
        let modelStatus: number;
        try {
          lp.options.set({ output_flag: false });
          modelStatus = lp.run().modelStatus;
        } catch (err) {
          return fail(`solveLp: HiGHS failed on row ${row}: ${(err as Error).message}`);
        }
        status[row] = statusName(highs, modelStatus);
        if (modelStatus === highs.constants.modelStatus.optimal) {
          const col = lp.getSolution().colValue;
          for (let j = 0; j < n; j++) yOut[row * n + j] = Math.min(upper[j], Math.max(lower[j], col[j]));
          energy[row] = lp.getObjectiveValue();
        } else {
          yOut.fill(NaN, row * n, (row + 1) * n);
          energy[row] = NaN;
        }
      } finally {
        lp.dispose();
      }
    }
    if (structure.shared) {
      for (let row = 1; row < batch; row++) {
        yOut.copyWithin(row * n, 0, n);
        energy[row] = energy[0];
        status[row] = status[0];
      }
    }
    const y = tf.tensor2d(yOut, [batch, n]);
    if (tol !== null) {
      try {
        checkAgainstModel(model, xFlat, y, energy, tol);
      } catch (err) {
        y.dispose();
        throw err;
      }
    }
    return { y, energy, status };
  } finally {
    if (xFlat !== null && xFlat !== x) xFlat.dispose();
  }
}

/** The model's own energy at the LP's y must equal the LP optimum (skipping rows that are not optimal). */
function checkAgainstModel(model: EnergyModel, x: tf.Tensor2D | null, y: tf.Tensor2D, lpValue: Float64Array, tol: number): void {
  const rows: number[] = [];
  for (let r = 0; r < lpValue.length; r++) if (Number.isFinite(lpValue[r])) rows.push(r);
  if (rows.length === 0) return;
  const f = tf.tidy(() => {
    const idx = tf.tensor1d(rows, 'int32');
    return model.energy(x === null ? null : tf.gather(x, idx), tf.gather(y, idx));
  });
  const fv = f.dataSync();
  f.dispose();
  rows.forEach((r, i) => {
    const diff = Math.abs(fv[i] - lpValue[r]);
    if (!(diff <= tol * Math.max(1, Math.abs(lpValue[r])))) {
      fail(`solveLp: row ${r}: the model's energy at the LP's y (${fv[i]}) differs from the LP optimum (${lpValue[r]}) by ` +
        `${diff.toExponential(2)}, more than ${tol} relative; the weights may be too large for float32 (checkTolerance: null skips this check)`);
    }
  });
}
