/**
 * `IcnnAdamStep`: one Adam step of one variable as a single native pass on the wasm heap (native/src/adam.cc),
 * registered on the wasm backend with the other native kernels. tfjs's own AdamOptimizer runs about fourteen
 * element-wise kernels per variable, each a full pass in single-threaded wasm: 26 ms of a 175 ms BibTeX training
 * step (bench:training, 2026-12-06). Inputs value, m, v, grad; outputs the new value, m and v (new tensors, which the
 * optimizer assigns to its variables, so no tensor is written in place). The kernel exists only where the addon
 * loaded; ../learning/fusedAdam.ts falls back to tfjs's optimizer elsewhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './nativeAddon.js';
import { heapOffset, type KernelFunc, type WasmBackend } from './nativeMatMul.js';

export const ADAM_STEP_KERNEL = 'IcnnAdamStep';

/** The step's scalars, each rounded to float32 as tfjs's scalar tensors are. */
export interface AdamStepAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** 1 − β1^t and 1 − β2^t, tfjs's `oneMinusAccBeta` tensors. */
  biasCorrection1: number;
  biasCorrection2: number;
  epsilon: number;
  negLearningRate: number;
}

/** The kernel function over `addon`. */
export function nativeAdamStep(addon: NativeAddon): KernelFunc {
  return (args) => {
    const { value, m, v, grad } = args.inputs as Record<string, tf.TensorInfo>;
    const backend = args.backend as WasmBackend;
    const a = args.attrs as unknown as AdamStepAttrs;
    const outs = [value, m, v].map(() => backend.makeOutput(value.shape, 'float32'));
    // Offsets and the buffer after the outputs are allocated: an allocation may grow (and detach) the heap.
    const at = (t: tf.TensorInfo) => heapOffset(backend, t);
    addon.adam(backend.wasm.HEAPU8.buffer as ArrayBuffer, at(value), at(m), at(v), at(grad), at(outs[0]), at(outs[1]),
      at(outs[2]), tf.util.sizeFromShape(value.shape), a.beta1, a.oneMinusBeta1, a.beta2, a.oneMinusBeta2, a.biasCorrection1,
      a.biasCorrection2, a.epsilon, a.negLearningRate);
    return outs as unknown as tf.TensorInfo;
  };
}
