/**
 * Activations. On the convex path (z-path) Prop. 1 (§1.1) needs g convex and non-decreasing: relu, leaky relu
 * with slope in [0, 1], softplus. The u-path (§1.2) and the feed-forward baseline may use anything.
 *
 * Leaky relu is computed as α·x + (1-α)·relu(x): tfjs's own leakyRelu gradient builds a `greater` mask that has no
 * gradient, which would break second-order derivatives (∇_θ(∇_y f·v), needed by argmin differentiation, §4.3).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as v from 'valibot';
import { oneOf, show } from '../util/schema.js';

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

/** An activation for the convex path of an ICNN (Prop. 1), refused with the reason. leaky-relu's slope is
 * checked in [0, 1] by its own schema (ConvexOptions.leakySlope), which keeps it convex and non-decreasing. */
export const convexActivation = v.custom<ConvexActivation>((x) => (CONVEX_ACTIVATIONS as readonly unknown[]).includes(x), (issue) => {
  const name = issue.input;
  const why = typeof name === 'string' && WHY_NOT_CONVEX[name] ? ` (${WHY_NOT_CONVEX[name]})` : '';
  return `${show(name)} cannot be used on the convex path${why}; ` +
    `Prop. 1 requires a convex and non-decreasing activation: one of ${CONVEX_ACTIVATIONS.join(', ')}`;
});

/** An activation for an unconstrained path. */
export const freeActivation = oneOf(FREE_ACTIVATIONS);

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

/**
 * g′(t) of a convex-path activation, for the hand-written backward passes (./picnn.ts). Built from ops that tfjs can
 * differentiate again (Step's gradient is zero, as the true second derivative of a piecewise-linear g almost
 * everywhere), so ∇_θ of a gradient computed with it works (argmin differentiation, §4.3; unrolled GD, §4.4).
 * At t = 0 it takes the left derivative, as tfjs's own relu gradient does.
 */
export function activationDerivative(name: ConvexActivation, t: tf.Tensor, leakySlope: number): tf.Tensor {
  switch (name) {
    case 'relu':
      return tf.step(t);
    case 'leaky-relu':
      return tf.step(t, leakySlope);
    case 'softplus':
      return tf.sigmoid(t);
  }
}
