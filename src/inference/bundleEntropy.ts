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
import {
  binaryEntropySum,
  categoricalEntropy,
  solveBundleEntropyDual,
  solveCategoricalEntropyDual,
  type EntropyDualResult,
} from './entropyDual/index.js';
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
/** Weight of the barycentre in the start point on the simplex domain (keeps it strictly inside Δ_n). */
const BARYCENTRE_MIX = 1e-6;

/** The cuts of one row: slopes g_i (scaled), offsets h_i, the iterates y^i, and the last subproblem's weights λ. */
interface RowBundle {
  G: Float64Array[];
  h: number[];
  points: Float64Array[];
  lambda: Float64Array;
}

export function bundleEntropyMethod(oracle: EnergyOracle, domain: Domain, y0: Float64Array, iterations: number,
  tolerance: number, entropyWeight: number): BundleEntropyResult {
  // Outputs on the probability simplex Δ_n (one-hot, §4.2) use the categorical entropy and dual; boxes the binary ones.
  const categorical = domain.kind === 'simplex';
  if (domain.kind !== 'box' && !categorical) {
    fail(`argmin: method 'bundle-entropy' needs a box or the simplex domain (got '${domain.label}')`);
  }
  if (!(entropyWeight > 0)) fail(`argmin: entropyWeight must be > 0 for 'bundle-entropy', got ${entropyWeight}`);
  const { batch: N, n } = oracle;
  const { lower, upper } = domain;
  const width = Float64Array.from(upper, (u, i) => u - lower[i]);
  const toY = (sRow: Float64Array, out: Float64Array) => {
    for (let i = 0; i < n; i++) out[i] = lower[i] + width[i] * sRow[i];
  };
  const s = scaledStart(y0, lower, width, N, n, categorical);
  const entropyOfRow = categorical ? categoricalEntropy : binaryEntropySum;
  const y = new Float64Array(N * n);
  for (let r = 0; r < N; r++) toY(s.subarray(r * n, (r + 1) * n), y.subarray(r * n, (r + 1) * n));

  const bundles: RowBundle[] = Array.from({ length: N }, () => ({ G: [], h: [], points: [], lambda: new Float64Array(0) }));
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
      const b = bundles[r];
      if (!addCut(b, sr, energy[r], grad.subarray(r * n, (r + 1) * n), width, y.subarray(r * n, (r + 1) * n))) {
        active[r] = 0;
        remaining--;
        continue;
      }
      const sol = solveSubproblem(b, n, entropyWeight, categorical);
      lowerBound[r] = Math.max(lowerBound[r], entropyWeight * sol.dualValue);
      pruneCuts(b, sol.lambda);
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
  return { y, energy: final, objective, iterations: iters, lowerBound, bundles: bundles.map((b) => packBundle(b, n)) };
}

/**
 * The scaled start s ∈ (0,1)^n of every row, strictly inside (the entropy's gradient is infinite on the boundary). On
 * the simplex domain (lower = 0, upper = 1, so s = y): each row projected onto Δ_n and mixed with the barycentre.
 */
function scaledStart(y0: Float64Array, lower: ArrayLike<number>, width: Float64Array, N: number, n: number, categorical: boolean): Float64Array {
  const s = new Float64Array(N * n);
  if (categorical) {
    for (let r = 0; r < N; r++) {
      const row = s.subarray(r * n, (r + 1) * n);
      projectOntoSimplex(y0.subarray(r * n, (r + 1) * n), row);
      for (let i = 0; i < n; i++) row[i] = (1 - BARYCENTRE_MIX) * row[i] + BARYCENTRE_MIX / n;
    }
  } else {
    for (let j = 0; j < N * n; j++) {
      const i = j % n;
      s[j] = Math.min(Math.max((y0[j] - lower[i]) / width[i], 1e-6), 1 - 1e-6);
    }
  }
  return s;
}

/**
 * Adds the cut of f at the iterate (scaled s, original y) to the bundle: g = (u−l)∘∇_y f, h = f − gᵀs. Returns false,
 * adding nothing, when an identical cut is already there (the model is exact at the iterate: the row has converged).
 */
function addCut(b: RowBundle, s: Float64Array, f: number, grad: ArrayLike<number>, width: Float64Array, y: Float64Array): boolean {
  const n = s.length;
  const g = new Float64Array(n);
  let gs = 0;
  for (let i = 0; i < n; i++) {
    g[i] = width[i] * grad[i];
    gs += g[i] * s[i];
  }
  const hNew = f - gs;
  const duplicate = b.G.some((gi, idx) => Math.abs(b.h[idx] - hNew) <= 1e-12 * (1 + Math.abs(hNew)) &&
    gi.every((v, i) => Math.abs(v - g[i]) <= 1e-12 * (1 + Math.abs(v))));
  if (duplicate) return false;
  b.G.push(g);
  b.h.push(hNew);
  b.points.push(Float64Array.from(y));
  return true;
}

/** The subproblem min max_i(g_iᵀs + h_i) − wH(s) = w·[same with G/w, h/w], through the entropy dual of the domain. */
function solveSubproblem(b: RowBundle, n: number, w: number, categorical: boolean): EntropyDualResult {
  const kc = b.G.length;
  const Gs = new Float64Array(kc * n);
  const hs = new Float64Array(kc);
  for (let i = 0; i < kc; i++) {
    for (let j = 0; j < n; j++) Gs[i * n + j] = b.G[i][j] / w;
    hs[i] = b.h[i] / w;
  }
  return categorical ? solveCategoricalEntropyDual(Gs, hs, kc, n) : solveBundleEntropyDual(Gs, hs, kc, n);
}

/** Prunes the inactive cuts (λ_i ≤ 1e-12), keeping their λ renormalized (the solution has at least one active cut). */
function pruneCuts(b: RowBundle, lambda: Float64Array): void {
  const keep: number[] = [];
  for (let i = 0; i < lambda.length; i++) if (lambda[i] > PRUNE) keep.push(i);
  let lamSum = 0;
  for (const i of keep) lamSum += lambda[i];
  b.G = keep.map((i) => b.G[i]);
  b.h = keep.map((i) => b.h[i]);
  b.points = keep.map((i) => b.points[i]);
  b.lambda = Float64Array.from(keep, (i) => lambda[i] / lamSum);
}

/** The row's active bundle in the flat row-major layout argmin differentiation consumes. */
function packBundle(b: RowBundle, n: number): ActiveBundle {
  const k = b.G.length;
  const G = new Float64Array(k * n);
  const points = new Float64Array(k * n);
  b.G.forEach((g, i) => G.set(g, i * n));
  b.points.forEach((p, i) => points.set(p, i * n));
  return { k, G, h: Float64Array.from(b.h), lambda: b.lambda, points };
}
