/**
 * The dual problem shared by the entropy duals of the bundle entropy method (`../shared/icnn-paper.md` §3.4): for k
 * cuts (rows g_i of the k×n matrix G) and offsets hs ≤ 0, minimize over the cut weights λ ∈ Δ_k = {λ ≥ 0, 1ᵀλ = 1}
 *     F(λ) = −hsᵀλ + φ(a),   a = Gᵀλ,     ∇F(λ) = −(G y + hs),   ∇²F(λ) = G W Gᵀ,
 * where y = y(a) is the recovered primal point and W the Hessian of φ. Only φ differs between the binary dual
 * (./binaryDual.ts, box outputs) and the categorical dual (./categoricalDual.ts, outputs on the probability simplex
 * Δ_n) and is given as a `LogitPotential`. −∇F_i is the value of cut i at y, and the duality gap is Σ_i λ_i (max c − c_i).
 * This file holds the problem's types, its input checks and the evaluation of F, ∇F and the KKT residual.
 */
import { projectOntoSimplex } from '../../linalg/simplexProjection.js';
import { fail } from '../../util/errors.js';

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
export interface CutWeightProblem {
  G: ArrayLike<number>;
  hs: Float64Array;
  hmax: number;
  k: number;
  n: number;
  s: number;
  pot: LogitPotential;
}

export interface EntropyDualOptions {
  /** KKT tolerance on r(λ) with s = kktScale (relative; default 1e-10). */
  tol?: number;
  /** Maximum number of steps (default 100). */
  maxIter?: number;
  /** Warm start; projected onto Δ_k (default: uniform 1/k). */
  lambda0?: ArrayLike<number>;
}

/** The common result of the entropy dual solvers (see their result types for the per-solver meaning). */
export interface EntropyDualResult {
  /** Dual solution: the cut weights λ ∈ Δ_k (length k). */
  lambda: Float64Array;
  /** Recovered primal point y(Gᵀλ) (length n). */
  y: Float64Array;
  /** t = max_i (G y + h)_i. */
  t: number;
  /** −F(λ): a lower bound on min_y max_i (g_iᵀy + h_i) − H(y) for any λ ∈ Δ_k. */
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

/** Best-iterate tracking and stall stop of the local phase (see ./categoricalDual.ts). */
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
    fail(nMin === 0 ? `${who}: n must be a non-negative integer, got ${n}` : `${who}: n must be a positive integer (the output simplex Δ_n), got ${n}`);
  }
  if (G.length !== k * n) fail(`${who}: G has ${G.length} entries, expected k·n = ${k * n}`);
  if (h.length !== k) fail(`${who}: h has ${h.length} entries, expected k = ${k}`);
  for (let i = 0; i < k * n; i++) if (!Number.isFinite(G[i])) fail(`${who}: G[${i}] is ${G[i]}`);
  for (let i = 0; i < k; i++) if (!Number.isFinite(h[i])) fail(`${who}: h[${i}] is ${h[i]}`);
}

/** The state of F at one λ: a = Gᵀλ, y, aux (the potential's) and grad = ∇F(λ). */
export interface DualState {
  a: Float64Array;
  y: Float64Array;
  aux: Float64Array;
  grad: Float64Array;
}

export function newState(k: number, n: number): DualState {
  return { a: new Float64Array(n), y: new Float64Array(n), aux: new Float64Array(n), grad: new Float64Array(k) };
}

/** Fills the state at λ; returns the shifted value −hsᵀλ + φ(Gᵀλ). */
export function evaluate(
  G: ArrayLike<number>,
  hs: Float64Array,
  k: number,
  n: number,
  pot: LogitPotential,
  lam: Float64Array,
  st: DualState,
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
export function residualFromGrad(lam: Float64Array, grad: Float64Array, s: number, work: Float64Array): number {
  const k = lam.length;
  let gmin = Infinity;
  for (let i = 0; i < k; i++) gmin = Math.min(gmin, grad[i]);
  for (let i = 0; i < k; i++) work[i] = lam[i] - (grad[i] - gmin) / s;
  projectOntoSimplex(work, work);
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

/** max h, and h shifted by it (every entry ≤ 0, the largest exactly 0; F changes by a constant on Δ_k). */
export function shiftOffsets(h: ArrayLike<number>, k: number): { hmax: number; hs: Float64Array } {
  let hmax = -Infinity;
  for (let i = 0; i < k; i++) hmax = Math.max(hmax, h[i]);
  const hs = new Float64Array(k);
  for (let i = 0; i < k; i++) hs[i] = h[i] - hmax;
  return { hmax, hs };
}

/** t = max_i (g_iᵀy + h_i): the largest cut value at y, the max-part of the primal objective. */
export function maxCutValue(G: ArrayLike<number>, h: ArrayLike<number>, k: number, n: number, y: ArrayLike<number>): number {
  let t = -Infinity;
  for (let i = 0; i < k; i++) {
    let c = h[i];
    for (let j = 0; j < n; j++) c += G[i * n + j] * y[j];
    t = Math.max(t, c);
  }
  return t;
}
