/**
 * Fully input-convex network (§1.1, Prop. 1):
 *   z_1 = g(W^(y)_0 v + b_0),  z_{i+1} = g(W^(z)_i z_i + W^(y)_i v + b_i),  f = z_k (last layer linear, width 1)
 * with W^(z) ≥ 0 and g convex non-decreasing. v = y, or v = [x, y] when xDim > 0: then f is jointly convex in
 * (x, y), as the paper's synthetic FICNN (§5.1). The x-part of every passthrough W^(y)_i v is computed once per
 * context, so inner loops over y only pay for the y-part.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activate } from './activations.js';
import { readRows, rowOf, transposed, type AffineStructure, type Rows } from './affineStructure.js';
import { DenseBlock, PositiveDenseBlock, readValues } from './blocks.js';
import * as v from 'valibot';
import { CONVEX_OPTION_ENTRIES, layerWidths, resolveConvexOptions, type ResolvedConvexOptions } from './common.js';
import { disposeContext, EnergyModel, type EnergyContext } from './energyModel.js';
import { NON_NEGATIVE_INT, POSITIVE_INT } from '../util/numbers.js';
import { num, optionsSchema, parseOptions } from '../util/schema.js';
import { fail } from '../util/errors.js';
import { registerModelKind } from './registry.js';

const FICNN_OPTIONS = optionsSchema({
  /** Width of x (0 or absent: the model is a function of y alone). */
  xDim: v.optional(num(NON_NEGATIVE_INT)),
  /** Width of y. */
  yDim: num(POSITIVE_INT),
  /** Hidden layer widths, e.g. [200, 200]. */
  hidden: layerWidths,
  ...CONVEX_OPTION_ENTRIES,
});
/** Options of an FICNN (§1.1): the widths of x and y, the hidden layer widths and the shared convex-model options. */
export type FICNNOptions = v.InferOutput<typeof FICNN_OPTIONS>;

/** An FICNN's configuration with every default filled in (as saved). */
export type FICNNConfig = Required<FICNNOptions>;

/** Layer i: the passthrough W^(y)_i v + b_i of v = [x, y], and the convex path W^(z)_i z_i (i ≥ 1). */
interface FICNNLayer {
  passthrough: DenseBlock;
  convex: PositiveDenseBlock | null;
}

interface FICNNContext extends EnergyContext {
  /** Per layer: the x-part of the passthrough plus the bias, [N, m_{i+1}] (or [1, m] broadcast when xDim = 0). */
  xTerms: tf.Tensor2D[];
}

/** Fully input convex neural network (§1.1, Eq. 2): f(x, y) jointly convex in (x, y). */
export class FICNN extends EnergyModel {
  readonly kind = 'FICNN' as const;
  readonly config: FICNNConfig;
  readonly xShape: readonly number[];
  readonly yShape: readonly number[];
  private readonly o: ResolvedConvexOptions;
  private readonly widths: number[];
  private readonly layers: FICNNLayer[] = [];

  constructor(options: FICNNOptions) {
    if (options === undefined || options === null) fail('FICNN: options { yDim, hidden } are required');
    const p = parseOptions('FICNN', FICNN_OPTIONS, options);
    const o = resolveConvexOptions(p);
    const { xDim = 0, yDim, hidden } = p;
    super(o.positivity, o.seed, o.weightStd);
    this.o = o;
    this.config = { xDim, yDim, hidden, ...o };
    this.xShape = xDim === 0 ? [] : [xDim];
    this.yShape = [yDim];
    this.widths = [...hidden, 1];
    const vDim = xDim + yDim;
    for (let i = 0; i < this.widths.length; i++) {
      const m = this.widths[i];
      const fanIn = vDim + (i > 0 ? this.widths[i - 1] : 0);
      const wv = this.addFreeWeight(`layer${i}.Wv`, [vDim, m], fanIn);
      if (i > 0) {
        const { weight, bias } = this.addConvexWeight(`layer${i}.Wz`, [this.widths[i - 1], m], this.widths[i - 1], o, `layer${i}.b`);
        this.layers.push({ passthrough: new DenseBlock(wv, bias), convex: new PositiveDenseBlock(weight, o.positivity) });
      } else {
        this.layers.push({ passthrough: new DenseBlock(wv, this.addConstant(`layer${i}.b`, [m], 0)), convex: null });
      }
    }
  }

