/**
 * Solver for the categorical variant of the bundle entropy subproblem, outputs on the probability simplex Δ_n
 * (`../shared/icnn-paper.md` §3.4, "easily extensible to elements of Y lying in a higher-dimensional probability
 * simplex"; one-hot outputs with a multivariate entropy, §4.2). Its λ plays the role the binary solver's λ plays in the argmin gradient of §4.3.
 *
 * Primal, for k cuts (row i of G is g_iᵀ, G is k×n row-major) and offsets h, on Δ_n = {y ≥ 0, 1ᵀy = 1}:
 *     min_{y ∈ Δ_n, t}  t − H(y)   s.t.  G y + h ≤ t·1,     H(y) = −Σ_j y_j log y_j  (multivariate entropy).
 * Lagrangian, λ ≥ 0:  L = t + Σ_j y_j log y_j + λᵀ(G y + h − t·1).
 * - inf over t is finite iff 1ᵀλ = 1, so λ ∈ Δ_k;
 * - inf over y ∈ Δ_n of Σ y_j log y_j + aᵀy with a = Gᵀλ is −logsumexp(−a), attained at y = softmax(−a)
 *   (the Fenchel conjugate of the negative entropy restricted to the simplex is logsumexp).
 * Dual:  max_{λ ∈ Δ_k}  hᵀλ − logsumexp(−Gᵀλ),  i.e.  min_{λ∈Δ_k} F(λ) = −hᵀλ + logsumexp(−Gᵀλ),
 *     ∇F(λ) = −(G y + h)  with  y = softmax(−Gᵀλ),      ∇²F(λ) = G (diag(y) − y yᵀ) Gᵀ.
 * As in the binary case −∇F_i is the value of cut i at the recovered y, so λ is optimal iff every cut with λ_i > 0
 * attains t = max_i (G y + h)_i. Primal recovery: y = softmax(−Gᵀλ) (strictly inside Δ_n up to underflow), t = max_i
 * (G y + h)_i, always feasible. With log y_j = −a_j − logsumexp(−a) one gets −H(y) = −aᵀy − logsumexp(−a), hence
 * the Fenchel equality  primalValue − dualValue = Σ_i λ_i (t − (G y + h)_i) ≥ 0  (reported as `dualityGap`), and
 * −F(λ) is a lower bound on the primal minimum for every λ ∈ Δ_k (weak duality). For k = 1 the dual is a single
 * point: y = softmax(−g), value h − logsumexp(−g), the closed form of argmin_y gᵀy − H(y) over Δ_n.
 *
 * Invariance used for scaling: on Δ_n, g_iᵀy = (g_i − m_i·1)ᵀy + m_i, so a cut (g_i, h_i) equals (g_i − m_i·1,
 * h_i + m_i). The solver centres every row at its midrange m_i = (max_j g_ij + min_j g_ij)/2 before anything else
 * (the Hessian ignores the 1-direction anyway: (diag(y) − yyᵀ)1 = 0), then shifts the offsets by their maximum.
 * The scale of the relative KKT residual is then s = max_i ‖g_i − m_i·1‖_∞ = max_i (max_j g_ij − min_j g_ij)/2
 * (1 when that is 0): the largest |g̃_iᵀy| over Δ_n, as max_i ‖g_i‖₁ is over the box in the binary solver.
 *
 * Algorithm: the regularized two-metric projected Newton method of ./binaryDual.ts (Bertsekas 1982), on the
 * same reduced variables (the largest coordinate p eliminated through λ_p = 1 − Σ_{j≠p} λ_j), with:
 * - reduced gradient g0_i = −(c_i − c_p) from the row differences D_i = g_i − g_p, and reduced Hessian
 *   H₀ = D (diag(y) − yyᵀ) Dᵀ formed as Σ_j y_j (D_uj − μ_u)(D_vj − μ_v), μ_u = D_uᵀy (a weighted covariance,
 *   no cancellation, exactly 0 for duplicate cuts);
 * - every step the better of a projected-gradient (Cauchy) point with Armijo backtracking and a Levenberg–Marquardt
 *   damped Newton point on the free set (damping μ = max(‖rhs‖₂, 1e-13·max diag H₀)), so each step does at least
 *   what projected gradient does (global convergence on the compact Δ_k, F being smooth and convex) and Newton's
 *   local rate takes over once the binding set is right; a singular system is never inverted;
 * - F(λ + Δλ) − F(λ) evaluated from Δλ directly (for the Armijo tests, so they stay meaningful down to rounding):
 *   logsumexp(−a − Δa) − logsumexp(−a) = log1p(Σ_j y_j expm1(−Δa_j)), falling back to a stable logsumexp of
 *   log y_j − Δa_j when that sum is below −1/2 (log1p would cancel) or an exponential could overflow;
 * - continuation on the entropy weight when s > 300 (the dual is then nearly piecewise linear): stage problems with
 *   data (G/β, h/β) from β = s/300 down to 1, ÷4 per stage, each solved to 1e-3 and warm-started with the tangent
 *   predictor of the path λ(β); with a warm start `lambda0`, the target problem is tried directly first (20 steps);
 * - stopping rule r(λ) = ‖λ − P_Δ(λ − ∇F(λ)/s)‖_∞ ≤ tol (s as above, so the test is invariant to scaling G and h
 *   together), then up to 3 more steps while the duality gap exceeds max(tol·(1 + |value|), its rounding floor);
 * - once r ≤ 1e-6 the iterate with the smallest r is remembered, and a run stops after 15 steps with neither a new
 *   smallest r nor a significant decrease of F: for data of size ≳ 1e7 the cut values are resolved only to about
 *   ulp(λ)·s², r ≤ 1e-10 is out of reach, and steps that F can no longer rank would otherwise wander.
 * Never returns NaN for finite input; throws IcnnError on malformed or non-finite input.
 *
 * Measured iteration counts: docs/entropy-dual.md.
 */
