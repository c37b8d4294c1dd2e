/**
 * Convolutional PICNN (§1.3), on the DQN architecture the authors used for Olivetti face completion (§5.3):
 * x and y are images of the same height and width (x: one half of a face, mirrored; y: the other half).
 *
 * u-path: conv layers (default 32@8×8/4, 64@4×4/2, 64@3×3/1, 'same' padding), each conv + g̃ (+ batch norm),
 *   then fully connected layers (default 512), each FC + g̃ (+ batch norm): bn(relu(fc)) as the authors'.
 * z-path, conv layer l (kernel k_l, stride s_l):
 *   z_{l+1} = g( conv_{k,s}^{W(z)≥0}(z_l ∘ [conv3×3(u_l)]_+)            (l ≥ 1)
 *              + conv_{k,s}(ŷ_l ∘ conv3×3(u_l))                          (y passthrough, gate of any sign)
 *              + conv_{k,s}(u_l) + b )
 *   where ŷ_0 = y and ŷ_{l+1} = conv_{k,s}(ŷ_l) + b (one channel, affine in y: the "S y" rescaling of §1.3).
 * z-path, fully connected layers and the final scalar (no y term, as in the authors' code):
 *   z_{j+1} = g( W^(z)(z_j ∘ gate_j) + W^(u) u_j + b ),  gate_j = [conv3×3(u_L)]_+ on the last conv map for the
 *   first FC layer (then flattened; with firstFcGate 'fc', the authors' [W^(zu) flat(u_L) + b^(z)]_+) and
 *   [W^(zu) u_j + b^(z)]_+ after it; the final layer is linear, width 1.
 * Every y-dependence is affine before a non-negative combination and convex non-decreasing g, so f is convex in y.
 */
import * as tf from '@tensorflow/tfjs';
import { activate, checkFreeActivation, type FreeActivation } from './activations.js';
import { addBatchNorm, applyBatchNorm } from './batchNorm.js';
import { CONVEX_OPTION_KEYS, resolveConvexOptions, type ConvexOptions, type ResolvedConvexOptions } from './common.js';
import { EnergyModel, type EnergyContext } from './energyModel.js';
import { WEIGHT_INITS, type WeightDraw, type WeightInit } from './init.js';
import { checkIntArray, checkNumberInRange, checkOneOf, checkOptionKeys, checkPositiveInt } from '../util/options.js';
import { fail } from '../util/errors.js';
import { registerModelKind } from './registry.js';

/** One convolution layer of a ConvPICNN's x-path: filters, square kernel size, stride. */
export interface ConvLayerSpec {
  filters: number;
  kernel: number;
  stride: number;
}

/** Options of `ConvPICNN`: image shape of x, its convolution layers, y's width and the convex layers. */
export interface ConvPICNNOptions extends ConvexOptions {
  /** [height, width, channels] of x. */
  xShape: number[];
  /** [height, width, channels] of y (same height and width as x). */
  yShape: number[];
  /** Convolutional layers (default: DQN, 32@8/4, 64@4/2, 64@3/1). */
  conv?: ConvLayerSpec[];
  /** Fully connected hidden widths after the convolutions (default [512]). */
  fcHidden?: number[];
  /** u-path activation (default 'relu'). */
  uActivation?: FreeActivation;
  /** Batch normalization on the u-path (default true, as the authors' Olivetti model). */
  batchNorm?: boolean;
  /** Initial value of the gate biases b^(z), b^(y) (default 1, §1.4; the authors' Olivetti code leaves them at 0). */
  gateBias?: number;
  /**
   * Draw of the conv layers' weights (W^(z) then |·|·absScale): 'lecun-normal', 'truncated-normal' (std weightStd,
   * 0.02 when unset) or 'uniform-scaling' (variance 1/fan_in, the authors' tflearn conv default). Default: as weightStd.
   */
  convInit?: WeightInit;
  /** Draw of the fully connected layers' weights (the authors': 'truncated-normal', std 0.02). Default: as weightStd. */
  fcInit?: WeightInit;
  /**
   * Gate of the first FC z-layer, [·]_+ of a function of the last conv map u_L: 'conv3x3' (default, a 3×3 conv
   * keeping its channels) or 'fc' (the authors' FC layer of the flattened map onto itself, 2048 → 2048 on Olivetti).
   */
  firstFcGate?: FirstFcGate;
}

