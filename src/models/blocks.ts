/**
 * The layers every model is built from (`../shared/icnn-paper.md` §1.1-§1.3):
 * - the plain affine pieces, dense (x W + b) and convolutional (conv(x, W) + b, 'same' padding), for the u-path, the
 *   gates, the y passthrough W^(y) and W^(u);
 * - the positive pieces, dense and convolutional, for the convex-path weights W^(z) ≥ 0 (Prop. 1): they hold the
 *   positivity mode (./positivity.ts) that keeps W^(z) non-negative, and apply the effective weight.
 * A block holds its variables, not their names: the models register the parameters (names and order are the
 * serialization contract, ./parameters.ts) and wrap the variables in blocks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { effectiveWeight, type Positivity } from './positivity.js';

/** A dense affine map x ↦ x W + b (b optional); W is [in, out]. */
export class DenseBlock {
  constructor(readonly W: tf.Variable, readonly b: tf.Variable | null = null) {}

  get inDim(): number {
    return this.W.shape[0] ?? 0;
  }

  get outDim(): number {
    return this.W.shape[1] ?? 0;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    const xw = tf.matMul(x, this.W as tf.Tensor2D);
    return (this.b === null ? xw : tf.add(xw, this.b)) as tf.Tensor2D;
  }

  /** The rows [from, from + count) of W: the part of the map that acts on that slice of the input. */
  weightRows(from: number, count: number): tf.Tensor2D {
    if (from === 0 && count === this.inDim) return this.W as tf.Tensor2D;
    return tf.slice(this.W as tf.Tensor2D, [from, 0], [count, this.outDim]);
  }

  /** x W[from : from + count] (+ b when `withBias`), for an x that is that slice of the input. */
  applyToSlice(x: tf.Tensor2D, from: number, withBias: boolean): tf.Tensor2D {
    const xw = tf.matMul(x, this.weightRows(from, x.shape[1]));
    return (withBias && this.b !== null ? tf.add(xw, this.b) : xw) as tf.Tensor2D;
  }
}

/** A convolution x ↦ conv(x, W, stride, 'same') + b (b optional); W is [kh, kw, in, out]. */
export class ConvBlock {
  constructor(readonly W: tf.Variable, readonly b: tf.Variable | null, readonly stride: number) {}

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const c = tf.conv2d(x, this.W as tf.Tensor4D, this.stride, 'same');
    return (this.b === null ? c : tf.add(c, this.b)) as tf.Tensor4D;
  }
}

/** What the positive blocks share: the stored variable and the positivity mode that keeps the weight ≥ 0. */
abstract class PositiveWeight {
  constructor(readonly variable: tf.Variable, readonly positivity: Positivity) {}

  /** The weight the forward pass uses (softplus of the variable under 'softplus'; a new tensor then). */
  weight(): tf.Tensor {
    return effectiveWeight(this.variable, this.positivity);
  }

  /** The effective weight's values (float32, the variable's layout). */
  readWeight(): Float32Array {
    return readValues(() => this.weight());
  }
}

/** A dense convex-path map z ↦ z W^(z) with W^(z) ≥ 0 kept by the positivity mode; W is [in, out]. */
export class PositiveDenseBlock extends PositiveWeight {
  get inDim(): number {
    return this.variable.shape[0] ?? 0;
  }

  get outDim(): number {
    return this.variable.shape[1] ?? 0;
  }

  apply(z: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(z, this.weight() as tf.Tensor2D);
  }
}

/** A convolutional convex-path map z ↦ conv(z, W^(z), stride, 'same') with W^(z) ≥ 0; W is [kh, kw, in, out]. */
export class PositiveConvBlock extends PositiveWeight {
  constructor(variable: tf.Variable, positivity: Positivity, readonly stride: number) {
    super(variable, positivity);
  }

  apply(z: tf.Tensor4D): tf.Tensor4D {
    return tf.conv2d(z, this.weight() as tf.Tensor4D, this.stride, 'same');
  }
}

/** The values (float32, a copy) of the tensor `compute` returns; a tensor it creates is disposed. */
export function readValues(compute: () => tf.Tensor): Float32Array {
  const t = tf.tidy(() => tf.clone(compute()));
  const values = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return values;
}
