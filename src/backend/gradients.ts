/**
 * Gradient overrides registered once for every backend (see ../shared/dependencies.md, appendices A and B).
 *
 * 1. BatchMatMul: tfjs's default gradient multiplies with transposeA/transposeB flags, which the wasm backend
 *    runs on a scalar fallback loop (5-7x slower than XNNPACK). We transpose explicitly and multiply untransposed
 *    (unless the native kernels of ./nativeKernels.ts are active: they take the flags at full speed), and sum the gradients over batch dims that the forward pass broadcast (tfjs's own rule returns the broadcast
 *    shape there, which the engine rejects).
 * 2. Conv2D: wasm has no Conv2DBackpropFilter kernel, and tfjs's Conv2DBackpropInput gradient needs it too, so
 *    second-order gradients through a conv fail on every backend. The filter gradient is the native
 *    Conv2DBackpropFilter where the addon is on (./nativeConv2D.ts), else a forward conv (dilated by the forward
 *    stride); either is differentiable again (its rule below is in forward and transposed convs). The input gradient is a forward conv of the zero-upsampled dy, or for thin strided
 *    inputs the native transposed conv (Conv2DBackpropInput), whose own gradient is re-registered in terms of
 *    forward convs. So ∇_θ(∇_y f · v) works through convolutions on wasm and cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeStatus } from './nativeState.js';

type Pair = [number, number];

function pair(v: unknown, fallback: number): Pair {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1]];
}

/** Whether the native kernels of ./nativeKernels.ts serve the running backend. */
function nativeKernelsOnWasm(): boolean {
  return nativeStatus().enabled && tf.getBackend() === 'wasm';
}

/** Transpose the last two axes (works for rank 2 and batched rank >= 3). */
function transposeLast2(t: tf.Tensor): tf.Tensor {
  const r = t.rank;
  if (r === 2) return tf.transpose(t);
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(t, perm);
}

/**
 * Sum a gradient over the batch dimensions that the forward BatchMatMul broadcast (numpy-style: missing leading
 * dims, or dims of size 1), so that it has the shape of the input it belongs to.
 */
function unbroadcast(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, shape as number[]);
}

/**
 * x·y with either operand transposed: by the matMul flags where the active kernel handles them at full speed (the
 * native kernels pack transposed operands at no cost), else by explicit transposes and an untransposed product.
 */
function matMulTransposed(x: tf.Tensor, transposeX: boolean, y: tf.Tensor, transposeY: boolean): tf.Tensor {
  if (nativeKernelsOnWasm()) return tf.matMul(x, y, transposeX, transposeY);
  return tf.matMul(transposeX ? transposeLast2(x) : x, transposeY ? transposeLast2(y) : y);
}

function registerBatchMatMulGradient(): void {
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const dyT = dy as tf.Tensor;
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const mm = matMulTransposed;
      let ga: () => tf.Tensor;
      let gb: () => tf.Tensor;
      if (!transposeA && !transposeB) {
        ga = () => mm(dyT, false, b, true);
        gb = () => mm(a, true, dyT, false);
      } else if (!transposeA && transposeB) {
        ga = () => mm(dyT, false, b, false);
        gb = () => mm(dyT, true, a, false);
      } else if (transposeA && !transposeB) {
        ga = () => mm(b, false, dyT, true);
        gb = () => mm(a, false, dyT, false);
      } else {
        ga = () => mm(b, true, dyT, true);
        gb = () => mm(dyT, true, a, true);
      }
      // Batch dims may have been broadcast in the forward pass (e.g. [2,3,m,k]·[3,k,n]): reduce them back.
      return { a: () => unbroadcast(ga(), a.shape), b: () => unbroadcast(gb(), b.shape) };
    },
  });
}

interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** `p` as tfjs's explicit padding of an NHWC tensor. */
function explicitPadding(p: Padding): [number, number][] {
  return [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

/** Padding that tfjs applies for a Conv2D with these attributes (same rule as tfjs's computeConv2DInfo). */
function conv2dPadding(pad: unknown, inH: number, inW: number, effKH: number, effKW: number,
  [sh, sw]: Pair, outH: number, outW: number): Padding {
  if (pad === 'valid') return { top: 0, bottom: 0, left: 0, right: 0 };
  if (pad === 'same') {
    const ph = Math.max(0, (outH - 1) * sh + effKH - inH);
    const pw = Math.max(0, (outW - 1) * sw + effKW - inW);
    return { top: Math.floor(ph / 2), bottom: ph - Math.floor(ph / 2), left: Math.floor(pw / 2), right: pw - Math.floor(pw / 2) };
  }
  if (typeof pad === 'number') return { top: pad, bottom: pad, left: pad, right: pad };
  if (Array.isArray(pad)) {
    const p = pad as number[][];
    return { top: p[1][0], bottom: p[1][1], left: p[2][0], right: p[2][1] };
  }
  throw new Error(`Conv2D gradient: unsupported padding ${JSON.stringify(pad)}`);
}

/** Insert (s-1) zeros between rows and columns: [N,H,W,C] -> [N,(H-1)sh+1,(W-1)sw+1,C]. */
function upsampleWithZeros(t: tf.Tensor4D, [sh, sw]: Pair): tf.Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [n, h, w, c] = t.shape;
  let u: tf.Tensor = tf.reshape(t, [n * h, 1, w, 1 * c]);
  u = tf.pad(u, [[0, 0], [0, sh - 1], [0, 0], [0, 0]]);
  u = tf.reshape(u, [n, h * sh, w, c]);
  u = tf.reshape(u, [n * h * sh, w, 1, c]);
  u = tf.pad(u, [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
  u = tf.reshape(u, [n, h * sh, w * sw, c]);
  return tf.slice(u, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

/** Keep every d-th row/column starting at 0, `count` of each: [A,H,W,B] -> [A,countH,countW,B]. */
function subsample(t: tf.Tensor4D, [dh, dw]: Pair, [countH, countW]: Pair): tf.Tensor4D {
  const [a, h, w, b] = t.shape;
  const needH = countH * dh;
  const needW = countW * dw;
  let u: tf.Tensor4D = t;
  if (h < needH || w < needW) u = tf.pad(u, [[0, 0], [0, Math.max(0, needH - h)], [0, Math.max(0, needW - w)], [0, 0]]);
  u = tf.slice(u, [0, 0, 0, 0], [a, needH, needW, b]);
  u = tf.slice(tf.reshape(u, [a * countH, dh, needW, b]) as tf.Tensor4D, [0, 0, 0, 0], [a * countH, 1, needW, b]);
  u = tf.reshape(u, [a * countH * countW, dw, 1, b]);
  u = tf.slice(u, [0, 0, 0, 0], [a * countH * countW, 1, 1, b]);
  return tf.reshape(u, [a, countH, countW, b]) as tf.Tensor4D;
}

/**
 * dW[i,j,ci,co] = Σ_{n,oh,ow} xp[n, oh·s + i·d, ow·s + j·d, ci] · dy[n,oh,ow,co] for a Conv2D of x with padding p:
 * by the native kernel where it runs (undilated convs on wasm with the addon on), else as a conv of xpᵀ
 * (batch = ci, channels = n) with dyᵀ as the filter, dilated by the forward stride.
 */
function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], s: Pair, d: Pair, p: Padding): tf.Tensor4D {
  if (d[0] === 1 && d[1] === 1 && nativeKernelsOnWasm()) {
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s, pad: explicitPadding(p), dataFormat: 'NHWC',
      filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  const [kh, kw, cin, cout] = filterShape;
  const xp = p.top + p.bottom + p.left + p.right > 0
    ? tf.pad(x, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]]) : x;
  const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
  const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  const stridedAndDilated = (d[0] > 1 || d[1] > 1) && (s[0] > 1 || s[1] > 1);
  const g = stridedAndDilated
    ? subsample(tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', s), d, [kh, kw])
    : tf.conv2d(xt, dyt, d, 'valid', 'NHWC', s);
  return tf.transpose(tf.slice(g, [0, 0, 0, 0], [cin, kh, kw, cout]), [1, 2, 0, 3]) as tf.Tensor4D;
}

/**
 * dx of a Conv2D as a forward conv: the full correlation of the zero-upsampled dy with the flipped, channel-swapped
 * filter, padded so that exactly the rows and columns of x (not of the padded x) are computed.
 */
function forwardConvInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, xShape: number[], s: Pair, d: Pair, p: Padding): tf.Tensor4D {
  const [, inH, inW] = xShape;
  const [kh, kw] = filter.shape;
  const effKH = (kh - 1) * d[0] + 1;
  const effKW = (kw - 1) * d[1] + 1;
  let up = upsampleWithZeros(dy, s);
  // dx row r reads upsampled rows r + p.top − (effK − 1) … r + p.top: pad (or crop) so that row 0 is the first.
  const before = [effKH - 1 - p.top, effKW - 1 - p.left];
  const after = [inH + p.top - up.shape[1], inW + p.left - up.shape[2]];
  if (before[0] < 0 || before[1] < 0 || after[0] < 0 || after[1] < 0) {
    const cropTop = Math.max(0, -before[0]);
    const cropLeft = Math.max(0, -before[1]);
    const keepH = up.shape[1] - cropTop - Math.max(0, -after[0]);
    const keepW = up.shape[2] - cropLeft - Math.max(0, -after[1]);
    up = tf.slice(up, [0, cropTop, cropLeft, 0], [-1, keepH, keepW, -1]);
  }
  const padded = tf.pad(up, [[0, 0], [Math.max(0, before[0]), Math.max(0, after[0])], [Math.max(0, before[1]), Math.max(0, after[1])], [0, 0]]);
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  return tf.conv2d(padded, flipped, 1, 'valid', 'NHWC', d);
}

/**
 * Which way to compute a Conv2D input gradient. The wasm Conv2DBackpropInput kernel is a plain loop (no XNNPACK):
 * measured on the Olivetti ConvPICNN (batch 70) it is 3-6x slower than an XNNPACK forward conv on the zero-upsampled
 * dy when x has 32-64 channels, but 11x faster when x has one channel (XNNPACK is poor at one output channel, and
 * the upsampled dy is 15/16 zeros at stride 4). So: the transposed kernel for thin inputs of strided convs; and for
 * every undilated conv when the native kernels run (./nativeConv2D.ts: one GEMM and a col2im, in place of the
 * upsampling, padding, flipping and forward conv; 1.0 against 12.1 ms on that first layer).
 */
function useTransposedKernel(inChannels: number, s: Pair, d: Pair): boolean {
  if (d[0] !== 1 || d[1] !== 1) return false;
  if (nativeKernelsOnWasm()) return true;
  return (s[0] > 1 || s[1] > 1) && inChannels <= 4;
}

interface ConvAttrs {
  strides: unknown;
  pad: unknown;
  dataFormat?: string;
  dilations?: unknown;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: number[];
}

function checkNHWC(kernel: string, a: ConvAttrs): void {
  if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} gradient: only NHWC is supported, got dataFormat ${a.dataFormat}`);
  }
}

/**
 * Strides and padding of the undilated Conv2D of `image` behind a gradient kernel (Conv2DBackpropInput or
 * Conv2DBackpropFilter), from the kernel's attributes, its filter's shape and its dy.
 */
function undilatedConvGeometry(kernel: string, attrs: unknown, image: tf.Tensor4D, filterShape: readonly number[], dy: tf.Tensor4D):
  { s: Pair; p: Padding; dimRoundingMode: ConvAttrs['dimRoundingMode'] } {
  const a = attrs as ConvAttrs;
  checkNHWC(kernel, a);
  const s = pair(a.strides, 1);
  const [, inH, inW] = image.shape;
  const [kh, kw] = filterShape;
  const [, outH, outW] = dy.shape;
  return { s, p: conv2dPadding(a.pad, inH, inW, kh, kw, s, outH, outW), dimRoundingMode: a.dimRoundingMode };
}

/**
 * Conv2D: dx by a forward conv of the zero-upsampled dy, or (see `useTransposedKernel`) by the native transposed
 * convolution Conv2DBackpropInput, made twice-differentiable by the rule below; dW by `filterGradient`.
 */
function registerConv2DGradient(): void {
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dyIn, saved, attrs) => {
      const dy = dyIn as tf.Tensor4D;
      const x = saved[0] as tf.Tensor4D;
      const filter = saved[1] as tf.Tensor4D;
      const a = attrs as unknown as ConvAttrs;
      checkNHWC('Conv2D', a);
      const s = pair(a.strides, 1);
      const d = pair(a.dilations, 1);
      const [, inH, inW] = x.shape;
      const [kh, kw] = filter.shape;
      const [, outH, outW] = dy.shape;
      const p = conv2dPadding(a.pad, inH, inW, (kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1, s, outH, outW);
      return {
        x: () => (useTransposedKernel(x.shape[3], s, d)
          ? tf.conv2dTranspose(dy, filter, x.shape, s, explicitPadding(p) as never)
          : forwardConvInputGradient(dy, filter, x.shape, s, d, p)),
        filter: () => filterGradient(x, dy, filter.shape, s, d, p),
      };
    },
  });
}

/**
 * Conv2DBackpropInput (the transposed convolution dx = convᵀ(dy, W)): d/d(dy) is the forward Conv2D, and
 * d/dW is the Conv2D filter gradient with ddx in the role of x. Both are forward convolutions, so this is what
 * makes the Conv2D input gradient differentiable again on wasm (whose Conv2DBackpropFilter kernel is missing).
 */
function registerConv2DBackpropInputGradient(): void {
  tf.registerGradient({
    kernelName: 'Conv2DBackpropInput',
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddxIn, saved, attrs) => {
      const ddx = ddxIn as tf.Tensor4D;
      const dy = saved[0] as tf.Tensor4D;
      const filter = saved[1] as tf.Tensor4D;
      const { s, p, dimRoundingMode } = undilatedConvGeometry('Conv2DBackpropInput', attrs, ddx, filter.shape, dy);
      return {
        dy: () => tf.conv2d(ddx, filter, s, explicitPadding(p) as never, 'NHWC', 1, dimRoundingMode),
        filter: () => filterGradient(ddx, dy, filter.shape, s, [1, 1], p),
      };
    },
  });
}

/**
 * Conv2DBackpropFilter (dW of a Conv2D of x, from dy; the native kernel on wasm): bilinear in x and dy, so with
 * upstream ddW, d/dy is the forward conv of x with ddW as the filter, and d/dx is that conv's input gradient
 * (the transposed conv of dy with ddW).
 */
function registerConv2DBackpropFilterGradient(): void {
  tf.registerGradient({
    kernelName: 'Conv2DBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (ddwIn, saved, attrs) => {
      const ddw = ddwIn as tf.Tensor4D;
      const x = saved[0] as tf.Tensor4D;
      const dy = saved[1] as tf.Tensor4D;
      const { s, p, dimRoundingMode } = undilatedConvGeometry('Conv2DBackpropFilter', attrs, x, ddw.shape, dy);
      const padding = explicitPadding(p) as never;
      return {
        x: () => tf.conv2dTranspose(dy, ddw, x.shape, s, padding),
        dy: () => tf.conv2d(x, ddw, s, padding, 'NHWC', 1, dimRoundingMode),
      };
    },
  });
}

let registered = false;

/** Register the overrides (idempotent). Called by the backend module before any model is built. */
export function registerGradientOverrides(): void {
  if (registered) return;
  registerBatchMatMulGradient();
  registerConv2DGradient();
  registerConv2DBackpropInputGradient();
  registerConv2DBackpropFilterGradient();
  registered = true;
}
