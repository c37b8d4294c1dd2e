/**
 * Regularized two-metric projected Newton method over the probability simplex Δ_k = {λ ≥ 0, 1ᵀλ = 1}, shared by the
 * bundle entropy dual solvers (./bundleEntropyDual.ts, binary entropy; ./bundleEntropySimplexDual.ts, multivariate
 * entropy; see their file comments for the method, its stopping rule, continuation and measurements).
 *
 * The objectives have the common form, for k cuts (rows g_i of the k×n matrix G) and offsets hs ≤ 0:
 *     F(λ) = −hsᵀλ + φ(a),   a = Gᵀλ,     ∇F(λ) = −(G y + hs),   ∇²F(λ) = G W Gᵀ,
 * where y = y(a) is the recovered primal point and W the Hessian of φ; only φ differs between the solvers and is
 * given as a `LogitPotential`. −∇F_i is the value of cut i at y, and the duality gap is Σ_i λ_i (max c − c_i).
 */
import { choleskyRegularized, choleskySolve } from '../linalg/cholesky.js';
import { projectSimplex } from '../linalg/simplex.js';
import { fail } from '../util/errors.js';

/** Out-parameter of `LogitPotential.difference`. */
export interface PotentialDifference {
  /** φ(a + Δa) − φ(a). */
  value: number;
  /** Sum of the absolute terms (rounding bound), the input `mag` plus the contribution of φ. */
  mag: number;
}

/** The φ of F(λ) = −hsᵀλ + φ(Gᵀλ), with its primal point y(a) and auxiliary per-coordinate state `aux`. */
export interface LogitPotential {
  /**
   * Whether the Hessian rows are centred under the weights y (W = diag(y) − yyᵀ, the multivariate case); otherwise
   * W = diag(`hessianWeights`) and the rows are the plain differences g_i − g_p.
   */
  readonly centred: boolean;
  /** Fills y = y(a) and aux; returns φ(a). */
  value(a: Float64Array, y: Float64Array, aux: Float64Array): number;
  /** φ(a + Δa) − φ(a) from the state at a, accurate to the rounding of the difference; `mag` is accumulated into. */
  difference(a: Float64Array, y: Float64Array, aux: Float64Array, da: Float64Array, mag: number, out: PotentialDifference): void;
  /** The diagonal Hessian weights at the state (y itself when centred). */
  hessianWeights(y: Float64Array, aux: Float64Array): Float64Array;
  /** The entropy H(y) of the primal point at the state. */
  entropy(a: Float64Array, y: Float64Array, aux: Float64Array): number;
  /** The norm of a row entering the rounding floor of the cut values (‖g‖₁ over the box, ‖g‖_∞ over Δ_n). */
  rowNorm(G: ArrayLike<number>, row: number, n: number): number;
  /** The Hessian weights of the continuation predictor at a = Gᵀλ (new array). */
  tangentWeights(a: Float64Array): Float64Array;
  /** φ(−Σ_i x_i g_i / ratio) for the next continuation stage (data gb/ratio). */
  nextValue(gb: Float64Array, k: number, n: number, x: Float64Array, ratio: number): number;
}

/** A problem instance: G (k×n row-major), offsets hs (shifted, ≤ 0) and their shift hmax, kktScale s. */
export interface SimplexProblem {
  G: ArrayLike<number>;
  hs: Float64Array;
  hmax: number;
  k: number;
  n: number;
  s: number;
  pot: LogitPotential;
}

export interface SimplexNewtonOptions {
  /** KKT tolerance on r(λ) with s = kktScale (relative; default 1e-10). */
  tol?: number;
  /** Maximum number of steps (default 100). */
  maxIter?: number;
  /** Warm start; projected onto the simplex (default: uniform 1/k). */
  lambda0?: ArrayLike<number>;
}

/** The common result of the bundle entropy dual solvers (see their result types for the per-solver meaning). */
export interface SimplexNewtonResult {
  /** Dual solution on the simplex Δ_k (length k). */
  lambda: Float64Array;
  /** Recovered primal point y(Gᵀλ) (length n). */
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
  /** Problems solved: 1 without continuation, otherwise the intermediate stages plus the final one (0 for k = 1). */
  continuationStages: number;
  /** Final r(λ) with s = kktScale (the quantity compared with tol). */
  kktResidual: number;
  /** Final r(λ) with s = 1. */
  kktResidualAbs: number;
  /** The scale s used by kktResidual. */
  kktScale: number;
  /** True when kktResidual ≤ tol. */
  converged: boolean;
}

