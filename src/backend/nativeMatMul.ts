/**
 * BatchMatMul and _FusedMatMul for the wasm backend, computed by the native addon in place on the wasm heap: inputs
 * are read at their heap offsets (`backend.dataIdMap`), the output is allocated by the backend and written there.
 * The heap's ArrayBuffer is fetched on every call, after the output is allocated: a wasm memory growth detaches the
 * previous buffer. Cases the addon does not cover (non-float32, a bias or PReLU slopes that are not a vector) go to the wasm
 * backend's own kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './nativeAddon.js';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface WasmBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  wasm: { HEAPU8: Uint8Array };
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo | null | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

export type KernelFunc = (args: KernelArgs) => tf.TensorInfo;

/** tfjs's FusableActivation numbering, shared with native/src/gemm.h. */
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6 };

interface MatMulPlan {
  m: number;
  n: number;
  k: number;
  outShape: number[];
  aOffsets: Int32Array;
  bOffsets: Int32Array;
}

/** Element offset of each output batch's matrix in an input with these batch dims (numpy broadcasting). */
function batchOffsets(dims: number[], outDims: number[], matrixSize: number): Int32Array {
  const count = outDims.reduce((x, y) => x * y, 1);
  const offsets = new Int32Array(count);
  const lead = outDims.length - dims.length;
  for (let index = 0; index < count; index++) {
    let rest = index;
    let offset = 0;
    let stride = matrixSize;
    for (let d = outDims.length - 1; d >= lead; d--) {
      const coord = rest % outDims[d];
      rest = Math.floor(rest / outDims[d]);
      const size = dims[d - lead];
      if (size !== 1) offset += coord * stride;
      stride *= size;
    }
    offsets[index] = offset;
  }
  return offsets;
}

function planMatMul(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan {
  const [ra, rb] = [a.shape.length, b.shape.length];
  const [aRows, aCols] = [a.shape[ra - 2], a.shape[ra - 1]];
  const [bRows, bCols] = [b.shape[rb - 2], b.shape[rb - 1]];
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kB, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  if (k !== kB) {
    throw new Error(`matMul: inner dimensions ${k} and ${kB} of shapes [${a.shape}] and [${b.shape}] `
      + `(transposeA=${transposeA}, transposeB=${transposeB}) must match`);
  }
  const aDims = a.shape.slice(0, -2);
  const bDims = b.shape.slice(0, -2);
  const outDims = tf.broadcast_util.assertAndGetBroadcastShape(aDims, bDims);
  return {
    m, n, k,
    outShape: [...outDims, m, n],
    aOffsets: batchOffsets(aDims, outDims, m * k),
    bOffsets: batchOffsets(bDims, outDims, k * n),
  };
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('native matMul: tensor data not on the wasm backend');
  return data.memoryOffset;
}

interface Epilogue {
  bias: tf.TensorInfo | null;
  activation: number;
  alpha: number;
  prelu: tf.TensorInfo | null;
}

const NO_EPILOGUE: Epilogue = { bias: null, activation: 0, alpha: 0, prelu: null };

/** A float32 vector of length `n` or 1 (broadcast along the columns), the only bias/slopes the addon takes. */
function isColumnVector(t: tf.TensorInfo | null | undefined, n: number): boolean {
  return t == null || (t.shape.length === 1 && (t.shape[0] === n || t.shape[0] === 1) && t.dtype === 'float32');
}

/** Heap byte offset and length of an optional vector (−1, 0 when absent). */
function vectorArgs(backend: WasmBackend, t: tf.TensorInfo | null): [number, number] {
  return t === null ? [-1, 0] : [heapOffset(backend, t), tf.util.sizeFromShape(t.shape)];
}

function runGemm(addon: NativeAddon, backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo,
  transposeA: boolean, transposeB: boolean, epilogue: Epilogue): tf.TensorInfo {
  const plan = planMatMul(a, b, transposeA, transposeB);
  const out = backend.makeOutput(plan.outShape, 'float32');
  // Offsets and the buffer are read after makeOutput, whose allocation may have grown (and detached) the heap.
  addon.gemm(backend.wasm.HEAPU8.buffer as ArrayBuffer, heapOffset(backend, a), heapOffset(backend, b),
    heapOffset(backend, out), plan.aOffsets, plan.bOffsets, plan.m, plan.n, plan.k, transposeA, transposeB,
    ...vectorArgs(backend, epilogue.bias), epilogue.activation, epilogue.alpha, ...vectorArgs(backend, epilogue.prelu));
  return out;
}

function bothFloat32(a: tf.TensorInfo, b: tf.TensorInfo): boolean {
  return a.dtype === 'float32' && b.dtype === 'float32';
}

/** The BatchMatMul kernel; `fallback` is the wasm backend's own. */
export function nativeBatchMatMul(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!bothFloat32(a, b)) return fallback(args);
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    return runGemm(addon, args.backend as WasmBackend, a, b, transposeA, transposeB, NO_EPILOGUE);
  };
}

/** The _FusedMatMul kernel (bias vector + activation applied by the addon); `fallback` is the wasm backend's own. */
export function nativeFusedMatMul(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | null | undefined>;
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number };
    const activation = ACTIVATIONS[attrs.activation ?? 'linear'];
    const n = attrs.transposeB ? b!.shape[b!.shape.length - 2] : b!.shape[b!.shape.length - 1];
    const slopes = activation === ACTIVATIONS.prelu ? preluActivationWeights : null;
    if (!bothFloat32(a!, b!) || activation === undefined || !isColumnVector(bias, n) || !isColumnVector(slopes, n)
      || (activation === ACTIVATIONS.prelu && slopes == null)) {
      return fallback(args);
    }
    return runGemm(addon, args.backend as WasmBackend, a!, b!, attrs.transposeA, attrs.transposeB,
      { bias: bias ?? null, activation, alpha: attrs.leakyreluAlpha ?? 0, prelu: slopes ?? null });
  };
}