  protected get strongConvexity(): number {
    return this.o.strongConvexity;
  }

  protected buildContext(x: tf.Tensor2D | null, batch: number): FICNNContext {
    const xDim = this.config.xDim;
    const xTerms = this.layers.map(({ passthrough }, i) => tf.tidy(() => {
      if (x === null || xDim === 0) return tf.reshape(passthrough.b as tf.Variable, [1, this.widths[i]]) as tf.Tensor2D;
      return passthrough.applyToSlice(x, 0, true);
    }));
    return { batch, xTerms, tensors: xTerms };
  }

  protected networkEnergy(context: EnergyContext, y: tf.Tensor2D): tf.Tensor1D {
    const ctx = context as FICNNContext;
    const { xDim } = this.config;
    let z: tf.Tensor2D | null = null;
    const last = this.layers.length - 1;
    for (let i = 0; i <= last; i++) {
      const { passthrough, convex } = this.layers[i];
      let s = tf.add(passthrough.applyToSlice(y, xDim, false), ctx.xTerms[i]) as tf.Tensor2D;
      if (z !== null && convex !== null) s = tf.add(s, convex.apply(z));
      z = (i === last ? s : activate(this.o.activation, s, this.o.leakySlope)) as tf.Tensor2D;
    }
    return tf.reshape(z as tf.Tensor2D, [y.shape[0]]) as tf.Tensor1D;
  }

  /** §3.1: A_i = W^(z)_i, B_i = the y-rows of the passthrough, c_i = its x-part plus the bias. */
  override affineStructure(x: tf.Tensor2D | null, batch: number): AffineStructure {
    const { xDim, yDim, activation, leakySlope, strongConvexity } = this.config;
    const positive = this.layers.map(({ convex }) => convex?.readWeight() ?? null);
    const passthrough = this.layers.map(({ passthrough: p }) => readValues(() => p.W));
    const ctx = this.buildContext(xDim === 0 ? null : x, batch);
    let xTerms: Rows[];
    try {
      xTerms = ctx.xTerms.map(readRows);
    } finally {
      disposeContext(ctx);
    }
    const widths = this.widths;
    const layers = (row: number) => widths.map((m, i) => {
      const B = transposed(passthrough[i], yDim, m, undefined, xDim);
      const c = rowOf(xTerms[i], row);
      const Wz = positive[i];
      if (Wz === null) return { outDim: m, zDim: 0, A: null, B, c };
      return { outDim: m, zDim: widths[i - 1], A: transposed(Wz, widths[i - 1], m), B, c };
    });
    return {
      rows: batch, yDim, widths, hidden: { activation, leakySlope }, strongConvexity, shared: xTerms.every((t) => t.rows === 1),
      positiveWeights: this.positiveWeightValues(), layers,
    };
  }

  protected describe(): string[] {
    const { xDim, yDim } = this.config;
    const input = xDim > 0 ? `[x, y] (${xDim} + ${yDim}), jointly convex` : `y (${yDim})`;
    return [
      `input ${input}; layers ${this.widths.join(' → ')} (last linear)`,
      `activation ${this.o.activation}${this.o.activation === 'leaky-relu' ? ` (slope ${this.o.leakySlope})` : ''}, init ${this.o.init}` +
        `${this.o.strongConvexity > 0 ? `, + (${this.o.strongConvexity}/2)||y||²` : ''}`,
    ];
  }
}

registerModelKind('FICNN', (config) => new FICNN(config as unknown as FICNNOptions));
