/**
 * Projected (sub)gradient descent over y (§3.2), batched over rows, returning the best iterate seen per row.
 *
 * optimizer 'momentum' (the paper's update, as the authors' code):
 *   v ← μ·v − lr_t·∇f;  y ← P_Y(y − μ·v_old + (1+μ)·v),  lr_t = lr / (1 + decay·t)
 * optimizer 'adam' (the inner optimizer of the authors' RL code, §4.5), optionally on f − w·H((y−l)/(u−l)).
 * optimizer 'normalized' (default): y ← P_Y(y − η_t ∇f/‖∇f‖) with η_t = D/(2√(t+1)) (D the domain diameter,
 *   or 1 when unbounded). A ReLU ICNN is piecewise linear with arbitrarily steep pieces; normalized steps with
 *   a diminishing length converge (to the best-iterate optimum) whatever the scale of f, unlike a fixed lr.
 * GD gives no optimality certificate (§3.2): the result has no lower bound.
 */
import type { Domain } from './domain.js';
import type { EnergyOracle } from './oracle.js';
import { binaryEntropy } from './entropyDual/numerics.js';
import * as v from 'valibot';
import { fail } from '../util/errors.js';
import { NON_NEGATIVE, POSITIVE } from '../util/numbers.js';
import { num, oneOf, optionsSchema, parseOptions } from '../util/schema.js';

/** The options of gradient descent, declared once (the type below is inferred from them). */
export const GD_OPTION_ENTRIES = {
  optimizer: v.optional(oneOf(['normalized', 'momentum', 'adam'])),
  learningRate: v.optional(num(POSITIVE)),
  momentum: v.optional(num({ min: 0, max: 1, exclusiveMax: true })),
  decay: v.optional(num(NON_NEGATIVE)),
  /** Weight w of the entropy term −w·H((y−l)/(u−l)) for 'adam' on a box (the RL code's barrier; default 0). */
  entropyWeight: v.optional(num(NON_NEGATIVE)),
};
const GD_OPTIONS = optionsSchema(GD_OPTION_ENTRIES);
export type GdOptions = v.InferOutput<typeof GD_OPTIONS>;

export interface GdResult {
  y: Float64Array;
  energy: Float64Array;
  iterations: Int32Array;
  /** With entropyWeight > 0: f − w·H((y−l)/(u−l)) at the returned y, the objective the iterates were ranked by. */
  objective?: Float64Array;
}

export const GD_OPTIMIZERS = GD_OPTION_ENTRIES.optimizer.wrapped.options;

const ENTROPY_CLIP = 1e-4;

/** Validated options; refuses unknown optimizers and options the chosen optimizer would ignore. */
function resolveOptions(options: GdOptions, domain: Domain) {
  const o = parseOptions('argmin gd', GD_OPTIONS, options);
  const optimizer = o.optimizer ?? (o.learningRate !== undefined ? 'momentum' : 'normalized');
  if (optimizer === 'normalized') {
    for (const key of ['learningRate', 'momentum', 'decay'] as const) {
      if (o[key] !== undefined) fail(`argmin gd: optimizer 'normalized' takes no ${key} (its step is D/(2√(t+1)) along ∇f/‖∇f‖); use optimizer 'momentum' or 'adam'`);
    }
  }
  if (optimizer === 'adam' && o.momentum !== undefined) fail("argmin gd: optimizer 'adam' takes no momentum (β₁ = 0.9, β₂ = 0.999)");
  const lr = o.learningRate ?? 0.01;
  const mu = o.momentum ?? (optimizer === 'momentum' ? 0.9 : 0);
  const decay = o.decay ?? 0;
  const entropyWeight = o.entropyWeight ?? 0;
  if (entropyWeight > 0 && (optimizer !== 'adam' || domain.kind !== 'box')) fail("argmin gd: entropyWeight needs optimizer 'adam' on a box domain");
  return { optimizer, lr, mu, decay, entropyWeight };
}

