/**
 * The stopping rule of a projected Newton run (./projectedNewton.ts; `../shared/icnn-paper.md` §3.4): the KKT test
 * r(λ) ≤ tol, the duality-gap polish on the target problem, and, with a `StallRule`, the local phase's best-iterate
 * tracking and stall stop.
 */
import type { DualState, LogitPotential, StallRule } from './problem.js';

const POLISH_STEPS = 3;

/** What the monitor needs of a run. */
export interface MonitoredRun {
  hs: Float64Array;
  k: number;
  n: number;
  pot: LogitPotential;
  tol: number;
  stall: StallRule | undefined;
  hmax?: number;
}

export class ConvergenceMonitor {
  private readonly rowNorm: Float64Array;
  private polish = 0;
  private readonly localR: number;
  private readonly stallSteps: number;
  private readonly bestLam: Float64Array;
  private bestR: number;
  private sinceBest = 0;
  private fMark: number;

  constructor(private readonly run: MonitoredRun, G: ArrayLike<number>, lam: Float64Array, r: number, f: number) {
    const { k, n, pot } = run;
    this.rowNorm = new Float64Array(k);
    for (let i = 0; i < k; i++) this.rowNorm[i] = pot.rowNorm(G, i * n, n);
    // Local phase (with `stall`, r ≤ stall.localR): the iterate with the smallest residual is kept. At the resolution
    // limit of float64 steps that F can no longer rank can make r worse again; the best local iterate is then
    // returned, and the run stops after stall.steps steps with neither a new best nor a significant decrease of F.
    this.localR = run.stall?.localR ?? -Infinity;
    this.stallSteps = run.stall?.steps ?? Infinity;
    this.bestLam = Float64Array.from(lam);
    this.bestR = r <= this.localR ? r : Infinity;
    this.fMark = f;
  }

  /**
   * The stopping test r ≤ tol. On the target problem (hmax given) up to POLISH_STEPS more steps are taken while the
   * duality gap is not small relative to the value: when kktScale is much larger than the value, r ≤ tol alone can
   * leave a gap of order tol·kktScale, and Newton usually removes it in one or two steps.
   */
  done(lam: Float64Array, st: DualState, r: number): boolean {
    const { tol, hmax, pot, hs } = this.run;
    if (r > tol) return false;
    if (hmax === undefined || gapSmall(lam, st.grad, pot.entropy(st.a, st.y, st.aux), hs, this.rowNorm, hmax, tol)) return true;
    return this.polish++ >= POLISH_STEPS;
  }

  /** Whether the local phase has gone stall.steps steps without progress. */
  stalled(): boolean {
    return this.sinceBest >= this.stallSteps;
  }

  /** Records the iterate after a step. */
  record(lam: Float64Array, r: number, f: number): void {
    if (this.run.stall === undefined) return;
    if (r < this.bestR && r <= this.localR) {
      this.bestR = r;
      this.bestLam.set(lam);
      this.sinceBest = 0;
      this.fMark = f;
    } else if (f < this.fMark - 1e-13 * (1 + Math.abs(f))) {
      // Still a significant decrease of F: progress, not a stall.
      this.sinceBest = 0;
      this.fMark = f;
    } else if (this.bestR <= this.localR) {
      this.sinceBest++;
    }
  }

  /**
   * At the end of a run: keeps the last iterate when it passes the test (the gap polish may trade a little r for a
   * smaller gap), else restores the best local iterate into `lam` when it is better. Returns the final residual.
   */
  bestOf(lam: Float64Array, r: number): number {
    if (this.run.stall !== undefined && r > this.run.tol && this.bestR < r) {
      lam.set(this.bestLam);
      return this.bestR;
    }
    return r;
  }
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