/** Best-iterate tracking and stall stop of the local phase (see ./bundleEntropySimplexDual.ts). */
export interface StallRule {
  /** Steps without a new smallest residual after which a run stops (precision floor reached). */
  steps: number;
  /** Residual below which a run is in its local phase (best-iterate tracking and the stall test apply). */
  localR: number;
}

/** Validates k, n (n ≥ nMin), and the sizes and finiteness of G and h. */
export function checkCuts(G: ArrayLike<number>, h: ArrayLike<number>, k: number, n: number, who: string, nMin: 0 | 1): void {
  if (!Number.isInteger(k) || k < 1) fail(`${who}: k must be a positive integer, got ${k}`);
  if (!Number.isInteger(n) || n < nMin) {
    fail(nMin === 0 ? `${who}: n must be a non-negative integer, got ${n}` : `${who}: n must be a positive integer (the simplex Δ_n), got ${n}`);
  }
  if (G.length !== k * n) fail(`${who}: G has ${G.length} entries, expected k·n = ${k * n}`);
  if (h.length !== k) fail(`${who}: h has ${h.length} entries, expected k = ${k}`);
  for (let i = 0; i < k * n; i++) if (!Number.isFinite(G[i])) fail(`${who}: G[${i}] is ${G[i]}`);
  for (let i = 0; i < k; i++) if (!Number.isFinite(h[i])) fail(`${who}: h[${i}] is ${h[i]}`);
}

/** The state of F at one λ: a = Gᵀλ, y, aux (the potential's) and grad = ∇F(λ). */
interface State {
  a: Float64Array;
  y: Float64Array;
  aux: Float64Array;
  grad: Float64Array;
}

function newState(k: number, n: number): State {
  return { a: new Float64Array(n), y: new Float64Array(n), aux: new Float64Array(n), grad: new Float64Array(k) };
}

