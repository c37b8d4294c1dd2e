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
import * as tf from '@tensorflow/tfjs-core';
import * as v from 'valibot';
import { activate, freeActivation } from './activations.js';
import { addBatchNorm, applyBatchNorm } from './batchNorm.js';
import { CONVEX_OPTION_ENTRIES, layerWidths, resolveConvexOptions, type ResolvedConvexOptions } from './common.js';
import { ConvBlock, DenseBlock, PositiveConvBlock, PositiveDenseBlock } from './blocks.js';
import { EnergyModel, type EnergyContext } from './energyModel.js';
import { WEIGHT_INITS, type WeightDraw, type WeightInit } from './init.js';
import { POSITIVE_INT } from '../util/numbers.js';
import { arrayOf, bool, num, oneOf, optionsSchema, parseOptions, show } from '../util/schema.js';
import { fail } from '../util/errors.js';
import { registerModelKind } from './registry.js';

const CONV_LAYER = optionsSchema({ filters: num(POSITIVE_INT), kernel: num(POSITIVE_INT), stride: num(POSITIVE_INT) });
/** One convolutional layer of a ConvPICNN (§1.3): output channels, square kernel size and stride ('same' padding). */
export type ConvLayerSpec = v.InferOutput<typeof CONV_LAYER>;

/** [height, width, channels]. */
const imageShape = v.pipe(layerWidths, v.length(3, (issue) => `must be [height, width, channels], got ${show(issue.input)}`));

const CONV_PICNN_OPTIONS = optionsSchema({
  /** [height, width, channels] of x. */
  xShape: imageShape,
  /** [height, width, channels] of y (same height and width as x). */
  yShape: imageShape,
  /** Convolutional layers (default: DQN, 32@8/4, 64@4/2, 64@3/1). */
  conv: v.optional(v.pipe(arrayOf(CONV_LAYER, 'layers { filters, kernel, stride }'), v.minLength(1, 'must have at least one layer'))),
  /** Fully connected hidden widths after the convolutions (default [512]). */
  fcHidden: v.optional(layerWidths),
  /** u-path activation (default 'relu'). */
  uActivation: v.optional(freeActivation),
  /** Batch normalization on the u-path (default true, as the authors' Olivetti model). */
  batchNorm: v.optional(bool),
  /** Initial value of the gate biases b^(z), b^(y) (default 1, §1.4; the authors' Olivetti code leaves them at 0). */
  gateBias: v.optional(num({ min: -1e6, max: 1e6 })),
  /**
   * Draw of the conv layers' weights (W^(z) then |·|·absScale): 'lecun-normal', 'truncated-normal' (std weightStd,
   * 0.02 when unset) or 'uniform-scaling' (variance 1/fan_in, the authors' tflearn conv default). Default: as weightStd.
   */
  convInit: v.optional(oneOf(WEIGHT_INITS)),
  /** Draw of the fully connected layers' weights (the authors': 'truncated-normal', std 0.02). Default: as weightStd. */
  fcInit: v.optional(oneOf(WEIGHT_INITS)),
  /**
   * Gate of the first FC z-layer, [·]_+ of a function of the last conv map u_L: 'conv3x3' (default, a 3×3 conv
   * keeping its channels) or 'fc' (the authors' FC layer of the flattened map onto itself, 2048 → 2048 on Olivetti).
   */
  firstFcGate: v.optional(oneOf(['conv3x3', 'fc'])),
  ...CONVEX_OPTION_ENTRIES,
});
/**
 * Options of a ConvPICNN (§1.3, §5.3): the image shapes of x and y, the conv and FC layers (default the DQN stack),
 * batch norm, gate bias, the weight draws, the first FC gate and the shared convex-model options.
 */
export type ConvPICNNOptions = v.InferOutput<typeof CONV_PICNN_OPTIONS>;

export const FIRST_FC_GATES = CONV_PICNN_OPTIONS.entries.firstFcGate.wrapped.options;
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

const GATE_KERNEL = 3;

