/**
 * The batch normalization of the authors' NAF networks (`naf_nets_dm.py`, `naf_bn`): TensorFlow's
 * `tf.contrib.layers.batch_norm` with its defaults center = True, scale = False (a trainable shift β, no γ),
 * decay 0.999, ε 1e-3 and in-place moving-average updates (`updates_collections=None`). Training mode normalizes
 * with the batch's moments (population variance) and moves the averages toward them; test mode uses the averages.
 * Not ../../models/batchNorm.ts: that one is tflearn's (γ and β, decay 0.9, ε 1e-5), used on the PICNN u-path.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeVariable, type NamedVariable } from './nets.js';

export const NAF_BN_DECAY = 0.999;
export const NAF_BN_EPSILON = 1e-3;

/** The batch normalization of the authors' NAF networks (shift β only, decay 0.999, ε 1e-3). */
export class NafBatchNorm {
  readonly beta: tf.Variable;
  readonly movingMean: tf.Variable;
  readonly movingVariance: tf.Variable;

  constructor(readonly name: string, channels: number) {
    this.beta = makeVariable(tf.zeros([channels]), true);
    this.movingMean = makeVariable(tf.zeros([channels]), false);
    this.movingVariance = makeVariable(tf.ones([channels]), false);
  }

  /** Normalize the rows of x [n, channels]; in training mode also update the moving averages. */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    let mean: tf.Tensor = this.movingMean;
    let variance: tf.Tensor = this.movingVariance;
    if (training) {
      ({ mean, variance } = tf.moments(x, 0));
      const [m, v] = [mean, variance];
      tf.tidy(() => {
        this.movingMean.assign(tf.add(tf.mul(this.movingMean, NAF_BN_DECAY), tf.mul(m, 1 - NAF_BN_DECAY)));
        this.movingVariance.assign(tf.add(tf.mul(this.movingVariance, NAF_BN_DECAY), tf.mul(v, 1 - NAF_BN_DECAY)));
      });
    }
    return tf.add(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, NAF_BN_EPSILON))), this.beta) as tf.Tensor2D;
  }

  get variables(): NamedVariable[] {
    return [
      { name: `${this.name}.beta`, variable: this.beta },
      { name: `${this.name}.movingMean`, variable: this.movingMean },
      { name: `${this.name}.movingVariance`, variable: this.movingVariance },
    ];
  }
}

/** The three normalizations of one two-hidden-layer network: its input h0 and the pre-activations h1, h2. */
export function nafBatchNorms(prefix: string, widths: [number, number, number]): NafBatchNorm[] {
  return widths.map((w, i) => new NafBatchNorm(`${prefix}.bn${i}`, w));
}
