/**
 * Inference by optimization over the convex input (§3): ŷ(x) = argmin_{y ∈ Y} f(x, y; θ), batched over rows.
 *
 * Methods: 'gd' (projected gradient descent, §3.2), 'bundle' (cutting planes with HiGHS LPs and a certified lower
 * bound, §3.3), 'bundle-entropy' (Algorithm 2 of §3.4: argmin of f − w·H on a box or the simplex, with the active
 * bundle that argmin differentiation needs), 'lp' (exact for ReLU/leaky-ReLU FICNN and PICNN on a box, §3.1). Every
 * method validates the model/domain combination and its options before any work, and refuses what does not apply
 * (or would be silently ignored, or would certify a wrong bound on a nonconvex model) with a clear IcnnError.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureInit } from '../backend/backend.js';
import * as v from 'valibot';
import { EnergyModel } from '../models/energyModel.js';
import { makeDomain, type Domain, type DomainSpec } from './domain.js';
import { EnergyOracle } from './oracle.js';
import { gradientDescent, GD_OPTION_ENTRIES } from './gd.js';
import { bundleMethod } from './bundle.js';
import { bundleEntropyMethod, type ActiveBundle } from './bundleEntropy.js';
import { solveLp } from './lp.js';
import { fail } from '../util/errors.js';
import { NON_NEGATIVE, POSITIVE, POSITIVE_INT } from '../util/numbers.js';
import { bool, instance, num, optionsSchema, parseOptions, pickEntries } from '../util/schema.js';
import { assertFinite, isTensor, toFlatBatch, type BatchInput } from '../util/tensors.js';

/** Options every method reads. */
const COMMON_ENTRIES = {
  domain: v.optional(v.custom<DomainSpec>(() => true)), // checked against the model's yDim by makeDomain
  /** Iteration budget per row (default 100 for gd and bundle, 30 for bundle-entropy). */
  iterations: v.optional(num(POSITIVE_INT)),
  /** Per-row stopping tolerance, finite and ≥ 0. gd: step length relative to the domain diameter (default 0: run
   * the budget); bundle and bundle-entropy: gap relative to max(1, |objective|) (default 1e-6). */
  tolerance: v.optional(num(NON_NEGATIVE)),
  /** Starting point: a number (every coordinate), one row, or [N, yDim] (tensor or nested array); default the
   * domain's centre. Must be finite. */
  init: v.optional(instance<number | number[] | number[][] | tf.Tensor>(
    (x) => typeof x === 'number' || Array.isArray(x) || x instanceof tf.Tensor, 'a number, an array or a tensor')),
  /** Batch size when the model takes no x (default 1); when x is given it may be left out or must match its rows. */
  batch: v.optional(num(POSITIVE_INT)),
  /**
   * Evaluate the x-path in training mode: batch norm on this batch's statistics (and its moving averages updated
   * once), as the authors' bundle-entropy training under tflearn.is_training(True). Default false (moving averages).
   */
  training: v.optional(bool),
};

/** Each method's options (§3.1–3.4): a key of another method is a compile error for TypeScript callers and a
 * run-time error naming the methods it belongs to for JavaScript callers. */
const METHOD_SCHEMAS = {
  gd: optionsSchema({ method: v.optional(v.literal('gd')), ...COMMON_ENTRIES, ...GD_OPTION_ENTRIES }),
  bundle: optionsSchema({ method: v.literal('bundle'), ...COMMON_ENTRIES }),
  'bundle-entropy': optionsSchema({
    method: v.literal('bundle-entropy'), ...COMMON_ENTRIES,
    /** Weight w of the entropy term of Algorithm 2 (default 1). */
    entropyWeight: v.optional(num(POSITIVE, "for 'bundle-entropy'")),
  }),
  lp: optionsSchema({ method: v.literal('lp'), ...COMMON_ENTRIES }),
};

