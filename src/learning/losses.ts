/** Losses on predictions ŷ ∈ [0,1]^n against targets y*: as tfjs ops (differentiable) and as float64 values/gradients. */
import * as tf from '@tensorflow/tfjs-core';
import type { StructuredLoss } from './objectives/objective.js';

const EPS = 1e-8;
/** The tensor path runs in float32, where 1 − 1e-8 rounds to 1 (and log(1 − p) to −∞): clip at 1e-7 there. */
const EPS_F32 = 1e-7;

/** Mean over rows of the per-row loss (MSE: mean over coordinates; BCE: sum over coordinates, as §5.2's baseline). */
export function lossTensor(kind: StructuredLoss, yHat: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy((): tf.Scalar => {
    if (kind === 'mse') return tf.mean(tf.square(tf.sub(yHat, target))) as tf.Scalar;
    const p = tf.clipByValue(yHat, EPS_F32, 1 - EPS_F32);
    const ll = tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))));
    return tf.neg(tf.mean(tf.sum(ll, 1))) as tf.Scalar;
  });
}

/** The same loss for one row in float64, and its gradient ∇_ŷ ℓ (scaled by 1/rows so that batches average). */
export function lossAndGradRow(kind: StructuredLoss, yHat: Float64Array, target: Float64Array, rows: number):
  { loss: number; grad: Float64Array } {
  const n = yHat.length;
  const grad = new Float64Array(n);
  let loss = 0;
  if (kind === 'mse') {
    for (let j = 0; j < n; j++) {
      const d = yHat[j] - target[j];
      loss += (d * d) / n;
      grad[j] = (2 * d) / n / rows;
    }
  } else {
    // ŷ clipped to [1e-8, 1-1e-8] as the authors' code (§4.3).
    for (let j = 0; j < n; j++) {
      const p = Math.min(Math.max(yHat[j], EPS), 1 - EPS);
      loss -= target[j] * Math.log(p) + (1 - target[j]) * Math.log(1 - p);
      grad[j] = (-(target[j] / p) + (1 - target[j]) / (1 - p)) / rows;
    }
  }
  return { loss: loss / rows, grad };
}
