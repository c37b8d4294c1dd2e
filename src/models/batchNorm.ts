/**
 * Batch normalization over the last axis, used on the u-path only (§5.2, §1.3): the u-path is a function of x
 * alone, so batch statistics never couple the rows of y and convexity in y is untouched.
 * Training mode normalizes with batch moments and updates moving averages (decay 0.9, ε 1e-5, as tflearn);
 * inference mode uses the moving averages.
 */
import * as tf from '@tensorflow/tfjs-core';
import { filled } from './init.js';
import type { ParameterStore } from './parameters.js';

export const BN_DECAY = 0.9;
export const BN_EPSILON = 1e-5;

export function addBatchNorm(store: ParameterStore, prefix: string, channels: number): void {
  store.add(`${prefix}.gamma`, 'free', [channels], filled(channels, 1));
  store.add(`${prefix}.beta`, 'free', [channels], filled(channels, 0));
  store.add(`${prefix}.movingMean`, 'state', [channels], filled(channels, 0));
  store.add(`${prefix}.movingVariance`, 'state', [channels], filled(channels, 1));
}

export function applyBatchNorm(store: ParameterStore, prefix: string, x: tf.Tensor, training: boolean): tf.Tensor {
  const gamma = store.value(`${prefix}.gamma`);
  const beta = store.value(`${prefix}.beta`);
  const movingMean = store.variable(`${prefix}.movingMean`);
  const movingVar = store.variable(`${prefix}.movingVariance`);
  if (training) {
    const channels = x.shape[x.rank - 1];
    const rows = tf.reshape(x, [-1, channels]) as tf.Tensor2D;
    const out = normalizeBatch((mean, variance) => {
      movingMean.assign(tf.add(tf.mul(movingMean, BN_DECAY), tf.mul(mean, 1 - BN_DECAY)));
      movingVar.assign(tf.add(tf.mul(movingVar, BN_DECAY), tf.mul(variance, 1 - BN_DECAY)));
    })(rows, gamma as tf.Tensor1D, beta as tf.Tensor1D);
    return tf.reshape(out, x.shape);
  }
  // (x − μ)·γ/√(σ² + ε) + β with broadcasting ops: their gradients are reductions, which the wasm backend runs
  // much faster than the Tile ops of tfjs's fused BatchNorm gradient (measured 12 ms per tile at batch 70).
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(movingVar, BN_EPSILON)));
  return tf.add(tf.mul(tf.sub(x, movingMean), scale), beta);
}

/**
 * Training-mode batch norm of rows [n, c] over the rows, (x − μ)·γ/√(σ² + ε) + β with the batch's μ and σ² (biased),
 * as one op with the standard hand-written gradient: with x̂ = (x − μ)/√(σ² + ε) and g = ∂L/∂out,
 *   ∂L/∂β = Σ g,  ∂L/∂γ = Σ g·x̂,  ∂L/∂x = γ/√(σ² + ε) · (g − mean(g) − x̂·mean(g·x̂)).
 * Differentiating the forward ops instead took ~45 kernel calls (the Mean gradients build ones-tensors the size of
 * x) and 2-4 ms of a 15-20 ms BibTeX PICNN forward + backward; this takes 23. The gradient treats μ, σ² and x̂ as
 * computed, so it is right to first order only: nothing differentiates through the u-path's backward pass twice
 * (∇_y f, whose θ-gradient Prop. 3 and unrolled GD take, never enters the u-path). `onMoments` sees μ and σ².
 */
function normalizeBatch(onMoments: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const mean = tf.mean(x, 0) as tf.Tensor1D;
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), 0) as tf.Tensor1D;
    onMoments(mean, variance);
    const inverseStd = tf.rsqrt(tf.add(variance, BN_EPSILON));
    const scale = tf.mul(gamma, inverseStd);
    save([centered, inverseStd, scale]);
    return {
      value: tf.add(tf.mul(centered, scale), beta),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const [xc, inv, sc] = saved;
        // In terms of the centred x: x̂ = xc·inv and ∂L/∂x = g·sc − mean(g·sc) − xc·inv²·mean(g·sc·xc).
        const gScaled = tf.mul(g, sc);
        const projection = tf.mul(tf.mean(tf.mul(gScaled, xc), 0), tf.square(inv));
        const dx = tf.sub(tf.sub(gScaled, tf.mean(gScaled, 0)), tf.mul(xc, projection));
        const dGamma = tf.mul(tf.sum(tf.mul(g, xc), 0), inv);
        return [dx, dGamma, tf.sum(g, 0)];
      },
    };
  });
}
