/**
 * The driver of the entropy dual solvers (`../shared/icnn-paper.md` §3.4): min_{λ∈Δ_k} F(λ) of ./problem.ts by
 * projected Newton runs (./projectedNewton.ts), with continuation on the entropy weight when the data scale is large,
 * a tangent predictor between the continuation stages, and the result with its bounds and residuals.
 */
import { projectOntoSimplex } from '../../linalg/simplexProjection.js';
import { fail } from '../../util/errors.js';
import { dampedSolve, projectedNewton } from './projectedNewton.js';
import {
  evaluate,
  newState,
  residualFromGrad,
  type CutWeightProblem,
  type EntropyDualOptions,
  type EntropyDualResult,
  type LogitPotential,
  type StallRule,
} from './problem.js';

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
export function solveEntropyDual(
  prob: CutWeightProblem,
  opts: EntropyDualOptions,
  who: string,
  stall?: StallRule,
): EntropyDualResult {
  const { G, hs, hmax, k, n, s, pot } = prob;
  const tol = opts.tol ?? 1e-10;
  const maxIter = opts.maxIter ?? 100;
  if (!(tol >= 0)) fail(`${who}: tol must be ≥ 0, got ${tol}`);
  if (!Number.isInteger(maxIter) || maxIter < 0) fail(`${who}: maxIter must be an integer ≥ 0`);

  const lam = new Float64Array(k);
  if (opts.lambda0 !== undefined) {
    if (opts.lambda0.length !== k) fail(`${who}: lambda0 has ${opts.lambda0.length} entries, expected ${k}`);
    projectOntoSimplex(opts.lambda0, lam);
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
      const direct = projectedNewton({ G, hs, k, n, pot, s, tol, maxSteps: Math.min(maxIter, 20), stall, hmax }, lam);
      iterations += direct.iterations;
      gradientSteps += direct.gradientSteps;
      if (direct.done) beta = 1;
    }
    while (beta > 1 && iterations < maxIter) {
      const gb = new Float64Array(k * n);
      for (let i = 0; i < k * n; i++) gb[i] = G[i] / beta;
      const hb = new Float64Array(k);
      for (let i = 0; i < k; i++) hb[i] = hs[i] / beta;
      const st = projectedNewton({ G: gb, hs: hb, k, n, pot, s: s / beta, tol: CONT_TOL, maxSteps: maxIter - iterations, stall }, lam);
      iterations += st.iterations;
      gradientSteps += st.gradientSteps;
      stages++;
      const next = Math.max(1, beta / CONT_FACTOR);
      predictAlongPath(gb, hb, k, n, pot, lam, next / beta);
      beta /= CONT_FACTOR;
    }
    if (iterations < maxIter) {
      const fin = projectedNewton({ G, hs, k, n, pot, s, tol, maxSteps: maxIter - iterations, stall, hmax }, lam);
      iterations += fin.iterations;
      gradientSteps += fin.gradientSteps;
      stages++;
    }
  }
  return finish(prob, lam, iterations, gradientSteps, stages, tol);
}

/**
 * Tangent predictor for the continuation path λ(β) of the stage problems (data G/β, h/β), from the stage solution
 * `lam` at the current β (the stage data given as gb, hb) to β' = ratio·β. Stationarity on the support F of λ (less
 * the pivot p), D_uᵀ y + (h_u − h_p) = 0, differentiated in β gives dλ_F/dβ = (D W Dᵀ)⁻¹ D W a / β with D the row
 * differences g_i − g_p of the stage data, W the Hessian of φ and a = Gᵀλ/β: the change that scales the logits in
 * proportion to β. The predicted point (clipped to Δ_k) replaces `lam` only if it has a lower objective for
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
  if (free.length === 0) return;
  const system = tangentSystem(gb, n, pot, lam, p, free);
  if (system === null) return;
  const dl = dampedSolve(system.hm, system.rhs, free.length, 1e-10 * system.maxDiag, new Float64Array(free.length));
  // Δλ_F = (ratio − 1)·β·dλ_F/dβ = (ratio − 1)·dl (the 1/β of dλ/dβ cancels against Δβ = (ratio − 1)β).
  const cand = Float64Array.from(lam);
  let sum = 0;
  free.forEach((i, u) => {
    const v = lam[i] + (ratio - 1) * dl[u];
    cand[i] = Number.isFinite(v) && v > 0 ? v : 0;
  });
  for (let i = 0; i < k; i++) if (i !== p) sum += cand[i];
  if (!(sum < 1)) return;
  cand[p] = 1 - sum;
  // Compare the next stage's objective (data scaled by 1/ratio) at both points.
  if (nextStageValue(gb, hb, k, n, pot, cand, ratio) < nextStageValue(gb, hb, k, n, pot, lam, ratio)) lam.set(cand);
}

/**
 * The tangent system (D W Dᵀ) dλ_F = D W a of `predictAlongPath` on the free set (rows D_u = g_u − g_p, centred under
 * w with the target a − wᵀa when pot.centred, as (diag w − wwᵀ) annihilates 1), with its largest diagonal entry;
 * null when that is not positive.
 */
function tangentSystem(gb: Float64Array, n: number, pot: LogitPotential, lam: Float64Array, p: number, free: number[]):
  { hm: Float64Array; rhs: Float64Array; maxDiag: number } | null {
  const m = free.length;
  const a = new Float64Array(n);
  for (let i = 0; i < lam.length; i++) {
    if (lam[i] === 0) continue;
    for (let j = 0; j < n; j++) a[j] += lam[i] * gb[i * n + j];
  }
  const w = pot.tangentWeights(a);
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
  return maxDiag > 0 ? { hm, rhs, maxDiag } : null;
}

/** The next continuation stage's objective at x: the stage data scaled by 1/ratio. */
function nextStageValue(gb: Float64Array, hb: Float64Array, k: number, n: number, pot: LogitPotential, x: Float64Array, ratio: number): number {
  let f = pot.nextValue(gb, k, n, x, ratio);
  for (let i = 0; i < k; i++) f -= (hb[i] / ratio) * x[i];
  return f;
}

/** The result at the final λ: the primal point, both bounds, the gap and the residuals. */
function finish(
  prob: CutWeightProblem,
  lam: Float64Array,
  iterations: number,
  gradientSteps: number,
  stages: number,
  tol: number,
): EntropyDualResult {
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
