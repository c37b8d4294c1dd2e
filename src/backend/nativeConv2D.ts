/**
 * Conv2D for the wasm backend by the native addon (im2col + the threaded GEMM), in place on the wasm heap like
 * ./nativeMatMul.ts. The gradient rules of ./gradients.ts express both convolution gradients as forward
 * convolutions, so this kernel serves the backward pass too. NCHW or non-float32 inputs, and the shapes where
 * XNNPACK is faster (`nativeConvPays`), go to the wasm kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './nativeAddon.js';
import { heapOffset, type KernelFunc, type WasmBackend } from './nativeMatMul.js';

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Whether the native convolution beats XNNPACK on this shape. Measured on the Olivetti ConvPICNN's 28 distinct
 * convolutions (batch 70, forward and gradient convolutions; fastest of 30 runs, 2 cores): the GEMM wins 1.3-3x
 * when there are at least 8 input and 16 output channels and 32 output pixels; with fewer channels, the im2col copy
 * (one value per pixel) or a one-column GEMM loses 2-6x to XNNPACK's direct kernels, and convolutions with a
 * handful of output pixels or under 2 MFLOP do not pay for the threads.
 */
export function nativeConvPays(info: tf.backend_util.Conv2DInfo): boolean {
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const flops = 2 * rows * info.outChannels * info.filterHeight * info.filterWidth * info.inChannels;
  return info.inChannels >= 8 && info.outChannels >= 16 && rows >= 32 && flops >= 2e6;
}

/** The addon's description of the convolution `info` (see NativeAddon.conv2d). */
function convDims(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight,
    info.filterWidth, info.outChannels, info.outHeight, info.outWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left]);
}

/** The Conv2D kernel; `fallback` is the wasm backend's own. */
export function nativeConv2D(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as Conv2DAttrs;
    if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number], attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode,
      false, 'channelsLast');
    if (!nativeConvPays(info)) return fallback(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
    // As for matmuls: offsets and the heap buffer are read after makeOutput, which may have grown the heap.
    addon.conv2d(backend.wasm.HEAPU8.buffer as ArrayBuffer, heapOffset(backend, x), heapOffset(backend, filter),
      heapOffset(backend, out), convDims(info));
    return out;
  };
}

interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * The Conv2DBackpropInput kernel (the transposed convolution: a Conv2D's input gradient) as dy·Wᵀ + col2im. The
 * wasm backend's own is a plain loop without XNNPACK: 11-18 ms on the ConvPICNN's first layer (batch 70, 8×8
 * filter, stride 4, one input channel), where this takes under a millisecond.
 */
export function nativeConv2DBackpropInput(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number],
      attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2] || info.outChannels !== dy.shape[3]) return fallback(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput([...attrs.inputShape], 'float32');
    addon.conv2dBackpropInput(backend.wasm.HEAPU8.buffer as ArrayBuffer, heapOffset(backend, dy), heapOffset(backend, filter),
      heapOffset(backend, out), convDims(info));
    return out;
  };
}