export const FIRST_FC_GATES = ['conv3x3', 'fc'] as const;
export type FirstFcGate = (typeof FIRST_FC_GATES)[number];

/** The authors' truncated-normal std (tflearn's default), used by 'truncated-normal' when weightStd is unset. */
const TFLEARN_STD = 0.02;

/** A ConvPICNN's configuration with every default filled in (as saved). */
export type ConvPICNNConfig = Required<ConvPICNNOptions>;

/** The DQN convolution stack (Mnih et al. 2015): 32 8×8/4, 64 4×4/2, 64 3×3/1. */
export const DQN_CONV_LAYERS: ConvLayerSpec[] = [
  { filters: 32, kernel: 8, stride: 4 },
  { filters: 64, kernel: 4, stride: 2 },
  { filters: 64, kernel: 3, stride: 1 },
];

const KEYS = ['xShape', 'yShape', 'conv', 'fcHidden', 'uActivation', 'batchNorm', 'gateBias', 'convInit', 'fcInit', 'firstFcGate',
  ...CONVEX_OPTION_KEYS] as const;
const GATE_KERNEL = 3;

interface ConvContext extends EnergyContext {
  /** Per conv layer l ≥ 1: [conv3×3(u_l)]_+ (index l - 1); then the gate of the first FC layer. */
  convZGates: tf.Tensor4D[];
  /** Per conv layer: conv3×3(u_l), gate of ŷ_l. */
  yGates: tf.Tensor4D[];
  /** Per conv layer: conv_{k,s}(u_l) + b. */
  convUTerms: tf.Tensor4D[];
  /** Per FC layer j (including the final scalar): the z-gate (j ≥ 1; index j - 1) and W^(u) u_j + b. */
  fcZGates: tf.Tensor2D[];
  fcUTerms: tf.Tensor2D[];
}

function checkImageShape(where: string, name: string, v: unknown): number[] {
  const s = checkIntArray(where, name, v);
  if (s.length !== 3) fail(`${where}: ${name} must be [height, width, channels], got ${JSON.stringify(v)}`);
  return s;
}

