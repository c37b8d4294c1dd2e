/**
 * Argmin differentiation through the bundle entropy solution (§4.3, Proposition 3).
 *
 * At the solution ŝ of min_{s,t} { t − wH(s) | G s + h ≤ t·1 } over the k active cuts (s ∈ [0,1]^n the scaled
 * y = l + (u−l)∘s), the KKT conditions w·log(ŝ/(1−ŝ)) + Gᵀλ = 0, Gŝ + h = t·1, 1ᵀλ = 1 are differentiated
 * implicitly. With Z = w·(1/ŝ + 1/(1−ŝ)) (the Hessian of −wH) and dl = −∇_ŝ ℓ, the Schur-complement form is
 *   [ G Z⁻¹ Gᵀ  1 ] [ c^λ ]   [ G Z⁻¹ dl ]
 *   [ 1ᵀ        0 ] [ c^t ] = [ 0        ],     c^y = Z⁻¹ (dl − Gᵀ c^λ)   (c^y = 0 where ŝ sits on the boundary),
 * and dℓ = Σ_i c^λ_i df(y^i) + (λ_i c^y + c^λ_i (ŝ − s^i))ᵀ dg_i, where g_i = (u−l)∘∇_y f(y^i) and
 * h_i = f(y^i) − g_iᵀs^i. So ∇_θ ℓ is the θ-gradient of the surrogate
 *   F = Σ_i [ c_i·f(x, y^i) + ∇_y f(x, y^i) · v_i ],   c_i = c^λ_i,  v_i = (u−l)∘(λ_i c^y + c^λ_i (ŝ − s^i)),
 * with c_i and v_i held constant: one batched first- and second-order pass over the k active cuts (§4.3).
 * The k×k system is solved in float64; M = G Z⁻¹ Gᵀ is only PSD (duplicate or dependent cuts), so it is factored
 * with the smallest diagonal shift that works and c^t is eliminated: c^λ = M⁻¹(b − c^t 1), 1ᵀc^λ = 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActiveBundle } from '../inference/bundleEntropy.js';
import type { EnergyModel } from '../models/energyModel.js';
import { choleskyRegularized, choleskySolve } from '../linalg/cholesky.js';

export interface ArgminAdjoint {
  /** c_i per active cut. */
  c: Float64Array;
  /** v_i per active cut, k×n row-major, in y coordinates (multiply ∇_y f by it). */
  v: Float64Array;
}

const BOUNDARY = 1e-12;

/**
 * The adjoint weights of one row. `gradLoss` is ∇_ŷ ℓ in y coordinates, `yHat` is ŷ, `lower`/`width` the box.
 */
export function argminAdjoint(bundle: ActiveBundle, yHat: Float64Array, gradLoss: Float64Array,
  lower: Float64Array, width: Float64Array, entropyWeight = 1): ArgminAdjoint {
  const n = yHat.length;
  const { k, G, lambda, points } = bundle;
  const s = Float64Array.from(yHat, (y, i) => (y - lower[i]) / width[i]);
  // Z⁻¹ and dl = −∇_s ℓ = −(u−l)∘∇_y ℓ; coordinates on the boundary are fixed (c^y = 0 there).
  const zInv = new Float64Array(n);
  const dl = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const sj = s[j];
    if (sj <= BOUNDARY || sj >= 1 - BOUNDARY) continue;
    zInv[j] = (sj * (1 - sj)) / entropyWeight;
    dl[j] = -width[j] * gradLoss[j];
  }
  // M = G Z⁻¹ Gᵀ, b = G Z⁻¹ dl.
  const M = new Float64Array(k * k);
  const b = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    for (let j = 0; j < n; j++) b[a] += G[a * n + j] * zInv[j] * dl[j];
    for (let c = 0; c <= a; c++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += G[a * n + j] * zInv[j] * G[c * n + j];
      M[a * k + c] = sum;
      M[c * k + a] = sum;
    }
  }
  const { l } = choleskyRegularized(M, k, { jitter0: 1e-12 });
  const mb = choleskySolve(l, k, b);
  const m1 = choleskySolve(l, k, new Float64Array(k).fill(1));
  let sb = 0;
  let s1 = 0;
  for (let a = 0; a < k; a++) {
    sb += mb[a];
    s1 += m1[a];
  }
  const ct = s1 === 0 ? 0 : sb / s1;
  const cLambda = Float64Array.from(mb, (v, a) => v - ct * m1[a]);
  // c^y = Z⁻¹ (dl − Gᵀ c^λ).
  const cy = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (zInv[j] === 0) continue;
    let gc = 0;
    for (let a = 0; a < k; a++) gc += G[a * n + j] * cLambda[a];
    cy[j] = zInv[j] * (dl[j] - gc);
  }
  const v = new Float64Array(k * n);
  for (let a = 0; a < k; a++) {
    for (let j = 0; j < n; j++) {
      const sa = (points[a * n + j] - lower[j]) / width[j];
      v[a * n + j] = width[j] * (lambda[a] * cy[j] + cLambda[a] * (s[j] - sa));
    }
  }
  return { c: cLambda, v };
}

/** One row of the surrogate batch: an active cut's iterate y^i of example `example`, with its weights. */
export interface SurrogateRow {
  example: number;
  point: Float64Array;
  c: number;
  v: Float64Array;
}

/**
 * The surrogate F = Σ_rows c·f(x, y^i) + ∇_y f(x, y^i)·v (call inside tf.variableGrads: its θ-gradient is the sum
 * over examples of ∇_θ ℓ by Prop. 3). Batch normalization runs in inference mode by default, as in the inference
 * that produced the bundles, so the gradient is that of the same function; `training: true` uses the statistics of
 * the surrogate's rows (x repeated once per active cut), as the authors' train step under is_training(True).
 */
export function argminSurrogate(model: EnergyModel, x: tf.Tensor2D | null, rows: SurrogateRow[], { training = false } = {}): tf.Scalar {
  const n = model.yDim;
  const R = rows.length;
  const points = new Float32Array(R * n);
  const v = new Float32Array(R * n);
  const c = new Float32Array(R);
  rows.forEach((r, i) => {
    points.set(r.point, i * n);
    v.set(r.v, i * n);
    c[i] = r.c;
  });
  const yPts = tf.tensor2d(points, [R, n]);
  const vT = tf.tensor2d(v, [R, n]);
  const cT = tf.tensor1d(c);
  const xRep = x === null ? null : tf.gather(x, tf.tensor1d(rows.map((r) => r.example), 'int32'));
  const ctx = model.context(xRep, { batch: R, training });
  const { energy, grad } = model.energyAndGradFromContext(ctx, yPts);
  return tf.add(tf.sum(tf.mul(cT, energy)), tf.sum(tf.mul(grad, vT))) as tf.Scalar;
}
