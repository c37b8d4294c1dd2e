/**
 * Inference by optimization over the convex input (§3): ŷ(x) = argmin_{y ∈ Y} f(x, y; θ), batched over rows.
 *
 * Methods: 'gd' (projected gradient descent, §3.2), 'bundle' (cutting planes with HiGHS LPs and a certified lower
 * bound, §3.3), 'bundle-entropy' (Algorithm 2 of §3.4: argmin of f − w·H on a box or the simplex, with the active
 * bundle that argmin differentiation needs), 'lp' (exact for ReLU/leaky-ReLU FICNN and PICNN on a box, §3.1). Every
 * method validates the model/domain combination and its options before any work, and refuses what does not apply
 * (or would be silently ignored, or would certify a wrong bound on a nonconvex model) with a clear IcnnError.
 */
import * as tf from '@tensorflow/tfjs';
import { EnergyModel } from '../models/energyModel.js';
import { makeDomain, type Domain, type DomainSpec } from './domain.js';
import { EnergyOracle } from './oracle.js';
import { gradientDescent, type GdOptions } from './gd.js';
import { bundleMethod } from './bundle.js';
import { bundleEntropyMethod, type ActiveBundle } from './bundleEntropy.js';
import { solveLp } from './lp.js';
import { fail } from '../util/errors.js';
import { checkOptionKeys, checkPositiveInt } from '../util/options.js';
import { assertFinite, toFlatBatch, type BatchInput } from '../util/tensors.js';

/** The inference methods of §3 that `argmin` offers. */
export const ARGMIN_METHODS = ['gd', 'bundle', 'bundle-entropy', 'lp'] as const;
/** One of `ARGMIN_METHODS`: 'gd' (§3.2), 'bundle' (§3.3), 'bundle-entropy' (§3.4) or 'lp' (§3.1). */
export type ArgminMethod = (typeof ARGMIN_METHODS)[number];

/** Options of `argmin`: the method, the domain of y, the iteration budget and tolerance, the start point. */
export interface ArgminOptions extends GdOptions {
  method?: ArgminMethod;
  domain?: DomainSpec;
  /** Iteration budget per row (default 100 for gd and bundle, 30 for bundle-entropy). */
  iterations?: number;
  /** Per-row stopping tolerance, finite and ≥ 0. gd: step length relative to the domain diameter (default 0: run
   * the budget); bundle and bundle-entropy: gap relative to max(1, |objective|) (default 1e-6). */
  tolerance?: number;
  /** Starting point: a number (every coordinate), one row, or [N, yDim] (tensor or nested array); default the
   * domain's centre. Must be finite. */
  init?: number | number[] | number[][] | tf.Tensor;
  /** Batch size when the model takes no x (default 1); when x is given it may be left out or must match its rows. */
  batch?: number;
  /**
   * Evaluate the x-path in training mode: batch norm on this batch's statistics (and its moving averages updated
   * once), as the authors' bundle-entropy training under tflearn.is_training(True). Default false (moving averages).
   */
  training?: boolean;
}

/**
 * What `argmin` returns: the minimizers ŷ, their energies and, for the bundle methods and LP, a certified lower bound.
 */
export interface ArgminResult {
  method: ArgminMethod;
  /** The minimizers, one row per row of x. */
  y: tf.Tensor2D;
  /** f(x, ŷ) per row. */
  energy: Float64Array;
  /** Iterations used per row. */
  iterations: Int32Array;
  /** Certified lower bound on min_y f per row, where the method provides one. */
  lowerBound?: Float64Array;
  /** energy − lowerBound. */
  gap?: Float64Array;
  /** Batched oracle calls (f and ∇_y f for every row). */
  evaluations: number;
  /** bundle-entropy, and gd with entropyWeight > 0: f(ŷ) − w·H(ŷ) per row (for bundle-entropy lowerBound and
   * gap then refer to this objective). */
  objective?: Float64Array;
  /** bundle-entropy: the active cuts, their iterates and λ per row (for argmin differentiation, §4.3). */
  bundles?: ActiveBundle[];
}

const KEYS = ['method', 'domain', 'iterations', 'tolerance', 'init', 'batch', 'training', 'optimizer', 'learningRate', 'momentum', 'decay',
  'entropyWeight'];
/** A value as a message shows it (NaN and ±Infinity by name, which JSON.stringify would turn into null). */
function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
}

