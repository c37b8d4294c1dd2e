/** Options shared by the input-convex models, their defaults and their validation. */
import * as v from 'valibot';
import { convexActivation } from './activations.js';
import { INIT_SCHEMES } from './init.js';
import { POSITIVITY_MODES } from './parameters.js';
import { POSITIVE_INT } from '../util/numbers.js';
import { arrayOf, num, oneOf, type OptionsOf } from '../util/schema.js';

/** Layer widths: an array of positive integers (an item's error names its index, e.g. `hidden[1]`). */
export const layerWidths = arrayOf(num(POSITIVE_INT), 'positive integers');

/** The options of every input-convex model, declared once (spread into each model's schema). */
export const CONVEX_OPTION_ENTRIES = {
  /** Convex-path activation (Prop. 1): 'relu' (default), 'leaky-relu' or 'softplus'. */
  activation: v.optional(convexActivation),
  /** Slope of 'leaky-relu' for negative inputs, in [0, 1] (default 0.01, as the authors' RL code). */
  leakySlope: v.optional(num({ min: 0, max: 1 })),
  /** How W^(z) ≥ 0 is kept: 'clip' (paper, default), 'softplus' (reparametrized) or 'none' (nonconvex ablation). */
  positivity: v.optional(oneOf(POSITIVITY_MODES)),
  /** Initialization of W^(z): 'abs' (paper, default) or 'principled' (Hoedt & Klambauer 2023). */
  init: v.optional(oneOf(INIT_SCHEMES)),
  /** Scale of the paper's |W| initialization (1 multi-label/RL, 0.5 Olivetti, 0.1 synthetic). Default 1. */
  absScale: v.optional(num({ min: 0, max: 1e6 })),
  /**
   * Every weight matrix from N(0, weightStd²) truncated at ±2 std (then |·|·absScale for W^(z)), as tflearn's
   * 'truncated_normal' in the authors' code (0.02); default null: LeCun normal N(0, 1/fan_in).
   */
  weightStd: v.optional(v.nullable(num({ min: 1e-12, max: 1e3 }))),
  /** Strongly convex term (α/2)·||y||² added to the energy; default 0. */
  strongConvexity: v.optional(num({ min: 0, max: 1e12 })),
  /** Seed of the weight initialization (default 0). */
  seed: v.optional(num({ integer: true })),
};

/** The options every input-convex model takes: activation, positivity of W^(z) (§1.4), initialization, strong convexity, seed. */
export type ConvexOptions = OptionsOf<typeof CONVEX_OPTION_ENTRIES>;
export type ResolvedConvexOptions = Required<ConvexOptions>;

/** The convex options (already parsed by the model's schema) with their defaults. */
export function resolveConvexOptions(o: ConvexOptions): ResolvedConvexOptions {
  return {
    activation: o.activation ?? 'relu',
    leakySlope: o.leakySlope ?? 0.01,
    positivity: o.positivity ?? 'clip',
    init: o.init ?? 'abs',
    absScale: o.absScale ?? 1,
    weightStd: o.weightStd ?? null,
    strongConvexity: o.strongConvexity ?? 0,
    seed: o.seed ?? 0,
  };
}
