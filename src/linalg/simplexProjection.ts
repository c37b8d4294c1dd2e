/**
 * Euclidean projection onto the probability simplex {λ : λ ≥ 0, 1ᵀλ = 1}: of the cut weights λ ∈ Δ_k in the entropy
 * dual solvers (`../shared/icnn-paper.md` §3.4; KKT residual, projected-gradient step, warm starts) and of outputs
 * y onto the simplex domain Δ_n.
 *
 * Sort-based algorithm (Held, Wolfe & Crowder 1974; Duchi et al. 2008): sort v decreasingly, find the largest ρ with
 * u_ρ − (Σ_{j≤ρ} u_j − r)/ρ > 0, and return max(v − τ, 0) with τ = (Σ_{j≤ρ} u_j − r)/ρ. O(k log k).
 */
import { fail } from '../util/errors.js';

/**
 * Projects v onto {λ ≥ 0, Σλ = radius} (radius > 0, default 1). Writes into `out` when given (it may alias v).
 * Throws on non-finite entries. The result is non-negative exactly and sums to radius up to rounding (k·ε·radius).
 */
export function projectOntoSimplex(v: ArrayLike<number>, out?: Float64Array, radius = 1): Float64Array {
  const k = v.length;
  if (k === 0) fail('projectOntoSimplex: the vector is empty');
  if (!(radius > 0) || !Number.isFinite(radius)) fail(`projectOntoSimplex: radius must be positive and finite, got ${radius}`);
  const res = out ?? new Float64Array(k);
  if (res.length !== k) fail(`projectOntoSimplex: out has length ${res.length}, expected ${k}`);
  const u = Float64Array.from(v);
  for (let i = 0; i < k; i++) if (!Number.isFinite(u[i])) fail(`projectOntoSimplex: entry ${i} is ${u[i]}`);
  u.sort();
  // u is ascending: walk from the largest entry down.
  let cum = 0;
  let tau = 0;
  for (let j = 1; j <= k; j++) {
    const uj = u[k - j];
    cum += uj;
    const cand = (cum - radius) / j;
    if (uj - cand > 0) tau = cand;
    else break;
  }
  for (let i = 0; i < k; i++) {
    const d = v[i] - tau;
    res[i] = d > 0 ? d : 0;
  }
  return res;
}
