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
import * as tf from '@tensorflow/tfjs-core';
import * as v from 'valibot';
import { activate, activationDerivative, freeActivation } from './activations.js';
import { addBatchNorm, applyBatchNorm } from './batchNorm.js';
import { CONVEX_OPTION_ENTRIES, layerWidths, resolveConvexOptions, type ResolvedConvexOptions } from './common.js';
import { disposeContext, EnergyModel, type EnergyContext } from './energyModel.js';
import type { GatedPath } from './gatedPath.js';
import { fusedGatedPathEnergy } from '../backend/nativeGatedPath.js';
import { POSITIVE_INT } from '../util/numbers.js';
import { bool, num, optionsSchema, parseOptions } from '../util/schema.js';
import { readRows, rowOf, transposed, type AffineStructure, type Rows } from './affineStructure.js';
import { DenseBlock, PositiveDenseBlock, readValues } from './blocks.js';
import { fail } from '../util/errors.js';
import { registerModelKind } from './registry.js';

const PICNN_OPTIONS = optionsSchema({
  /** Width of x, the input the PICNN need not be convex in. */
  xDim: num(POSITIVE_INT),
  /** Width of y, the convex input. */
  yDim: num(POSITIVE_INT),
  /** Hidden z-layer widths, e.g. [600, 159] for BibTeX. */
  hidden: layerWidths,
  /** u-path widths, one per hidden z-layer (default: `hidden`). */
  uHidden: v.optional(layerWidths),
  /** u-path activation (default 'relu'); the last u-layer is linear. */
  uActivation: v.optional(freeActivation),
  /** Batch normalization after each activated u-layer (not the last, linear one; default false; the BibTeX PICNN uses it). */
  batchNorm: v.optional(bool),
  /**
   * Initial value of the gate biases b^(z), b^(y) (default 1, §1.4 and the authors' RL code; their multi-label code
   * leaves them at tflearn's 0).
   */
  gateBias: v.optional(num({ min: -1e6, max: 1e6 })),
  ...CONVEX_OPTION_ENTRIES,
});
/**
 * Options of a PICNN (§1.2): the widths of x and y, the z-path and u-path layers, batch norm, the gates' initial bias
 * (§1.4) and the shared convex-model options.
 */
export type PICNNOptions = v.InferOutput<typeof PICNN_OPTIONS>;

/** A PICNN's configuration with every default filled in (as saved). */
export type PICNNConfig = Required<PICNNOptions>;

