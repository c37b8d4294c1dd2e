/**
 * Solver for the probability-simplex variant of the bundle entropy subproblem (`../shared/icnn-paper.md` §3.4,
 * "easily extensible to elements of Y lying in a higher-dimensional probability simplex"; one-hot outputs with a
 * multivariate entropy, §4.2). Its λ plays the role the binary solver's λ plays in the argmin gradient of §4.3.
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
 * Algorithm: the regularized two-metric projected Newton method of ./bundleEntropyDual.ts (Bertsekas 1982), on the
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
 * Measured (random Gaussian bundles, k = 2..30, n = 1..50, 2000 each; steps median / max): data scale 1e-8: 2 / 4;
 * 1e-3: 2 / 6; 1: 5 / 8; 10: 8 / 15; 1e3: 17 / 37; 1e6: 18 / 43; all with r ≤ 1e-10 (1e8: r ≤ 4e-9, at the precision
 * floor, in ≤ 60 steps). Rows whose scales differ by up to 1e±4 converge (≤ 39 steps); with 1e±6 about 2 % do not
 * within 100 steps (the result is then still a valid bound pair, with `converged` false). Duplicates, k ≫ n, constant
 * rows and common offsets of 1e6 converge in ≤ 11 steps.
 */
import { choleskyRegularized, choleskySolve } from '../linalg/cholesky.js';
import { projectSimplex } from '../linalg/simplex.js';
import { fail } from '../util/errors.js';

export interface SimplexDualOptions {
  /** KKT tolerance on r(λ) with s = kktScale (relative; default 1e-10). */
  tol?: number;
  /** Maximum number of steps (default 100). */
  maxIter?: number;
  /** Warm start; projected onto the simplex (default: uniform 1/k). */
  lambda0?: ArrayLike<number>;
}

export interface SimplexDualResult {
  /** Dual solution on Δ_k (length k). */
  lambda: Float64Array;
  /** Recovered primal point y = softmax(−Gᵀλ) on Δ_n (length n); an entry is 0 only by underflow. */
  y: Float64Array;
  /** t = max_i (G y + h)_i. */
  t: number;
  /** hᵀλ − logsumexp(−Gᵀλ): a lower bound on min_{y∈Δ_n} max_i (g_iᵀy + h_i) − H(y), for any λ ∈ Δ_k. */
  dualValue: number;
  /** t − H(y): the primal objective at the recovered y, an upper bound on the same minimum. */
  primalValue: number;
  /** Σ_i λ_i (t − (G y + h)_i) ≥ 0: primalValue − dualValue computed without cancellation. */
  dualityGap: number;
  /** Steps taken, over all continuation stages. */
  iterations: number;
  /** Steps among them where the projected-gradient (Cauchy) point beat the Newton point. */
  gradientSteps: number;
  /** Problems solved: 1 without continuation, otherwise the intermediate stages plus the final one (0 for k = 1). */
  continuationStages: number;
  /** Final r(λ) with s = kktScale (the quantity compared with tol). */
  kktResidual: number;
  /** Final r(λ) with s = 1. */
  kktResidualAbs: number;
  /** The scale s: max_i (max_j g_ij − min_j g_ij)/2, or 1 when that is 0. */
  kktScale: number;
  /** True when kktResidual ≤ tol. */
  converged: boolean;
}

/** Multivariate entropy H(y) = −Σ_j y_j log y_j with 0·log 0 = 0 (NaN for negative entries). */
export function simplexEntropy(y: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < y.length; j++) {
    const v = y[j];
    if (!(v >= 0)) return NaN;
    if (v > 0) s -= v * Math.log(v);
  }
  return s;
}

/** log Σ_j exp(v_j), stable (max shifted); −∞ for an empty vector. */
export function logSumExp(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let j = 0; j < v.length; j++) m = Math.max(m, v[j]);
  if (m === -Infinity || !Number.isFinite(m)) return m;
  let s = 0;
  for (let j = 0; j < v.length; j++) s += Math.exp(v[j] - m);
  return m + Math.log(s);
}

