/**
 * Shared helpers of the inference tests (not a test file itself): random non-trivial networks, brute-force
 * references (dense grids, nested zoom searches of f − w·H) and a spy on the points an optimizer evaluates.
 */
import { tf, type EnergyModel } from './icnn.js';
import { Rng } from '../../src/util/random.js';
import { EnergyOracle } from '../../src/inference/oracle.js';

/**
 * Move a model away from its initialization, so that the minimizer is not trivially at a corner: random biases and
 * gates (y-gates of both signs, some z-gates switched off by their ReLU). Same recipe as test/inference/lp.test.ts.
 */
export function perturb(model: EnergyModel, seed: number): void {
  const rng = new Rng(seed);
  for (const p of model.parameters()) {
    const n = p.variable.size;
    let v: Float32Array | null = null;
    if (p.name.endsWith('.by')) v = rng.fillNormal(n, 0.5, 1);
    else if (p.name.endsWith('.bz')) v = rng.fillNormal(n, 0.3, 0.7);
    else if (/\.b$/.test(p.name)) v = rng.fillNormal(n, 0, 0.5);
    if (v !== null) {
      const t = tf.tensor(v, p.variable.shape);
      p.variable.assign(t);
      t.dispose();
    }
  }
}

/** Multiply the named parameters by `factor` (e.g. a network's last layer: f is then scaled by `factor`). */
export function scaleParameters(model: EnergyModel, pattern: RegExp, factor: number): number {
  let count = 0;
  for (const p of model.parameters()) {
    if (!pattern.test(p.name)) continue;
    const t = tf.mul(p.variable, factor);
    p.variable.assign(t);
    t.dispose();
    count++;
  }
  return count;
}

export function randomX(model: EnergyModel, rows: number, seed: number): tf.Tensor2D | null {
  if (model.xDim === 0) return null;
  return tf.tensor2d(new Rng(seed).fillNormal(rows * model.xDim), [rows, model.xDim]);
}

export function rowOf(x: tf.Tensor2D | null, r: number): tf.Tensor2D | null {
  return x === null ? null : tf.slice(x, [r, 0], [1, x.shape[1]]);
}

/** Energy (float32 model) and gradient norm at each of the points [P × d] for one row of x, in chunks. */
export function evaluatePoints(model: EnergyModel, xRow: tf.Tensor2D | null, points: Float32Array, d: number,
  withGrad = false): { energy: Float32Array; gradNorm: Float32Array } {
  const count = points.length / d;
  const energy = new Float32Array(count);
  const gradNorm = new Float32Array(withGrad ? count : 0);
  const chunk = 8192;
  for (let s = 0; s < count; s += chunk) {
    const m = Math.min(chunk, count - s);
    const out = tf.tidy(() => {
      const y = tf.tensor2d(points.subarray(s * d, (s + m) * d), [m, d]);
      const x = xRow === null ? null : tf.tile(xRow, [m, 1]);
      if (!withGrad) return [model.energy(x, y)];
      const r = model.energyAndGradY(x, y);
      return [r.energy, tf.norm(r.grad as tf.Tensor2D, 'euclidean', 1)];
    });
    energy.set(out[0].dataSync() as Float32Array, s);
    if (withGrad) gradNorm.set(out[1].dataSync() as Float32Array, s);
    tf.dispose(out);
  }
  return { energy, gradNorm };
}

export interface GridResult {
  /** Smallest energy on the grid. */
  min: number;
  /** Its grid point. */
  at: number[];
  /**
   * How far the grid minimum can lie above the true minimum over the set: (max ‖∇f‖ on the grid) · (half the
   * grid diagonal), since every point of the set is within half a cell diagonal of a grid point.
   */
  slack: number;
}

/** Dense grid over a box in 1 or 2 dimensions (`per` points per axis). */
export function gridBox(model: EnergyModel, xRow: tf.Tensor2D | null, lower: number[], upper: number[], per: number): GridResult {
  const d = lower.length;
  const count = per ** d;
  const points = new Float32Array(count * d);
  const h = lower.map((lo, j) => (upper[j] - lo) / (per - 1));
  for (let p = 0; p < count; p++) {
    let rest = p;
    for (let j = 0; j < d; j++) {
      points[p * d + j] = lower[j] + (rest % per) * h[j];
      rest = Math.floor(rest / per);
    }
  }
  return gridFromPoints(model, xRow, points, d, Math.sqrt(h.reduce((a, hj) => a + (hj / 2) ** 2, 0)));
}

/** Dense grid over the segment {(t, 1 − t) : t ∈ [0, 1]}, the probability simplex of R². */
export function gridSimplex2(model: EnergyModel, xRow: tf.Tensor2D | null, per: number): GridResult {
  const points = new Float32Array(per * 2);
  for (let p = 0; p < per; p++) {
    const t = p / (per - 1);
    points[2 * p] = t;
    points[2 * p + 1] = 1 - t;
  }
  // Neighbouring grid points are √2/(per − 1) apart along the segment.
  return gridFromPoints(model, xRow, points, 2, Math.SQRT2 / (per - 1) / 2);
}