import { fail } from '../../util/errors.js';
import { solveEntropyDual } from './continuation.js';
import { categoricalEntropy, logSumExp, softmax } from './numerics.js';
import {
  checkCuts,
  maxCutValue,
  problemKktResidual,
  problemValue,
  type EntropyDualOptions,
  type EntropyDualResult,
  type LogitPotential,
  type PotentialDifference,
} from './problem.js';

export type CategoricalDualOptions = EntropyDualOptions;

/**
 * The solver's result (fields documented on EntropyDualResult). Here y = softmax(−Gᵀλ) on Δ_n (an entry is 0 only
 * by underflow), dualValue = hᵀλ − logsumexp(−Gᵀλ), and kktScale is max_i (max_j g_ij − min_j g_ij)/2, or 1 when
 * that is 0; continuationStages is 0 for k = 1.
 */
export type CategoricalDualResult = EntropyDualResult;

/** The scale of the relative KKT residual: max_i (max_j g_ij − min_j g_ij)/2, or 1 when that is 0. */
export function categoricalKktScale(G: ArrayLike<number>, k: number, n: number): number {
  let s = 0;
  for (let i = 0; i < k; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < n; j++) {
      lo = Math.min(lo, G[i * n + j]);
      hi = Math.max(hi, G[i * n + j]);
    }
    if (n > 0) s = Math.max(s, (hi - lo) / 2);
  }
  return s > 0 ? s : 1;
}

function checkInputs(G: ArrayLike<number>, h: ArrayLike<number>, k: number, n: number, who: string): void {
  checkCuts(G, h, k, n, who, 1);
}

interface Prepared {
  /** Rows centred at their midrange. */
  gc: Float64Array;
  /** Offsets h_i + m_i shifted by their maximum (all ≤ 0). */
  hs: Float64Array;
  /** The maximum of h_i + m_i. */
  hmax: number;
  /** categoricalKktScale(G). */
  s: number;
}

