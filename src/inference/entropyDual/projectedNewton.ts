/**
 * One run of the regularized two-metric projected Newton method (Bertsekas 1982) on min_{λ∈Δ_k} F(λ) of
 * ./problem.ts, in named phases (`../shared/icnn-paper.md` §3.4, "Projected-Newton dual solver as coded"; the method
 * and its differences from the authors' code are described in ./binaryDual.ts and ./categoricalDual.ts). Each step:
 * 1. pivot and reduced gradient: the largest coordinate p is eliminated through λ_p = 1 − Σ_{j≠p} λ_j;
 * 2. a projected-gradient (Cauchy) point λ_C = P_Δ(λ − β∇F) with Armijo backtracking on β;
 * 3. active set: the binding set I = {i ≠ p : ∂_i > 0 and (λ_i ≤ ε or (λ_C)_i = 0)}, moved to zero;
 * 4. reduced Hessian and a regularized Newton direction on the free coordinates;
 * 5. line search: Armijo backtracking on the projection arc;
 * 6. the better of the Newton and Cauchy points (the Cauchy point guarantees the progress of projected gradient, the
 *    Newton point the fast local convergence once the binding set is right);
 * and the convergence test (./convergence.ts) decides when to stop.
 */
import { choleskyRegularized, choleskySolve } from '../../linalg/cholesky.js';
import { projectOntoSimplex } from '../../linalg/simplexProjection.js';
import { ConvergenceMonitor } from './convergence.js';
import {
  evaluate,
  newState,
  residualFromGrad,
  type DualState,
  type LogitPotential,
  type PotentialDifference,
  type StallRule,
} from './problem.js';

const ARMIJO = 1e-4;
const EPS_ACTIVE = 1e-3;
const MAX_HALVINGS = 60;
const MAX_FIX_PASSES = 5;

/** The outcome of one projected Newton run. */
export interface NewtonRun {
  iterations: number;
  gradientSteps: number;
  /** Final relative residual. */
  r: number;
  /** Whether the stopping test passed. */
  done: boolean;
}

/** The data of one run: the (possibly rescaled) problem, the residual scale s and the stopping parameters. */
export interface NewtonRunSpec {
  G: ArrayLike<number>;
  hs: Float64Array;
  k: number;
  n: number;
  pot: LogitPotential;
  s: number;
  tol: number;
  maxSteps: number;
  stall: StallRule | undefined;
  /** Given on the target problem: the duality-gap polish applies (./convergence.ts). */
  hmax?: number;
}

/** A trial point's accepted decrease F(λ') − F(λ) and its rounding bound; `found` false when none was accepted. */
interface Trial {
  found: boolean;
  df: number;
  noise: number;
}

const NO_TRIAL: Trial = { found: false, df: 0, noise: 0 };

/**
 * Runs the method from `lamIn` (overwritten by the result) until r(λ) ≤ tol with scale s, for at most maxSteps
 * steps.
 */
export function projectedNewton(spec: NewtonRunSpec, lamIn: Float64Array): NewtonRun {
  return new ProjectedNewton(spec, lamIn).run(lamIn);
}

class ProjectedNewton {
  private readonly G: ArrayLike<number>;
  private readonly hs: Float64Array;
  private readonly k: number;
  private readonly n: number;
  private readonly pot: LogitPotential;
  private readonly st: DualState;
  private readonly work: Float64Array;
  private lam: Float64Array;
  /** Newton trial / accepted point. */
  private lamN: Float64Array;
  /** Cauchy point. */
  private lamC: Float64Array;
  private readonly dlam: Float64Array;
  private readonly da: Float64Array;
  /** The reduced gradient ∂F/∂λ_i − ∂F/∂λ_p (0 at the pivot). */
  private readonly g0: Float64Array;
  /** The step, on every coordinate but the pivot. */
  private readonly d: Float64Array;
  private readonly freeIdx: Int32Array;
  private readonly bindIdx: Int32Array;
  private nFree = 0;
  private nBind = 0;
  /** Row i: g_i − g_p (centred under the weights y when pot.centred). */
  private readonly rows: Float64Array;
  /** Reduced Hessian, indexed by the original cut indices. */
  private readonly h0: Float64Array;
  private readonly diff: PotentialDifference = { value: 0, mag: 0 };
  /** The rounding bound of the last `decrease()`. */
  private noise = 0;
  private f = 0;
  private r = 0;
  /** Pivot of the current step. */
  private p = 0;
  /** ε of the ε-active set of the current step. */
  private eps = 0;
  private g0Max = 0;

  constructor(private readonly spec: NewtonRunSpec, lamIn: Float64Array) {
    const { k, n } = spec;
    this.G = spec.G;
    this.hs = spec.hs;
    this.k = k;
    this.n = n;
    this.pot = spec.pot;
    this.lam = Float64Array.from(lamIn);
    this.st = newState(k, n);
    this.work = new Float64Array(k);
    this.lamN = new Float64Array(k);
    this.lamC = new Float64Array(k);
    this.dlam = new Float64Array(k);
    this.da = new Float64Array(n);
    this.g0 = new Float64Array(k);
    this.d = new Float64Array(k);
    this.freeIdx = new Int32Array(k);
    this.bindIdx = new Int32Array(k);
    this.rows = new Float64Array(k * n);
    this.h0 = new Float64Array(k * k);
  }

