/**
 * Registration of the native matmul and convolution kernels on the wasm backend, and what `icnn status` reports about them. tfjs
 * looks a kernel up on every call, so swapping the registered config switches paths at once; the wasm backend's own
 * configs are kept to restore them and to serve the cases the addon does not cover.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadNativeAddon, type NativeLoad } from './nativeAddon.js';
import { nativeConv2D } from './nativeConv2D.js';
import { nativeBatchMatMul, nativeFusedMatMul } from './nativeMatMul.js';

export interface NativeStatus {
  /** Whether the native kernels are registered on the wasm backend (they run when wasm is the active backend). */
  enabled: boolean;
  /** Instruction set of the micro-kernels (avx512, avx2+fma, generic), or null when not enabled. */
  isa: string | null;
  /** Threads of the native thread pool (ICNN_THREADS overrides), 0 when not enabled. */
  threads: number;
  /** Kernels overridden on the wasm backend. */
  kernels: string[];
  /** Why the native path is off (null when enabled). */
  reason: string | null;
}

const KERNELS = {
  BatchMatMul: nativeBatchMatMul,
  _FusedMatMul: nativeFusedMatMul,
  Conv2D: nativeConv2D,
} as const;

const originals = new Map<string, tf.KernelConfig>();
let status: NativeStatus = { enabled: false, isa: null, threads: 0, kernels: [], reason: 'not initialized' };

function off(reason: string): NativeStatus {
  return { enabled: false, isa: null, threads: 0, kernels: [], reason };
}

/** Put the wasm backend's own kernels back. */
export function disableNativeKernels(reason = 'disabled'): NativeStatus {
  for (const [name, config] of originals) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  originals.clear();
  status = off(reason);
  return status;
}

/** Register the native kernels on the wasm backend if the addon loads (`load` is injectable for tests). */
export function enableNativeKernels(load: NativeLoad = loadNativeAddon()): NativeStatus {
  disableNativeKernels();
  if (load.addon === null) return (status = off(load.reason));
  const addon = load.addon;
  for (const [name, make] of Object.entries(KERNELS)) {
    const original = tf.getKernel(name, 'wasm');
    if (original === undefined) {
      disableNativeKernels();
      return (status = off(`the wasm backend has no ${name} kernel to replace`));
    }
    originals.set(name, original);
    tf.unregisterKernel(name, 'wasm');
    // setupFunc stays the wasm one: the fallback kernel needs it when the backend initializes.
    tf.registerKernel({ ...original, kernelFunc: make(addon, original.kernelFunc as never) as unknown as tf.KernelFunc });
  }
  const info = addon.info();
  status = { enabled: true, isa: info.isa, threads: info.threads, kernels: Object.keys(KERNELS), reason: null };
  return status;
}

export function nativeStatus(): NativeStatus {
  return { ...status, kernels: [...status.kernels] };
}
