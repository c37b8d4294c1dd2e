/**
 * Solver for the bundle entropy subproblem (`../shared/icnn-paper.md` §3.4, "Bundle entropy method" and
 * "Projected-Newton dual solver as coded"; its λ feeds the argmin gradient of §4.3).
 *
 * Primal, for k cuts (row i of G is g_iᵀ, G is k×n row-major) and offsets h:
 *     min_{y ∈ (0,1)ⁿ, t}  t − H(y)   s.t.  G y + h ≤ t·1,     H(y) = −Σ_j [y_j log y_j + (1−y_j) log(1−y_j)].
 * Dual over the probability simplex Δ = {λ ≥ 0, 1ᵀλ = 1}:
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
 *   solving each stage to 1e-3 and warm-starting the next with a tangent predictor (see `predictAlongPath`).
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
 * Measured (random Gaussian bundles, k = 2..30, n = 1..50, 2000 each; iterations median / max):
 * data scale 1: 5 / 9; 10: 7 / 13; 1e3: 15 / 34; 1e6: 16 / 46; 1e-8: 2 / 4; all with r ≤ 1e-10. Bundles whose rows
 * differ in scale by up to 1e±4 converge; with 1e±6 a few percent do not within 100 steps (the result is then still
 * a valid bound pair, with `converged` false).
 */
import { choleskyRegularized, choleskySolve } from '../linalg/cholesky.js';
import { projectSimplex } from '../linalg/simplex.js';
import { binaryEntropy, binaryEntropyFromLogit, logistic, softplus, softplusDiff } from '../linalg/stableMath.js';
import { fail } from '../util/errors.js';

export { logistic, softplus } from '../linalg/stableMath.js';
export { projectSimplex } from '../linalg/simplex.js';

export interface BundleEntropyDualOptions {
  /** KKT tolerance on r(λ) with s = kktScale (relative; default 1e-10). */
  tol?: number;
  /** Maximum number of steps (default 100). */
  maxIter?: number;
  /** Warm start; projected onto the simplex (default: uniform 1/k). */
  lambda0?: ArrayLike<number>;
}

export interface BundleEntropyDualResult {
  /** Dual solution on the simplex (length k). */
  lambda: Float64Array;
  /**
   * Recovered primal point y = σ(−Gᵀλ) (length n), in [0,1]: strictly inside unless rounding makes it 1
   * ((Gᵀλ)_j < −37) or 0 ((Gᵀλ)_j > 745). The values use the logits, so they stay accurate there.
   */
  y: Float64Array;
  /** t = max_i (G y + h)_i. */
  t: number;
  /** −F(λ): a lower bound on min_y max_i (g_iᵀy + h_i) − H(y) for any λ on the simplex. */
  dualValue: number;
  /** t − H(y): the primal objective at the recovered y, an upper bound on the same minimum. */
  primalValue: number;
  /** Σ_i λ_i (t − (G y + h)_i) ≥ 0, the gap primalValue − dualValue computed without cancellation. */
  dualityGap: number;
  /** Steps taken, over all continuation stages. */
  iterations: number;
  /** Steps among them where the projected-gradient (Cauchy) point beat the Newton point. */
  gradientSteps: number;
  /** Problems solved: 1 without continuation, otherwise the intermediate stages plus the final one. */
  continuationStages: number;
  /** Final r(λ) with s = kktScale (the quantity compared with tol). */
  kktResidual: number;
  /** Final r(λ) with s = 1. */
  kktResidualAbs: number;
  /** The scale s used by kktResidual: max_i ‖g_i‖₁, or 1 when G = 0. */
  kktScale: number;
  /** True when kktResidual ≤ tol. */
  converged: boolean;
}

/** Binary entropy H(y) = −Σ [y log y + (1−y) log(1−y)] with 0·log 0 = 0. */
export function entropy(y: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < y.length; j++) s += binaryEntropy(y[j]);
  return s;
}

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
  if (!Number.isInteger(k) || k < 1) fail(`${who}: k must be a positive integer, got ${k}`);
  if (!Number.isInteger(n) || n < 0) fail(`${who}: n must be a non-negative integer, got ${n}`);
  if (G.length !== k * n) fail(`${who}: G has ${G.length} entries, expected k·n = ${k * n}`);
  if (h.length !== k) fail(`${who}: h has ${h.length} entries, expected k = ${k}`);
  for (let i = 0; i < k * n; i++) if (!Number.isFinite(G[i])) fail(`${who}: G[${i}] is ${G[i]}`);
  for (let i = 0; i < k; i++) if (!Number.isFinite(h[i])) fail(`${who}: h[${i}] is ${h[i]}`);
}