/**
 * The inference methods `argmin` accepts (§3): 'gd' (§3.2), 'bundle' (§3.3), 'bundle-entropy' (§3.4) and 'lp'
 * (exact, §3.1). 'gd' is the default when `method` is left out.
 */
export const ARGMIN_METHODS = ['gd', 'bundle', 'bundle-entropy', 'lp'] as const satisfies readonly (keyof typeof METHOD_SCHEMAS)[];
/** One of `ARGMIN_METHODS`: the `method` option of `argmin`. */
export type ArgminMethod = (typeof ARGMIN_METHODS)[number];

export type GdArgminOptions = v.InferOutput<typeof METHOD_SCHEMAS.gd>;
export type BundleArgminOptions = v.InferOutput<typeof METHOD_SCHEMAS.bundle>;
export type BundleEntropyArgminOptions = v.InferOutput<(typeof METHOD_SCHEMAS)['bundle-entropy']>;
export type LpArgminOptions = v.InferOutput<typeof METHOD_SCHEMAS.lp>;
/** argmin's options, discriminated by `method` (default 'gd'). */
export type ArgminOptions = GdArgminOptions | BundleArgminOptions | BundleEntropyArgminOptions | LpArgminOptions;

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

/** A value as a message shows it (NaN and ±Infinity by name, which JSON.stringify would turn into null). */
function show(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
}

/** The method's options, parsed; a key that belongs to other methods is named as such (JavaScript callers). */
function parseMethodOptions(where: string, o: object): { method: ArgminMethod; options: ArgminOptions } {
  const method: unknown = (o as { method?: unknown }).method ?? 'gd';
  if (!(ARGMIN_METHODS as readonly unknown[]).includes(method)) {
    fail(`${where}: unknown method ${show(method)} (expected one of: ${ARGMIN_METHODS.join(', ')})`);
  }
  const m = method as ArgminMethod;
  for (const key of Object.keys(o)) {
    if (key in METHOD_SCHEMAS[m].entries) continue;
    const owners = ARGMIN_METHODS.filter((other) => key in METHOD_SCHEMAS[other].entries);
    if (owners.length > 0) {
      fail(`${where}: option '${key}' applies to method${owners.length > 1 ? 's' : ''} ${owners.map((w) => `'${w}'`).join(' and ')}` +
        `${owners.length > 1 ? '' : ' only'}, not '${m}'`);
    }
  }
  return { method: m, options: parseOptions(where, METHOD_SCHEMAS[m], o) };
}

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
  } else if (Array.isArray(init) || isTensor(init)) {
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
function checkMethod(where: string, method: ArgminMethod, model: EnergyModel, domain: Domain): void {
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
  await ensureInit();
  const where = 'argmin';
  if (!(model instanceof EnergyModel)) fail(`${where}: model must be an EnergyModel (FICNN, PICNN, ConvPICNN or FeedForward)`);
  if (model.isDisposed) fail(`${where}: the ${model.kind} has been disposed`);
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    fail(`${where}: options must be an object, got ${Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const { method, options: o } = parseMethodOptions(where, options ?? {});
  const n = model.yDim;
  const domain = makeDomain(where, o.domain, n);
  checkMethod(where, method, model, domain);
  const iterations = o.iterations ?? (method === 'bundle-entropy' ? 30 : 100);
  const batch = o.batch;
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
    if (o.method === 'bundle-entropy') {
      const r = bundleEntropyMethod(oracle, domain, y0, iterations, o.tolerance ?? 1e-6, o.entropyWeight ?? 1);
      return {
        method, y: tf.tensor2d(Float32Array.from(r.y), [N, n]), energy: r.energy, objective: r.objective,
        iterations: r.iterations, lowerBound: r.lowerBound, gap: r.objective.map((v, i) => v - r.lowerBound[i]),
        evaluations: oracle.evaluations, bundles: r.bundles,
      };
    }
    const r = gradientDescent(oracle, domain, y0, iterations, o.tolerance ?? 0, pickEntries(o, GD_OPTION_ENTRIES));
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