/** Fills the state at λ; returns the shifted value −hsᵀλ + φ(Gᵀλ). */
function evaluate(
  G: ArrayLike<number>,
  hs: Float64Array,
  k: number,
  n: number,
  pot: LogitPotential,
  lam: Float64Array,
  st: State,
): number {
  const { a, y, grad } = st;
  a.fill(0);
  for (let i = 0; i < k; i++) {
    const li = lam[i];
    if (li === 0) continue;
    const row = i * n;
    for (let j = 0; j < n; j++) a[j] += li * G[row + j];
  }
  let f = pot.value(a, y, st.aux);
  for (let i = 0; i < k; i++) {
    const row = i * n;
    let c = hs[i];
    for (let j = 0; j < n; j++) c += G[row + j] * y[j];
    grad[i] = -c;
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

/** Validates λ (length k) and a residual scale for the public KKT residual functions. */
function checkResidualArgs(lambda: ArrayLike<number>, k: number, scale: number, who: string): void {
  if (lambda.length !== k) fail(`${who}: lambda has ${lambda.length} entries, expected ${k}`);
  if (!(scale > 0) || !Number.isFinite(scale)) fail(`${who}: scale must be positive, got ${scale}`);
}

/** ‖λ − P_Δ(λ − ∇F(λ)/scale)‖_∞ for the problem's (possibly transformed) data; checks λ and scale first. */
export function problemKktResidual(
  G: ArrayLike<number>,
  hs: Float64Array,
  k: number,
  n: number,
  pot: LogitPotential,
  lambda: ArrayLike<number>,
  scale: number,
  who: string,
): number {
  checkResidualArgs(lambda, k, scale, who);
  const lam = Float64Array.from(lambda);
  const st = newState(k, n);
  evaluate(G, hs, k, n, pot, lam, st);
  return residualFromGrad(lam, st.grad, scale, new Float64Array(k));
}

/** The shifted value −hsᵀλ + φ(Gᵀλ) at λ. */
export function problemValue(G: ArrayLike<number>, hs: Float64Array, k: number, n: number, pot: LogitPotential, lam: Float64Array): number {
  return evaluate(G, hs, k, n, pot, lam, newState(k, n));
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
 * Solves min_{λ∈Δ_k} F(λ) for the problem by the regularized two-metric projected Newton method, with continuation
 * over the data scale when s > CONT_SCALE (see the solvers' file comments). Validates the options (messages prefixed
 * with `who`); `stall` enables the local-phase best-iterate tracking.
 */
export function solveSimplexNewton(
  prob: SimplexProblem,
  opts: SimplexNewtonOptions,
  who: string,
  stall?: StallRule,
): SimplexNewtonResult {
  const { G, hs, hmax, k, n, s, pot } = prob;
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 100;
  if (!(tol >= 0)) fail(`${who}: tol must be ≥ 0, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 0) fail(`${who}: maxIter must be an integer ≥ 0`);

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
    // Continuation on the entropy weight β: stage problems have data (G/β, h/β), i.e. min max_i(g_iᵀy+h_i) − βH(y).
    let beta = s / CONT_SCALE;
    if (beta > 1 && opts.lambda0 !== undefined) {
      // A warm start is tried on the target problem first; continuation only if it does not finish quickly.
      const direct = projectedNewton(G, hs, k, n, pot, lam, s, tol, Math.min(maxIter, 20), stall, hmax);
      iterations += direct.iterations;
      gradientSteps += direct.gradientSteps;
      if (direct.done) beta = 1;
    }
    while (beta > 1 && iterations < maxIter) {
      const gb = new Float64Array(k * n);
      for (let i = 0; i < k * n; i++) gb[i] = G[i] / beta;
      const hb = new Float64Array(k);
      for (let i = 0; i < k; i++) hb[i] = hs[i] / beta;
      const st = projectedNewton(gb, hb, k, n, pot, lam, s / beta, CONT_TOL, maxIter - iterations, stall);
      iterations += st.iterations;
      gradientSteps += st.gradientSteps;
      stages++;
      const next = Math.max(1, beta / CONT_FACTOR);
      predictAlongPath(gb, hb, k, n, pot, lam, next / beta);
      beta /= CONT_FACTOR;
    }
    if (iterations < maxIter) {
      const fin = projectedNewton(G, hs, k, n, pot, lam, s, tol, maxIter - iterations, stall, hmax);
      iterations += fin.iterations;
      gradientSteps += fin.gradientSteps;
      stages++;
    }
  }
  return finish(prob, lam, iterations, gradientSteps, stages, tol);
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
 * Regularized two-metric projected Newton on min_{λ∈Δ} −hsᵀλ + φ(Gᵀλ), from `lamIn` (overwritten by the result),
 * until r(λ) ≤ tol with scale s, for at most maxSteps steps. Each step:
 * 1. a projected-gradient (Cauchy) point λ_C = P_Δ(λ − β∇F) with Armijo backtracking on β;
 * 2. binding set I = {i ≠ p : ∂_i > 0 and (λ_i ≤ ε or (λ_C)_i = 0)}, moved to zero;
 * 3. regularized Newton step on the free coordinates, Armijo backtracking on the projection arc;
 * 4. the better of the Newton and Cauchy points (the Cauchy point guarantees the progress of projected gradient, the
 *    Newton point the fast local convergence once the binding set is right).
 * With `hmax` given (the target problem), the duality-gap polish applies.
 */
function projectedNewton(
  G: ArrayLike<number>,
  hs: Float64Array,
  k: number,
  n: number,
  pot: LogitPotential,
  lamIn: Float64Array,
  s: number,
  tol: number,
  maxSteps: number,
  stall: StallRule | undefined,
  hmax?: number,
): NewtonRun {
  let lam = Float64Array.from(lamIn);
  const st = newState(k, n);
  const { a, y, aux, grad } = st;
  const work = new Float64Array(k);
  let lamN = new Float64Array(k); // Newton trial / accepted point
  let lamC = new Float64Array(k); // Cauchy point
  const dlam = new Float64Array(k);
  const da = new Float64Array(n);
  const g0 = new Float64Array(k);
  const d = new Float64Array(k);
  const freeIdx = new Int32Array(k);
  const bindIdx = new Int32Array(k);
  const rows = new Float64Array(k * n); // row i: g_i − g_p (centred under the weights y when pot.centred)
  const h0 = new Float64Array(k * k); // reduced Hessian, indexed by the original cut indices

  let f = evaluate(G, hs, k, n, pot, lam, st);
  let r = residualFromGrad(lam, grad, s, work);
  const rowNorm = new Float64Array(k);
  for (let i = 0; i < k; i++) rowNorm[i] = pot.rowNorm(G, i * n, n);
  // The stopping test is r ≤ tol. On the target problem (hmax given) up to POLISH_STEPS more steps are taken while
  // the duality gap is not small relative to the value (`gapSmall`): when kktScale is much larger than the value,
  // r ≤ tol alone can leave a gap of order tol·kktScale, and Newton usually removes it in one or two steps.
  let polish = 0;
  const done = (): boolean => {
    if (r > tol) return false;
    if (hmax === undefined || gapSmall(lam, grad, pot.entropy(a, y, aux), hs, rowNorm, hmax, tol)) return true;
    return polish++ >= POLISH_STEPS;
  };
  let iterations = 0;
  let gradientSteps = 0;
  // Local phase (with `stall`, r ≤ stall.localR): the iterate with the smallest residual is kept. At the resolution
  // limit of float64 steps that F can no longer rank can make r worse again; the best local iterate is then returned,
  // and the run stops after stall.steps steps with neither a new best nor a significant decrease of F.
  const localR = stall?.localR ?? -Infinity;
  const stallSteps = stall?.steps ?? Infinity;
  const bestLam = Float64Array.from(lam);
  let bestR = r <= localR ? r : Infinity;
  let sinceBest = 0;
  let fMark = f;

  /**
   * F(λ + Δλ) − F(λ) for Δλ in `dlam` (Σ Δλ = 0), accurate to rounding of the difference itself; `noise` gets a
   * bound on that rounding (a few ε times the sum of the absolute terms).
   */
  let noise = 0;
  const diff: PotentialDifference = { value: 0, mag: 0 };
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
    pot.difference(a, y, aux, da, mag, diff);
    noise = 8 * Number.EPSILON * (k + n) * diff.mag;
    return lin + diff.value;
  };

  while (!done() && iterations < maxSteps && sinceBest < stallSteps) {
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
      // Row difference D_i = g_i − g_p, and g0_i = ∂F/∂λ_i − ∂F/∂λ_p = −(hs_i − hs_p) − D_iᵀ y.
      const row = i * n;
      let acc: number;
      if (pot.centred) {
        // μ_i = D_iᵀy; the row is centred to D_i − μ_i (weighted covariance form of D (diag y − yyᵀ) Dᵀ).
        let mu = 0;
        for (let j = 0; j < n; j++) {
          const dj = G[row + j] - G[rowP + j];
          rows[row + j] = dj;
          mu += dj * y[j];
        }
        for (let j = 0; j < n; j++) rows[row + j] -= mu;
        acc = -(hs[i] - hs[p]) - mu;
      } else {
        acc = -(hs[i] - hs[p]);
        for (let j = 0; j < n; j++) {
          const dj = G[row + j] - G[rowP + j];
          rows[row + j] = dj;
          acc -= dj * y[j];
        }
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

    // 3. Newton step on the free set: (H₀_FF + M) d_F = −g0_F − H₀_FI d_I with the reduced Hessian
    //    H₀ = Σ_j w_j rows_uj rows_vj, and diagonal Levenberg–Marquardt damping M.
    const wts = pot.hessianWeights(y, aux);
    for (let u = 0; u < k; u++) {
      if (u === p) continue;
      const ru = u * n;
      for (let v = 0; v <= u; v++) {
        if (v === p) continue;
        const rv = v * n;
        let acc = 0;
        for (let j = 0; j < n; j++) acc += rows[ru + j] * wts[j] * rows[rv + j];
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
      chooseSets();
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
    f = evaluate(G, hs, k, n, pot, lam, st);
    r = residualFromGrad(lam, grad, s, work);
    iterations++;
    if (stall === undefined) continue;
    if (r < bestR && r <= localR) {
      bestR = r;
      bestLam.set(lam);
      sinceBest = 0;
      fMark = f;
    } else if (f < fMark - 1e-13 * (1 + Math.abs(f))) {
      // Still a significant decrease of F: progress, not a stall.
      sinceBest = 0;
      fMark = f;
    } else if (bestR <= localR) {
      sinceBest++;
    }
  }

  // Keep the last iterate when it passes the test (the gap polish may trade a little r for a smaller gap).
  if (stall !== undefined && r > tol && bestR < r) {
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
 * `lam` at the current β (the stage data given as gb, hb) to β' = ratio·β. Stationarity on the support F of λ (less
 * the pivot p), D_uᵀ y + (h_u − h_p) = 0, differentiated in β gives dλ_F/dβ = (D W Dᵀ)⁻¹ D W a / β with D the row
 * differences g_i − g_p of the stage data, W the Hessian of φ and a = Gᵀλ/β: the change that scales the logits in
 * proportion to β. The predicted point (clipped to the simplex) replaces `lam` only if it has a lower objective for
 * the next stage's data.
 */
function predictAlongPath(
  gb: Float64Array,
  hb: Float64Array,
  k: number,
  n: number,
  pot: LogitPotential,
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
  const w = pot.tangentWeights(a);
  // Rows D_u (centred under w when pot.centred, with the target a − wᵀa, as (diag w − wwᵀ) annihilates 1).
  const rows = new Float64Array(m * n);
  const target = a;
  if (pot.centred) {
    let ya = 0;
    for (let j = 0; j < n; j++) ya += w[j] * a[j];
    for (let j = 0; j < n; j++) target[j] = a[j] - ya;
  }
  for (let u = 0; u < m; u++) {
    const ru = free[u] * n;
    let mu = 0;
    for (let j = 0; j < n; j++) {
      const dj = gb[ru + j] - gb[p * n + j];
      rows[u * n + j] = dj;
      if (pot.centred) mu += dj * w[j];
    }
    if (pot.centred) for (let j = 0; j < n; j++) rows[u * n + j] -= mu;
  }
  const hm = new Float64Array(m * m);
  const rhs = new Float64Array(m);
  let maxDiag = 0;
  for (let u = 0; u < m; u++) {
    for (let v = 0; v <= u; v++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += rows[u * n + j] * w[j] * rows[v * n + j];
      hm[u * m + v] = acc;
      hm[v * m + u] = acc;
    }
    maxDiag = Math.max(maxDiag, hm[u * m + u]);
    let acc = 0;
    for (let j = 0; j < n; j++) acc += rows[u * n + j] * w[j] * target[j];
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
    let f = pot.nextValue(gb, k, n, x, ratio);
    for (let i = 0; i < k; i++) f -= (hb[i] / ratio) * x[i];
    return f;
  };
  if (fNext(cand) < fNext(lam)) lam.set(cand);
}

/**
 * Duality gap test: gap = Σ λ_i (t − c_i) (c_i the cut values at y, t their max) must be at most
 * max(tol·(1 + |primal value|), 64ε·Σ λ_i (|hs_i| + ‖g_i‖)), the second term being the rounding floor of the cut
 * values. This makes the gap small relative to the value even when kktScale is much larger than the value.
 */
function gapSmall(
  lam: Float64Array,
  grad: Float64Array,
  hy: number,
  hs: Float64Array,
  rowNorm: Float64Array,
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
    floor += lam[i] * (Math.abs(hs[i]) + rowNorm[i]);
  }
  const value = hmax + cmax - hy;
  return gap <= Math.max(tol * (1 + Math.abs(value)), 64 * Number.EPSILON * floor);
}

function finish(
  prob: SimplexProblem,
  lam: Float64Array,
  iterations: number,
  gradientSteps: number,
  stages: number,
  tol: number,
): SimplexNewtonResult {
  const { G, hs, hmax, k, n, s, pot } = prob;
  const st = newState(k, n);
  const { grad } = st;
  const fShifted = evaluate(G, hs, k, n, pot, lam, st);
  const r = residualFromGrad(lam, grad, s, new Float64Array(k));
  const kktAbs = residualFromGrad(lam, grad, 1, new Float64Array(k));
  // Cut values at y: c_i = (G y + hs)_i = −grad_i; t = max c (+ hmax).
  let cmax = -Infinity;
  for (let i = 0; i < k; i++) cmax = Math.max(cmax, -grad[i]);
  let gap = 0;
  for (let i = 0; i < k; i++) gap += lam[i] * (cmax + grad[i]);
  const t = hmax + cmax;
  return {
    lambda: lam,
    y: st.y,
    t,
    dualValue: hmax - fShifted,
    primalValue: t - pot.entropy(st.a, st.y, st.aux),
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
