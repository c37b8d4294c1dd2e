/**
 * Sum and Mean on the wasm backend for float32 reductions over a leading or a trailing block of axes (bias gradients
 * over the batch, batch-norm moments, losses over the features), computed by the addon in one pass
 * (native/src/reduce.cc). The wasm backend's own kernels transpose the input first when the reduced axes are not the
 * innermost: Sum took 15 calls and 1.7 ms of a 30 ms BibTeX PICNN forward + backward (bench --profile, 2026-12-06),
 * and the two Means of its batch norm 0.56 ms (2026-12-07). Other reductions go to the wasm kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './nativeAddon.js';
import { heapOffset, type KernelFunc, type WasmBackend } from './nativeMatMul.js';

/**
 * The reduced axes of tfjs's `axis` attribute, negative ones counted from the end, in increasing order; null (tf.sum(x)
 * without an axis) is every axis. Served here rather than by the wasm kernel, whose sum of an empty tensor returns
 * uninitialized memory (tfjs 4.22: about 3.6e-41 where the cpu backend gives 0).
 */
function reducedAxes(rank: number, axis: number | number[] | null): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  return (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** The reduced axes as `outer`·`inner` with the reduced side named; null unless they are a leading or trailing block. */
export function planSum(shape: number[], axis: number | number[] | null): { outer: number; inner: number; reduceOuter: boolean } | null {
  const rank = shape.length;
  const axes = reducedAxes(rank, axis);
  // Repeated axes are left to tfjs, whose backends do not agree on them.
  if (rank === 0 || axes.length === 0 || axes.some((a, i) => a < 0 || a >= rank || a === axes[i - 1])) return null;
  const contiguous = axes.every((a, i) => a === axes[0] + i);
  if (!contiguous) return null;
  const size = (from: number, to: number) => shape.slice(from, to).reduce((x, y) => x * y, 1);
  if (axes[0] === 0) return { outer: size(0, axes.length), inner: size(axes.length, rank), reduceOuter: true };
  if (axes[axes.length - 1] === rank - 1) return { outer: size(0, axes[0]), inner: size(axes[0], rank), reduceOuter: false };
  return null;
}

/**
 * The reduction of x over tfjs's `axis` attribute into a new output, the sum scaled by `scale(count)` (count: the
 * number of values reduced into each output); null where the addon does not cover it.
 */
function nativeReduce(addon: NativeAddon, args: Parameters<KernelFunc>[0], scale: (count: number) => number): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo;
  const { axis, keepDims } = args.attrs as { axis: number | number[] | null; keepDims: boolean };
  const plan = x.dtype === 'float32' ? planSum(x.shape, axis) : null;
  if (plan === null) return null;
  const reduced = new Set(reducedAxes(x.shape.length, axis));
  const outShape = x.shape.flatMap((d, i) => (reduced.has(i) ? (keepDims ? [1] : []) : [d]));
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(outShape, 'float32');
  // Offsets and the buffer after the output is allocated: an allocation may grow (and detach) the heap.
  const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
  const outOffset = heapOffset(backend, out);
  addon.reduceSum(heap, heapOffset(backend, x), outOffset, plan.outer, plan.inner, plan.reduceOuter);
  const factor = scale(plan.reduceOuter ? plan.outer : plan.inner);
  // A mean of nothing stays the sum, 0, as on the cpu backend.
  if (factor !== 1 && factor !== 0) {
    const values = new Float32Array(heap, outOffset, plan.reduceOuter ? plan.inner : plan.outer);
    for (let i = 0; i < values.length; i++) values[i] /= factor;
  }
  return out;
}

/** The Sum kernel; `fallback` is the wasm backend's own. */
export function nativeSum(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => nativeReduce(addon, args, () => 1) ?? fallback(args);
}

/** The Mean kernel: the sum divided by the count, as the cpu backend computes it (0 for none); `fallback` is the wasm backend's own. */
export function nativeMean(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => nativeReduce(addon, args, (count) => count) ?? fallback(args);
}