/** Centres every row at its midrange (exact on Δ_n, see the file comment) and shifts the offsets. */
function prepare(G: ArrayLike<number>, h: ArrayLike<number>, k: number, n: number): Prepared {
  const gc = new Float64Array(k * n);
  const hc = new Float64Array(k);
  let s = 0;
  for (let i = 0; i < k; i++) {
    const row = i * n;
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < n; j++) {
      lo = Math.min(lo, G[row + j]);
      hi = Math.max(hi, G[row + j]);
    }
    // (lo + hi)/2 without overflow; exactly the common value for a constant row.
    const m = lo === hi ? lo : lo / 2 + hi / 2;
    for (let j = 0; j < n; j++) gc[row + j] = G[row + j] - m;
    hc[i] = h[i] + m;
    s = Math.max(s, (hi - lo) / 2);
  }
  let hmax = -Infinity;
  for (let i = 0; i < k; i++) hmax = Math.max(hmax, hc[i]);
  const hs = new Float64Array(k);
  for (let i = 0; i < k; i++) hs[i] = hc[i] - hmax;
  return { gc, hs, hmax, s: s > 0 ? s : 1 };
}

/**
 * φ(a) = logsumexp(−a), with y = softmax(−a) and aux logy = log y (exact, no underflow to −∞); W = diag(y) − yyᵀ
 * (centred rows). Differences: logsumexp(−a − Δa) − logsumexp(−a) = log1p(Σ_j y_j expm1(−Δa_j)), falling back to a
 * stable logsumexp of log y_j − Δa_j when that sum is below −1/2 (log1p would cancel) or an exponential could overflow.
 */
const SOFTMAX_POTENTIAL: LogitPotential = {
  centred: true,
  value(a: Float64Array, y: Float64Array, logy: Float64Array): number {
    const n = a.length;
    let zmax = -Infinity;
    for (let j = 0; j < n; j++) zmax = Math.max(zmax, -a[j]);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(-a[j] - zmax);
      y[j] = e;
      sum += e;
    }
    const lse = zmax + Math.log(sum);
    for (let j = 0; j < n; j++) {
      y[j] /= sum;
      logy[j] = -a[j] - lse;
    }
    return lse;
  },
  difference(a: Float64Array, y: Float64Array, logy: Float64Array, da: Float64Array, mag: number, out: PotentialDifference): void {
    const n = a.length;
    // logsumexp(−a − Δa) − logsumexp(−a) = log Σ_j exp(u_j), u_j = log y_j − Δa_j.
    let umax = -Infinity;
    for (let j = 0; j < n; j++) umax = Math.max(umax, logy[j] - da[j]);
    let dl: number;
    let sumTerms = 0;
    let sum = 0;
    if (umax <= 700) {
      for (let j = 0; j < n; j++) {
        const delta = -da[j];
        let term: number;
        if (delta === 0) term = 0;
        else if (Math.abs(delta) <= 1) term = y[j] * Math.expm1(delta);
        else term = Math.exp(logy[j] + delta) - y[j];
        sum += term;
        sumTerms += Math.abs(term);
      }
    }
    if (umax <= 700 && sum >= -0.5) {
      dl = Math.log1p(sum);
      mag += (sumTerms + 1e-300) / (1 + sum);
    } else {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += Math.exp(logy[j] - da[j] - umax);
      dl = umax + Math.log(acc);
      mag += Math.abs(dl) + Math.abs(umax);
    }
    out.value = dl;
    out.mag = mag;
  },
  hessianWeights: (y: Float64Array): Float64Array => y,
  entropy: (_a: Float64Array, y: Float64Array, logy: Float64Array): number => entropyFromLog(y, logy),
  rowNorm(G: ArrayLike<number>, row: number, n: number): number {
    let s = 0;
    for (let j = 0; j < n; j++) s = Math.max(s, Math.abs(G[row + j]));
    return s;
  },
  tangentWeights: (a: Float64Array): Float64Array => softmax(Float64Array.from(a, (v) => -v)),
  nextValue(gb: Float64Array, k: number, n: number, x: Float64Array, ratio: number): number {
    const z = new Float64Array(n);
    for (let i = 0; i < k; i++) {
      if (x[i] === 0) continue;
      for (let j = 0; j < n; j++) z[j] -= (x[i] * gb[i * n + j]) / ratio;
    }
    return logSumExp(z);
  },
};

