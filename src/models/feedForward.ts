/**
 * The plain feed-forward baseline of the paper's comparisons (§5.2: FC 600 + ReLU + BN, FC 159, sigmoid).
 *
 * energy 'linear' (default): an MLP g(x) ∈ R^yDim of logits and the energy f(x, y) = -g(x)ᵀy, linear (so convex)
 *   in y. By §1.2 ("trivial PICNN", Prop. 2) its entropy-regularized argmin is σ(g(x)): a sigmoid classifier.
 * energy 'joint': a scalar MLP of [x, y], a nonconvex energy (isConvex = false), for ablations.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as v from 'valibot';
import { activate, freeActivation } from './activations.js';
import { addBatchNorm, applyBatchNorm } from './batchNorm.js';
import { disposeContext, EnergyModel, type EnergyContext } from './energyModel.js';
import { layerWidths } from './common.js';
import { NON_NEGATIVE_INT, POSITIVE_INT } from '../util/numbers.js';
import { bool, num, oneOf, optionsSchema, parseOptions } from '../util/schema.js';
import { readRows, type AffineStructure } from './affineStructure.js';
import { DenseBlock } from './blocks.js';
import { fail } from '../util/errors.js';
import { registerModelKind } from './registry.js';
import { fanOutUniform } from './init.js';

export const FEED_FORWARD_INITS = ['lecun-normal', 'fan-out-uniform'] as const;
export type FeedForwardInit = (typeof FEED_FORWARD_INITS)[number];

const FEED_FORWARD_OPTIONS = optionsSchema({
  /** Width of x (0: no x). */
  xDim: num(NON_NEGATIVE_INT),
  /** Width of y. */
  yDim: num(POSITIVE_INT),
  /** Hidden layer widths, e.g. [600] for the BibTeX baseline. */
  hidden: layerWidths,
  /** Hidden activation (default 'relu'). */
  activation: v.optional(freeActivation),
  /** Batch normalization after every hidden layer (default false; the BibTeX baseline uses it). */
  batchNorm: v.optional(bool),
  /** 'linear' (default): f = -g(x)ᵀy; 'joint': f = MLP([x, y]) (nonconvex). */
  energy: v.optional(oneOf(['linear', 'joint'])),
  /** Slope of 'leaky-relu' for negative inputs (default 0.01). */
  leakySlope: v.optional(num({})),
  /** Seed of the weight initialization (default 0). */
  seed: v.optional(num({ integer: true })),
  /**
   * 'lecun-normal' (default): LeCun normal weights, zero biases. 'fan-out-uniform': weights and biases
   * U(±1/√fan_out), as the authors' ff.py baseline (reproduction-audit.md, BibTeX #4).
   */
  init: v.optional(oneOf(FEED_FORWARD_INITS)),
});
/** Options of the FeedForward baseline (§5.2): widths, activation, batch norm, the energy form and the initialization. */
export type FeedForwardOptions = v.InferOutput<typeof FEED_FORWARD_OPTIONS>;

/** A FeedForward's configuration with every default filled in (as saved). */
export type FeedForwardConfig = Required<FeedForwardOptions>;

interface FeedForwardContext extends EnergyContext {
  /** 'linear': logits g(x) [N, yDim]; 'joint': x itself. */
  features: tf.Tensor2D;
  training: boolean;
}

/** The feed-forward baseline: f = −g(x)ᵀy (the "trivial PICNN" of §1.2), or a nonconvex MLP of (x, y). */
export class FeedForward extends EnergyModel {
  readonly kind = 'FeedForward' as const;
  readonly config: FeedForwardConfig;
  readonly xShape: readonly number[];
  readonly yShape: readonly number[];
  private readonly widths: number[];
  private readonly layers: DenseBlock[] = [];