function gridFromPoints(model: EnergyModel, xRow: tf.Tensor2D | null, points: Float32Array, d: number, radius: number): GridResult {
  const { energy, gradNorm } = evaluatePoints(model, xRow, points, d, true);
  let best = 0;
  let lipschitz = 0;
  for (let p = 0; p < energy.length; p++) {
    if (energy[p] < energy[best]) best = p;
    lipschitz = Math.max(lipschitz, gradNorm[p]);
  }
  return { min: energy[best], at: Array.from(points.subarray(best * d, best * d + d)), slack: lipschitz * radius };
}

function binaryEntropy(s: number): number {
  if (s <= 0 || s >= 1) return 0;
  return -(s * Math.log(s) + (1 - s) * Math.log(1 - s));
}

/** F(y) = f(x, y) − w·Σ_j H((y_j − l_j)/(u_j − l_j)) at each point (f from the float32 model, H in float64). */
export function entropyObjective(model: EnergyModel, xRow: tf.Tensor2D | null, points: Float32Array, lower: number[],
  upper: number[], w: number): Float64Array {
  const d = lower.length;
  const { energy } = evaluatePoints(model, xRow, points, d);
  const out = new Float64Array(energy.length);
  for (let p = 0; p < energy.length; p++) {
    let h = 0;
    for (let j = 0; j < d; j++) h += binaryEntropy((points[p * d + j] - lower[j]) / (upper[j] - lower[j]));
    out[p] = energy[p] - w * h;
  }
  return out;
}

/**
 * High-accuracy minimum of the strictly convex F = f − w·H over a box in 1 or 2 dimensions, by nested zoom
 * searches: 21 points on the current interval, then the interval between the neighbours of the best point (for a
 * convex function of one variable the minimizer lies there), `levels` times (the final interval is 10^−levels of the
 * box; the default 10 puts the search error far below float32 rounding of f). In 2-D the
 * outer search runs over y₁ with φ(y₁) = min_{y₂} F(y₁, y₂) (convex), each inner search batched over the outer points.
 * Independent of the library's solvers: it uses only the model's energy.
 */
export function zoomMinimum(model: EnergyModel, xRow: tf.Tensor2D | null, lower: number[], upper: number[], w: number,
  levels = 10): { value: number; y: number[] } {
  const d = lower.length;
  if (d !== 1 && d !== 2) throw new Error(`zoomMinimum: 1 or 2 dimensions, got ${d}`);
  const K = 21;
  const inner = (y1: number[] | null): { values: number[]; args: number[] } => {
    // For each outer value (or once, in 1-D) minimize over the last coordinate.
    const rows = y1 === null ? 1 : y1.length;
    const j = d - 1;
    const a = new Array<number>(rows).fill(lower[j]);
    const b = new Array<number>(rows).fill(upper[j]);
    const values = new Array<number>(rows).fill(Infinity);
    const args = new Array<number>(rows).fill(NaN);
    for (let level = 0; level < levels; level++) {
      const points = new Float32Array(rows * K * d);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < K; k++) {
          const at = (r * K + k) * d;
          if (y1 !== null) points[at] = y1[r];
          points[at + j] = a[r] + ((b[r] - a[r]) * k) / (K - 1);
        }
      }
      const F = entropyObjective(model, xRow, points, lower, upper, w);
      for (let r = 0; r < rows; r++) {
        let k0 = 0;
        for (let k = 1; k < K; k++) if (F[r * K + k] < F[r * K + k0]) k0 = k;
        const c = points[(r * K + k0) * d + j];
        if (F[r * K + k0] < values[r]) {
          values[r] = F[r * K + k0];
          args[r] = c;
        }
        const h = (b[r] - a[r]) / (K - 1);
        a[r] = Math.max(lower[j], c - h);
        b[r] = Math.min(upper[j], c + h);
      }
    }
    return { values, args };
  };
  if (d === 1) {
    const { values, args } = inner(null);
    return { value: values[0], y: [args[0]] };
  }
  let a = lower[0];
  let b = upper[0];
  let best = { value: Infinity, y: [NaN, NaN] };
  for (let level = 0; level < levels; level++) {
    const y1 = Array.from({ length: K }, (_, k) => Math.fround(a + ((b - a) * k) / (K - 1)));
    const { values, args } = inner(y1);
    let k0 = 0;
    for (let k = 1; k < K; k++) if (values[k] < values[k0]) k0 = k;
    if (values[k0] < best.value) best = { value: values[k0], y: [y1[k0], args[k0]] };
    const h = (b - a) / (K - 1);
    a = Math.max(lower[0], y1[k0] - h);
    b = Math.min(upper[0], y1[k0] + h);
  }
  return best;
}

/**
 * Record every batch of points at which an optimizer asks the model for f and ∇f: argmin's oracle
 * (src/inference/oracle.ts) evaluates once per batched call, through the model's tfjs ops or the native z-path kernel.
 * Returns the list of evaluated batches ([N·n] each, as float32) and a function that restores the oracle.
 */
export function spyEvaluations(model: EnergyModel): { batches: Float32Array[]; restore: () => void } {
  const batches: Float32Array[] = [];
  const original = EnergyOracle.prototype.evaluate;
  EnergyOracle.prototype.evaluate = function (this: EnergyOracle, y: Float64Array) {
    if (this.model === model) batches.push(Float32Array.from(y));
    return original.call(this, y);
  };
  return { batches, restore: () => { EnergyOracle.prototype.evaluate = original; } };
}

/** Logistic function σ(z) = 1/(1 + e^{−z}), computed stably. */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}
