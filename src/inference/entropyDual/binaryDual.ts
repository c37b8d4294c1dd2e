/**
 * Solver for the bundle entropy subproblem (`../shared/icnn-paper.md` §3.4, "Bundle entropy method" and
 * "Projected-Newton dual solver as coded"; its λ feeds the argmin gradient of §4.3).
 *
 * Primal, for k cuts (row i of G is g_iᵀ, G is k×n row-major) and offsets h:
 *     min_{y ∈ (0,1)ⁿ, t}  t − H(y)   s.t.  G y + h ≤ t·1,     H(y) = −Σ_j [y_j log y_j + (1−y_j) log(1−y_j)].
 * Dual over the cut weights λ ∈ Δ = {λ ≥ 0, 1ᵀλ = 1} (the probability simplex of dimension k):
 *     min_{λ∈Δ} F(λ) = −cᵀλ + Σ_j softplus((Gᵀλ)_j),  c = G·1 + h,
 * which on Δ equals −hᵀλ + Σ_j softplus(−(Gᵀλ)_j) (the form used here: no cancellation between cᵀλ and softplus).
 *     ∇F(λ) = −(G y + h)  with  y = σ(−Gᵀλ),      ∇²F(λ) = G diag(y(1−y)) Gᵀ.
 * So −∇F_i is the value of cut i at the recovered y: λ is optimal iff every cut with λ_i > 0 attains the largest
 * value t = max_i (G y + h)_i. The primal is recovered as y = σ(−Gᵀλ), t = max_i (G y + h)_i (always feasible).
 * For every λ ∈ Δ, −F(λ) ≤ min_y max_i (g_iᵀy + h_i) − H(y) (weak duality), and the gap
 *     primalValue − dualValue = Σ_i λ_i (t − (G y + h)_i) ≥ 0
 * (Fenchel equality for y = σ(−Gᵀλ)); it is reported as `dualityGap`.
 *
 * Algorithm: the projected Newton method of Bertsekas (1982), two-metric form, on the variables left after
 * eliminating the equality constraint through the largest coordinate p = argmax λ (λ_p = 1 − Σ_{j≠p} λ_j, so the
 * reduced problem is min over z = λ_{−p} ≥ 0 with λ_p ≥ 0 kept by backtracking; λ_p ≥ 1/k at the start of a step).
 * Differences from the authors' code, for robustness:
 * - Reduced gradient and Hessian are formed from row differences g_j − g_p and h_j − h_p (no cancellation, exact
 *   zeros for duplicate cuts), and the offsets are shifted by max h (F changes by a constant on Δ).
 * - Binding set: Bertsekas's ε-active set {j : λ_j ≤ ε, ∂_j > 0}, ε = min(1e-3, current residual), plus the
 *   coordinates that a projected-gradient (Cauchy) step sends to zero. Binding coordinates are moved to zero; the free
 *   ones take a Newton step that accounts for that move; a free coordinate at zero whose step would cross zero is
 *   fixed too and the step recomputed. The new point is the better (lower F) of the Newton point and the Cauchy
 *   point (the Cauchy point must win by more than rounding), so every step does at least what projected gradient
 *   does (global convergence), and Newton's local rate takes over once the binding set is right.
 * - The reduced Hessian is singular whenever k − 1 > n, for duplicate or affinely dependent cuts, and numerically
 *   when y saturates. The free-set system is regularized Levenberg–Marquardt style: (H₀ + μI) d = rhs with
 *   μ = max(‖rhs‖₂, 1e-13·max diag H₀). μ ∝ ‖rhs‖ keeps the fast local convergence of Newton (Yamashita–Fukushima; the
 *   dual satisfies a Luo–Tseng error bound, being a strictly convex function of Gᵀλ plus a linear term on a polytope)
 *   and bounds the step: ‖d‖₂ ≤ 1, the diameter scale of Δ. The Cholesky factorization adds jitter if it still fails.
 *   Never is a singular system inverted: a direction is always defined, and a non-finite entry is replaced by 0.
 * - Armijo backtracking (σ = 1e-4, halving) on the projection arc, with the decrease F(λ') − F(λ) evaluated from
 *   Δλ directly (softplus differences via log1p/expm1), so the test stays meaningful down to rounding level.
 *   When neither the Newton nor the Cauchy arc gives an acceptable point, λ is stationary to working precision and
 *   the solver stops (`converged` tells whether the tolerance was met).
 * - Large scales: when kktScale s (below) exceeds 300, the dual is nearly piecewise linear (softplus of logits of
 *   size s) and Newton's quadratic model is poor far from the solution. The solver then follows the path of the
 *   problems min max_i(g_iᵀy + h_i) − βH(y) (data G/β, h/β) from β = s/300 down to 1, dividing β by 4 per stage,
 *   solving each stage to 1e-3 and warm-starting the next with a tangent predictor (see `predictAlongPath` in ./continuation.ts).
 *   With a warm start `lambda0`, the target problem is tried directly first (20 steps).
 *
 * Stopping rule and scaling: the KKT residual is the projected-gradient norm r(λ) = ‖λ − P_Δ(λ − ∇F(λ)/s)‖_∞,
 * zero iff λ is optimal. With s = 1 it is the plain (absolute) residual. The solver stops when r(λ) ≤ tol with
 * s = `kktScale` = max_i ‖g_i‖₁ (1 when G = 0): the largest value |g_iᵀy| a cut's slope can contribute, which sets
 * both the size of meaningful gradient differences and their rounding error (≈ ε·(s + |h|)). This makes the test
 * invariant to scaling G and h together (in the near-linear regimes of very large or very small G), and it is in
 * units of λ, a dimensionless quantity in [0, 1]. Offsets far below the others only produce cuts with λ_i = 0,
 * which contribute nothing to r, so h is deliberately left out of s.
 * After r ≤ tol, up to 3 more steps are taken while the duality gap exceeds max(tol·(1 + |value|), its rounding
 * floor): r ≤ tol alone allows a gap of order tol·s, large next to a value that is a small difference of large cut
 * values. What is attainable is limited by the resolution of λ: ulp(λ) ≈ 1e-17 times a Hessian of order s² (for
 * unsaturated y) is the granularity of the cut values, e.g. ≈ 1e-4 for cuts of size 1e6 (s ≈ 1e7).
 *
 * Measured iteration counts: docs/entropy-dual.md.
 */