/** softmax(v) = exp(v − logsumexp(v)), stable; writes into `out` when given. */
export function softmax(v: ArrayLike<number>, out?: Float64Array): Float64Array {
  const n = v.length;
  const res = out ?? new Float64Array(n);
  let m = -Infinity;
  for (let j = 0; j < n; j++) m = Math.max(m, v[j]);
  let s = 0;
  for (let j = 0; j < n; j++) {
    res[j] = Math.exp(v[j] - m);
    s += res[j];
  }
  for (let j = 0; j < n; j++) res[j] /= s;
  return res;
}

/** The scale of the relative KKT residual: max_i (max_j g_ij − min_j g_ij)/2, or 1 when that is 0. */
export function simplexKktScale(G: ArrayLike<number>, k: number, n: number): number {
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
  if (!Number.isInteger(k) || k < 1) fail(`${who}: k must be a positive integer, got ${k}`);
  if (!Number.isInteger(n) || n < 1) fail(`${who}: n must be a positive integer (the simplex Δ_n), got ${n}`);
  if (G.length !== k * n) fail(`${who}: G has ${G.length} entries, expected k·n = ${k * n}`);
  if (h.length !== k) fail(`${who}: h has ${h.length} entries, expected k = ${k}`);
  for (let i = 0; i < k * n; i++) if (!Number.isFinite(G[i])) fail(`${who}: G[${i}] is ${G[i]}`);
  for (let i = 0; i < k; i++) if (!Number.isFinite(h[i])) fail(`${who}: h[${i}] is ${h[i]}`);
}

interface Prepared {
  /** Rows centred at their midrange. */
  gc: Float64Array;
  /** Offsets h_i + m_i shifted by their maximum (all ≤ 0). */
  hs: Float64Array;
  /** The maximum of h_i + m_i. */
  hmax: number;
  /** simplexKktScale(G). */
  s: number;
}

/** Centres every row at its midrange (exact on the simplex, see the file comment) and shifts the offsets. */
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
 * Fills a = Gᵀλ, y = softmax(−a), logy = log y (exact, no underflow to −∞) and grad = ∇F(λ) = −(G y + hs); returns
 * the shifted value −hsᵀλ + logsumexp(−a).
 */
function evaluate(
  G: ArrayLike<number>,
  hs: Float64Array,
  k: number,
  n: number,
  lam: Float64Array,
  a: Float64Array,
  y: Float64Array,
  logy: Float64Array,
  grad: Float64Array,
): number {
  a.fill(0);
  for (let i = 0; i < k; i++) {
    const li = lam[i];
    if (li === 0) continue;
    const row = i * n;
    for (let j = 0; j < n; j++) a[j] += li * G[row + j];
  }
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
  let f = lse;
  for (let i = 0; i < k; i++) {
    const row = i * n;
    let c = hs[i];
    for (let j = 0; j < n; j++) c += G[row + j] * y[j];
    grad[i] = -c;
    f -= hs[i] * lam[i];
  }
  return f;
}

/** H(y) from log y (−Σ y_j log y_j; entries that underflowed to 0 contribute 0). */
function entropyFromLog(y: Float64Array, logy: Float64Array): number {
  let e = 0;
  for (let j = 0; j < y.length; j++) if (y[j] > 0) e -= y[j] * logy[j];
  return e;
}

/** r = ‖λ − P_Δ(λ − (grad − min grad)/s)‖_∞ (the shift by min grad leaves the projection unchanged). */
function residualFromGrad(lam: Float64Array, grad: Float64Array, s: number, work: Float64Array): number {
  const k = lam.length;
  let gmin = Infinity;
  for (let i = 0; i < k; i++) gmin = Math.min(gmin, grad[i]);
  for (let i = 0; i < k; i++) work[i] = lam[i] - (grad[i] - gmin) / s;
  projectSimplex(work, work);
  let r = 0;
  for (let i = 0; i < k; i++) r = Math.max(r, Math.abs(lam[i] - work[i]));
  return r;
}