/** Options that only gradient descent reads. */
const GD_KEYS = ['optimizer', 'learningRate', 'momentum', 'decay'] as const;

function initialPoint(where: string, init: ArgminOptions['init'], N: number, n: number, center: Float64Array): Float64Array {
  const y = new Float64Array(N * n);
  if (init === undefined) {
    for (let r = 0; r < N; r++) y.set(center, r * n);
  } else if (typeof init === 'number') {
    if (!Number.isFinite(init)) fail(`${where}: init must be finite, got ${init}`);
    y.fill(init);
  } else if (Array.isArray(init) && !init.some((e) => Array.isArray(e))) {
    // One row, used for every row of the batch.
    if (init.length !== n) fail(`${where}: init must have ${n} entries (one row), got ${init.length}`);
    init.forEach((e, i) => {
      if (typeof e !== 'number' || !Number.isFinite(e)) fail(`${where}: init[${i}] must be a finite number, got ${show(e)}`);
    });
    for (let r = 0; r < N; r++) y.set(init as number[], r * n);
  } else if (Array.isArray(init) || init instanceof tf.Tensor) {
    // One row per batch row: [N, n] as a tensor or nested arrays.
    const t = toFlatBatch(where, 'init', init as tf.Tensor | number[][], [n]);
    try {
      if (t.shape[0] !== N) fail(`${where}: init must have ${N} rows (one per row of the batch), got ${t.shape[0]}`);
      assertFinite(where, 'init', t);
      y.set(t.dataSync());
    } finally {
      if (t !== init) t.dispose();
    }
  } else {
    fail(`${where}: init must be a number, an array or a tensor, got ${init === null ? 'null' : typeof init}`);
  }
  return y;
}

/** Refuse what a method cannot do before any work: domains it does not handle, nonconvex models where it would
 * certify a wrong bound, and options it would silently ignore. */
function checkMethod(where: string, method: ArgminMethod, model: EnergyModel, domain: Domain, options: ArgminOptions): void {
  if (method !== 'gd') {
    for (const key of GD_KEYS) {
      if (options[key] !== undefined) fail(`${where}: option '${key}' applies to method 'gd' only, not '${method}'`);
    }
  }
  if ((method === 'bundle' || method === 'lp') && options.entropyWeight !== undefined) {
    fail(`${where}: option 'entropyWeight' applies to methods 'bundle-entropy' and 'gd' (optimizer 'adam'), not '${method}'`);
  }
  const w = options.entropyWeight;
  if (method === 'bundle-entropy' && w !== undefined && (typeof w !== 'number' || !Number.isFinite(w) || w <= 0)) {
    fail(`${where}: entropyWeight must be a finite number > 0 for 'bundle-entropy', got ${show(w)}`);
  }
  if (method === 'lp' && domain.kind !== 'box') fail(`${where}: method 'lp' needs a box domain, got '${domain.label}'`);
  if (method === 'bundle' && domain.kind === 'unbounded') {
    fail(`${where}: method 'bundle' needs a bounded domain (a box or the simplex), got 'unbounded'`);
  }
  if (method === 'bundle-entropy' && domain.kind === 'unbounded') {
    fail(`${where}: method 'bundle-entropy' needs a box domain or the simplex (got '${domain.label}')`);
  }
  if ((method === 'bundle' || method === 'bundle-entropy') && !model.isConvex) {
    fail(`${where}: method '${method}' needs an energy convex in y (its cuts would not be lower bounds); this ${model.kind} ` +
      `is not convex (positivity '${model.positivity}'${model.kind === 'FeedForward' ? ", or energy 'joint'" : ''}); use method 'gd'`);
  }
}

/**
 * Inference by optimization over y (§3): ŷ = argmin_{y ∈ Y} f(x, y) for every row of x.
 *
 * @param model - the energy model (convex in y for every method but 'gd')
 * @param x - inputs [N, xDim] (tensor or nested array), or null for a model without x (then `options.batch` rows)
 * @param options - method, domain, iterations, tolerance, start point; see `ArgminOptions`
 * @returns the minimizers, their energies, iterations and, where the method certifies one, the lower bound
 */
