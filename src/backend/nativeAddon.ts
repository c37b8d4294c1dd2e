/**
 * Loading the optional native addon (`native/`, a C++ N-API module built by the install script; see the README's
 * "Native kernels"). Absent, unloadable or disabled with `ICNN_NATIVE=0`, it is simply not used: the wasm backend then
 * runs its own kernels, with the same results.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What `native/src/addon.cc` exports. */
export interface NativeAddon {
  /** Micro-kernel instruction set chosen at load (avx512, avx2+fma or generic), threads, tile shape. */
  info(): { isa: string; threads: number; mr: number; nr: number };
  /**
   * C[b] = act(op(A)[aOffsets[b]] · op(B)[bOffsets[b]] + bias) in place inside `heap`: matrices at byte offsets,
   * per-batch offsets in elements, bias at `biasOffset` bytes (−1: none) with `biasLength` values (1 or n), and
   * likewise the PReLU slopes (activation 3).
   */
  gemm(heap: ArrayBuffer, aOffset: number, bOffset: number, cOffset: number, aBatchOffsets: Int32Array,
    bBatchOffsets: Int32Array, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean,
    biasOffset: number, biasLength: number, activation: number, alpha: number, preluOffset: number,
    preluLength: number): void;
  /**
   * NHWC convolution in place inside `heap` (byte offsets of x, the [kh, kw, c, f] filter and the output); `dims`:
   * batch, inH, inW, inC, filterH, filterW, outC, outH, outW, strideH, strideW, dilationH, dilationW, padTop, padLeft.
   */
  conv2d(heap: ArrayBuffer, xOffset: number, filterOffset: number, outOffset: number, dims: Int32Array): void;
  /** The input gradient of that convolution (dims as for conv2d): dy [batch, outH, outW, outC] in, dx out. */
  conv2dBackpropInput(heap: ArrayBuffer, dyOffset: number, filterOffset: number, dxOffset: number, dims: Int32Array): void;
  /** The filter gradient of that convolution (dims as for conv2d): x and dy [batch, outH, outW, outC] in, dW out. */
  conv2dBackpropFilter(heap: ArrayBuffer, xOffset: number, dyOffset: number, dwOffset: number, dims: Int32Array): void;
  /**
   * One fused Adam step (native/src/adam.h) of `count` values in place inside `heap`: byte offsets of the value, m,
   * v and gradient, then of the new value, m and v; β1, 1 − β1, β2, 1 − β2, 1 − β1^t, 1 − β2^t, ε and −lr.
   */
  adam(heap: ArrayBuffer, value: number, m: number, v: number, grad: number, newValue: number, newM: number,
    newV: number, count: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number,
    biasCorrection1: number, biasCorrection2: number, epsilon: number, negLearningRate: number): void;
  /**
   * TensorFlow 1's Adam step (../learning/adam.ts) on JavaScript arrays, in place: m, v and params (same length as
   * grad), then lr·√(1 − β2^t)/(1 − β1^t), β1, 1 − β1, β2, 1 − β2 and ε.
   */
  /** θ' ← θ' − τ(θ' − θ) on flat arrays of one length, target in place (native/src/soft_update.h). */
  softUpdate(target: Float32Array, online: Float32Array, tau: number): void;
  adamTf1(m: Float32Array, v: Float32Array, params: Float32Array, grad: Float32Array, lrT: number, beta1: number,
    oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, epsilon: number): void;
  /** Sums of x read as an outer × inner matrix, over the outer index (`reduceOuter`) or the inner one. */
  reduceSum(heap: ArrayBuffer, xOffset: number, outOffset: number, outer: number, inner: number, reduceOuter: boolean): void;
  /**
   * A PICNN z-path's energies and ∇_y f (native/src/gated_path.h) in place inside `heap`. `dims`: rows, d, layers,
   * then each layer's width; `offsets` in bytes (−1: absent): y, energy, grad, then per layer yGate, passthrough,
   * uTerm, zGate, convex.
   */
  gatedPath(heap: ArrayBuffer, offsets: Float64Array, dims: Int32Array, negativeSlope: number, strongConvexity: number): void;
  /**
   * The reverse pass of that z-path (native/src/gated_path.h) in place inside `heap`: `dims` as for gatedPath;
   * `offsets`: y, dEnergy (upstream, [rows]), dy, then per layer yGate, passthrough, uTerm, zGate, convex and their
   * five gradients in the same order.
   */
  gatedPathVjp(heap: ArrayBuffer, offsets: Float64Array, dims: Int32Array, negativeSlope: number, strongConvexity: number): void;
}

export type NativeLoad = { addon: NativeAddon; reason: null } | { addon: null; reason: string };

/** Where node-gyp puts the addon (relative to this file, in src/ under tsx and in dist/ once built). */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/icnn_native.node', import.meta.url));

/** Load the addon, or say in one line why not. Never throws. */
export function loadNativeAddon(path: string = NATIVE_ADDON_PATH, env: NodeJS.ProcessEnv = process.env): NativeLoad {
  if (env.ICNN_NATIVE === '0') return { addon: null, reason: 'disabled by ICNN_NATIVE=0' };
  if (!existsSync(path)) return { addon: null, reason: 'addon not built (the install script builds native/)' };
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    addon.info();
    return { addon, reason: null };
  } catch (e) {
    return { addon: null, reason: `addon failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}