/** max h, and h shifted by it (every entry ≤ 0, the largest exactly 0). */
function shiftOffsets(h: ArrayLike<number>, k: number): { hmax: number; hs: Float64Array } {
  let hmax = -Infinity;
  for (let i = 0; i < k; i++) hmax = Math.max(hmax, h[i]);
  const hs = new Float64Array(k);
  for (let i = 0; i < k; i++) hs[i] = h[i] - hmax;
  return { hmax, hs };
}

/**
 * Fills a = Gᵀλ, y = σ(−a), w = y(1−y) and grad = ∇F(λ) = −(G y + hs); returns F(λ) − (−hmax) i.e. the value with
 * shifted offsets, −hsᵀλ + Σ softplus(−a).
 */
function evaluate(
  G: ArrayLike<number>,
  hs: Float64Array,
  k: number,
  n: number,
  lam: Float64Array,
  a: Float64Array,
  y: Float64Array,
  w: Float64Array,
  grad: Float64Array,
): number {
  a.fill(0);
  for (let i = 0; i < k; i++) {
    const li = lam[i];
    if (li === 0) continue;
    const row = i * n;
    for (let j = 0; j < n; j++) a[j] += li * G[row + j];
  }
  let f = 0;
  for (let j = 0; j < n; j++) {
    const yj = logistic(-a[j]);
    y[j] = yj;
    w[j] = yj * logistic(a[j]);
    f += softplus(-a[j]);
  }
  for (let i = 0; i < k; i++) {
    const row = i * n;
    let s = hs[i];
    for (let j = 0; j < n; j++) s += G[row + j] * y[j];
    grad[i] = -s;
    f -= hs[i] * lam[i];
  }
  return f;
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

/**
 * KKT residual of λ for the simplex-constrained dual: ‖λ − P_Δ(λ − ∇F(λ)/scale)‖_∞ (default scale 1, the plain
 * projected-gradient norm; pass `kktScale(G, k, n)` for the relative residual the solver uses). Zero iff λ minimizes
 * F over Δ. λ must be on the simplex (it is not projected first).
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
  if (lambda.length !== k) fail(`kktResidual: lambda has ${lambda.length} entries, expected ${k}`);
  if (!(scale > 0) || !Number.isFinite(scale)) fail(`kktResidual: scale must be positive, got ${scale}`);
  const { hs } = shiftOffsets(h, k);
  const lam = Float64Array.from(lambda);
  const a = new Float64Array(n);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  const grad = new Float64Array(k);
  evaluate(G, hs, k, n, lam, a, y, w, grad);
  return residualFromGrad(lam, grad, scale, new Float64Array(k));
}

/** Dual objective F(λ) = −hᵀλ + Σ_j softplus(−(Gᵀλ)_j) (equal to −cᵀλ + Σ softplus(Gᵀλ) on the simplex). */
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
  let t = -Infinity;
  for (let i = 0; i < k; i++) {
    let s = h[i];
    for (let j = 0; j < n; j++) s += G[i * n + j] * y[j];
    t = Math.max(t, s);
  }
  return t - entropy(y);
}

const ARMIJO = 1e-4;
const EPS_ACTIVE = 1e-3;
const MAX_HALVINGS = 60;
const MAX_FIX_PASSES = 5;
const POLISH_STEPS = 3;
/** Continuation starts when kktScale exceeds this, at entropy weight β₀ = kktScale / CONT_SCALE. */
const CONT_SCALE = 300;
/** Entropy weight reduction per continuation stage. */
const CONT_FACTOR = 4;
/** KKT tolerance of the intermediate continuation stages. */
const CONT_TOL = 1e-3;