  run(lamIn: Float64Array): NewtonRun {
    const { spec } = this;
    this.evaluateAt();
    const monitor = new ConvergenceMonitor(spec, this.G, this.lam, this.r, this.f);
    let iterations = 0;
    let gradientSteps = 0;
    while (!monitor.done(this.lam, this.st, this.r) && iterations < spec.maxSteps && !monitor.stalled()) {
      const taken = this.step();
      if (taken === 'stationary') break; // stationary to working precision
      if (taken === 'cauchy') gradientSteps++;
      this.evaluateAt();
      iterations++;
      monitor.record(this.lam, this.r, this.f);
    }
    this.r = monitor.bestOf(this.lam, this.r);
    lamIn.set(this.lam);
    return { iterations, gradientSteps, r: this.r, done: this.r <= spec.tol };
  }

  private evaluateAt(): void {
    const { G, hs, k, n, pot, st } = this;
    this.f = evaluate(G, hs, k, n, pot, this.lam, st);
    this.r = residualFromGrad(this.lam, st.grad, this.spec.s, this.work);
  }

  /** One step; says which point was taken, or that neither gave an acceptable decrease. */
  private step(): 'newton' | 'cauchy' | 'stationary' {
    this.pivotAndReducedGradient();
    const cauchy = this.cauchyPoint();
    this.chooseBindingSet(cauchy.found);
    this.reducedHessian();
    this.newtonDirection(cauchy.found);
    const newton = this.projectionArcSearch();
    if (!newton.found && !cauchy.found) return 'stationary';
    const useCauchy = this.cauchyWins(cauchy, newton);
    if (useCauchy) [this.lamN, this.lamC] = [this.lamC, this.lamN];
    [this.lam, this.lamN] = [this.lamN, this.lam];
    return useCauchy ? 'cauchy' : 'newton';
  }