/** Dual objective F(λ) = −hᵀλ + logsumexp(−Gᵀλ) (minimized over Δ_k; the dual value is −F). */
export function simplexDualObjective(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  lambda: ArrayLike<number>,
): number {
  checkInputs(G, h, k, n, 'simplexDualObjective');
  if (lambda.length !== k) fail(`simplexDualObjective: lambda has ${lambda.length} entries, expected ${k}`);
  const { gc, hs, hmax } = prepare(G, h, k, n);
  const lam = Float64Array.from(lambda);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += lam[i];
  // The centring is exact only on the simplex; off it, evaluate the plain formula.
  if (Math.abs(sum - 1) > 1e-12) {
    const z = new Float64Array(n);
    for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) z[j] -= lam[i] * G[i * n + j];
    let f = logSumExp(z);
    for (let i = 0; i < k; i++) f -= h[i] * lam[i];
    return f;
  }
  const f = evaluate(gc, hs, k, n, lam, new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(k));
  return f - hmax * sum;
}

/** Primal objective max_i (g_iᵀy + h_i) − H(y) at a point y of the simplex. */
export function simplexPrimalObjective(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  y: ArrayLike<number>,
): number {
  checkInputs(G, h, k, n, 'simplexPrimalObjective');
  if (y.length !== n) fail(`simplexPrimalObjective: y has ${y.length} entries, expected ${n}`);
  let t = -Infinity;
  for (let i = 0; i < k; i++) {
    let c = h[i];
    for (let j = 0; j < n; j++) c += G[i * n + j] * y[j];
    t = Math.max(t, c);
  }
  return t - simplexEntropy(y);
}

/**
 * KKT residual of λ ∈ Δ_k: ‖λ − P_Δ(λ − ∇F(λ)/scale)‖_∞ (default scale 1; pass `simplexKktScale(G, k, n)` for the
 * relative residual the solver uses). Zero iff λ minimizes F over Δ_k. λ must be on the simplex (not projected).
 */
export function simplexKktResidual(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  lambda: ArrayLike<number>,
  scale = 1,
): number {
  checkInputs(G, h, k, n, 'simplexKktResidual');
  if (lambda.length !== k) fail(`simplexKktResidual: lambda has ${lambda.length} entries, expected ${k}`);
  if (!(scale > 0) || !Number.isFinite(scale)) fail(`simplexKktResidual: scale must be positive, got ${scale}`);
  const { gc, hs } = prepare(G, h, k, n);
  const lam = Float64Array.from(lambda);
  const grad = new Float64Array(k);
  evaluate(gc, hs, k, n, lam, new Float64Array(n), new Float64Array(n), new Float64Array(n), grad);
  return residualFromGrad(lam, grad, scale, new Float64Array(k));
}

const ARMIJO = 1e-4;
const EPS_ACTIVE = 1e-3;
const MAX_HALVINGS = 60;
const MAX_FIX_PASSES = 5;
const POLISH_STEPS = 3;
/** Steps without a new smallest residual after which a run stops (precision floor reached). */
const STALL_STEPS = 15;
/** Residual below which a run is in its local phase (best-iterate tracking and the stall test apply). */
const LOCAL_R = 1e-6;
/** Continuation starts when kktScale exceeds this, at entropy weight β₀ = kktScale / CONT_SCALE. */
const CONT_SCALE = 300;
/** Entropy weight reduction per continuation stage. */
const CONT_FACTOR = 4;
/** KKT tolerance of the intermediate continuation stages. */
const CONT_TOL = 1e-3;

/**
 * Solves the simplex bundle entropy subproblem through its dual (see the file comment). Never returns NaN for
 * finite input; throws IcnnError on malformed or non-finite input.
 */