export async function argmin(model: EnergyModel, x: BatchInput | null, options: ArgminOptions = {}): Promise<ArgminResult> {
  const where = 'argmin';
  if (!(model instanceof EnergyModel)) fail(`${where}: model must be an EnergyModel (FICNN, PICNN, ConvPICNN or FeedForward)`);
  if (model.isDisposed) fail(`${where}: the ${model.kind} has been disposed`);
  const o = options ?? {};
  checkOptionKeys(where, o, KEYS);
  const method = o.method ?? 'gd';
  if (!(ARGMIN_METHODS as readonly string[]).includes(method)) {
    fail(`${where}: unknown method ${JSON.stringify(method)} (expected one of: ${ARGMIN_METHODS.join(', ')})`);
  }
  const n = model.yDim;
  const domain = makeDomain(where, o.domain, n);
  checkMethod(where, method, model, domain, o);
  const iterations = checkPositiveInt(where, 'iterations', o.iterations ?? (method === 'bundle-entropy' ? 30 : 100));
  if (o.tolerance !== undefined && (typeof o.tolerance !== 'number' || !Number.isFinite(o.tolerance) || o.tolerance < 0)) {
    fail(`${where}: tolerance must be a finite number ≥ 0, got ${show(o.tolerance)}`);
  }
  const batch = o.batch === undefined ? undefined : checkPositiveInt(where, 'batch', o.batch);
  if (o.training !== undefined && typeof o.training !== 'boolean') fail(`${where}: training must be a boolean, got ${show(o.training)}`);
  let xFlat: tf.Tensor2D | null = null;
  let N: number;
  if (model.xDim === 0) {
    if (x !== null && x !== undefined) fail(`${where}: this ${model.kind} takes no x; pass null and options.batch`);
    N = batch ?? 1;
  } else {
    if (x === null || x === undefined) fail(`${where}: x is required for this ${model.kind}`);
    xFlat = toFlatBatch(where, 'x', x, model.xShape);
    N = xFlat.shape[0];
  }
  let oracle: EnergyOracle | null = null;
  try {
    if (xFlat !== null) {
      assertFinite(where, 'x', xFlat);
      if (batch !== undefined && batch !== N) {
        fail(`${where}: options.batch (${batch}) disagrees with the ${N} rows of x; leave it out when x is given`);
      }
    }
    if (method === 'lp') {
      const r = await solveLp(model, xFlat, { lower: Array.from(domain.lower), upper: Array.from(domain.upper), batch: N });
      const failed = r.status.findIndex((st) => st !== 'optimal');
      if (failed >= 0) {
        r.y.dispose();
        fail(`${where}: method 'lp': HiGHS ended row ${failed} with status '${r.status[failed]}' (no optimum)`);
      }
      return {
        method, y: r.y, energy: r.energy, iterations: new Int32Array(N).fill(1), lowerBound: Float64Array.from(r.energy),
        gap: new Float64Array(N), evaluations: 0,
      };
    }
    const y0 = initialPoint(where, o.init, N, n, domain.center());
    oracle = new EnergyOracle(model, xFlat, N, o.training === true);
    if (method === 'bundle') {
      const r = await bundleMethod(oracle, domain, y0, iterations, o.tolerance ?? 1e-6);
      return {
        method, y: tf.tensor2d(Float32Array.from(r.y), [N, n]), energy: r.energy, iterations: r.iterations,
        lowerBound: r.lowerBound, gap: r.energy.map((e, i) => e - r.lowerBound[i]), evaluations: oracle.evaluations,
      };
    }
    if (method === 'bundle-entropy') {
      const r = bundleEntropyMethod(oracle, domain, y0, iterations, o.tolerance ?? 1e-6, o.entropyWeight ?? 1);
      return {
        method, y: tf.tensor2d(Float32Array.from(r.y), [N, n]), energy: r.energy, objective: r.objective,
        iterations: r.iterations, lowerBound: r.lowerBound, gap: r.objective.map((v, i) => v - r.lowerBound[i]),
        evaluations: oracle.evaluations, bundles: r.bundles,
      };
    }
    const r = gradientDescent(oracle, domain, y0, iterations, o.tolerance ?? 0, o);
    return {
      method,
      y: tf.tensor2d(Float32Array.from(r.y), [N, n]),
      energy: r.energy,
      iterations: r.iterations,
      evaluations: oracle.evaluations,
      ...(r.objective !== undefined ? { objective: r.objective } : {}),
    };
  } finally {
    oracle?.dispose();
    if (xFlat !== null && xFlat !== x) xFlat.dispose();
  }
}
