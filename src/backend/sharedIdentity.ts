/**
 * Identity (tf.clone, and the gradient tape's pass-throughs) without a copy: the output shares the input's data and
 * the backend counts one more reference, as the cpu backend's Identity and the wasm backend's own Reshape already
 * do. tfjs kernels never write into their inputs, and a variable's assign swaps its data rather than writing it, so
 * sharing is safe. The wasm backend's Identity copies every value: 107 calls and 2 ms of a 30 ms BibTeX PICNN
 * forward + backward (bench --profile, 2026-12-06).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc } from './nativeMatMul.js';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/** The Identity kernel; `fallback` (the wasm backend's own) keeps string tensors. */
export function sharedIdentity(_addon: unknown, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return fallback(args);
    (args.backend as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
