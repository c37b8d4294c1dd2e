/**
 * `IcnnGatedPath`: f(x, y) and ∇_y f of a PICNN's z-path at fixed x (../models/gatedPath.ts, §1.2) for a batch of
 * rows as one native call on the wasm heap (native/src/gated_path.cc). An inner argmin over y evaluates this tens of
 * times per solve; through tfjs ops each evaluation is about forty kernel calls, whose dispatch cost more than their
 * arithmetic at the ICNN agent's sizes (bench/rl.ts). Registered with the other native kernels, so it exists only
 * where the addon loaded; `gatedPathKernelActive` says whether it can run now, and ../inference/oracle.ts falls back
 * to the tfjs ops elsewhere. No gradient is registered: it serves oracles, not tapes.
 *
 * Inputs: `y` [rows, d] and, per layer i, `yGate{i}`, `passthrough{i}`, `uTerm{i}` and (i ≥ 1) `zGate{i}`,
 * `convex{i}`, as `GatedLayer` names them. Attributes: `layers`, `negativeSlope`, `strongConvexity`, `withGrad`.
 * Outputs: energy [rows] and, with `withGrad`, ∇_y f [rows, d].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './nativeAddon.js';
import { heapOffset, type KernelFunc, type WasmBackend } from './nativeMatMul.js';
import type { GatedPath } from '../models/gatedPath.js';

export const GATED_PATH_KERNEL = 'IcnnGatedPath';

interface GatedPathAttrs {
  layers: number;
  negativeSlope: number;
  strongConvexity: number;
  withGrad: boolean;
}

/** The kernel function over `addon`. */
export function nativeGatedPath(addon: NativeAddon): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const backend = args.backend as WasmBackend;
    const a = args.attrs as unknown as GatedPathAttrs;
    const y = inputs.y as tf.TensorInfo;
    const [rows, d] = y.shape;
    const widths = Array.from({ length: a.layers }, (_, i) => (inputs[`uTerm${i}`] as tf.TensorInfo).shape[1]);
    const energy = backend.makeOutput([rows], 'float32');
    const grad = a.withGrad ? backend.makeOutput([rows, d], 'float32') : null;
    // Offsets and the buffer after the outputs are allocated: an allocation may grow (and detach) the heap.
    const at = (t: tf.TensorInfo | null | undefined) => (t == null ? -1 : heapOffset(backend, t));
    const offsets = [at(y), at(energy), at(grad)];
    for (let i = 0; i < a.layers; i++) {
      for (const name of ['yGate', 'passthrough', 'uTerm', 'zGate', 'convex']) offsets.push(at(inputs[`${name}${i}`]));
    }
    addon.gatedPath(backend.wasm.HEAPU8.buffer as ArrayBuffer, Float64Array.from(offsets),
      Int32Array.from([rows, d, a.layers, ...widths]), a.negativeSlope, a.strongConvexity);
    return (grad === null ? [energy] : [energy, grad]) as unknown as tf.TensorInfo;
  };
}

/** Whether the kernel can run now: registered (the addon loaded) and its backend, wasm, active. */
export function gatedPathKernelActive(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(GATED_PATH_KERNEL, 'wasm') !== undefined;
}

/** The path's shapes as the kernel needs them: float32, one row per y row (no broadcast rows), last width 1. */
export function gatedPathFitsKernel(path: GatedPath, rows: number): boolean {
  const layers = path.layers;
  return layers.length > 0 && layers[layers.length - 1].uTerm.shape[1] === 1 && layers.every((l, i) =>
    [l.yGate, l.passthrough, l.uTerm, l.zGate, l.convex].every((t) => t === null || t.dtype === 'float32') &&
    l.yGate.shape[0] === rows && l.uTerm.shape[0] === rows && (l.zGate === null || l.zGate.shape[0] === rows) &&
    (i === 0) === (l.convex === null) && (l.zGate === null) === (l.convex === null));
}

/** f and (with `withGrad`) ∇_y f at y through the kernel; the caller checked `gatedPathKernelActive` and the shapes. */
export function runGatedPath(path: GatedPath, y: tf.Tensor2D, withGrad: boolean): { energy: tf.Tensor1D; grad: tf.Tensor2D | null } {
  const inputs: Record<string, tf.Tensor> = { y };
  path.layers.forEach((l, i) => {
    inputs[`yGate${i}`] = l.yGate;
    inputs[`passthrough${i}`] = l.passthrough;
    inputs[`uTerm${i}`] = l.uTerm;
    if (l.zGate !== null && l.convex !== null) {
      inputs[`zGate${i}`] = l.zGate;
      inputs[`convex${i}`] = l.convex;
    }
  });
  const attrs = { layers: path.layers.length, negativeSlope: path.negativeSlope, strongConvexity: path.strongConvexity, withGrad };
  const out = tf.engine().runKernel(GATED_PATH_KERNEL, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
  return { energy: out[0] as tf.Tensor1D, grad: withGrad ? (out[1] as tf.Tensor2D) : null };
}