/** Conv z-layer l (kernel k_l, stride s_l) with its u-layer and the ŷ rescaling. */
interface ConvLayer {
  /** u_{l+1} = bn(g̃(conv_{k,s}(u_l) + b)), batch norm named `bn`. */
  u: ConvBlock;
  bn: string;
  /** conv3×3(u_l) + b^(z), made [·]_+ (l ≥ 1). */
  zGate: ConvBlock | null;
  /** conv_{k,s}^{W(z)≥0} (l ≥ 1). */
  convex: PositiveConvBlock | null;
  /** conv3×3(u_l) + b^(y). */
  yGate: ConvBlock;
  /** conv_{k,s} of the gated ŷ_l. */
  passthrough: ConvBlock;
  /** conv_{k,s}(u_l) + b. */
  uTerm: ConvBlock;
  /** ŷ_{l+1} = conv_{k,s}(ŷ_l) + b (all but the last conv layer). */
  yRescale: ConvBlock | null;
}

/** Fully connected z-layer j (the last is the scalar output). */
interface FcLayer {
  /** The gate before [·]_+: a 3×3 conv of the last conv map (j = 0 with firstFcGate 'conv3x3') or dense. */
  zGate: ConvBlock | DenseBlock;
  convex: PositiveDenseBlock;
  /** W^(u) u_j + b. */
  uTerm: DenseBlock;
  /** The next u-layer, bn(g̃(W u_j + b)) (all but the last), batch norm named `bn`. */
  u: DenseBlock | null;
  bn: string;
}

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

/** Channels of u_l, z_l and ŷ_l entering a conv layer (z: 0 before the first). */
interface Channels {
  u: number;
  z: number;
  y: number;
}

