/**
 * The inner argmax of ICNN Q-learning as the authors ran it (`RL/src/icnn.py`, `Agent.adam`, commit 4bfde42; §4.5):
 * Adam on a ↦ f(s, a) − w·H((a + 1)/2) over [−1, 1]^d, returning the best iterate seen, with
 *
 * - **no second-moment bias correction**: a ← a − α·m̂/(√v + ε) with m̂ = m/(1 − β1^t) but v itself, so the
 *   effective first step is α/√(1 − β2) ≈ 31.6·α and decays like 1/√t (0.32, 0.22, 0.18, … for α = 0.01);
 *   `correctSecondMoment: true` gives textbook Adam for comparison;
 * - **the adaptive stop**: after each evaluation the best action moves by δ_i; an exponential moving average
 *   (λ = 0.5) of δ below 1e-3 after more than 5 iterations stops the solver. The authors average δ over the whole
 *   minibatch and stop every row at once (`stop: 'batch'`); `stop: 'row'` applies the same rule to each row on its
 *   own and stops evaluating it (rows converge at different speeds; the cost is set by the slowest otherwise);
 * - **TensorFlow's clipped entropy**: H is evaluated at p = clip((a + 1)/2, 1e-4, 0.9999), and `clip_by_value` has
 *   zero gradient outside the interval, so the barrier stops pushing there (`entropyGradientClip: true`); with
 *   false the gradient at the clipped p keeps pushing, as the library's gd does;
 * - iterates clipped to ±(1 − 1e-8) after each step, `cap` iterations at most (the authors: 1000).
 *
 * Warm starts: several candidate starts may be given (e.g. zeros and a cached previous solution); each row starts
 * from the candidate with the lower objective (one extra evaluation per extra candidate).
 */
import { fail } from '../../util/errors.js';

/** f(s_r, a_r) and ∇_a f per row; `active` (optional) marks the rows that need evaluating (others may be skipped). */
export interface RowOracle {
  readonly batch: number;
  readonly n: number;
  /** Energies and action gradients of every row at y (rows × n, row-major); rows not `active` may be skipped. */
  evaluate(y: Float64Array, active?: Uint8Array): { energy: Float64Array; grad: Float64Array };
}

/** When the inner Adam stops: when the whole batch has converged, per row, or never (the full budget). */
export const INNER_STOP_RULES = ['batch', 'row', 'none'] as const;
/** One of `INNER_STOP_RULES`. */
export type InnerStopRule = (typeof INNER_STOP_RULES)[number];

/** Options of the inner Adam over actions (the authors' RL code): budget, step size, entropy weight, stopping. */
export interface InnerAdamOptions {
  /** Step size α (the authors' 0.01). */
  learningRate: number;
  /** Most iterations (evaluations after the first). */
  cap: number;
  /** Weight w of the entropy barrier (0: plain f). */
  entropyWeight: number;
  /** Zero entropy gradient outside [1e-4, 0.9999] (TensorFlow's clip); default true. */
  entropyGradientClip?: boolean;
  /** 'batch' (the authors'), 'row', or 'none' (run the cap). Default 'batch'. */
  stop?: InnerStopRule;
  /** Textbook Adam's v̂ = v/(1 − β2^t) (default false: the authors' update). */
  correctSecondMoment?: boolean;
  /** Threshold of the EMA of the best action's change (default 1e-3). */
  stopTolerance?: number;
}