/**
 * Solves the bundle entropy subproblem through its simplex dual by a regularized two-metric projected Newton method
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
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 100;
  if (!(tol >= 0)) fail(`solveBundleEntropyDual: tol must be ≥ 0, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 0) fail(`solveBundleEntropyDual: maxIter must be an integer ≥ 0`);

  const { hmax, hs } = shiftOffsets(h, k);
  const s = kktScale(G, k, n);

  const lam = new Float64Array(k);
  if (opts.lambda0 !== undefined) {
    if (opts.lambda0.length !== k) fail(`solveBundleEntropyDual: lambda0 has ${opts.lambda0.length} entries, expected ${k}`);
    projectSimplex(opts.lambda0, lam);
  } else {
    lam.fill(1 / k);
  }
  if (k === 1) lam[0] = 1;

  let iterations = 0;
  let gradientSteps = 0;
  let stages = 0;
  if (k > 1) {
    // Continuation on the entropy weight β: stage problems have data (G/β, h/β), i.e. min max_i(g_iᵀy+h_i) − βH(y).
    let beta = s / CONT_SCALE;
    if (beta > 1 && opts.lambda0 !== undefined) {
      // A warm start is tried on the target problem first; continuation only if it does not finish quickly.
      const direct = projectedNewton(G, hs, k, n, lam, s, tol, Math.min(maxIter, 20), hmax);
      iterations += direct.iterations;
      gradientSteps += direct.gradientSteps;
      if (direct.done) beta = 1;
    }
    while (beta > 1 && iterations < maxIter) {
      const gb = new Float64Array(k * n);
      for (let i = 0; i < k * n; i++) gb[i] = G[i] / beta;
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
      const fin = projectedNewton(G, hs, k, n, lam, s, tol, maxIter - iterations, hmax);
      iterations += fin.iterations;
      gradientSteps += fin.gradientSteps;
      stages++;
    }
  }
  return finish(G, hs, hmax, k, n, lam, s, iterations, gradientSteps, stages, tol);
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
 * Regularized two-metric projected Newton on min_{λ∈Δ} −hsᵀλ + Σ softplus(−Gᵀλ), from `lamIn` (overwritten by the
 * result), until r(λ) ≤ tol with scale s, for at most maxSteps steps. Each step:
 * 1. a projected-gradient (Cauchy) point λ_C = P_Δ(λ − β∇F) with Armijo backtracking on β;
 * 2. binding set I = {i ≠ p : ∂_i > 0 and (λ_i ≤ ε or (λ_C)_i = 0)}, moved to zero;
 * 3. regularized Newton step on the free coordinates, Armijo backtracking on the projection arc;
 * 4. the better of the Newton and Cauchy points (the Cauchy point guarantees the progress of projected gradient, the
 *    Newton point the fast local convergence once the binding set is right).
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
  const w = new Float64Array(n);
  const grad = new Float64Array(k);
  const work = new Float64Array(k);
  let lamN = new Float64Array(k); // Newton trial / accepted point
  let lamC = new Float64Array(k); // Cauchy point
  const dlam = new Float64Array(k);
  const da = new Float64Array(n);
  const g0 = new Float64Array(k);
  const d = new Float64Array(k);
  const freeIdx = new Int32Array(k);
  const bindIdx = new Int32Array(k);
  const diff = new Float64Array(k * n); // row i: g_i − g_p
  const h0 = new Float64Array(k * k); // reduced Hessian, indexed by the original cut indices

  let f = evaluate(G, hs, k, n, lam, a, y, w, grad);
  let r = residualFromGrad(lam, grad, s, work);
  const rowL1 = new Float64Array(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) rowL1[i] += Math.abs(G[i * n + j]);
  // The stopping test is r ≤ tol. On the target problem (hmax given) up to POLISH_STEPS more steps are taken while
  // the duality gap is not small relative to the value (`gapSmall`): when kktScale is much larger than the value,
  // r ≤ tol alone can leave a gap of order tol·kktScale, and Newton usually removes it in one or two steps.
  let polish = 0;
  const done = (): boolean => {
    if (r > tol) return false;
    if (hmax === undefined || gapSmall(lam, grad, a, hs, rowL1, hmax, tol)) return true;
    return polish++ >= POLISH_STEPS;
  };
  let iterations = 0;
  let gradientSteps = 0;

  /**
   * F(λ + Δλ) − F(λ) for Δλ in `dlam` (Σ Δλ = 0), accurate to rounding of the difference itself; `noise` gets a
   * bound on that rounding (a few ε times the sum of the absolute terms).
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
    let sp = 0;
    for (let j = 0; j < n; j++) {
      const t = softplusDiff(-a[j], -da[j]);
      sp += t;
      mag += Math.abs(t);
    }
    noise = 8 * Number.EPSILON * (k + n) * mag;
    return lin + sp;
  };

  while (!done() && iterations < maxSteps) {
    // Pivot: the largest coordinate, eliminated through λ_p = 1 − Σ_{j≠p} λ_j.
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
      // Row difference g_i − g_p, and g0_i = ∂F/∂λ_i − ∂F/∂λ_p = −(hs_i − hs_p) − (g_i − g_p)ᵀ y.
      const row = i * n;
      let acc = -(hs[i] - hs[p]);
      for (let j = 0; j < n; j++) {
        const dj = G[row + j] - G[rowP + j];
        diff[row + j] = dj;
        acc -= dj * y[j];
      }
      g0[i] = acc;
      g0Max = Math.max(g0Max, Math.abs(acc));
    }

    // 1. Cauchy point: λ_C(β) = P_Δ(λ − β g0) (g0 is ∇F shifted by a constant, which P_Δ ignores), β from 1/max|g0|.
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
    d.fill(0);
    for (let i = 0; i < k; i++) {
      if (i === p) continue;
      if (g0[i] > 0 && (lam[i] <= eps || (haveC && lamC[i] === 0))) {
        bindIdx[nBind++] = i;
        d[i] = -lam[i];
      } else freeIdx[nFree++] = i;
    }

    // 3. Newton step on the free set: (H₀_FF + M) d_F = −g0_F − H₀_FI d_I with the reduced Hessian
    //    H₀ = D diag(w) Dᵀ over the rows D_i = g_i − g_p, and diagonal Levenberg–Marquardt damping M.
    for (let u = 0; u < k; u++) {
      if (u === p) continue;
      const ru = u * n;
      for (let v = 0; v <= u; v++) {
        if (v === p) continue;
        const rv = v * n;
        let acc = 0;
        for (let j = 0; j < n; j++) acc += diff[ru + j] * w[j] * diff[rv + j];
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
    // A free coordinate at zero (or with ∂_i > 0 within ε of zero) whose step would cross zero is fixed at zero and
    // the step recomputed, so that the projection does not silently bend the Newton direction.
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
      // Coupling made it an ascent direction: plain two-metric step (binding set to zero, decoupled Newton on the
      // rest), for which g0ᵀd < 0 unless λ is stationary.
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
      newtonFree(false);
    }

    // Armijo backtracking along the projection arc z(α) = [z + α d]₊, λ_p(α) = 1 − Σ z(α) ≥ 0, on the decrease
    // predicted to first order by the actual displacement.
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
    // 4. Take the better point.
    if (!haveN && !haveC) break; // stationary to working precision
    // The lower F wins; the Cauchy point only by a decrease distinguishable from rounding, both of the difference
    // (noise) and of F itself (4ε(1 + |F|)): near the solution both decreases are at that level, F no longer ranks
    // the points, and the Newton point is the accurate one.
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
    f = evaluate(G, hs, k, n, lam, a, y, w, grad);
    r = residualFromGrad(lam, grad, s, work);
    iterations++;
  }

  lamIn.set(lam);
  return { iterations, gradientSteps, r, done: r <= tol };
}

/**
 * Solves (H + μI) x = rhs in place in `rhs` for the PSD matrix `hm` (m×m, overwritten), with the Levenberg–Marquardt
 * damping μ = max(‖rhs‖₂, 1e-13·max diag H) (see the file comment), by Cholesky, with jitter as a last resort.
 */
