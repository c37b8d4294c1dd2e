/**
 * Unrolled gradient descent (§3.2 as coded by the authors, §4.4 "back-optimization"): N momentum steps
 *   v ← μ·v − lr·∇_y f(x, y);   y ← y − μ·v_old + (1+μ)·v
 * from y0, with no projection inside the loop, so that a loss on y_N can be differentiated with respect to θ through
 * every step (second order through ∇_y f).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyContext, EnergyModel } from '../models/energyModel.js';
import { piecewiseLinearUnrolledGd } from './piecewiseLinearUnrolledGd.js';

export interface UnrolledGdOptions {
  steps: number;
  learningRate: number;
  momentum: number;
}

/**
 * y_N as a differentiable function of θ (call inside tf.variableGrads or a tidy). `ctx` comes from model.context(x).
 * A PICNN with a piecewise-linear activation takes the hand-written reverse pass (./piecewiseLinearUnrolledGd.ts);
 * every other model the taped loop.
 */
export function unrolledGd(model: EnergyModel, ctx: EnergyContext, y0: tf.Tensor2D, o: UnrolledGdOptions): tf.Tensor2D {
  const path = o.steps > 0 ? model.gatedPath(ctx) : null;
  return path !== null ? piecewiseLinearUnrolledGd(path, y0, o) : tapedUnrolledGd(model, ctx, y0, o);
}

/** The loop built from differentiable tfjs ops, for tfjs's tape to differentiate (second-order autodiff). */
export function tapedUnrolledGd(model: EnergyModel, ctx: EnergyContext, y0: tf.Tensor2D, o: UnrolledGdOptions): tf.Tensor2D {
  // The model's own ∇_y f (PICNN: a hand-written backward pass, fewer kernels for the outer tape to differentiate).
  const gradY = (yy: tf.Tensor2D): tf.Tensor2D => model.energyAndGradFromContext(ctx, yy).grad;
  let y: tf.Tensor2D = y0;
  let v: tf.Tensor2D = tf.zerosLike(y0);
  for (let t = 0; t < o.steps; t++) {
    const g = gradY(y);
    const vNew = tf.sub(tf.mul(v, o.momentum), tf.mul(g, o.learningRate)) as tf.Tensor2D;
    y = tf.add(tf.sub(y, tf.mul(v, o.momentum)), tf.mul(vNew, 1 + o.momentum)) as tf.Tensor2D;
    v = vNew;
  }
  return y;
}