  /**
   * Phase 1. Pivot p = argmax λ; row differences D_i = g_i − g_p (centred under y for the categorical potential) and
   * the reduced gradient g0_i = ∂F/∂λ_i − ∂F/∂λ_p = −(hs_i − hs_p) − D_iᵀ y.
   */
  private pivotAndReducedGradient(): void {
    const { G, hs, k, n, lam, g0, rows } = this;
    const { y } = this.st;
    let p = 0;
    for (let i = 1; i < k; i++) if (lam[i] > lam[p]) p = i;
    this.p = p;
    this.eps = Math.min(EPS_ACTIVE, this.r);
    const rowP = p * n;
    let g0Max = 0;
    for (let i = 0; i < k; i++) {
      if (i === p) {
        g0[i] = 0;
        continue;
      }
      const row = i * n;
      let acc: number;
      if (this.pot.centred) {
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
    this.g0Max = g0Max;
  }

  /**
   * Phase 2. Cauchy point λ_C(β) = P_Δ(λ − β g0) (g0 is ∇F shifted by a constant, which P_Δ ignores), β from
   * 1/max|g0| halved until the Armijo test passes.
   */
  private cauchyPoint(): Trial {
    const { k, lam, lamC, g0, dlam, work } = this;
    let beta = 1 / Math.max(this.g0Max, Number.MIN_VALUE);
    for (let tries = 0; tries < MAX_HALVINGS; tries++, beta *= 0.5) {
      for (let i = 0; i < k; i++) work[i] = lam[i] - beta * g0[i];
      projectOntoSimplex(work, lamC);
      let pred = 0;
      for (let i = 0; i < k; i++) {
        dlam[i] = lamC[i] - lam[i];
        pred -= g0[i] * dlam[i];
      }
      if (!(pred > 0)) break;
      const df = this.decrease();
      if (df <= -ARMIJO * pred) return { found: true, df, noise: this.noise };
    }
    return NO_TRIAL;
  }

  /**
   * Phase 3. Binding set: Bertsekas's ε-active set {i ≠ p : λ_i ≤ ε, ∂_i > 0} plus the coordinates the Cauchy point
   * sends to zero; binding coordinates get the step d_i = −λ_i, the others are free.
   */
  private chooseBindingSet(haveCauchy: boolean): void {
    const { k, lam, lamC, g0, d, eps, p } = this;
    this.nFree = 0;
    this.nBind = 0;
    d.fill(0);
    for (let i = 0; i < k; i++) {
      if (i === p) continue;
      if (g0[i] > 0 && (lam[i] <= eps || (haveCauchy && lamC[i] === 0))) {
        this.bindIdx[this.nBind++] = i;
        d[i] = -lam[i];
      } else this.freeIdx[this.nFree++] = i;
    }
  }

  /** Phase 4a. The reduced Hessian H₀ = Σ_j w_j rows_uj rows_vj over every pair of non-pivot cuts. */
  private reducedHessian(): void {
    const { k, n, rows, h0, p } = this;
    const wts = this.pot.hessianWeights(this.st.y, this.st.aux);
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
  }

  /**
   * Phase 4b. The Newton direction: on the free set, accounting for the move of the binding set; a free coordinate
   * at zero (or with ∂_i > 0 within ε of zero) whose step would cross zero is fixed at zero and the step recomputed,
   * so that the projection does not silently bend the Newton direction. If the coupling made it an ascent direction,
   * the plain two-metric step (binding set to zero, decoupled Newton on the rest), for which g0ᵀd < 0 unless λ is
   * stationary.
   */
  private newtonDirection(haveCauchy: boolean): void {
    const { k, lam, g0, d, eps } = this;
    this.newtonOnFreeSet(true);
    for (let pass = 0; pass < MAX_FIX_PASSES; pass++) {
      let moved = 0;
      let keep = 0;
      for (let u = 0; u < this.nFree; u++) {
        const i = this.freeIdx[u];
        if ((lam[i] === 0 || g0[i] > 0) && lam[i] <= eps && lam[i] + d[i] < 0) {
          this.bindIdx[this.nBind++] = i;
          d[i] = -lam[i];
          moved++;
        } else {
          this.freeIdx[keep++] = i;
        }
      }
      this.nFree = keep;
      if (moved === 0) break;
      this.newtonOnFreeSet(true);
    }
    let dd = 0;
    for (let i = 0; i < k; i++) dd += g0[i] * d[i];
    if (!(dd < 0)) {
      this.chooseBindingSet(haveCauchy);
      this.newtonOnFreeSet(false);
    }
  }

  /**
   * (H₀_FF + M) d_F = −g0_F − H₀_FI d_I (the cross term only `withCross`), with diagonal Levenberg–Marquardt damping
   * M; non-finite entries of the solution become 0.
   */
  private newtonOnFreeSet(withCross: boolean): void {
    const { k, h0, g0, d, freeIdx, bindIdx } = this;
    const m = this.nFree;
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
        for (let b = 0; b < this.nBind; b++) {
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
    // Levenberg–Marquardt damping μ = max(‖rhs‖₂, 1e-13·max diag H).
    dampedSolve(hm, rhs, m, Math.max(Math.sqrt(rn), 1e-13 * maxDiag), rhs);
    for (let u = 0; u < m; u++) d[freeIdx[u]] = Number.isFinite(rhs[u]) ? rhs[u] : 0;
  }

  /**
   * Phase 5. Armijo backtracking along the projection arc z(α) = [z + α d]₊, λ_p(α) = 1 − Σ z(α) ≥ 0, on the decrease
   * predicted to first order by the actual displacement. The accepted point is left in lamN.
   */
  private projectionArcSearch(): Trial {
    const { k, lam, lamN, g0, d, dlam, p } = this;
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
      const df = this.decrease();
      if (df <= -ARMIJO * pred) {
        lamN[p] = lp;
        return { found: true, df, noise: this.noise };
      }
    }
    return NO_TRIAL;
  }

  /**
   * Phase 6. The lower F wins; the Cauchy point only by a decrease distinguishable from rounding, both of the
   * difference (noise) and of F itself (4ε(1 + |F|)): near the solution both decreases are at that level, F no longer
   * ranks the points, and the Newton point is the accurate one.
   */
  private cauchyWins(cauchy: Trial, newton: Trial): boolean {
    if (!newton.found) return true;
    if (!cauchy.found) return false;
    return cauchy.df < newton.df - Math.max(cauchy.noise + newton.noise, 4 * Number.EPSILON * (1 + Math.abs(this.f)));
  }

  /**
   * F(λ + Δλ) − F(λ) for Δλ in `dlam` (Σ Δλ = 0), accurate to rounding of the difference itself; `noise` gets a bound
   * on that rounding (a few ε times the sum of the absolute terms).
   */
  private decrease(): number {
    const { G, hs, k, n, dlam, da, diff } = this;
    const { a, y, aux } = this.st;
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
    this.pot.difference(a, y, aux, da, mag, diff);
    this.noise = 8 * Number.EPSILON * (k + n) * diff.mag;
    return lin + diff.value;
  }
}

/**
 * Solves (H + μI) x = rhs for the PSD matrix `hm` (m×m, overwritten) by Cholesky, with jitter as a last resort; x is
 * written to `out` (which may be `rhs`) and returned.
 */
export function dampedSolve(hm: Float64Array, rhs: Float64Array, m: number, mu: number, out: Float64Array): Float64Array {
  for (let u = 0; u < m; u++) hm[u * m + u] += mu;
  const { l } = choleskyRegularized(hm, m, { jitter0: 1e-14, maxJitter: 1 });
  return choleskySolve(l, m, rhs, out);
}
