/** Options shared by the input-convex models, their defaults and their validation. */
import { checkConvexActivation, type ConvexActivation } from './activations.js';
import { INIT_SCHEMES, type InitScheme } from './init.js';
import { POSITIVITY_MODES, type Positivity } from './parameters.js';
import { checkNumberInRange, checkOneOf } from '../util/options.js';
import { fail } from '../util/errors.js';

/**
 * Options shared by the convex models (FICNN, PICNN, ConvPICNN): activation, positivity of W^(z), initialization, seed.
 */
export interface ConvexOptions {
  /** Convex-path activation (Prop. 1): 'relu' (default), 'leaky-relu' or 'softplus'. */
  activation?: ConvexActivation;
  /** Slope of 'leaky-relu' for negative inputs, in [0, 1] (default 0.01, as the authors' RL code). */
  leakySlope?: number;
  /** How W^(z) ≥ 0 is kept: 'clip' (paper, default), 'softplus' (reparametrized) or 'none' (nonconvex ablation). */
  positivity?: Positivity;
  /** Initialization of W^(z): 'abs' (paper, default) or 'principled' (Hoedt & Klambauer 2023). */
  init?: InitScheme;
  /** Scale of the paper's |W| initialization (1 multi-label/RL, 0.5 Olivetti, 0.1 synthetic). Default 1. */
  absScale?: number;
  /**
   * Every weight matrix from N(0, weightStd²) truncated at ±2 std (then |·|·absScale for W^(z)), as tflearn's
   * 'truncated_normal' in the authors' code (0.02); default null: LeCun normal N(0, 1/fan_in).
   */
  weightStd?: number | null;
  /** Strongly convex term (α/2)·||y||² added to the energy; default 0. */
  strongConvexity?: number;
  /** Seed of the weight initialization (default 0). */
  seed?: number;
}

export type ResolvedConvexOptions = Required<ConvexOptions>;

export const CONVEX_OPTION_KEYS = ['activation', 'leakySlope', 'positivity', 'init', 'absScale', 'weightStd', 'strongConvexity', 'seed'] as const;

export function resolveConvexOptions(where: string, o: ConvexOptions): ResolvedConvexOptions {
  const leakySlope = o.leakySlope === undefined ? 0.01 : checkNumberInRange(where, 'leakySlope', o.leakySlope, 0, 1);
  const activation = checkConvexActivation(where, o.activation ?? 'relu', leakySlope);
  const positivity = checkOneOf(where, 'positivity', o.positivity ?? 'clip', POSITIVITY_MODES);
  const init = checkOneOf(where, 'init', o.init ?? 'abs', INIT_SCHEMES);
  const absScale = o.absScale === undefined ? 1 : checkNumberInRange(where, 'absScale', o.absScale, 0, 1e6);
  const strongConvexity = o.strongConvexity === undefined ? 0 : checkNumberInRange(where, 'strongConvexity', o.strongConvexity, 0, 1e12);
  const weightStd = o.weightStd === undefined || o.weightStd === null ? null : checkNumberInRange(where, 'weightStd', o.weightStd, 1e-12, 1e3);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) fail(`${where}: seed must be an integer, got ${JSON.stringify(seed)}`);
  return { activation, leakySlope, positivity, init, absScale, weightStd, strongConvexity, seed };
}
