/**
 * Partially input-convex network (§1.2): convex in y, arbitrary in x. For i = 0 … k-1:
 *   u_{i+1} = g̃(W̃_i u_i + b̃_i)                                   (u-path, u_0 = x; optional batch norm)
 *   z_{i+1} = g( W^(z)_i (z_i ∘ [W^(zu)_i u_i + b^(z)_i]_+)         (i ≥ 1; W^(z) ≥ 0, no bias)
 *              + W^(y)_i (y ∘ (W^(yu)_i u_i + b^(y)_i))              (y passthrough, gate of any sign)
 *              + W^(u)_i u_i + b_i )
 *   f(x, y) = z_k  (last layer linear, width 1)
 * The u-path has one layer per hidden z-layer (`uHidden`, default = `hidden`); its last layer is linear, as in
 * the authors' multi-label and RL code. Gate biases b^(z), b^(y) start at 1 (§1.4), so a fresh PICNN behaves
 * like an FICNN in y (`gateBias` changes that start). All x-only terms (u-path, gates, W^(u) u + b) live in the context.
 */
import * as tf from '@tensorflow/tfjs';
import { activate, checkFreeActivation, type FreeActivation } from './activations.js';
import { addBatchNorm, applyBatchNorm } from './batchNorm.js';
import { CONVEX_OPTION_KEYS, resolveConvexOptions, type ConvexOptions, type ResolvedConvexOptions } from './common.js';
import { EnergyModel, type EnergyContext } from './energyModel.js';
import { checkIntArray, checkNumberInRange, checkOptionKeys, checkPositiveInt } from '../util/options.js';
import { fail } from '../util/errors.js';
import { registerModelKind } from './registry.js';

/** Options of `PICNN`: widths of x, y, the z-layers and the x-path (u), gating, batch norm, plus the convex options. */
export interface PICNNOptions extends ConvexOptions {
  xDim: number;
  yDim: number;
  /** Hidden z-layer widths, e.g. [600, 159] for BibTeX. */
  hidden: number[];
  /** u-path widths, one per hidden z-layer (default: `hidden`). */
  uHidden?: number[];
  /** u-path activation (default 'relu'); the last u-layer is linear. */
  uActivation?: FreeActivation;
  /** Batch normalization after each activated u-layer (not the last, linear one; default false; the BibTeX PICNN uses it). */
  batchNorm?: boolean;
  /**
   * Initial value of the gate biases b^(z), b^(y) (default 1, §1.4 and the authors' RL code; their multi-label code
   * leaves them at tflearn's 0).
   */
  gateBias?: number;
}

/** A PICNN's configuration with every default filled in (as saved). */
export type PICNNConfig = Required<PICNNOptions>;

const KEYS = ['xDim', 'yDim', 'hidden', 'uHidden', 'uActivation', 'batchNorm', 'gateBias', ...CONVEX_OPTION_KEYS] as const;

interface PICNNContext extends EnergyContext {
  /** [W^(zu)_i u_i + b^(z)_i]_+ for i ≥ 1, at index i - 1. */
  zGates: tf.Tensor2D[];
  /** W^(yu)_i u_i + b^(y)_i. */
  yGates: tf.Tensor2D[];
  /** W^(u)_i u_i + b_i. */
  uTerms: tf.Tensor2D[];
}

/** Partially input convex neural network (§1.2, Eq. 3): f(x, y) convex in y, arbitrary in x. */
export class PICNN extends EnergyModel {
  readonly kind = 'PICNN' as const;
  readonly config: PICNNConfig;
  readonly xShape: readonly number[];
  readonly yShape: readonly number[];
  private readonly o: ResolvedConvexOptions;
  /** z widths m_1 … m_k (m_k = 1). */
  private readonly zWidths: number[];
  /** u widths n_0 = xDim, n_1 … n_{k-1}. */
  private readonly uWidths: number[];