  constructor(options: FeedForwardOptions) {
    if (options === undefined || options === null) fail('FeedForward: options { xDim, yDim, hidden } are required');
    const p = parseOptions('FeedForward', FEED_FORWARD_OPTIONS, options);
    const { xDim, yDim, hidden, activation = 'relu', energy = 'linear', batchNorm = false, leakySlope = 0.01, seed = 0, init = 'lecun-normal' } = p;
    if (energy === 'linear' && xDim === 0) fail("FeedForward: energy 'linear' needs xDim > 0 (logits are a function of x)");
    super('clip', seed);
    this.config = { xDim, yDim, hidden, activation, batchNorm, energy, leakySlope, seed, init };
    this.xShape = xDim === 0 ? [] : [xDim];
    this.yShape = [yDim];
    const inDim = energy === 'linear' ? xDim : xDim + yDim;
    const outDim = energy === 'linear' ? yDim : 1;
    this.widths = [inDim, ...hidden, outDim];
    for (let i = 0; i + 1 < this.widths.length; i++) {
      const [fanIn, fanOut] = [this.widths[i], this.widths[i + 1]];
      if (init === 'fan-out-uniform') {
        const w = this.store.add(`fc${i}.W`, 'free', [fanIn, fanOut], fanOutUniform(this.rng, fanOut, fanIn * fanOut));
        this.layers.push(new DenseBlock(w, this.store.add(`fc${i}.b`, 'free', [fanOut], fanOutUniform(this.rng, fanOut, fanOut))));
      } else {
        const w = this.addFreeWeight(`fc${i}.W`, [fanIn, fanOut], fanIn);
        this.layers.push(new DenseBlock(w, this.addConstant(`fc${i}.b`, [fanOut], 0)));
      }
      if (batchNorm && i + 2 < this.widths.length) addBatchNorm(this.store, `fc${i}.bn`, this.widths[i + 1]);
    }
  }

  override get isConvex(): boolean {
    return this.config.energy === 'linear';
  }

  protected get strongConvexity(): number {
    return 0;
  }

  private mlp(input: tf.Tensor2D, training: boolean): tf.Tensor2D {
    let h: tf.Tensor = input;
    const layers = this.layers.length;
    for (let i = 0; i < layers; i++) {
      h = this.layers[i].apply(h as tf.Tensor2D);
      if (i + 1 < layers) {
        h = activate(this.config.activation, h, this.config.leakySlope);
        if (this.config.batchNorm) h = applyBatchNorm(this.store, `fc${i}.bn`, h, training);
      }
    }
    return h as tf.Tensor2D;
  }

  /** The logits g(x) [N, yDim] of the 'linear' energy; σ(g(x)) is the prediction. */
  logits(x: tf.Tensor2D, options: { training?: boolean } = {}): tf.Tensor2D {
    if (this.config.energy !== 'linear') fail("FeedForward.logits: only defined for energy 'linear'");
    return tf.tidy(() => this.mlp(x, options.training ?? false));
  }

  protected buildContext(x: tf.Tensor2D | null, batch: number, training: boolean): FeedForwardContext {
    const features = this.config.energy === 'linear'
      ? tf.tidy(() => this.mlp(x as tf.Tensor2D, training))
      : x === null ? tf.zeros([batch, 0]) as tf.Tensor2D : tf.clone(x);
    return { batch, features, training, tensors: [features] };
  }

  protected networkEnergy(context: EnergyContext, y: tf.Tensor2D): tf.Tensor1D {
    const ctx = context as FeedForwardContext;
    if (this.config.energy === 'linear') return tf.neg(tf.sum(tf.mul(ctx.features, y), 1)) as tf.Tensor1D;
    // 'joint' runs the whole MLP per y (with batch norm in training mode, rows are coupled by batch statistics).
    const input = this.config.xDim === 0 ? y : tf.concat([ctx.features, y], 1) as tf.Tensor2D;
    return tf.reshape(this.mlp(input, ctx.training), [y.shape[0]]) as tf.Tensor1D;
  }

  /** Energy 'linear': f = −g(x)ᵀy is a single affine layer, B = −g(x), c = 0 (§1.2, a trivial PICNN); 'joint': none. */
  override affineStructure(x: tf.Tensor2D | null, batch: number): AffineStructure | null {
    if (this.config.energy !== 'linear') return null;
    if (x === null) fail('FeedForward.affineStructure: x is required');
    const yDim = this.config.yDim;
    const ctx = this.buildContext(x, batch, false);
    let g: Float32Array;
    try {
      g = readRows(ctx.features).data;
    } finally {
      disposeContext(ctx);
    }
    const layers = (row: number) => {
      const B = new Float64Array(yDim);
      for (let j = 0; j < yDim; j++) B[j] = -g[row * yDim + j];
      return [{ outDim: 1, zDim: 0, A: null, B, c: new Float64Array(1) }];
    };
    return { rows: batch, yDim, widths: [1], hidden: null, strongConvexity: 0, shared: false, positiveWeights: [], layers };
  }

  protected describe(): string[] {
    const c = this.config;
    return [
      `MLP ${this.widths.join(' → ')} (${c.activation}${c.batchNorm ? ' + batch norm' : ''})`,
      c.energy === 'linear' ? 'energy f = -g(x)ᵀy (linear in y; prediction σ(g(x)))' : 'energy f = MLP([x, y]) (nonconvex)',
    ];
  }
}

registerModelKind('FeedForward', (config) => new FeedForward(config as unknown as FeedForwardOptions));
