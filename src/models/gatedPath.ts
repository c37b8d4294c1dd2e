/**
 * A PICNN's z-path at fixed x (§1.2), as the tensors a hand-written pass over it needs. Per layer i = 0 … L:
 *   s_i = (y ∘ yGate_i) W^(y)_i + uTerm_i [+ (z_{i−1} ∘ zGate_{i−1}) W^(z)_i]   (i ≥ 1),   z_i = g(s_i) (i < L),
 *   f(x, y) = s_L + (α/2)‖y‖²   (s_L one column).
 * Only piecewise-linear g (ReLU, leaky ReLU) is described this way: then g′ is a mask, ∇_y f is piecewise constant
 * in y, and the Hessian in y is α·I almost everywhere, which is what ../learning/piecewiseLinearUnrolledGd.ts uses.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** One z-layer of a `GatedPath`. */
export interface GatedLayer {
  /** yGate_i = W^(yu)_i u_i + b^(y)_i, [batch, yDim]. */
  yGate: tf.Tensor2D;
  /** W^(y)_i, [yDim, m_i]. */
  passthrough: tf.Tensor2D;
  /** W^(u)_i u_i + b_i, [batch, m_i]. */
  uTerm: tf.Tensor2D;
  /** [W^(zu)_i u_i + b^(z)_i]_+ gating z_{i−1}, [batch, m_{i−1}] (null for i = 0). */
  zGate: tf.Tensor2D | null;
  /** The effective W^(z)_i ≥ 0, [m_{i−1}, m_i] (null for i = 0). */
  convex: tf.Tensor2D | null;
}

/** The z-path of a PICNN with a piecewise-linear activation, at the x of a context. */
export interface GatedPath {
  layers: GatedLayer[];
  /** g′(s) = 1 for s > 0, else `negativeSlope` (0 for ReLU, the leaky slope for leaky ReLU). */
  negativeSlope: number;
  /** α of the (α/2)‖y‖² term. */
  strongConvexity: number;
}