function dampedSolve(hm: Float64Array, rhs: Float64Array, m: number, rhsNorm: number, maxDiag: number): void {
  const mu = Math.max(rhsNorm, 1e-13 * maxDiag);
  for (let u = 0; u < m; u++) hm[u * m + u] += mu;
  const { l } = choleskyRegularized(hm, m, { jitter0: 1e-14, maxJitter: 1 });
  choleskySolve(l, m, rhs, rhs);
}

/**
 * Tangent predictor for the continuation path λ(β) of the stage problems (data G/β, h/β), from the stage solution
 * `lam` at the current β (the stage data given as gb, hb) to β' = ratio·β. On the support F of λ (less the pivot),
 * stationarity gives dλ_F/dβ = (D W Dᵀ)⁻¹ D W a / β with D the row differences g_i − g_p of the stage data,
 * W = diag(y(1−y)), a = Gᵀλ/β: the change that scales the unsaturated logits in proportion to β. The predicted
 * point (clipped to the simplex) replaces `lam` only if it has a lower objective for the next stage's data.
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
  const w = new Float64Array(n);
  for (let j = 0; j < n; j++) w[j] = logistic(a[j]) * logistic(-a[j]);
  const hm = new Float64Array(m * m);
  const rhs = new Float64Array(m);
  let maxDiag = 0;
  for (let u = 0; u < m; u++) {
    const ru = free[u] * n;
    for (let v = 0; v <= u; v++) {
      const rv = free[v] * n;
      let acc = 0;
      for (let j = 0; j < n; j++) acc += (gb[ru + j] - gb[p * n + j]) * w[j] * (gb[rv + j] - gb[p * n + j]);
      hm[u * m + v] = acc;
      hm[v * m + u] = acc;
    }
    maxDiag = Math.max(maxDiag, hm[u * m + u]);
    let acc = 0;
    for (let j = 0; j < n; j++) acc += (gb[ru + j] - gb[p * n + j]) * w[j] * a[j];
    rhs[u] = acc;
  }
  if (!(maxDiag > 0)) return;
  for (let u = 0; u < m; u++) hm[u * m + u] += 1e-10 * maxDiag;
  const { l } = choleskyRegularized(hm, m, { jitter0: 1e-14, maxJitter: 1 });
  const dl = choleskySolve(l, m, rhs);
  // Δλ_F = (ratio − 1)·β·dλ_F/dβ = (ratio − 1)·dl (the 1/β of dλ/dβ cancels against Δβ = (ratio − 1)β).
  const cand = Float64Array.from(lam);
  let sum = 0;
  for (let u = 0; u < m; u++) {
    const v = lam[free[u]] + (ratio - 1) * dl[u];
    cand[free[u]] = Number.isFinite(v) && v > 0 ? v : 0;
  }
  for (let i = 0; i < k; i++) if (i !== p) sum += cand[i];
  if (!(sum < 1)) return;
  cand[p] = 1 - sum;
  // Compare the next stage's objective (data scaled by 1/ratio) at both points.
  const fNext = (x: Float64Array): number => {
    let f = 0;
    for (let j = 0; j < n; j++) {
      let aj = 0;
      for (let i = 0; i < k; i++) if (x[i] !== 0) aj += x[i] * gb[i * n + j];
      f += softplus(-aj / ratio);
    }
    for (let i = 0; i < k; i++) f -= (hb[i] / ratio) * x[i];
    return f;
  };
  if (fNext(cand) < fNext(lam)) lam.set(cand);
}

/**
 * Duality gap test: gap = Σ λ_i (t − c_i) (c_i the cut values at y, t their max) must be at most
 * max(tol·(1 + |primal value|), 64ε·Σ λ_i (|hs_i| + ‖g_i‖₁)), the second term being the rounding floor of the cut
 * values. This makes the gap small relative to the value even when kktScale is much larger than the value.
 */
