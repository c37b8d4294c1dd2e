/**
 * Activations. On the convex path (z-path) Prop. 1 (§1.1) needs g convex and non-decreasing: relu, leaky relu
 * with slope in [0, 1], softplus. The u-path (§1.2) and the feed-forward baseline may use anything.
 *
 * Leaky relu is computed as α·x + (1-α)·relu(x): tfjs's own leakyRelu gradient builds a `greater` mask that has no
 * gradient, which would break second-order derivatives (∇_θ(∇_y f·v), needed by argmin differentiation, §4.3).
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../util/errors.js';

/** Activations allowed on the convex path: convex and non-decreasing (Prop. 1, §1.1). */
export const CONVEX_ACTIVATIONS = ['relu', 'leaky-relu', 'softplus'] as const;
/** One of `CONVEX_ACTIVATIONS`. */
export type ConvexActivation = (typeof CONVEX_ACTIVATIONS)[number];

/** Activations allowed where convexity is not needed: the PICNN's x-path (§1.2) and the feed-forward baseline. */
export const FREE_ACTIVATIONS = ['relu', 'leaky-relu', 'softplus', 'tanh', 'sigmoid', 'linear'] as const;
/** One of `FREE_ACTIVATIONS`. */
export type FreeActivation = (typeof FREE_ACTIVATIONS)[number];

const WHY_NOT_CONVEX: Record<string, string> = {
  tanh: 'tanh is concave for positive inputs',
  sigmoid: 'sigmoid is concave for positive inputs',
  linear: 'a linear z-path is allowed only on the output layer (use relu, leaky-relu or softplus)',
  elu: 'use softplus for a smooth convex activation',
  gelu: 'gelu is not monotone',
  swish: 'swish is not monotone',
  silu: 'silu is not monotone',
};

/** Validate an activation for the convex path of an ICNN. */
export function checkConvexActivation(where: string, name: unknown, leakySlope: number): ConvexActivation {
  if (typeof name !== 'string' || !(CONVEX_ACTIVATIONS as readonly string[]).includes(name)) {
    const why = typeof name === 'string' && WHY_NOT_CONVEX[name] ? ` (${WHY_NOT_CONVEX[name]})` : '';
    fail(`${where}: activation ${JSON.stringify(name)} cannot be used on the convex path${why}; ` +
      `Prop. 1 requires a convex and non-decreasing activation: one of ${CONVEX_ACTIVATIONS.join(', ')}`);
  }
  if (name === 'leaky-relu' && !(leakySlope >= 0 && leakySlope <= 1)) {
    fail(`${where}: leakySlope must be in [0, 1] for leaky-relu to be convex and non-decreasing, got ${leakySlope}`);
  }
  return name as ConvexActivation;
}

/** Validate an activation for an unconstrained path. */
export function checkFreeActivation(where: string, name: unknown): FreeActivation {
  if (typeof name !== 'string' || !(FREE_ACTIVATIONS as readonly string[]).includes(name)) {
    fail(`${where}: unknown activation ${JSON.stringify(name)} (expected one of: ${FREE_ACTIVATIONS.join(', ')})`);
  }
  return name as FreeActivation;
}

export function activate(name: FreeActivation, t: tf.Tensor, leakySlope: number): tf.Tensor {
  switch (name) {
    case 'relu':
      return tf.relu(t);
    case 'leaky-relu':
      return tf.add(tf.mul(t, leakySlope), tf.mul(tf.relu(t), 1 - leakySlope));
    case 'softplus':
      return tf.softplus(t);
    case 'tanh':
      return tf.tanh(t);
    case 'sigmoid':
      return tf.sigmoid(t);
    case 'linear':
      return t;
  }
}
