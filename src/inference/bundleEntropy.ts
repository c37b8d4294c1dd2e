/**
 * The bundle entropy method (§3.4, Algorithm 2): minimize f(y) − w·H(y) over a box or the probability simplex by
 * cutting planes. On a box each subproblem min_{s,t} { t − H(s) | G s + h ≤ t·1 } is solved through its dual on the
 * cut weights λ ∈ Δ_k (projected Newton in float64, ./entropyDual/binaryDual.ts) with primal recovery s = σ(−Gᵀλ).
 *
 * - Boxes [l, u] are handled by the affine map y = l + (u−l)∘s, s ∈ [0,1]^n; the entropy is H(s).
 * - The probability simplex Δ_n = {y ≥ 0, 1ᵀy = 1} (one-hot outputs, §3.4's "easily extensible" remark and §4.2's
 *   multiclass example): the iterates are the y ∈ Δ_n themselves, the entropy is the multivariate H(y) = −Σ y_j log y_j,
 *   and each subproblem min_{y∈Δ_n,t} { t − H(y) | G y + h ≤ t·1 } is solved through its dual
 *   max_{λ∈Δ_k} hᵀλ − logsumexp(−Gᵀλ) with primal recovery y = softmax(−Gᵀλ) (./entropyDual/categoricalDual.ts).
 *   The start is the given point projected onto Δ_n and mixed with the barycentre (weight 1e-6), so it is strictly
 *   inside.
 * - The entropy weight w (default 1) is folded into the cuts: min max_i(g_iᵀs + h_i) − wH(s) = w·[same with G/w, h/w].
 * - Cuts with λ_i ≤ 1e-12 are pruned after each subproblem (the active set that argmin differentiation, §4.3, needs).
 * - A new cut identical to one in the bundle carries no information: it means the subproblem's solution was
 *   already evaluated, so the model is exact there and the row has converged. It is dropped and the row stops;
 *   there is no early stop on mere rank deficiency (the authors' rule ends after 3 cuts in 2-D, far from optimal).
 * - Certificates: the dual value of the subproblem is a lower bound on min f − wH (cuts under-estimate f); the best
 *   f − wH seen is an upper bound; rows stop when their gap ≤ tolerance·max(1, |upper|).
 * - The returned ŷ is the last subproblem's solution y^{K+1} (as in the paper), evaluated once more for its energy.
 */
import type { Domain } from './domain.js';
import type { EnergyOracle } from './oracle.js';
import { binaryEntropy, categoricalEntropy, solveBundleEntropyDual, solveCategoricalEntropyDual } from './entropyDual/index.js';
import { projectOntoSimplex } from '../linalg/simplexProjection.js';
import { fail } from '../util/errors.js';

/** The active bundle of one row at the solution: what argmin differentiation (Prop. 3) consumes. */
export interface ActiveBundle {
  /** Number of active cuts k. */
  k: number;
  /**
   * Cut slopes, k×n row-major. Box domains: in the scaled variable s ∈ [0,1]^n, g_i = (u−l)∘∇_y f(y^i). The simplex:
   * unscaled, g_i = ∇_y f(y^i) in the original coordinates (s = y there). In both cases not divided by the entropy
   * weight w (the subproblem that was solved used G/w and h/w).
   */
  G: Float64Array;
  /** Cut offsets h_i = f(y^i) − g_iᵀ s^i (s^i = y^i on the simplex). */
  h: Float64Array;
  /** Dual weights λ on the simplex. */
  lambda: Float64Array;
  /** The iterates y^i (original coordinates; points of Δ_n for the simplex) of the active cuts, k×n row-major. */
  points: Float64Array;
}

export interface BundleEntropyResult {
  y: Float64Array;
  energy: Float64Array;
  /** f(ŷ) − w·H(ŷ). */
  objective: Float64Array;
  iterations: Int32Array;
  /** Lower bound on min f − w·H. */
  lowerBound: Float64Array;
  bundles: ActiveBundle[];
}

const PRUNE = 1e-12;
/** Weight of the barycentre in the simplex start point (keeps it strictly inside Δ_n). */
const SIMPLEX_MIX = 1e-6;

function entropyOf(s: Float64Array): number {
  let e = 0;
  for (const v of s) e += binaryEntropy(v);
  return e;
}