import { solveEntropyDual } from './continuation.js';
import { binaryEntropySum, binaryEntropyFromLogit, logistic, softplus, softplusDiff } from './numerics.js';
import {
  checkCuts,
  maxCutValue,
  problemKktResidual,
  shiftOffsets,
  type EntropyDualOptions,
  type EntropyDualResult,
  type LogitPotential,
  type PotentialDifference,
} from './problem.js';

export type BundleEntropyDualOptions = EntropyDualOptions;

/**
 * The solver's result (fields documented on EntropyDualResult). Here y = σ(−Gᵀλ) ∈ [0,1]ⁿ: strictly inside unless
 * rounding makes it 1 ((Gᵀλ)_j < −37) or 0 ((Gᵀλ)_j > 745); the values use the logits, so they stay accurate there.
 * kktScale is max_i ‖g_i‖₁, or 1 when G = 0.
 */
export type BundleEntropyDualResult = EntropyDualResult;

/** The scale used by the relative KKT residual: max_i ‖g_i‖₁, or 1 when G is zero (or n = 0). */
export function kktScale(G: ArrayLike<number>, k: number, n: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) {
    let r = 0;
    for (let j = 0; j < n; j++) r += Math.abs(G[i * n + j]);
    s = Math.max(s, r);
  }
  return s > 0 ? s : 1;
}

function checkInputs(G: ArrayLike<number>, h: ArrayLike<number>, k: number, n: number, who: string): void {
  checkCuts(G, h, k, n, who, 0);
}

/**
 * φ(a) = Σ_j softplus(−a_j), with y = σ(−a) and aux w = y(1−y) (the diagonal Hessian weights). Differences use
 * softplusDiff (log1p/expm1), so the Armijo tests stay meaningful down to rounding level.
 */