/** Output size of a 'same' convolution. */
function sameOut(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/** A PICNN whose x-path is a convolutional network (§1.2), for image inputs such as §5.3's faces. */
export class ConvPICNN extends EnergyModel {
  readonly kind = 'ConvPICNN' as const;
  readonly config: ConvPICNNConfig;
  readonly xShape: readonly number[];
  readonly yShape: readonly number[];
  private readonly o: ResolvedConvexOptions;
  /** Spatial sizes [h, w] of u_l / z_l for l = 0 … L. */
  private readonly spatial: [number, number][];

  constructor(options: ConvPICNNOptions) {
    if (options === undefined || options === null) fail('ConvPICNN: options { xShape, yShape } are required');
    checkOptionKeys('ConvPICNN', options, KEYS);
    const o = resolveConvexOptions('ConvPICNN', options);
    const xShape = checkImageShape('ConvPICNN', 'xShape', options.xShape);
    const yShape = checkImageShape('ConvPICNN', 'yShape', options.yShape);
    if (xShape[0] !== yShape[0] || xShape[1] !== yShape[1]) {
      fail(`ConvPICNN: x and y must have the same height and width, got xShape [${xShape.join(', ')}] and yShape [${yShape.join(', ')}]`);
    }
    const conv = (options.conv ?? DQN_CONV_LAYERS).map((c, i) => {
      checkOptionKeys(`ConvPICNN conv[${i}]`, c, ['filters', 'kernel', 'stride']);
      return {
        filters: checkPositiveInt('ConvPICNN', `conv[${i}].filters`, c.filters),
        kernel: checkPositiveInt('ConvPICNN', `conv[${i}].kernel`, c.kernel),
        stride: checkPositiveInt('ConvPICNN', `conv[${i}].stride`, c.stride),
      };
    });
    if (conv.length === 0) fail('ConvPICNN: conv must have at least one layer');
    const fcHidden = checkIntArray('ConvPICNN', 'fcHidden', options.fcHidden ?? [512]);
    const uActivation = checkFreeActivation('ConvPICNN (uActivation)', options.uActivation ?? 'relu');
    const batchNorm = options.batchNorm ?? true;
    if (typeof batchNorm !== 'boolean') fail(`ConvPICNN: batchNorm must be a boolean, got ${JSON.stringify(batchNorm)}`);
    const gateBias = options.gateBias === undefined ? 1 : checkNumberInRange('ConvPICNN', 'gateBias', options.gateBias, -1e6, 1e6);
    const byStd: WeightInit = o.weightStd === null ? 'lecun-normal' : 'truncated-normal';
    const convInit = checkOneOf('ConvPICNN', 'convInit', options.convInit ?? byStd, WEIGHT_INITS);
    const fcInit = checkOneOf('ConvPICNN', 'fcInit', options.fcInit ?? byStd, WEIGHT_INITS);
    const firstFcGate = checkOneOf('ConvPICNN', 'firstFcGate', options.firstFcGate ?? 'conv3x3', FIRST_FC_GATES);
    super(o.positivity, o.seed, o.weightStd);
    this.o = o;
    this.config = { xShape, yShape, conv, fcHidden, uActivation, batchNorm, gateBias, convInit, fcInit, firstFcGate, ...o };
    // Per-layer-group draws (the authors' Olivetti model: FC truncated normal 0.02, convs uniform scaling).
    const convDraw: WeightDraw = { scheme: convInit, std: o.weightStd ?? TFLEARN_STD };
    const fcDraw: WeightDraw = { scheme: fcInit, std: o.weightStd ?? TFLEARN_STD };
    this.xShape = xShape;
    this.yShape = yShape;

    this.spatial = [[xShape[0], xShape[1]]];
    for (const c of conv) {
      const [h, w] = this.spatial[this.spatial.length - 1];
      this.spatial.push([sameOut(h, c.stride), sameOut(w, c.stride)]);
    }
    const L = conv.length;
    let uc = xShape[2];
    let zc = 0;
    let yc = yShape[2];
    for (let l = 0; l < L; l++) {
      const { filters: f, kernel: k } = conv[l];
      this.addFreeWeight(`u${l}.W`, [k, k, uc, f], k * k * uc, convDraw);
      this.addConstant(`u${l}.b`, [f], 0);
      if (batchNorm) addBatchNorm(this.store, `u${l}.bn`, f);
      if (l > 0) {
        this.addFreeWeight(`z${l}.Wzu`, [GATE_KERNEL, GATE_KERNEL, uc, zc], GATE_KERNEL * GATE_KERNEL * uc, convDraw);
        this.addConstant(`z${l}.bz`, [zc], gateBias);
        this.addConvexWeight(`z${l}.Wz`, [k, k, zc, f], k * k * zc, o, `z${l}.b`, convDraw);
      } else {
        this.addConstant(`z${l}.b`, [f], 0);
      }
      this.addFreeWeight(`z${l}.Wyu`, [GATE_KERNEL, GATE_KERNEL, uc, yc], GATE_KERNEL * GATE_KERNEL * uc, convDraw);
      this.addConstant(`z${l}.by`, [yc], gateBias);
      this.addFreeWeight(`z${l}.Wy`, [k, k, yc, f], k * k * yc, convDraw);
      this.addFreeWeight(`z${l}.Wu`, [k, k, uc, f], k * k * uc, convDraw);
      if (l + 1 < L) {
        this.addFreeWeight(`yr${l}.W`, [k, k, yc, 1], k * k * yc, convDraw);
        this.addConstant(`yr${l}.b`, [1], 0);
      }
      uc = f;
      zc = f;
      yc = 1;
    }
    // Fully connected part: z-layers L … L+J (the last is the scalar output).
    const [hL, wL] = this.spatial[L];
    const flat = hL * wL * uc;
    const fcWidths = [...fcHidden, 1];
    let uIn = flat;
    let zIn = flat;
    for (let j = 0; j < fcWidths.length; j++) {
      const m = fcWidths[j];
      const name = `fc${j}`;
      if (j === 0 && firstFcGate === 'conv3x3') {
        this.addFreeWeight(`${name}.Wzu`, [GATE_KERNEL, GATE_KERNEL, uc, zc], GATE_KERNEL * GATE_KERNEL * uc, convDraw);
        this.addConstant(`${name}.bz`, [zc], gateBias);
      } else {
        this.addFreeWeight(`${name}.Wzu`, [uIn, zIn], uIn, fcDraw);
        this.addConstant(`${name}.bz`, [zIn], gateBias);
      }
      this.addConvexWeight(`${name}.Wz`, [zIn, m], zIn, o, `${name}.b`, fcDraw);
      this.addFreeWeight(`${name}.Wu`, [uIn, m], uIn, fcDraw);
      if (j + 1 < fcWidths.length) {
        this.addFreeWeight(`ufc${j}.W`, [uIn, m], uIn, fcDraw);
        this.addConstant(`ufc${j}.b`, [m], 0);
        if (batchNorm) addBatchNorm(this.store, `ufc${j}.bn`, m);
      }
      uIn = m;
      zIn = m;
    }
  }

  protected get strongConvexity(): number {
    return this.o.strongConvexity;
  }

  private conv(t: tf.Tensor4D, w: string, stride: number): tf.Tensor4D {
    return tf.conv2d(t, this.p(w) as tf.Tensor4D, stride, 'same');
  }

  protected buildContext(x: tf.Tensor2D | null, batch: number, training: boolean): ConvContext {
    if (x === null) fail('ConvPICNN: x is required');
    const { conv, fcHidden, batchNorm, uActivation, firstFcGate } = this.config;
    const terms = tf.tidy(() => {
      const convZGates: tf.Tensor4D[] = [];
      const yGates: tf.Tensor4D[] = [];
      const convUTerms: tf.Tensor4D[] = [];
      const fcZGates: tf.Tensor2D[] = [];
      const fcUTerms: tf.Tensor2D[] = [];
      let u: tf.Tensor4D = tf.reshape(x, [batch, ...this.xShape] as [number, number, number, number]) as tf.Tensor4D;
      for (let l = 0; l < conv.length; l++) {
        const { stride } = conv[l];
        if (l > 0) convZGates.push(tf.relu(tf.add(this.conv(u, `z${l}.Wzu`, 1), this.p(`z${l}.bz`))) as tf.Tensor4D);
        yGates.push(tf.add(this.conv(u, `z${l}.Wyu`, 1), this.p(`z${l}.by`)) as tf.Tensor4D);
        convUTerms.push(tf.add(this.conv(u, `z${l}.Wu`, stride), this.p(`z${l}.b`)) as tf.Tensor4D);
        let next: tf.Tensor = tf.add(this.conv(u, `u${l}.W`, stride), this.p(`u${l}.b`));
        next = activate(uActivation, next, this.o.leakySlope);
        if (batchNorm) next = applyBatchNorm(this.store, `u${l}.bn`, next, training);
        u = next as tf.Tensor4D;
      }
      let uf = tf.reshape(u, [batch, -1]) as tf.Tensor2D;
      // First FC layer's gate, on the last conv map: a 3×3 conv (kept as a map), or FC on the flattened map.
      if (firstFcGate === 'conv3x3') convZGates.push(tf.relu(tf.add(this.conv(u, 'fc0.Wzu', 1), this.p('fc0.bz'))) as tf.Tensor4D);
      const J = fcHidden.length;
      for (let j = 0; j <= J; j++) {
        if (j > 0 || firstFcGate === 'fc') {
          fcZGates.push(tf.relu(tf.add(tf.matMul(uf, this.p(`fc${j}.Wzu`) as tf.Tensor2D), this.p(`fc${j}.bz`))) as tf.Tensor2D);
        }
        fcUTerms.push(tf.add(tf.matMul(uf, this.p(`fc${j}.Wu`) as tf.Tensor2D), this.p(`fc${j}.b`)) as tf.Tensor2D);
        if (j < J) {
          let next: tf.Tensor = tf.add(tf.matMul(uf, this.p(`ufc${j}.W`) as tf.Tensor2D), this.p(`ufc${j}.b`));
          // Every hidden FC u-layer is bn(g̃(·)) as the authors' (icnn_ebundle.py); only the scalar output is linear.
          next = activate(uActivation, next, this.o.leakySlope);
          if (batchNorm) next = applyBatchNorm(this.store, `ufc${j}.bn`, next, training);
          uf = next as tf.Tensor2D;
        }
      }
      return { convZGates, yGates, convUTerms, fcZGates, fcUTerms };
    });
    return {
      batch,
      ...terms,
      tensors: [...terms.convZGates, ...terms.yGates, ...terms.convUTerms, ...terms.fcZGates, ...terms.fcUTerms],
    };
  }

  protected networkEnergy(context: EnergyContext, y: tf.Tensor2D): tf.Tensor1D {
    const ctx = context as ConvContext;
    const { conv, fcHidden, firstFcGate } = this.config;
    const n = y.shape[0];
    const g = (t: tf.Tensor) => activate(this.o.activation, t, this.o.leakySlope);
    let yr: tf.Tensor4D = tf.reshape(y, [n, ...this.yShape] as [number, number, number, number]) as tf.Tensor4D;
    let z: tf.Tensor4D | null = null;
    for (let l = 0; l < conv.length; l++) {
      const { stride } = conv[l];
      let s: tf.Tensor = tf.add(this.conv(tf.mul(yr, ctx.yGates[l]) as tf.Tensor4D, `z${l}.Wy`, stride), ctx.convUTerms[l]);
      if (z !== null) s = tf.add(s, this.conv(tf.mul(z, ctx.convZGates[l - 1]) as tf.Tensor4D, `z${l}.Wz`, stride));
      if (l + 1 < conv.length) yr = tf.add(this.conv(yr, `yr${l}.W`, stride), this.p(`yr${l}.b`)) as tf.Tensor4D;
      z = g(s) as tf.Tensor4D;
    }
    const convGate = firstFcGate === 'conv3x3';
    const gatedLast = convGate ? tf.mul(z as tf.Tensor4D, ctx.convZGates[conv.length - 1]) : (z as tf.Tensor4D);
    let zf = tf.reshape(gatedLast, [n, -1]) as tf.Tensor2D;
    const J = fcHidden.length;
    // fcZGates[i] gates FC layer i + 1 with the conv gate, layer i with the FC gate.
    const gateOffset = convGate ? 1 : 0;
    for (let j = 0; j <= J; j++) {
      const gated = j === 0 && convGate ? zf : tf.mul(zf, ctx.fcZGates[j - gateOffset]) as tf.Tensor2D;
      const s = tf.add(tf.matMul(gated, this.p(`fc${j}.Wz`) as tf.Tensor2D), ctx.fcUTerms[j]) as tf.Tensor2D;
      zf = j === J ? s : g(s) as tf.Tensor2D;
    }
    return tf.reshape(zf, [n]) as tf.Tensor1D;
  }

  protected describe(): string[] {
    const c = this.config;
    const convs = c.conv.map((l) => `${l.filters}@${l.kernel}×${l.kernel}/${l.stride}`).join(', ');
    const maps = this.spatial.map(([h, w]) => `${h}×${w}`).join(' → ');
    return [
      `conv layers ${convs} ('same' padding; maps ${maps}), then FC ${[...c.fcHidden, 1].join(' → ')}`,
      `u-path ${c.uActivation}${c.batchNorm ? ' + batch norm' : ''}; z-path ${this.o.activation}; init ${this.o.init} ` +
        `(conv ${c.convInit}, FC ${c.fcInit}); first FC gate ${c.firstFcGate}` +
        `${this.o.strongConvexity > 0 ? `, + (${this.o.strongConvexity}/2)||y||²` : ''}`,
    ];
  }
}

registerModelKind('ConvPICNN', (config) => new ConvPICNN(config as unknown as ConvPICNNOptions));