  constructor(options: PICNNOptions) {
    if (options === undefined || options === null) fail('PICNN: options { xDim, yDim, hidden } are required');
    checkOptionKeys('PICNN', options, KEYS);
    const o = resolveConvexOptions('PICNN', options);
    const xDim = checkPositiveInt('PICNN', 'xDim', options.xDim);
    const yDim = checkPositiveInt('PICNN', 'yDim', options.yDim);
    const hidden = checkIntArray('PICNN', 'hidden', options.hidden);
    const uHidden = options.uHidden === undefined ? [...hidden] : checkIntArray('PICNN', 'uHidden', options.uHidden);
    if (uHidden.length !== hidden.length) {
      fail(`PICNN: uHidden must have one width per hidden layer (${hidden.length}), got ${uHidden.length}: [${uHidden.join(', ')}]`);
    }
    const uActivation = checkFreeActivation('PICNN (uActivation)', options.uActivation ?? 'relu');
    const batchNorm = options.batchNorm ?? false;
    if (typeof batchNorm !== 'boolean') fail(`PICNN: batchNorm must be a boolean, got ${JSON.stringify(batchNorm)}`);
    const gateBias = options.gateBias === undefined ? 1 : checkNumberInRange('PICNN', 'gateBias', options.gateBias, -1e6, 1e6);
    super(o.positivity, o.seed, o.weightStd);
    this.o = o;
    this.config = { xDim, yDim, hidden, uHidden, uActivation, batchNorm, gateBias, ...o };
    this.xShape = [xDim];
    this.yShape = [yDim];
    this.zWidths = [...hidden, 1];
    this.uWidths = [xDim, ...uHidden];

    for (let i = 0; i < uHidden.length; i++) {
      this.addFreeWeight(`u${i}.W`, [this.uWidths[i], this.uWidths[i + 1]], this.uWidths[i]);
      this.addConstant(`u${i}.b`, [this.uWidths[i + 1]], 0);
      // Batch norm follows the activated u-layers only (the authors' code: ReLU then batch norm; the last is linear).
      if (batchNorm && i < uHidden.length - 1) addBatchNorm(this.store, `u${i}.bn`, this.uWidths[i + 1]);
    }
    for (let i = 0; i < this.zWidths.length; i++) {
      const n = this.uWidths[i];
      const m = this.zWidths[i];
      if (i > 0) {
        const mPrev = this.zWidths[i - 1];
        this.addFreeWeight(`z${i}.Wzu`, [n, mPrev], n);
        this.addConstant(`z${i}.bz`, [mPrev], gateBias);
        this.addConvexWeight(`z${i}.Wz`, [mPrev, m], mPrev, o, `z${i}.b`);
      } else {
        this.addConstant(`z${i}.b`, [m], 0);
      }
      this.addFreeWeight(`z${i}.Wyu`, [n, yDim], n);
      this.addConstant(`z${i}.by`, [yDim], gateBias);
      this.addFreeWeight(`z${i}.Wy`, [yDim, m], yDim);
      this.addFreeWeight(`z${i}.Wu`, [n, m], n);
    }
  }

  protected get strongConvexity(): number {
    return this.o.strongConvexity;
  }

  protected buildContext(x: tf.Tensor2D | null, batch: number, training: boolean): PICNNContext {
    if (x === null) fail('PICNN: x is required');
    const terms = tf.tidy(() => {
      const zGates: tf.Tensor2D[] = [];
      const yGates: tf.Tensor2D[] = [];
      const uTerms: tf.Tensor2D[] = [];
      let u: tf.Tensor2D = x;
      const last = this.zWidths.length - 1;
      for (let i = 0; i <= last; i++) {
        const lin = (w: string, b: string) => tf.add(tf.matMul(u, this.p(w) as tf.Tensor2D), this.p(b)) as tf.Tensor2D;
        if (i > 0) zGates.push(tf.relu(lin(`z${i}.Wzu`, `z${i}.bz`)));
        yGates.push(lin(`z${i}.Wyu`, `z${i}.by`));
        uTerms.push(lin(`z${i}.Wu`, `z${i}.b`));
        if (i < last) {
          let next: tf.Tensor = lin(`u${i}.W`, `u${i}.b`);
          if (i < last - 1) {
            next = activate(this.config.uActivation, next, this.o.leakySlope);
            if (this.config.batchNorm) next = applyBatchNorm(this.store, `u${i}.bn`, next, training);
          }
          u = next as tf.Tensor2D;
        }
      }
      return { zGates, yGates, uTerms };
    });
    return { batch, ...terms, tensors: [...terms.zGates, ...terms.yGates, ...terms.uTerms] };
  }

  protected networkEnergy(context: EnergyContext, y: tf.Tensor2D): tf.Tensor1D {
    const ctx = context as PICNNContext;
    let z: tf.Tensor2D | null = null;
    const last = this.zWidths.length - 1;
    for (let i = 0; i <= last; i++) {
      let s = tf.add(tf.matMul(tf.mul(y, ctx.yGates[i]) as tf.Tensor2D, this.p(`z${i}.Wy`) as tf.Tensor2D), ctx.uTerms[i]);
      if (z !== null) {
        const gated = tf.mul(z, ctx.zGates[i - 1]) as tf.Tensor2D;
        s = tf.add(s, tf.matMul(gated, this.p(`z${i}.Wz`) as tf.Tensor2D));
      }
      z = (i === last ? s : activate(this.o.activation, s, this.o.leakySlope)) as tf.Tensor2D;
    }
    return tf.reshape(z as tf.Tensor2D, [y.shape[0]]) as tf.Tensor1D;
  }

  protected describe(): string[] {
    const c = this.config;
    return [
      `u-path ${this.uWidths.join(' → ')} (${c.uActivation}${c.batchNorm ? ' then batch norm' : ''}, last linear)`,
      `z-path ${this.zWidths.join(' → ')} (${this.o.activation}, last linear), gated passthrough of y (${c.yDim})`,
      `init ${this.o.init}${this.o.strongConvexity > 0 ? `, + (${this.o.strongConvexity}/2)||y||²` : ''}`,
    ];
  }
}

registerModelKind('PICNN', (config) => new PICNN(config as unknown as PICNNOptions));