function gapSmall(
  lam: Float64Array,
  grad: Float64Array,
  a: Float64Array,
  hs: Float64Array,
  rowL1: Float64Array,
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
    floor += lam[i] * (Math.abs(hs[i]) + rowL1[i]);
  }
  let hy = 0;
  for (let j = 0; j < a.length; j++) hy += binaryEntropyFromLogit(a[j]);
  const value = hmax + cmax - hy;
  return gap <= Math.max(tol * (1 + Math.abs(value)), 64 * Number.EPSILON * floor);
}

function finish(
  G: ArrayLike<number>,
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
): BundleEntropyDualResult {
  const a = new Float64Array(n);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  const grad = new Float64Array(k);
  const fShifted = evaluate(G, hs, k, n, lam, a, y, w, grad);
  const r = residualFromGrad(lam, grad, s, new Float64Array(k));
  const kktAbs = residualFromGrad(lam, grad, 1, new Float64Array(k));
  // Cut values at y: c_i = (G y + hs)_i = −grad_i; t = max c (+ hmax).
  let cmax = -Infinity;
  for (let i = 0; i < k; i++) cmax = Math.max(cmax, -grad[i]);
  let gap = 0;
  for (let i = 0; i < k; i++) gap += lam[i] * (cmax + grad[i]);
  let hy = 0;
  for (let j = 0; j < n; j++) hy += binaryEntropyFromLogit(a[j]);
  const t = hmax + cmax;
  return {
    lambda: lam,
    y,
    t,
    dualValue: hmax - fShifted,
    primalValue: t - hy,
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