/** The inner Adam's minimizers, objectives and iteration counts. */
export interface InnerAdamResult {
  /** Best iterate per row [rows × d]. */
  actions: Float64Array;
  /** f − w·H at the best iterate. */
  objective: Float64Array;
  /** Iterations per row (steps taken before it stopped). */
  iterations: Int32Array;
  /** Per row: which start it used (index into `starts`). */
  startIndex: Int32Array;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;
/** The authors' EMA weight λ and minimum iteration count of the stopping rule. */
const LAMBDA = 0.5;
const MIN_ITERATIONS = 5;
const ENTROPY_CLIP = 1e-4;
const EDGE = 1 - 1e-8;

/** −w·H(p) with p = clip((a + 1)/2) and its gradient in a added into `grad` (row of width n at `off`). */
function addEntropy(a: Float64Array, grad: Float64Array, off: number, n: number, w: number, clipGradient: boolean): number {
  let negH = 0;
  for (let j = 0; j < n; j++) {
    const raw = (a[off + j] + 1) / 2;
    const p = Math.min(1 - ENTROPY_CLIP, Math.max(ENTROPY_CLIP, raw));
    // Two logarithms per value, not three: this runs for every row and action at every inner iteration.
    const logP = Math.log(p);
    const logQ = Math.log(1 - p);
    negH += p * logP + (1 - p) * logQ;
    const inside = raw >= ENTROPY_CLIP && raw <= 1 - ENTROPY_CLIP;
    // d/da of w·[p log p + (1 − p) log(1 − p)] = w·log(p/(1 − p))·½.
    if (inside || !clipGradient) grad[off + j] += (w * (logP - logQ)) / 2;
  }
  return w * negH;
}

/** argmin over [−1, 1]^d per row of f − w·H by the authors' inner Adam; see the module comment. */
export function innerAdam(oracle: RowOracle, starts: readonly Float64Array[], o: InnerAdamOptions): InnerAdamResult {
  const { batch: N, n } = oracle;
  if (starts.length === 0 || starts.some((s) => s.length !== N * n)) fail(`innerAdam: every start must hold ${N}×${n} values`);
  const stop = o.stop ?? 'batch';
  const clipGradient = o.entropyGradientClip ?? true;
  const tol = o.stopTolerance ?? 1e-3;
  const w = o.entropyWeight;
  const all = new Uint8Array(N).fill(1);
  const score = (y: Float64Array, active: Uint8Array): { objective: Float64Array; grad: Float64Array } => {
    const { energy, grad } = oracle.evaluate(y, active);
    const objective = Float64Array.from(energy);
    if (w > 0) for (let r = 0; r < N; r++) if (active[r]) objective[r] += addEntropy(y, grad, r * n, n, w, clipGradient);
    return { objective, grad };
  };

  // Start: per row, the candidate with the lower objective.
  const act = Float64Array.from(starts[0]);
  const first = score(act, all);
  const startIndex = new Int32Array(N);
  for (let k = 1; k < starts.length; k++) {
    const cand = Float64Array.from(starts[k]);
    const s = score(cand, all);
    for (let r = 0; r < N; r++) {
      if (s.objective[r] < first.objective[r]) {
        act.set(cand.subarray(r * n, (r + 1) * n), r * n);
        first.objective[r] = s.objective[r];
        first.grad.set(s.grad.subarray(r * n, (r + 1) * n), r * n);
        startIndex[r] = k;
      }
    }
  }
  const best = Float64Array.from(act);
  const bestObjective = Float64Array.from(first.objective);
  const m = new Float64Array(N * n);
  const v = new Float64Array(N * n);
  const ema = new Float64Array(N).fill(NaN);
  let batchEma = NaN;
  const active = new Uint8Array(N).fill(1);
  const iterations = new Int32Array(N);
  let b1t = 1;
  let b2t = 1;
  let current: { objective: Float64Array; grad: Float64Array } = first;
  for (let i = 0; ; i++) {
    if (i > 0) {
      current = score(act, active);
      let sumDiff = 0;
      for (let r = 0; r < N; r++) {
        if (!active[r]) continue;
        let d2 = 0;
        if (current.objective[r] < bestObjective[r]) {
          for (let j = 0; j < n; j++) d2 += (act[r * n + j] - best[r * n + j]) ** 2;
          best.set(act.subarray(r * n, (r + 1) * n), r * n);
          bestObjective[r] = current.objective[r];
        }
        const diff = Math.sqrt(d2);
        sumDiff += diff;
        ema[r] = Number.isNaN(ema[r]) ? diff : LAMBDA * ema[r] + (1 - LAMBDA) * diff;
        if (stop === 'row' && ema[r] < tol && i > MIN_ITERATIONS) active[r] = 0;
      }
      if (stop === 'batch') {
        const mean = sumDiff / N;
        batchEma = Number.isNaN(batchEma) ? mean : LAMBDA * batchEma + (1 - LAMBDA) * mean;
        if (batchEma < tol && i > MIN_ITERATIONS) break;
      }
    }
    if (i >= o.cap || !active.some((x) => x === 1)) break;
    b1t *= BETA1;
    b2t *= BETA2;
    const vScale = o.correctSecondMoment ? 1 / (1 - b2t) : 1;
    for (let r = 0; r < N; r++) {
      if (!active[r]) continue;
      iterations[r] = i + 1;
      for (let j = 0; j < n; j++) {
        const k = r * n + j;
        const g = current.grad[k];
        m[k] = BETA1 * m[k] + (1 - BETA1) * g;
        v[k] = BETA2 * v[k] + (1 - BETA2) * g * g;
        const step = (o.learningRate * (m[k] / (1 - b1t))) / (Math.sqrt(v[k] * vScale) + EPSILON);
        act[k] = Math.min(EDGE, Math.max(-EDGE, act[k] - step));
      }
    }
  }
  return { actions: best, objective: bestObjective, iterations, startIndex };
}

/**
 * A RowOracle that stops paying for converged rows on a batched oracle (tfjs, where every call costs the whole
 * batch): when the active rows fall to half of those the current oracle holds, it replaces that one by an oracle over
 * the active rows only, and maps rows in and out. The new one comes from `narrow(current, positions)` (positions
 * indexing the current one's rows) where that gives one, else from `make(rows)` (rows of the full batch). Inactive
 * rows come back as 0.
 */
export class CompactingOracle<O extends RowOracle & { dispose(): void } = RowOracle & { dispose(): void }> implements RowOracle {
  private rows: Int32Array;
  private inner: O;

  constructor(readonly batch: number, readonly n: number, private readonly make: (rows: Int32Array) => O,
    private readonly narrow?: (current: O, positions: Int32Array) => O | null) {
    this.rows = Int32Array.from({ length: batch }, (_, i) => i);
    this.inner = make(this.rows);
  }

  evaluate(y: Float64Array, active?: Uint8Array): { energy: Float64Array; grad: Float64Array } {
    const n = this.n;
    if (active !== undefined) {
      const positions = Int32Array.from(this.rows.keys()).filter((i) => active[this.rows[i]] === 1);
      if (positions.length > 0 && positions.length <= this.rows.length / 2) {
        const live = positions.map((i) => this.rows[i]);
        const next = this.narrow?.(this.inner, positions) ?? this.make(live);
        this.inner.dispose();
        this.rows = live;
        this.inner = next;
      }
    }
    const sub = new Float64Array(this.rows.length * n);
    this.rows.forEach((r, i) => sub.set(y.subarray(r * n, (r + 1) * n), i * n));
    const out = this.inner.evaluate(sub);
    const energy = new Float64Array(this.batch);
    const grad = new Float64Array(this.batch * n);
    this.rows.forEach((r, i) => {
      energy[r] = out.energy[i];
      grad.set(out.grad.subarray(i * n, (i + 1) * n), r * n);
    });
    return { energy, grad };
  }

  /** Free the wrapped oracle. */
  dispose(): void {
    this.inner.dispose();
  }
}