/** z-layer i of §1.2: its gates (functions of u_i), the y passthrough, the u term and the convex path (i ≥ 1). */
interface PICNNLayer {
  /** W^(zu)_i u_i + b^(z)_i, made [·]_+ (i ≥ 1). */
  zGate: DenseBlock | null;
  /** W^(z)_i ≥ 0 (i ≥ 1). */
  convex: PositiveDenseBlock | null;
  /** W^(yu)_i u_i + b^(y)_i. */
  yGate: DenseBlock;
  /** W^(y)_i. */
  passthrough: DenseBlock;
  /** W^(u)_i u_i + b_i. */
  uTerm: DenseBlock;
}

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
  /** The u-path layers (the last is linear). */
  private readonly uLayers: DenseBlock[] = [];
  private readonly zLayers: PICNNLayer[] = [];

  constructor(options: PICNNOptions) {
    if (options === undefined || options === null) fail('PICNN: options { xDim, yDim, hidden } are required');
    const p = parseOptions('PICNN', PICNN_OPTIONS, options);
    const o = resolveConvexOptions(p);
    const { xDim, yDim, hidden, uActivation = 'relu', batchNorm = false, gateBias = 1 } = p;
    const uHidden = p.uHidden ?? [...hidden];
    if (uHidden.length !== hidden.length) {
      fail(`PICNN: uHidden must have one width per hidden layer (${hidden.length}), got ${uHidden.length}: [${uHidden.join(', ')}]`);
    }
    super(o.positivity, o.seed, o.weightStd);
    this.o = o;
    this.config = { xDim, yDim, hidden, uHidden, uActivation, batchNorm, gateBias, ...o };
    this.xShape = [xDim];
    this.yShape = [yDim];
    this.zWidths = [...hidden, 1];
    this.uWidths = [xDim, ...uHidden];

    for (let i = 0; i < uHidden.length; i++) {
      const w = this.addFreeWeight(`u${i}.W`, [this.uWidths[i], this.uWidths[i + 1]], this.uWidths[i]);
      this.uLayers.push(new DenseBlock(w, this.addConstant(`u${i}.b`, [this.uWidths[i + 1]], 0)));
      // Batch norm follows the activated u-layers only (the authors' code: ReLU then batch norm; the last is linear).
      if (batchNorm && i < uHidden.length - 1) addBatchNorm(this.store, `u${i}.bn`, this.uWidths[i + 1]);
    }
    for (let i = 0; i < this.zWidths.length; i++) {
      const n = this.uWidths[i];
      const m = this.zWidths[i];
      let zGate: DenseBlock | null = null;
      let convex: PositiveDenseBlock | null = null;
      let bias: tf.Variable | null;
      if (i > 0) {
        const mPrev = this.zWidths[i - 1];
        const wzu = this.addFreeWeight(`z${i}.Wzu`, [n, mPrev], n);
        zGate = new DenseBlock(wzu, this.addConstant(`z${i}.bz`, [mPrev], gateBias));
        const wz = this.addConvexWeight(`z${i}.Wz`, [mPrev, m], mPrev, o, `z${i}.b`);
        convex = new PositiveDenseBlock(wz.weight, o.positivity);
        bias = wz.bias;
      } else {
        bias = this.addConstant(`z${i}.b`, [m], 0);
      }
      const wyu = this.addFreeWeight(`z${i}.Wyu`, [n, yDim], n);
      const yGate = new DenseBlock(wyu, this.addConstant(`z${i}.by`, [yDim], gateBias));
      const passthrough = new DenseBlock(this.addFreeWeight(`z${i}.Wy`, [yDim, m], yDim));
      const uTerm = new DenseBlock(this.addFreeWeight(`z${i}.Wu`, [n, m], n), bias);
      this.zLayers.push({ zGate, convex, yGate, passthrough, uTerm });
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
        const { zGate, yGate, uTerm } = this.zLayers[i];
        if (zGate !== null) zGates.push(tf.relu(zGate.apply(u)));
        yGates.push(yGate.apply(u));
        uTerms.push(uTerm.apply(u));
        if (i < last) {
          let next: tf.Tensor = this.uLayers[i].apply(u);
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

  /**
   * The z-path (§1.2) at y: s_i = W^(y)_i (y ∘ ygate_i) + W^(u)_i u_i + b_i [+ W^(z)_i (z_{i−1} ∘ zgate_{i−1})],
   * z_i = g(s_i) by `activation` (the last layer linear). Returns the pre-activations s_i (the last is the energy
   * column) and the effective W^(z)_i used.
   */
  private zPath(ctx: PICNNContext, y: tf.Tensor2D, activation: (s: tf.Tensor2D) => tf.Tensor2D): { pre: tf.Tensor2D[]; convexWeights: (tf.Tensor2D | null)[] } {
    const last = this.zWidths.length - 1;
    const convexWeights = this.zLayers.map(({ convex }) => (convex === null ? null : convex.weight() as tf.Tensor2D));
    const pre: tf.Tensor2D[] = [];
    let z: tf.Tensor2D | null = null;
    for (let i = 0; i <= last; i++) {
      const Wz = convexWeights[i];
      let s = tf.add(this.zLayers[i].passthrough.apply(tf.mul(y, ctx.yGates[i]) as tf.Tensor2D), ctx.uTerms[i]) as tf.Tensor2D;
      if (z !== null && Wz !== null) s = tf.add(s, tf.matMul(tf.mul(z, ctx.zGates[i - 1]) as tf.Tensor2D, Wz)) as tf.Tensor2D;
      pre.push(s);
      if (i < last) z = activation(s);
    }
    return { pre, convexWeights };
  }

  /**
   * Through the native z-path kernels where they serve (../backend/nativeGatedPath.ts: one tape node instead of about
   * a hundred kernel calls in a training step), else through the tfjs ops.
   */
  protected networkEnergy(context: EnergyContext, y: tf.Tensor2D): tf.Tensor1D {
    const fused = fusedGatedPathEnergy(() => {
      const path = this.gatedPath(context);
      return path === null ? null : { ...path, strongConvexity: 0 }; // this energy leaves out (α/2)‖y‖²
    }, y);
    if (fused !== null) return fused;
    const { pre } = this.zPath(context as PICNNContext, y, (s) => activate(this.o.activation, s, this.o.leakySlope) as tf.Tensor2D);
    return tf.reshape(pre[pre.length - 1], [y.shape[0]]) as tf.Tensor1D;
  }

  /**
   * Energy and ∇_y f per row with a hand-written backward pass through the z-path (§1.2), instead of tfjs's tape:
   * the same values from about a third of the kernels, and the kernels were most of an inner iteration's cost at the
   * RL agent's sizes (bench/rl.ts). With s_i the pre-activations, z_i = g(s_i) and ḡ_i = ∂f/∂s_i:
   *   ḡ_last = 1,  ḡ_i = ((ḡ_{i+1} W^(z)ᵀ_{i+1}) ∘ zgate_i) ∘ g′(s_i),  ∇_y f = Σ_i (ḡ_i W^(y)ᵀ_i) ∘ ygate_i (+ α y).
   * Every op here has a tfjs gradient, so ∇_θ of the result (argmin differentiation, §4.3) works as through the tape.
   */
  override energyAndGradFromContext(context: EnergyContext, y: tf.Tensor2D): { energy: tf.Tensor1D; grad: tf.Tensor2D } {
    return tf.tidy(() => {
      const ctx = context as PICNNContext;
      const { activation, leakySlope } = this.o;
      // tfjs's one-kernel leakyRelu is fine here: θ-gradients go through it only once (the y-gradient is below).
      const { pre, convexWeights } = this.zPath(ctx, y, (s) => (activation === 'leaky-relu' ? tf.leakyRelu(s, leakySlope) : activate(activation, s, leakySlope)) as tf.Tensor2D);
      const last = pre.length - 1;
      const alpha = this.o.strongConvexity;
      let energy = tf.reshape(pre[last], [y.shape[0]]) as tf.Tensor1D;
      if (alpha !== 0) energy = tf.add(energy, tf.mul(tf.sum(tf.square(y), 1), alpha / 2)) as tf.Tensor1D;
      // Backward: ∂f/∂z_last = 1 for every row.
      let gz: tf.Tensor2D = tf.ones([y.shape[0], 1]);
      let grad: tf.Tensor2D | null = alpha !== 0 ? (tf.mul(y, alpha) as tf.Tensor2D) : null;
      for (let i = last; i >= 0; i--) {
        const gs = i === last ? gz : (tf.mul(gz, activationDerivative(activation, pre[i], leakySlope)) as tf.Tensor2D);
        const gy = tf.mul(tf.matMul(gs, this.zLayers[i].passthrough.W as tf.Tensor2D, false, true), ctx.yGates[i]) as tf.Tensor2D;
        grad = grad === null ? gy : (tf.add(grad, gy) as tf.Tensor2D);
        const Wz = convexWeights[i];
        if (i > 0 && Wz !== null) gz = tf.mul(tf.matMul(gs, Wz, false, true), ctx.zGates[i - 1]) as tf.Tensor2D;
      }
      return { energy, grad: grad as tf.Tensor2D };
    });
  }

  /** The z-path at the context's x (./gatedPath.ts); null under softplus, whose g′ is not a mask. */
  override gatedPath(context: EnergyContext): GatedPath | null {
    const { activation, leakySlope, strongConvexity } = this.o;
    if (activation === 'softplus') return null;
    const ctx = context as PICNNContext;
    return {
      layers: this.zLayers.map((l, i) => ({
        yGate: ctx.yGates[i], passthrough: l.passthrough.W as tf.Tensor2D, uTerm: ctx.uTerms[i],
        zGate: i > 0 ? ctx.zGates[i - 1] : null, convex: l.convex === null ? null : (l.convex.weight() as tf.Tensor2D),
      })),
      negativeSlope: activation === 'relu' ? 0 : leakySlope,
      strongConvexity,
    };
  }

  /**
   * §3.1 with x fixed: A_i = W^(z)_i scaled by the z-gate [W^(zu) u_i + b^(z)]_+ ≥ 0 (per input unit of z_i),
   * B_i = W^(y)_i scaled by the y-gate W^(yu) u_i + b^(y) (per coordinate of y), c_i = W^(u) u_i + b_i.
   */
  override affineStructure(x: tf.Tensor2D | null, batch: number): AffineStructure {
    if (x === null) fail('PICNN.affineStructure: x is required');
    const { yDim, activation, leakySlope, strongConvexity } = this.config;
    const positive = this.zLayers.map(({ convex }) => convex?.readWeight() ?? null);
    const passthrough = this.zLayers.map(({ passthrough: p }) => readValues(() => p.W));
    const ctx = this.buildContext(x, batch, false);
    let zGates: Rows[];
    let yGates: Rows[];
    let uTerms: Rows[];
    try {
      zGates = ctx.zGates.map(readRows);
      yGates = ctx.yGates.map(readRows);
      uTerms = ctx.uTerms.map(readRows);
    } finally {
      disposeContext(ctx);
    }
    const widths = this.zWidths;
    const layers = (row: number) => widths.map((m, i) => {
      const B = transposed(passthrough[i], yDim, m, rowOf(yGates[i], row));
      const c = rowOf(uTerms[i], row);
      const Wz = positive[i];
      if (Wz === null) return { outDim: m, zDim: 0, A: null, B, c };
      return { outDim: m, zDim: widths[i - 1], A: transposed(Wz, widths[i - 1], m, rowOf(zGates[i - 1], row)), B, c };
    });
    return {
      rows: batch, yDim, widths, hidden: { activation, leakySlope }, strongConvexity, shared: false,
      positiveWeights: this.positiveWeightValues(), layers,
    };
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