export function solveBundleEntropySimplexDual(
  G: ArrayLike<number>,
  h: ArrayLike<number>,
  k: number,
  n: number,
  opts: SimplexDualOptions = {},
): SimplexDualResult {
  const who = 'solveBundleEntropySimplexDual';
  checkInputs(G, h, k, n, who);
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 100;
  if (!(tol >= 0)) fail(`${who}: tol must be ≥ 0, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 0) fail(`${who}: maxIter must be an integer ≥ 0`);
  const { gc, hs, hmax, s } = prepare(G, h, k, n);

  const lam = new Float64Array(k);
  if (opts.lambda0 !== undefined) {
    if (opts.lambda0.length !== k) fail(`${who}: lambda0 has ${opts.lambda0.length} entries, expected ${k}`);
    projectSimplex(opts.lambda0, lam);
  } else {
    lam.fill(1 / k);
  }
  if (k === 1) lam[0] = 1;

  let iterations = 0;
  let gradientSteps = 0;
  let stages = 0;
  if (k > 1) {
    let beta = s / CONT_SCALE;
    if (beta > 1 && opts.lambda0 !== undefined) {
      const direct = projectedNewton(gc, hs, k, n, lam, s, tol, Math.min(maxIter, 20), hmax);
      iterations += direct.iterations;
      gradientSteps += direct.gradientSteps;
      if (direct.done) beta = 1;
    }
    while (beta > 1 && iterations < maxIter) {
      const gb = new Float64Array(k * n);
      for (let i = 0; i < k * n; i++) gb[i] = gc[i] / beta;
      const hb = new Float64Array(k);
      for (let i = 0; i < k; i++) hb[i] = hs[i] / beta;
      const st = projectedNewton(gb, hb, k, n, lam, s / beta, CONT_TOL, maxIter - iterations);
      iterations += st.iterations;
      gradientSteps += st.gradientSteps;
      stages++;
      const next = Math.max(1, beta / CONT_FACTOR);
      predictAlongPath(gb, hb, k, n, lam, next / beta);
      beta /= CONT_FACTOR;
    }
    if (iterations < maxIter) {
      const fin = projectedNewton(gc, hs, k, n, lam, s, tol, maxIter - iterations, hmax);
      iterations += fin.iterations;
      gradientSteps += fin.gradientSteps;
      stages++;
    }
  }
  return finish(gc, hs, hmax, k, n, lam, s, iterations, gradientSteps, stages, tol);
}

interface NewtonRun {
  iterations: number;
  gradientSteps: number;
  /** Final relative residual. */
  r: number;
  /** Whether the stopping test passed. */
  done: boolean;
}

/**
 * Regularized two-metric projected Newton on min_{λ∈Δ} −hsᵀλ + logsumexp(−Gᵀλ), from `lamIn` (overwritten by the
 * result), until r(λ) ≤ tol with scale s, for at most maxSteps steps. Each step:
 * 1. a projected-gradient (Cauchy) point λ_C = P_Δ(λ − β∇F) with Armijo backtracking on β;
 * 2. binding set I = {i ≠ p : ∂_i > 0 and (λ_i ≤ ε or (λ_C)_i = 0)}, moved to zero;
 * 3. regularized Newton step on the free coordinates, Armijo backtracking on the projection arc;
 * 4. the better of the Newton and Cauchy points.
 * With `hmax` given (the target problem), the duality-gap polish of the file comment applies.
 */
function projectedNewton(
  G: ArrayLike<number>,
  hs: Float64Array,
  k: number,
  n: number,
  lamIn: Float64Array,
  s: number,
  tol: number,
  maxSteps: number,
  hmax?: number,
): NewtonRun {
  let lam = Float64Array.from(lamIn);
  const a = new Float64Array(n);
  const y = new Float64Array(n);
  const logy = new Float64Array(n);
  const grad = new Float64Array(k);
  const work = new Float64Array(k);
  let lamN = new Float64Array(k);
  let lamC = new Float64Array(k);
  const dlam = new Float64Array(k);
  const da = new Float64Array(n);
  const g0 = new Float64Array(k);
  const d = new Float64Array(k);
  const freeIdx = new Int32Array(k);
  const bindIdx = new Int32Array(k);
  const cen = new Float64Array(k * n); // row u: (g_u − g_p) − μ_u, centred under the weights y
  const h0 = new Float64Array(k * k); // reduced Hessian, indexed by the original cut indices

  let f = evaluate(G, hs, k, n, lam, a, y, logy, grad);
  let r = residualFromGrad(lam, grad, s, work);
  const rowInf = new Float64Array(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) rowInf[i] = Math.max(rowInf[i], Math.abs(G[i * n + j]));
  let polish = 0;
  const done = (): boolean => {
    if (r > tol) return false;
    if (hmax === undefined || gapSmall(lam, grad, y, logy, hs, rowInf, hmax, tol)) return true;
    return polish++ >= POLISH_STEPS;
  };
  let iterations = 0;
  let gradientSteps = 0;
  // Local phase (r ≤ LOCAL_R): the iterate with the smallest residual is kept. At the resolution limit of float64
  // (data of size ≳ 1e7) steps that F can no longer rank can make r worse again; the best local iterate is then
  // returned, and the run stops after STALL_STEPS steps with neither a new best nor a significant decrease of F.
  const bestLam = Float64Array.from(lam);
  let bestR = r <= LOCAL_R ? r : Infinity;
  let sinceBest = 0;
  let fMark = f;

  /**
   * F(λ + Δλ) − F(λ) for Δλ in `dlam` (Σ Δλ = 0), accurate to the rounding of the difference itself; `noise` gets
   * a bound on that rounding.
   */
  let noise = 0;
  const decrease = (): number => {
    da.fill(0);
    let lin = 0;
    let mag = 0;
    for (let i = 0; i < k; i++) {
      const di = dlam[i];
      if (di === 0) continue;
      lin -= hs[i] * di;
      mag += Math.abs(hs[i] * di);
      const row = i * n;
      for (let j = 0; j < n; j++) da[j] += di * G[row + j];
    }
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
    noise = 8 * Number.EPSILON * (k + n) * mag;
    return lin + dl;
  };

  while (!done() && iterations < maxSteps && sinceBest < STALL_STEPS) {
    let p = 0;
    for (let i = 1; i < k; i++) if (lam[i] > lam[p]) p = i;
    const rowP = p * n;
    const eps = Math.min(EPS_ACTIVE, r);
    let g0Max = 0;
    for (let i = 0; i < k; i++) {
      if (i === p) {
        g0[i] = 0;
        continue;
      }
      // D_i = g_i − g_p, μ_i = D_iᵀy, g0_i = ∂F/∂λ_i − ∂F/∂λ_p = −(hs_i − hs_p) − μ_i.
      const row = i * n;
      let mu = 0;
      for (let j = 0; j < n; j++) {
        const dj = G[row + j] - G[rowP + j];
        cen[row + j] = dj;
        mu += dj * y[j];
      }
      for (let j = 0; j < n; j++) cen[row + j] -= mu;
      const acc = -(hs[i] - hs[p]) - mu;
      g0[i] = acc;
      g0Max = Math.max(g0Max, Math.abs(acc));
    }

    // 1. Cauchy point λ_C(β) = P_Δ(λ − β g0), β from 1/max|g0|, Armijo backtracking.
    let dfC = 0;
    let noiseC = 0;
    let haveC = false;
    let beta = 1 / Math.max(g0Max, Number.MIN_VALUE);
    for (let tries = 0; tries < MAX_HALVINGS; tries++, beta *= 0.5) {
      for (let i = 0; i < k; i++) work[i] = lam[i] - beta * g0[i];
      projectSimplex(work, lamC);
      let pred = 0;
      for (let i = 0; i < k; i++) {
        dlam[i] = lamC[i] - lam[i];
        pred -= g0[i] * dlam[i];
      }
      if (!(pred > 0)) break;
      const df = decrease();
      if (df <= -ARMIJO * pred) {
        dfC = df;
        noiseC = noise;
        haveC = true;
        break;
      }
    }

    // 2. Binding set, moved to zero.
    let nFree = 0;
    let nBind = 0;
    const chooseSets = (): void => {
      nFree = 0;
      nBind = 0;
      d.fill(0);
      for (let i = 0; i < k; i++) {
        if (i === p) continue;
        if (g0[i] > 0 && (lam[i] <= eps || (haveC && lamC[i] === 0))) {
          bindIdx[nBind++] = i;
          d[i] = -lam[i];
        } else freeIdx[nFree++] = i;
      }
    };
    chooseSets();

    // 3. Reduced Hessian H₀ = D (diag y − yyᵀ) Dᵀ = Σ_j y_j cen_uj cen_vj, then the damped Newton step.
    for (let u = 0; u < k; u++) {
      if (u === p) continue;
      const ru = u * n;
      for (let v = 0; v <= u; v++) {
        if (v === p) continue;
        const rv = v * n;
        let acc = 0;
        for (let j = 0; j < n; j++) acc += cen[ru + j] * y[j] * cen[rv + j];
        h0[u * k + v] = acc;
        h0[v * k + u] = acc;
      }
    }
    const newtonFree = (withCross: boolean): void => {
      const m = nFree;
      if (m === 0) return;
      const hm = new Float64Array(m * m);
      const rhs = new Float64Array(m);
      let maxDiag = 0;
      let rn = 0;
      for (let u = 0; u < m; u++) {
        const iu = freeIdx[u];
        for (let v = 0; v < m; v++) hm[u * m + v] = h0[iu * k + freeIdx[v]];
        maxDiag = Math.max(maxDiag, hm[u * m + u]);
        let cross = 0;
        if (withCross) {
          for (let b = 0; b < nBind; b++) {
            const ib = bindIdx[b];
            if (d[ib] !== 0) cross += h0[iu * k + ib] * d[ib];
          }
        }
        rhs[u] = -g0[iu] - cross;
        rn += rhs[u] * rhs[u];
      }
      if (rn === 0) {
        for (let u = 0; u < m; u++) d[freeIdx[u]] = 0;
        return;
      }
      dampedSolve(hm, rhs, m, Math.sqrt(rn), maxDiag);
      for (let u = 0; u < m; u++) d[freeIdx[u]] = Number.isFinite(rhs[u]) ? rhs[u] : 0;
    };
    newtonFree(true);
    // A free coordinate at (or within ε of) zero whose step would cross zero is fixed and the step recomputed.
    for (let pass = 0; pass < MAX_FIX_PASSES; pass++) {
      let moved = 0;
      let keep = 0;
      for (let u = 0; u < nFree; u++) {
        const i = freeIdx[u];
        if ((lam[i] === 0 || g0[i] > 0) && lam[i] <= eps && lam[i] + d[i] < 0) {
          bindIdx[nBind++] = i;
          d[i] = -lam[i];
          moved++;
        } else {
          freeIdx[keep++] = i;
        }
      }
      nFree = keep;
      if (moved === 0) break;
      newtonFree(true);
    }
    let dd = 0;
    for (let i = 0; i < k; i++) dd += g0[i] * d[i];
    if (!(dd < 0)) {
      // Coupling made it an ascent direction: plain two-metric step (decoupled Newton on the free set).
      chooseSets();
      newtonFree(false);
    }

    // Armijo backtracking along the projection arc z(α) = [z + α d]₊, λ_p(α) = 1 − Σ z(α) ≥ 0.
    let dfN = 0;
    let noiseN = 0;
    let haveN = false;
    let alpha = 1;
    for (let tries = 0; tries < MAX_HALVINGS; tries++, alpha *= 0.5) {
      let sumD = 0;
      let pred = 0;
      for (let i = 0; i < k; i++) {
        if (i === p) continue;
        let zi = lam[i] + alpha * d[i];
        if (zi < 0) zi = 0;
        lamN[i] = zi;
        const di = zi - lam[i];
        dlam[i] = di;
        sumD += di;
        pred -= g0[i] * di;
      }
      dlam[p] = -sumD;
      const lp = lam[p] - sumD;
      if (lp < 0) continue;
      if (!(pred > 0)) continue;
      const df = decrease();
      if (df <= -ARMIJO * pred) {
        lamN[p] = lp;
        dfN = df;
        noiseN = noise;
        haveN = true;
        break;
      }
    }
    // 4. Take the better point (the Cauchy point only by a decrease distinguishable from rounding).
    if (!haveN && !haveC) break; // stationary to working precision
    let useC = !haveN;
    if (haveN && haveC) useC = dfC < dfN - Math.max(noiseC + noiseN, 4 * Number.EPSILON * (1 + Math.abs(f)));
    if (useC) {
      const tmp = lamN;
      lamN = lamC;
      lamC = tmp;
      gradientSteps++;
    }
    const tmp = lam;
    lam = lamN;
    lamN = tmp;
    f = evaluate(G, hs, k, n, lam, a, y, logy, grad);
    r = residualFromGrad(lam, grad, s, work);
    iterations++;
    if (r < bestR && r <= LOCAL_R) {
      bestR = r;
      bestLam.set(lam);
      sinceBest = 0;
      fMark = f;
    } else if (f < fMark - 1e-13 * (1 + Math.abs(f))) {
      // Still a significant decrease of F: progress, not a stall.
      sinceBest = 0;
      fMark = f;
    } else if (bestR <= LOCAL_R) {
      sinceBest++;
    }
  }

  // Keep the last iterate when it passes the test (the gap polish may trade a little r for a smaller gap).
  if (r > tol && bestR < r) {
    lam.set(bestLam);
    r = bestR;
  }
  lamIn.set(lam);
  return { iterations, gradientSteps, r, done: r <= tol };
}

/**
 * Solves (H + μI) x = rhs in place in `rhs` for the PSD matrix `hm` (m×m, overwritten), with the Levenberg–Marquardt
 * damping μ = max(‖rhs‖₂, 1e-13·max diag H), by Cholesky, with jitter as a last resort.
 */
function dampedSolve(hm: Float64Array, rhs: Float64Array, m: number, rhsNorm: number, maxDiag: number): void {
  const mu = Math.max(rhsNorm, 1e-13 * maxDiag);
  for (let u = 0; u < m; u++) hm[u * m + u] += mu;
  const { l } = choleskyRegularized(hm, m, { jitter0: 1e-14, maxJitter: 1 });
  choleskySolve(l, m, rhs, rhs);
}

/**
 * Tangent predictor for the continuation path λ(β) of the stage problems (data G/β, h/β), from the stage solution
 * `lam` at β to β' = ratio·β. Stationarity on the support F (less the pivot p), D_uᵀ y + (h_u − h_p) = 0 with
 * y = softmax(−Gᵀλ/β), differentiated in β gives dλ_F/dβ = (D W Dᵀ)⁻¹ D W a / β, W = diag(y) − yyᵀ, a = Gᵀλ/β,
 * D the row differences of the stage data. The predicted point (clipped to the simplex) replaces `lam` only if it has
 * a lower objective for the next stage's data.
 */
function predictAlongPath(
  gb: Float64Array,
  hb: Float64Array,
  k: number,
  n: number,
  lam: Float64Array,
  ratio: number,
): void {
  let p = 0;
  for (let i = 1; i < k; i++) if (lam[i] > lam[p]) p = i;
  const free: number[] = [];
  for (let i = 0; i < k; i++) if (i !== p && lam[i] > 0) free.push(i);
  const m = free.length;
  if (m === 0) return;
  const a = new Float64Array(n);
  for (let i = 0; i < k; i++) {
    if (lam[i] === 0) continue;
    for (let j = 0; j < n; j++) a[j] += lam[i] * gb[i * n + j];
  }
  const y = softmax(Float64Array.from(a, (v) => -v));
  let ya = 0;
  for (let j = 0; j < n; j++) ya += y[j] * a[j];
  const cen = new Float64Array(m * n);
  for (let u = 0; u < m; u++) {
    const ru = free[u] * n;
    let mu = 0;
    for (let j = 0; j < n; j++) {
      const dj = gb[ru + j] - gb[p * n + j];
      cen[u * n + j] = dj;
      mu += dj * y[j];
    }
    for (let j = 0; j < n; j++) cen[u * n + j] -= mu;
  }
  const hm = new Float64Array(m * m);
  const rhs = new Float64Array(m);
  let maxDiag = 0;
  for (let u = 0; u < m; u++) {
    for (let v = 0; v <= u; v++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += cen[u * n + j] * y[j] * cen[v * n + j];
      hm[u * m + v] = acc;
      hm[v * m + u] = acc;
    }
    maxDiag = Math.max(maxDiag, hm[u * m + u]);
    let acc = 0;
    for (let j = 0; j < n; j++) acc += cen[u * n + j] * y[j] * (a[j] - ya);
    rhs[u] = acc;
  }
  if (!(maxDiag > 0)) return;
  for (let u = 0; u < m; u++) hm[u * m + u] += 1e-10 * maxDiag;
  const { l } = choleskyRegularized(hm, m, { jitter0: 1e-14, maxJitter: 1 });
  const dl = choleskySolve(l, m, rhs);
  // Δλ_F = (ratio − 1)·β·dλ_F/dβ = (ratio − 1)·dl.
  const cand = Float64Array.from(lam);
  let sum = 0;
  for (let u = 0; u < m; u++) {
    const v = lam[free[u]] + (ratio - 1) * dl[u];
    cand[free[u]] = Number.isFinite(v) && v > 0 ? v : 0;
  }
  for (let i = 0; i < k; i++) if (i !== p) sum += cand[i];
  if (!(sum < 1)) return;
  cand[p] = 1 - sum;
  const fNext = (x: Float64Array): number => {
    const z = new Float64Array(n);
    for (let i = 0; i < k; i++) {
      if (x[i] === 0) continue;
      for (let j = 0; j < n; j++) z[j] -= (x[i] * gb[i * n + j]) / ratio;
    }
    let f = logSumExp(z);
    for (let i = 0; i < k; i++) f -= (hb[i] / ratio) * x[i];
    return f;
  };
  if (fNext(cand) < fNext(lam)) lam.set(cand);
}

/**
 * Duality gap test: gap = Σ λ_i (t − c_i) must be at most max(tol·(1 + |primal value|), 64ε·Σ λ_i (|hs_i| + ‖g_i‖_∞)),
 * the second term being the rounding floor of the cut values.
 */
function gapSmall(
  lam: Float64Array,
  grad: Float64Array,
  y: Float64Array,
  logy: Float64Array,
  hs: Float64Array,
  rowInf: Float64Array,
  hmax: number,
  tol: number,
): boolean {
  const k = lam.length;
  let cmax = -Infinity;
  for (let i = 0; i < k; i++) cmax = Math.max(cmax, -grad[i]);
  let gap = 0;
  let floor = 0;
  for (let i = 0; i < k; i++) {
    gap += lam[i] * (cmax + grad[i]);
    floor += lam[i] * (Math.abs(hs[i]) + rowInf[i]);
  }
  const value = hmax + cmax - entropyFromLog(y, logy);
  return gap <= Math.max(tol * (1 + Math.abs(value)), 64 * Number.EPSILON * floor);
}

function finish(
  G: Float64Array,
  hs: Float64Array,
  hmax: number,
  k: number,
  n: number,
  lam: Float64Array,
  s: number,
  iterations: number,
  gradientSteps: number,
  stages: number,
  tol: number,
): SimplexDualResult {
  const a = new Float64Array(n);
  const y = new Float64Array(n);
  const logy = new Float64Array(n);
  const grad = new Float64Array(k);
  const fShifted = evaluate(G, hs, k, n, lam, a, y, logy, grad);
  const r = residualFromGrad(lam, grad, s, new Float64Array(k));
  const kktAbs = residualFromGrad(lam, grad, 1, new Float64Array(k));
  let cmax = -Infinity;
  for (let i = 0; i < k; i++) cmax = Math.max(cmax, -grad[i]);
  let gap = 0;
  for (let i = 0; i < k; i++) gap += lam[i] * (cmax + grad[i]);
  const t = hmax + cmax;
  return {
    lambda: lam,
    y,
    t,
    dualValue: hmax - fShifted,
    primalValue: t - entropyFromLog(y, logy),
    dualityGap: gap,
    iterations,
    gradientSteps,
    continuationStages: stages,
    kktResidual: r,
    kktResidualAbs: kktAbs,
    kktScale: s,
    converged: r <= tol,
  };
}
