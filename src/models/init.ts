/**
 * Weight initialization.
 *
 * - Free weights: LeCun normal, N(0, 1/fan_in); or, with `weightStd`, a normal of that std truncated at ±2 std
 *   (the authors' tflearn default, std 0.02).
 * - Convex-path weights W^(z), scheme 'abs' (§1.4, the authors' code): draw like a free weight, then take
 *   |W|·absScale (absScale 1 for multi-label and RL, 0.5 Olivetti, 0.1 synthetic).
 * - Convex-path weights, scheme 'principled' (Hoedt & Klambauer, NeurIPS 2023; ../shared/anchors.md §3.6):
 *   log-normal weights whose squared mean is corr / f_c(fan_in) and variance 2/(1+α²)·(1-corr)/fan_in, and the
 *   layer bias shifted by -fan_in·sqrt(mean²·var/(2π)) to re-centre pre-activations.
 */
import { Rng } from '../util/random.js';

/** Initializations of W^(z): 'abs' (the paper's |W|) or 'principled' (Hoedt & Klambauer 2023). */
export const INIT_SCHEMES = ['abs', 'principled'] as const;
/** One of `INIT_SCHEMES`. */
export type InitScheme = (typeof INIT_SCHEMES)[number];

export function lecunNormal(rng: Rng, fanIn: number, count: number): Float32Array {
  return rng.fillNormal(count, 0, 1 / Math.sqrt(fanIn));
}

/**
 * N(0, std²) truncated at ±2 std (redrawn), tflearn's 'truncated_normal', the authors' weight init (std 0.02).
 */
export function truncatedNormal(rng: Rng, std: number, count: number): Float32Array {
  const w = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let z = rng.normal();
    while (Math.abs(z) > 2) z = rng.normal();
    w[i] = std * z;
  }
  return w;
}

/**
 * U(±√(3/fan_in)), variance 1/fan_in: tflearn's 'uniform_scaling' (factor 1), the authors' conv-layer default
 * (completion/icnn_ebundle.py builds its convs with tflearn.conv_2d).
 */
export function uniformScaling(rng: Rng, fanIn: number, count: number): Float32Array {
  const limit = Math.sqrt(3 / fanIn);
  return rng.fillUniform(count, -limit, limit);
}

/**
 * U(±1/√fan_out), for weights and biases alike: the authors' BibTeX feed-forward baseline (multi-label-cls/ff.py
 * draws every layer of width sz from tflearn's uniform(-1/√sz, 1/√sz)).
 */
export function fanOutUniform(rng: Rng, fanOut: number, count: number): Float32Array {
  const limit = 1 / Math.sqrt(fanOut);
  return rng.fillUniform(count, -limit, limit);
}

/** How a group of weight tensors is drawn (ConvPICNN lets its conv and FC layers differ, as the authors' model). */
export const WEIGHT_INITS = ['lecun-normal', 'truncated-normal', 'uniform-scaling'] as const;
export type WeightInit = (typeof WEIGHT_INITS)[number];

/** A weight draw: the scheme and, for 'truncated-normal', its std. */
export interface WeightDraw {
  scheme: WeightInit;
  std: number;
}

/** The draw `weightStd` implies: its truncated normal when given, else LeCun normal. */
export function drawFromStd(weightStd: number | null): WeightDraw {
  return weightStd === null ? { scheme: 'lecun-normal', std: 0 } : { scheme: 'truncated-normal', std: weightStd };
}

export function drawWeights(rng: Rng, draw: WeightDraw, fanIn: number, count: number): Float32Array {
  if (draw.scheme === 'uniform-scaling') return uniformScaling(rng, fanIn, count);
  return draw.scheme === 'truncated-normal' ? truncatedNormal(rng, draw.std, count) : lecunNormal(rng, fanIn, count);
}

/** A free weight: LeCun normal, or the truncated normal of std `weightStd` when that is given. */
export function freeInit(rng: Rng, fanIn: number, count: number, weightStd: number | null): Float32Array {
  return drawWeights(rng, drawFromStd(weightStd), fanIn, count);
}

export function absInit(rng: Rng, fanIn: number, count: number, scale: number, weightStd: number | null = null,
  draw: WeightDraw = drawFromStd(weightStd)): Float32Array {
  const w = drawWeights(rng, draw, fanIn, count);
  for (let i = 0; i < w.length; i++) w[i] = Math.abs(w[i]) * scale;
  return w;
}

/** f_c of Hoedt & Klambauer (their eq. 35): the correlation propagation factor for a given fan-in. */
function correlationFactor(fanIn: number, corr: number): number {
  const mix = Math.sqrt(1 - corr * corr) + corr * Math.acos(-corr);
  return (fanIn * (Math.PI - fanIn + (fanIn - 1) * mix)) / (2 * Math.PI);
}

export interface PrincipledInit {
  weights: Float32Array;
  /** Value for every entry of the layer's bias. */
  bias: number;
}

export function principledConvexInit(rng: Rng, fanIn: number, count: number,
  { corr = 0.5, leakySlope = 0, targetVar = 1 } = {}): PrincipledInit {
  const meanSq = corr / correlationFactor(fanIn, corr);
  const variance = ((2 / (1 + leakySlope * leakySlope)) * (1 - corr)) / fanIn;
  // Log-normal with E[w]² = meanSq and Var[w] = variance.
  const logMom2 = Math.log(meanSq + variance);
  const mu = Math.log(meanSq) - logMom2 / 2;
  const sigma = Math.sqrt(logMom2 - Math.log(meanSq));
  const weights = new Float32Array(count);
  for (let i = 0; i < count; i++) weights[i] = Math.exp(mu + sigma * rng.normal());
  const shift = fanIn * Math.sqrt((meanSq * targetVar) / (2 * Math.PI));
  return { weights, bias: -shift };
}

export function filled(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}