export function bundleEntropyMethod(oracle: EnergyOracle, domain: Domain, y0: Float64Array, iterations: number,
  tolerance: number, entropyWeight: number): BundleEntropyResult {
  const simplex = domain.kind === 'simplex';
  if (domain.kind !== 'box' && !simplex) {
    fail(`argmin: method 'bundle-entropy' needs a box or the simplex domain (got '${domain.label}')`);
  }
  if (!(entropyWeight > 0)) fail(`argmin: entropyWeight must be > 0 for 'bundle-entropy', got ${entropyWeight}`);
  const { batch: N, n } = oracle;
  const { lower, upper } = domain;
  const width = Float64Array.from(upper, (u, i) => u - lower[i]);
  const toY = (s: Float64Array, out: Float64Array) => {
    for (let i = 0; i < n; i++) out[i] = lower[i] + width[i] * s[i];
  };
  // Scaled iterates s ∈ (0,1)^n; start strictly inside (the entropy's gradient is infinite on the boundary).
  // On the simplex (lower = 0, upper = 1, so s = y): project each row onto Δ_n and mix in the barycentre.
  const s = new Float64Array(N * n);
  if (simplex) {
    for (let r = 0; r < N; r++) {
      const row = s.subarray(r * n, (r + 1) * n);
      projectOntoSimplex(y0.subarray(r * n, (r + 1) * n), row);
      for (let i = 0; i < n; i++) row[i] = (1 - SIMPLEX_MIX) * row[i] + SIMPLEX_MIX / n;
    }
  } else {
    for (let j = 0; j < N * n; j++) {
      const i = j % n;
      s[j] = Math.min(Math.max((y0[j] - lower[i]) / width[i], 1e-6), 1 - 1e-6);
    }
  }
  const entropyOfRow = simplex ? categoricalEntropy : entropyOf;
  const y = new Float64Array(N * n);
  for (let r = 0; r < N; r++) toY(s.subarray(r * n, (r + 1) * n), y.subarray(r * n, (r + 1) * n));

  const bundles = Array.from({ length: N }, () => ({ G: [] as Float64Array[], h: [] as number[], points: [] as Float64Array[], lambda: new Float64Array(0) }));
  const lowerBound = new Float64Array(N).fill(-Infinity);
  const bestObjective = new Float64Array(N).fill(Infinity);
  const iters = new Int32Array(N);
  const active = new Uint8Array(N).fill(1);
  let remaining = N;

  for (let k = 0; k < iterations && remaining > 0; k++) {
    const { energy, grad } = oracle.evaluate(y);
    for (let r = 0; r < N; r++) {
      if (!active[r]) continue;
      iters[r] = k + 1;
      const sr = s.subarray(r * n, (r + 1) * n);
      bestObjective[r] = Math.min(bestObjective[r], energy[r] - entropyWeight * entropyOfRow(sr));
      const g = new Float64Array(n);
      let gs = 0;
      for (let i = 0; i < n; i++) {
        g[i] = width[i] * grad[r * n + i];
        gs += g[i] * sr[i];
      }
      const hNew = energy[r] - gs;
      const b = bundles[r];
      const duplicate = b.G.some((gi, idx) => Math.abs(b.h[idx] - hNew) <= 1e-12 * (1 + Math.abs(hNew)) &&
        gi.every((v, i) => Math.abs(v - g[i]) <= 1e-12 * (1 + Math.abs(v))));
      if (duplicate) {
        active[r] = 0;
        remaining--;
        continue;
      }
      b.G.push(g);
      b.h.push(hNew);
      b.points.push(Float64Array.from(y.subarray(r * n, (r + 1) * n)));
      const kc = b.G.length;
      const Gs = new Float64Array(kc * n);
      const hs = new Float64Array(kc);
      for (let i = 0; i < kc; i++) {
        for (let j = 0; j < n; j++) Gs[i * n + j] = b.G[i][j] / entropyWeight;
        hs[i] = b.h[i] / entropyWeight;
      }
      const sol = simplex ? solveCategoricalEntropyDual(Gs, hs, kc, n) : solveBundleEntropyDual(Gs, hs, kc, n);
      lowerBound[r] = Math.max(lowerBound[r], entropyWeight * sol.dualValue);
      // Prune inactive cuts (λ_i ≈ 0), keeping at least the largest.
      const keep: number[] = [];
      for (let i = 0; i < kc; i++) if (sol.lambda[i] > PRUNE) keep.push(i);
      let lamSum = 0;
      for (const i of keep) lamSum += sol.lambda[i];
      b.G = keep.map((i) => b.G[i]);
      b.h = keep.map((i) => b.h[i]);
      b.points = keep.map((i) => b.points[i]);
      b.lambda = Float64Array.from(keep, (i) => sol.lambda[i] / lamSum);
      sr.set(sol.y);
      toY(sr, y.subarray(r * n, (r + 1) * n));
      const upperBound = bestObjective[r];
      if (bestObjective[r] - lowerBound[r] <= tolerance * Math.max(1, Math.abs(upperBound))) {
        active[r] = 0;
        remaining--;
      }
    }
  }
  // Score the returned iterate ŷ = y^{K+1}.
  const final = oracle.evaluate(y).energy;
  const objective = new Float64Array(N);
  for (let r = 0; r < N; r++) objective[r] = final[r] - entropyWeight * entropyOfRow(s.subarray(r * n, (r + 1) * n));
  return {
    y, energy: final, objective, iterations: iters, lowerBound,
    bundles: bundles.map((b) => {
      const k = b.G.length;
      const G = new Float64Array(k * n);
      const points = new Float64Array(k * n);
      b.G.forEach((g, i) => G.set(g, i * n));
      b.points.forEach((p, i) => points.set(p, i * n));
      return { k, G, h: Float64Array.from(b.h), lambda: b.lambda, points };
    }),
  };
}