export function gradientDescent(oracle: EnergyOracle, domain: Domain, y0: Float64Array, iterations: number,
  tolerance: number, o: GdOptions): GdResult {
  const { batch: N, n } = oracle;
  const rule = resolveOptions(o, domain);
  const { entropyWeight } = rule;
  const scale = Number.isFinite(domain.diameter) ? domain.diameter : 1;
  /** f − w·H of one row (the ranking objective; f itself when w = 0). */
  const objectiveOf = (f: number, row: Float64Array): number => {
    if (entropyWeight === 0) return f;
    let h = 0;
    for (let i = 0; i < n; i++) h += binaryEntropy((row[i] - domain.lower[i]) / (domain.upper[i] - domain.lower[i]));
    return f - entropyWeight * h;
  };

  const y = Float64Array.from(y0);
  for (let r = 0; r < N; r++) domain.project(y.subarray(r * n, (r + 1) * n));
  const moments: Moments = { v: new Float64Array(N * n), m2: new Float64Array(N * n) };
  const best = Float64Array.from(y);
  const bestEnergy = new Float64Array(N).fill(Infinity);
  const bestObjective = new Float64Array(N).fill(Infinity);
  const iters = new Int32Array(N);
  const active = new Uint8Array(N).fill(1);
  let remaining = N;

  for (let t = 0; t <= iterations && remaining > 0; t++) {
    const { energy, grad } = oracle.evaluate(y);
    for (let r = 0; r < N; r++) {
      if (!active[r]) continue;
      const row = y.subarray(r * n, (r + 1) * n);
      const objective = objectiveOf(energy[r], row);
      if (objective < bestObjective[r]) {
        bestObjective[r] = objective;
        bestEnergy[r] = energy[r];
        best.set(row, r * n);
      }
      if (t === iterations) continue; // last evaluation only scores the final iterate
      iters[r] = t + 1;
      const g = grad.subarray(r * n, (r + 1) * n);
      if (entropyWeight > 0) addEntropyGradient(g, row, domain, entropyWeight);
      const previous = Float64Array.from(row);
      if (!updateRow(rule, moments, r * n, row, g, t, scale)) {
        active[r] = 0;
        remaining--;
        continue;
      }
      domain.project(row);
      if (tolerance > 0 && maxMove(row, previous) < tolerance * scale) {
        active[r] = 0;
        remaining--;
      }
    }
  }
  return { y: best, energy: bestEnergy, iterations: iters, ...(entropyWeight > 0 ? { objective: bestObjective } : {}) };
}

/** The optimizers' state, per batch entry: velocity / first moment v, second moment m2 (Adam). */
interface Moments {
  v: Float64Array;
  m2: Float64Array;
}

/** Adds ∇ of −w·H(s), s = (y−l)/(u−l), to g: w·log(s/(1−s))/(u−l), with s clipped away from 0 and 1. */
function addEntropyGradient(g: Float64Array, row: Float64Array, domain: Domain, w: number): void {
  for (let i = 0; i < g.length; i++) {
    const width = domain.upper[i] - domain.lower[i];
    const s = Math.min(Math.max((row[i] - domain.lower[i]) / width, ENTROPY_CLIP), 1 - ENTROPY_CLIP);
    g[i] += (w * Math.log(s / (1 - s))) / width;
  }
}

/**
 * One step of the rule on `row` (its state at `off` in `moments`) from the gradient g at step t. Returns false, leaving
 * the row, when the normalized rule meets a zero gradient (the row is stationary).
 */
function updateRow(rule: ReturnType<typeof resolveOptions>, moments: Moments, off: number, row: Float64Array, g: Float64Array,
  t: number, scale: number): boolean {
  const n = row.length;
  const { v, m2 } = moments;
  if (rule.optimizer === 'normalized') {
    let norm = 0;
    for (let i = 0; i < n; i++) norm += g[i] * g[i];
    norm = Math.sqrt(norm);
    if (norm === 0) return false;
    const step = scale / (2 * Math.sqrt(t + 1)) / norm;
    for (let i = 0; i < n; i++) row[i] -= step * g[i];
    return true;
  }
  const lrT = rule.lr / (1 + rule.decay * t);
  if (rule.optimizer === 'momentum') {
    const mu = rule.mu;
    for (let i = 0; i < n; i++) {
      const k = off + i;
      const vOld = v[k];
      v[k] = mu * vOld - lrT * g[i];
      row[i] += -mu * vOld + (1 + mu) * v[k];
    }
    return true;
  }
  const b1 = 0.9;
  const b2 = 0.999;
  for (let i = 0; i < n; i++) {
    const k = off + i;
    v[k] = b1 * v[k] + (1 - b1) * g[i];
    m2[k] = b2 * m2[k] + (1 - b2) * g[i] * g[i];
    const mh = v[k] / (1 - b1 ** (t + 1));
    const vh = m2[k] / (1 - b2 ** (t + 1));
    row[i] -= (lrT * mh) / (Math.sqrt(vh) + 1e-8);
  }
  return true;
}

/** max_i |row_i − previous_i|. */
function maxMove(row: Float64Array, previous: Float64Array): number {
  let moved = 0;
  for (let i = 0; i < row.length; i++) moved = Math.max(moved, Math.abs(row[i] - previous[i]));
  return moved;
}
