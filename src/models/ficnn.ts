/**
 * Fully input-convex network (§1.1, Prop. 1):
 *   z_1 = g(W^(y)_0 v + b_0),  z_{i+1} = g(W^(z)_i z_i + W^(y)_i v + b_i),  f = z_k (last layer linear, width 1)
 * with W^(z) ≥ 0 and g convex non-decreasing. v = y, or v = [x, y] when xDim > 0: then f is jointly convex in
 * (x, y), as the paper's synthetic FICNN (§5.1). The x-part of every passthrough W^(y)_i v is computed once per
 * context, so inner loops over y only pay for the y-part.
 */
import * as tf from '@tensorflow/tfjs';
import { activate } from './activations.js';
import { CONVEX_OPTION_KEYS, resolveConvexOptions, type ConvexOptions, type ResolvedConvexOptions } from './common.js';
import { EnergyModel, type EnergyContext } from './energyModel.js';
import { checkIntArray, checkNonNegativeInt, checkOptionKeys, checkPositiveInt } from '../util/options.js';
import { fail } from '../util/errors.js';
import { registerModelKind } from './registry.js';

/** Options of `FICNN`: widths of x, y and the hidden layers, plus the convex options. */
export interface FICNNOptions extends ConvexOptions {
  /** Width of x (0 or absent: the model is a function of y alone). */
  xDim?: number;
  /** Width of y. */
  yDim: number;
  /** Hidden layer widths, e.g. [200, 200]. */
  hidden: number[];
}

/** An FICNN's configuration with every default filled in (as saved). */
export type FICNNConfig = Required<FICNNOptions>;

const KEYS = ['xDim', 'yDim', 'hidden', ...CONVEX_OPTION_KEYS] as const;

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

  constructor(options: FICNNOptions) {
    checkOptionKeys('FICNN', options, KEYS);
    if (options === undefined || options === null) fail('FICNN: options { yDim, hidden } are required');
    const o = resolveConvexOptions('FICNN', options);
    const xDim = options.xDim === undefined ? 0 : checkNonNegativeInt('FICNN', 'xDim', options.xDim);
    const yDim = checkPositiveInt('FICNN', 'yDim', options.yDim);
    const hidden = checkIntArray('FICNN', 'hidden', options.hidden);
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
      this.addFreeWeight(`layer${i}.Wv`, [vDim, m], fanIn);
      if (i > 0) this.addConvexWeight(`layer${i}.Wz`, [this.widths[i - 1], m], this.widths[i - 1], o, `layer${i}.b`);
      else this.addConstant(`layer${i}.b`, [m], 0);
    }
  }

  protected get strongConvexity(): number {
    return this.o.strongConvexity;
  }

  protected buildContext(x: tf.Tensor2D | null, batch: number): FICNNContext {
    const xDim = this.config.xDim;
    const xTerms = this.widths.map((m, i) => tf.tidy(() => {
      const b = this.p(`layer${i}.b`);
      if (x === null || xDim === 0) return tf.reshape(b, [1, m]) as tf.Tensor2D;
      const wx = tf.slice(this.p(`layer${i}.Wv`), [0, 0], [xDim, m]);
      return tf.add(tf.matMul(x, wx), b) as tf.Tensor2D;
    }));
    return { batch, xTerms, tensors: xTerms };
  }

  protected networkEnergy(context: EnergyContext, y: tf.Tensor2D): tf.Tensor1D {
    const ctx = context as FICNNContext;
    const { xDim, yDim } = this.config;
    let z: tf.Tensor | null = null;
    const last = this.widths.length - 1;
    for (let i = 0; i <= last; i++) {
      const m = this.widths[i];
      const wy = xDim === 0 ? this.p(`layer${i}.Wv`) : tf.slice(this.p(`layer${i}.Wv`), [xDim, 0], [yDim, m]);
      let s = tf.add(tf.matMul(y, wy as tf.Tensor2D), ctx.xTerms[i]);
      if (z !== null) s = tf.add(s, tf.matMul(z as tf.Tensor2D, this.p(`layer${i}.Wz`) as tf.Tensor2D));
      z = i === last ? s : activate(this.o.activation, s, this.o.leakySlope);
    }
    return tf.reshape(z as tf.Tensor, [y.shape[0]]) as tf.Tensor1D;
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
