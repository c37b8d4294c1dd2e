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
 * Whether the native convolution beats XNNPACK on this shape. Measured on the Olivetti ConvPICNN's convolutions
 * (batch 70; median of 40 runs, 2 cores): the GEMM wins 1.3-3x when there are at least 16 output channels, 32 output
 * pixels and 2 MFLOP, and either 8 input channels or 8 contiguous values per filter row (filterW·inC: the first
 * layer's 8×8 filter on one channel, 4.3 → 1.8 ms, since im2col copies such rows at once). With narrower rows or
 * outputs (a 3×3 filter on one channel, or one output channel) XNNPACK's direct kernels win 1.3-3x.
 */
export function nativeConvPays(info: tf.backend_util.Conv2DInfo): boolean {
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const flops = 2 * rows * info.outChannels * info.filterHeight * info.filterWidth * info.inChannels;
  const wideRows = info.inChannels >= 8 || (info.filterWidth * info.inChannels >= 8 && info.dilationWidth === 1);
  return wideRows && info.outChannels >= 16 && rows >= 32 && flops >= 2e6;
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

/** The tfjs name of the filter-gradient kernel, which the wasm backend lacks: registered only while the addon is on. */
export const CONV2D_BACKPROP_FILTER_KERNEL = 'Conv2DBackpropFilter';

interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * Conv2DBackpropFilter (tfjs's kernel name and attributes; inputs x and dy) as colᵀ·dy over im2col blocks. Without
 * it, ./gradients.ts builds the filter gradient from transposes, pads and a forward convolution dilated by the
 * stride: on the Olivetti ConvPICNN that was most of the backward pass.
 */
export function nativeConv2DBackpropFilter(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    if (x.dtype !== 'float32' || dy.dtype !== 'float32' || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') {
      throw new Error('icnn native Conv2DBackpropFilter: float32 NHWC tensors expected');
    }
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape,
      attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
    if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2] || info.outChannels !== dy.shape[3] || info.batchSize !== dy.shape[0]) {
      throw new Error(`icnn native Conv2DBackpropFilter: dy has shape [${dy.shape.join(', ')}], expected [${[info.batchSize, info.outHeight, info.outWidth, info.outChannels].join(', ')}]`);
    }
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput([...attrs.filterShape], 'float32');
    addon.conv2dBackpropFilter(backend.wasm.HEAPU8.buffer as ArrayBuffer, heapOffset(backend, x), heapOffset(backend, dy),
      heapOffset(backend, out), convDims(info));
    return out;
  };
}