const BINARY_POTENTIAL: LogitPotential = {
  centred: false,
  value(a: Float64Array, y: Float64Array, w: Float64Array): number {
    let f = 0;
    for (let j = 0; j < a.length; j++) {
      const yj = logistic(-a[j]);
      y[j] = yj;
      w[j] = yj * logistic(a[j]);
      f += softplus(-a[j]);
    }
    return f;
  },
  difference(a: Float64Array, _y: Float64Array, _w: Float64Array, da: Float64Array, mag: number, out: PotentialDifference): void {
    let sp = 0;
    for (let j = 0; j < a.length; j++) {
      const t = softplusDiff(-a[j], -da[j]);
      sp += t;
      mag += Math.abs(t);
    }
    out.value = sp;
    out.mag = mag;
  },
  hessianWeights: (_y: Float64Array, w: Float64Array): Float64Array => w,
  entropy(a: Float64Array): number {
    let hy = 0;
    for (let j = 0; j < a.length; j++) hy += binaryEntropyFromLogit(a[j]);
    return hy;
  },
  rowNorm(G: ArrayLike<number>, row: number, n: number): number {
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.abs(G[row + j]);
    return s;
  },
  tangentWeights(a: Float64Array): Float64Array {
    const w = new Float64Array(a.length);
    for (let j = 0; j < a.length; j++) w[j] = logistic(a[j]) * logistic(-a[j]);
    return w;
  },
  nextValue(gb: Float64Array, k: number, n: number, x: Float64Array, ratio: number): number {
    let f = 0;
    for (let j = 0; j < n; j++) {
      let aj = 0;
      for (let i = 0; i < k; i++) if (x[i] !== 0) aj += x[i] * gb[i * n + j];
      f += softplus(-aj / ratio);
    }
    return f;
  },
};

/**
 * KKT residual of the cut weights λ ∈ Δ_k for the binary dual: ‖λ − P_Δ(λ − ∇F(λ)/scale)‖_∞ (default scale 1, the plain
 * projected-gradient norm; pass `kktScale(G, k, n)` for the relative residual the solver uses). Zero iff λ minimizes
 * F over Δ. λ must lie in Δ_k (it is not projected first).
 */
export function kktResidual(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  lambda: ArrayLike<number>,
  scale = 1,
): number {
  checkInputs(G, h, k, n, 'kktResidual');
  const { hs } = shiftOffsets(h, k);
  return problemKktResidual(G, hs, k, n, BINARY_POTENTIAL, lambda, scale, 'kktResidual');
}

/** Dual objective F(λ) = −hᵀλ + Σ_j softplus(−(Gᵀλ)_j) (equal to −cᵀλ + Σ softplus(Gᵀλ) on Δ_k). */
export function dualObjective(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  lambda: ArrayLike<number>,
): number {
  checkInputs(G, h, k, n, 'dualObjective');
  let f = 0;
  for (let j = 0; j < n; j++) {
    let aj = 0;
    for (let i = 0; i < k; i++) aj += lambda[i] * G[i * n + j];
    f += softplus(-aj);
  }
  for (let i = 0; i < k; i++) f -= h[i] * lambda[i];
  return f;
}

/** Primal objective max_i (g_iᵀy + h_i) − H(y) at a point y ∈ [0,1]ⁿ. */
export function primalObjective(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  y: ArrayLike<number>,
): number {
  checkInputs(G, h, k, n, 'primalObjective');
  return maxCutValue(G, h, k, n, y) - binaryEntropySum(y);
}

/**
 * Solves the bundle entropy subproblem through its dual over the cut weights λ ∈ Δ_k by a regularized two-metric projected Newton method
 * (see the file comment). Never returns NaN for finite input; throws IcnnError on malformed or non-finite input.
 */
export function solveBundleEntropyDual(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  opts: BundleEntropyDualOptions = {},
): BundleEntropyDualResult {
  checkInputs(G, h, k, n, 'solveBundleEntropyDual');
  const { hmax, hs } = shiftOffsets(h, k);
  const s = kktScale(G, k, n);
  return solveEntropyDual({ G, hs, hmax, k, n, s, pot: BINARY_POTENTIAL }, opts, 'solveBundleEntropyDual');
}
