/**
 * Inference by optimization over the convex input (§3): ŷ(x) = argmin_{y ∈ Y} f(x, y; θ), batched over rows.
 *
 * Methods: 'gd' (projected gradient descent, §3.2), 'bundle' (cutting planes with HiGHS LPs and a certified lower
 * bound, §3.3), 'bundle-entropy' (Algorithm 2 of §3.4: argmin of f − w·H on a box, with the active bundle that
 * argmin differentiation needs), 'lp' (exact for ReLU/leaky-ReLU FICNN and PICNN on a box, §3.1). Every method validates the
 * model/domain combination and refuses what does not apply with a clear error.
 */
import * as tf from '@tensorflow/tfjs';
import type { EnergyModel } from '../models/energyModel.js';
import { makeDomain, type DomainSpec } from './domain.js';
import { EnergyOracle } from './oracle.js';
import { gradientDescent, type GdOptions } from './gd.js';
import { bundleMethod } from './bundle.js';
import { bundleEntropyMethod, type ActiveBundle } from './bundleEntropy.js';
import { solveLp } from './lp.js';
import { fail } from '../util/errors.js';
import { checkOptionKeys, checkPositiveInt } from '../util/options.js';
import { assertFinite, toFlatBatch, type BatchInput } from '../util/tensors.js';

export const ARGMIN_METHODS = ['gd', 'bundle', 'bundle-entropy', 'lp'] as const;
export type ArgminMethod = (typeof ARGMIN_METHODS)[number];

export interface ArgminOptions extends GdOptions {
  method?: ArgminMethod;
  domain?: DomainSpec;
  /** Iteration budget per row (default 100 for gd and bundle, 30 for bundle-entropy). */
  iterations?: number;
  /** Per-row stopping tolerance. gd: step length relative to the domain diameter (default 0: run the budget);
   * bundle and bundle-entropy: gap relative to max(1, |objective|) (default 1e-6). */
  tolerance?: number;
  /** Starting point: a number (every coordinate), one row, or [N, yDim]; default the domain's centre. */
  init?: number | number[] | tf.Tensor;
  /** Batch size when the model takes no x. */
  batch?: number;
}

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
  /** bundle-entropy: f(ŷ) − w·H(ŷ) per row (lowerBound and gap then refer to this objective). */
  objective?: Float64Array;
  /** bundle-entropy: the active cuts, their iterates and λ per row (for argmin differentiation, §4.3). */
  bundles?: ActiveBundle[];
}

const KEYS = ['method', 'domain', 'iterations', 'tolerance', 'init', 'batch', 'optimizer', 'learningRate', 'momentum', 'decay', 'entropyWeight'];

function initialPoint(where: string, init: ArgminOptions['init'], N: number, n: number, center: Float64Array): Float64Array {
  const y = new Float64Array(N * n);
  if (init === undefined) {
    for (let r = 0; r < N; r++) y.set(center, r * n);
  } else if (typeof init === 'number') {
    if (!Number.isFinite(init)) fail(`${where}: init must be finite, got ${init}`);
    y.fill(init);
  } else if (Array.isArray(init)) {
    if (init.length !== n) fail(`${where}: init must have ${n} entries (one row), got ${init.length}`);
    for (let r = 0; r < N; r++) y.set(init, r * n);
  } else if (init instanceof tf.Tensor) {
    const t = toFlatBatch(where, 'init', init, [n]);
    if (t.shape[0] !== N) fail(`${where}: init must have ${N} rows, got ${t.shape[0]}`);
    y.set(t.dataSync());
    if (t !== init) t.dispose();
  } else {
    fail(`${where}: init must be a number, an array or a tensor`);
  }
  return y;
}

export async function argmin(model: EnergyModel, x: BatchInput | null, options: ArgminOptions = {}): Promise<ArgminResult> {
  const where = 'argmin';
  checkOptionKeys(where, options, KEYS);
  const method = options.method ?? 'gd';
  if (!(ARGMIN_METHODS as readonly string[]).includes(method)) {
    fail(`${where}: unknown method ${JSON.stringify(method)} (expected one of: ${ARGMIN_METHODS.join(', ')})`);
  }
  const n = model.yDim;
  const domain = makeDomain(where, options.domain, n);
  const iterations = checkPositiveInt(where, 'iterations', options.iterations ?? (method === 'bundle-entropy' ? 30 : 100));
  const tolerance = options.tolerance ?? 0;
  let xFlat: tf.Tensor2D | null = null;
  let N: number;
  if (model.xDim === 0) {
    if (x !== null && x !== undefined) fail(`${where}: this ${model.kind} takes no x; pass null and options.batch`);
    N = options.batch ?? 1;
  } else {
    if (x === null || x === undefined) fail(`${where}: x is required for this ${model.kind}`);
    xFlat = toFlatBatch(where, 'x', x, model.xShape);
    assertFinite(where, 'x', xFlat);
    N = xFlat.shape[0];
  }
  if (method === 'lp') {
    if (domain.kind !== 'box') fail(`${where}: method 'lp' needs a box domain, got '${domain.label}'`);
    try {
      const r = await solveLp(model, xFlat, { lower: Array.from(domain.lower), upper: Array.from(domain.upper), batch: N });
      return {
        method, y: r.y, energy: r.energy, iterations: new Int32Array(N).fill(1), lowerBound: Float64Array.from(r.energy),
        gap: new Float64Array(N), evaluations: 0,
      };
    } finally {
      if (xFlat !== null && xFlat !== x) xFlat.dispose();
    }
  }
  const y0 = initialPoint(where, options.init, N, n, domain.center());
  const oracle = new EnergyOracle(model, xFlat, N);
  try {
    if (method === 'bundle') {
      const r = await bundleMethod(oracle, domain, y0, iterations, options.tolerance ?? 1e-6);
      return {
        method, y: tf.tensor2d(Float32Array.from(r.y), [N, n]), energy: r.energy, iterations: r.iterations,
        lowerBound: r.lowerBound, gap: r.energy.map((e, i) => e - r.lowerBound[i]), evaluations: oracle.evaluations,
      };
    }
    if (method === 'bundle-entropy') {
      const r = bundleEntropyMethod(oracle, domain, y0, iterations, options.tolerance ?? 1e-6, options.entropyWeight ?? 1);
      return {
        method, y: tf.tensor2d(Float32Array.from(r.y), [N, n]), energy: r.energy, objective: r.objective,
        iterations: r.iterations, lowerBound: r.lowerBound, gap: r.objective.map((o, i) => o - r.lowerBound[i]),
        evaluations: oracle.evaluations, bundles: r.bundles,
      };
    }
    const r = gradientDescent(oracle, domain, y0, iterations, tolerance, options);
    return {
      method,
      y: tf.tensor2d(Float32Array.from(r.y), [N, n]),
      energy: r.energy,
      iterations: r.iterations,
      evaluations: oracle.evaluations,
    };
  } finally {
    oracle.dispose();
    if (xFlat !== null && xFlat !== x) xFlat.dispose();
  }
}