/** Validates the options (CONV_PICNN_OPTIONS) and fills in the defaults. */
function resolveConfig(options: ConvPICNNOptions): { config: ConvPICNNConfig; o: ResolvedConvexOptions } {
  if (options === undefined || options === null) fail('ConvPICNN: options { xShape, yShape } are required');
  const p = parseOptions('ConvPICNN', CONV_PICNN_OPTIONS, options);
  const o = resolveConvexOptions(p);
  const { xShape, yShape, fcHidden = [512], uActivation = 'relu', batchNorm = true, gateBias = 1, firstFcGate = 'conv3x3' } = p;
  if (xShape[0] !== yShape[0] || xShape[1] !== yShape[1]) {
    fail(`ConvPICNN: x and y must have the same height and width, got xShape [${xShape.join(', ')}] and yShape [${yShape.join(', ')}]`);
  }
  const conv = p.conv ?? DQN_CONV_LAYERS.map((c) => ({ ...c }));
  const byStd: WeightInit = o.weightStd === null ? 'lecun-normal' : 'truncated-normal';
  const { convInit = byStd, fcInit = byStd } = p;
  return { config: { xShape, yShape, conv, fcHidden, uActivation, batchNorm, gateBias, convInit, fcInit, firstFcGate, ...o }, o };
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
  private readonly convLayers: ConvLayer[] = [];
  private readonly fcLayers: FcLayer[] = [];

  constructor(options: ConvPICNNOptions) {
    const { config, o } = resolveConfig(options);
    super(o.positivity, o.seed, o.weightStd);
    this.o = o;
    this.config = config;
    this.xShape = config.xShape;
    this.yShape = config.yShape;
    // Per-layer-group draws (the authors' Olivetti model: FC truncated normal 0.02, convs uniform scaling).
    const convDraw: WeightDraw = { scheme: config.convInit, std: o.weightStd ?? TFLEARN_STD };
    const fcDraw: WeightDraw = { scheme: config.fcInit, std: o.weightStd ?? TFLEARN_STD };
    this.spatial = [[config.xShape[0], config.xShape[1]]];
    for (const c of config.conv) {
      const [h, w] = this.spatial[this.spatial.length - 1];
      this.spatial.push([sameOut(h, c.stride), sameOut(w, c.stride)]);
    }
    let channels: Channels = { u: config.xShape[2], z: 0, y: config.yShape[2] };
    config.conv.forEach((spec, l) => {
      this.convLayers.push(this.addConvLayer(l, spec, channels, convDraw));
      channels = { u: spec.filters, z: spec.filters, y: 1 };
    });
    // Fully connected part: z-layers L … L+J (the last is the scalar output).
    const [hL, wL] = this.spatial[config.conv.length];
    const flat = hL * wL * channels.u;
    const fcWidths = [...config.fcHidden, 1];
    fcWidths.forEach((m, j) => {
      const inDim = j === 0 ? flat : fcWidths[j - 1];
      this.fcLayers.push(this.addFcLayer(j, inDim, m, j + 1 < fcWidths.length, channels, { conv: convDraw, fc: fcDraw }));
    });
  }

  /** Registers conv z-layer l (and its u-layer, ŷ rescaling) in the order of the serialization contract. */
  private addConvLayer(l: number, spec: ConvLayerSpec, c: Channels, draw: WeightDraw): ConvLayer {
    const { filters: f, kernel: k, stride } = spec;
    const { batchNorm, gateBias } = this.config;
    const g2 = GATE_KERNEL * GATE_KERNEL;
    const u = new ConvBlock(this.addFreeWeight(`u${l}.W`, [k, k, c.u, f], k * k * c.u, draw), this.addConstant(`u${l}.b`, [f], 0), stride);
    if (batchNorm) addBatchNorm(this.store, `u${l}.bn`, f);
    let zGate: ConvBlock | null = null;
    let convex: PositiveConvBlock | null = null;
    let bias: tf.Variable | null;
    if (l > 0) {
      const wzu = this.addFreeWeight(`z${l}.Wzu`, [GATE_KERNEL, GATE_KERNEL, c.u, c.z], g2 * c.u, draw);
      zGate = new ConvBlock(wzu, this.addConstant(`z${l}.bz`, [c.z], gateBias), 1);
      const wz = this.addConvexWeight(`z${l}.Wz`, [k, k, c.z, f], k * k * c.z, this.o, `z${l}.b`, draw);
      convex = new PositiveConvBlock(wz.weight, this.o.positivity, stride);
      bias = wz.bias;
    } else {
      bias = this.addConstant(`z${l}.b`, [f], 0);
    }
    const wyu = this.addFreeWeight(`z${l}.Wyu`, [GATE_KERNEL, GATE_KERNEL, c.u, c.y], g2 * c.u, draw);
    const yGate = new ConvBlock(wyu, this.addConstant(`z${l}.by`, [c.y], gateBias), 1);
    const passthrough = new ConvBlock(this.addFreeWeight(`z${l}.Wy`, [k, k, c.y, f], k * k * c.y, draw), null, stride);
    const uTerm = new ConvBlock(this.addFreeWeight(`z${l}.Wu`, [k, k, c.u, f], k * k * c.u, draw), bias, stride);
    let yRescale: ConvBlock | null = null;
    if (l + 1 < this.config.conv.length) {
      const w = this.addFreeWeight(`yr${l}.W`, [k, k, c.y, 1], k * k * c.y, draw);
      yRescale = new ConvBlock(w, this.addConstant(`yr${l}.b`, [1], 0), stride);
    }
    return { u, bn: `u${l}.bn`, zGate, convex, yGate, passthrough, uTerm, yRescale };
  }

  /**
   * Registers FC z-layer j (in → m) and, unless it is the last, the next FC u-layer. `c` holds the channels of the
   * last conv map, which the first layer's 3×3 gate acts on.
   */
  private addFcLayer(j: number, inDim: number, m: number, hasNext: boolean, c: Channels, draw: { conv: WeightDraw; fc: WeightDraw }): FcLayer {
    const { batchNorm, gateBias } = this.config;
    const name = `fc${j}`;
    let zGate: ConvBlock | DenseBlock;
    if (j === 0 && this.config.firstFcGate === 'conv3x3') {
      const w = this.addFreeWeight(`${name}.Wzu`, [GATE_KERNEL, GATE_KERNEL, c.u, c.z], GATE_KERNEL * GATE_KERNEL * c.u, draw.conv);
      zGate = new ConvBlock(w, this.addConstant(`${name}.bz`, [c.z], gateBias), 1);
    } else {
      const w = this.addFreeWeight(`${name}.Wzu`, [inDim, inDim], inDim, draw.fc);
      zGate = new DenseBlock(w, this.addConstant(`${name}.bz`, [inDim], gateBias));
    }
    const wz = this.addConvexWeight(`${name}.Wz`, [inDim, m], inDim, this.o, `${name}.b`, draw.fc);
    const uTerm = new DenseBlock(this.addFreeWeight(`${name}.Wu`, [inDim, m], inDim, draw.fc), wz.bias);
    let u: DenseBlock | null = null;
    if (hasNext) {
      u = new DenseBlock(this.addFreeWeight(`ufc${j}.W`, [inDim, m], inDim, draw.fc), this.addConstant(`ufc${j}.b`, [m], 0));
      if (batchNorm) addBatchNorm(this.store, `ufc${j}.bn`, m);
    }
    return { zGate, convex: new PositiveDenseBlock(wz.weight, this.o.positivity), uTerm, u, bn: `ufc${j}.bn` };
  }

  protected get strongConvexity(): number {
    return this.o.strongConvexity;
  }

  protected buildContext(x: tf.Tensor2D | null, batch: number, training: boolean): ConvContext {
    if (x === null) fail('ConvPICNN: x is required');
    const { batchNorm, uActivation } = this.config;
    const terms = tf.tidy(() => {
      const convZGates: tf.Tensor4D[] = [];
      const yGates: tf.Tensor4D[] = [];
      const convUTerms: tf.Tensor4D[] = [];
      const fcZGates: tf.Tensor2D[] = [];
      const fcUTerms: tf.Tensor2D[] = [];
      let u: tf.Tensor4D = tf.reshape(x, [batch, ...this.xShape] as [number, number, number, number]) as tf.Tensor4D;
      for (const layer of this.convLayers) {
        if (layer.zGate !== null) convZGates.push(tf.relu(layer.zGate.apply(u)));
        yGates.push(layer.yGate.apply(u));
        convUTerms.push(layer.uTerm.apply(u));
        let next: tf.Tensor = activate(uActivation, layer.u.apply(u), this.o.leakySlope);
        if (batchNorm) next = applyBatchNorm(this.store, layer.bn, next, training);
        u = next as tf.Tensor4D;
      }
      let uf = tf.reshape(u, [batch, -1]) as tf.Tensor2D;
      for (const layer of this.fcLayers) {
        // First FC layer's gate, on the last conv map: a 3×3 conv (kept as a map), or FC on the flattened map.
        if (layer.zGate instanceof ConvBlock) convZGates.push(tf.relu(layer.zGate.apply(u)));
        else fcZGates.push(tf.relu(layer.zGate.apply(uf)));
        fcUTerms.push(layer.uTerm.apply(uf));
        if (layer.u !== null) {
          // Every hidden FC u-layer is bn(g̃(·)) as the authors' (icnn_ebundle.py); only the scalar output is linear.
          let next: tf.Tensor = activate(uActivation, layer.u.apply(uf), this.o.leakySlope);
          if (batchNorm) next = applyBatchNorm(this.store, layer.bn, next, training);
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
    const n = y.shape[0];
    const g = (t: tf.Tensor) => activate(this.o.activation, t, this.o.leakySlope);
    let yr: tf.Tensor4D = tf.reshape(y, [n, ...this.yShape] as [number, number, number, number]) as tf.Tensor4D;
    let z: tf.Tensor4D | null = null;
    const L = this.convLayers.length;
    for (let l = 0; l < L; l++) {
      const { passthrough, convex, yRescale } = this.convLayers[l];
      let s: tf.Tensor = tf.add(passthrough.apply(tf.mul(yr, ctx.yGates[l]) as tf.Tensor4D), ctx.convUTerms[l]);
      if (z !== null && convex !== null) s = tf.add(s, convex.apply(tf.mul(z, ctx.convZGates[l - 1]) as tf.Tensor4D));
      if (yRescale !== null) yr = yRescale.apply(yr);
      z = g(s) as tf.Tensor4D;
    }
    const convGate = this.config.firstFcGate === 'conv3x3';
    const gatedLast = convGate ? tf.mul(z as tf.Tensor4D, ctx.convZGates[L - 1]) : (z as tf.Tensor4D);
    let zf = tf.reshape(gatedLast, [n, -1]) as tf.Tensor2D;
    const J = this.fcLayers.length - 1;
    // fcZGates[i] gates FC layer i + 1 with the conv gate, layer i with the FC gate.
    const gateOffset = convGate ? 1 : 0;
    for (let j = 0; j <= J; j++) {
      const gated = j === 0 && convGate ? zf : tf.mul(zf, ctx.fcZGates[j - gateOffset]) as tf.Tensor2D;
      const s = tf.add(this.fcLayers[j].convex.apply(gated), ctx.fcUTerms[j]) as tf.Tensor2D;
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