/** H(y) from log y (−Σ y_j log y_j; entries that underflowed to 0 contribute 0). */
function entropyFromLog(y: Float64Array, logy: Float64Array): number {
  let e = 0;
  for (let j = 0; j < y.length; j++) if (y[j] > 0) e -= y[j] * logy[j];
  return e;
}

/** Dual objective F(λ) = −hᵀλ + logsumexp(−Gᵀλ) (minimized over Δ_k; the dual value is −F). */
export function categoricalDualObjective(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  lambda: ArrayLike<number>,
): number {
  checkInputs(G, h, k, n, 'categoricalDualObjective');
  if (lambda.length !== k) fail(`categoricalDualObjective: lambda has ${lambda.length} entries, expected ${k}`);
  const { gc, hs, hmax } = prepare(G, h, k, n);
  const lam = Float64Array.from(lambda);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += lam[i];
  // The centring leaves F unchanged only for 1ᵀλ = 1; off Δ_k, evaluate the plain formula.
  if (Math.abs(sum - 1) > 1e-12) {
    const z = new Float64Array(n);
    for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) z[j] -= lam[i] * G[i * n + j];
    let f = logSumExp(z);
    for (let i = 0; i < k; i++) f -= h[i] * lam[i];
    return f;
  }
  const f = problemValue(gc, hs, k, n, SOFTMAX_POTENTIAL, lam);
  return f - hmax * sum;
}

/** Primal objective max_i (g_iᵀy + h_i) − H(y) at a point y of Δ_n. */
export function categoricalPrimalObjective(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  y: ArrayLike<number>,
): number {
  checkInputs(G, h, k, n, 'categoricalPrimalObjective');
  if (y.length !== n) fail(`categoricalPrimalObjective: y has ${y.length} entries, expected ${n}`);
  return maxCutValue(G, h, k, n, y) - categoricalEntropy(y);
}

/**
 * KKT residual of λ ∈ Δ_k: ‖λ − P_Δ(λ − ∇F(λ)/scale)‖_∞ (default scale 1; pass `categoricalKktScale(G, k, n)` for the
 * relative residual the solver uses). Zero iff λ minimizes F over Δ_k. λ must lie in Δ_k (not projected).
 */
export function categoricalKktResidual(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  lambda: ArrayLike<number>,
  scale = 1,
): number {
  checkInputs(G, h, k, n, 'categoricalKktResidual');
  const { gc, hs } = prepare(G, h, k, n);
  return problemKktResidual(gc, hs, k, n, SOFTMAX_POTENTIAL, lambda, scale, 'categoricalKktResidual');
}

/**
 * Solves the categorical bundle entropy subproblem (outputs on Δ_n) through its dual (see the file comment). Never returns NaN for
 * finite input; throws IcnnError on malformed or non-finite input.
 */
export function solveCategoricalEntropyDual(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  opts: CategoricalDualOptions = {},
): CategoricalDualResult {
  const who = 'solveCategoricalEntropyDual';
  checkInputs(G, h, k, n, who);
  const { gc, hs, hmax, s } = prepare(G, h, k, n);
  // Local phase (r ≤ 1e-6): best-iterate tracking, and a run stops after 15 steps with neither a new smallest r nor a
  // significant decrease of F (the precision floor for data of size ≳ 1e7, see the file comment).
  return solveEntropyDual({ G: gc, hs, hmax, k, n, s, pot: SOFTMAX_POTENTIAL }, opts, who, { steps: 15, localR: 1e-6 });
}
