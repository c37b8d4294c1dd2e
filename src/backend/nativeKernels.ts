/**
 * Registration of the native kernels (matmul, convolution, Sum, Mean, Identity, the Adam step, a PICNN z-path's energy and
 * ∇_y) on the wasm backend, and what `icnn status` reports about them. tfjs looks a kernel up on every call, so
 * swapping the registered config switches paths at once; the wasm backend's own configs are kept to restore them and
 * to serve the cases the addon does not cover.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadNativeAddon, type NativeLoad } from './nativeAddon.js';
import { nativeOff, setNativeStatus, type NativeStatus } from './nativeState.js';
import { CONV2D_BACKPROP_FILTER_KERNEL, nativeConv2D, nativeConv2DBackpropFilter, nativeConv2DBackpropInput } from './nativeConv2D.js';
import { nativeBatchMatMul, nativeFusedMatMul } from './nativeMatMul.js';
import { ADAM_STEP_KERNEL, nativeAdamStep } from './nativeAdam.js';
import { sharedIdentity } from './sharedIdentity.js';
import { nativeMean, nativeSum } from './nativeSum.js';
import { GATED_PATH_KERNEL, GATED_PATH_VJP_KERNEL, nativeGatedPath, nativeGatedPathVjp, setDirectGatedPath } from './nativeGatedPath.js';
import { setNativeFlatAdam } from './nativeFlatAdam.js';
import { setNativeSoftUpdate } from './nativeSoftUpdate.js';

const KERNELS = {
  BatchMatMul: nativeBatchMatMul,
  _FusedMatMul: nativeFusedMatMul,
  Conv2D: nativeConv2D,
  Conv2DBackpropInput: nativeConv2DBackpropInput,
  Identity: sharedIdentity,
  Sum: nativeSum,
  Mean: nativeMean,
} as const;

/** Kernels the wasm backend lacks (ours, and tfjs's filter gradient), registered only while the addon is on. */
const OWN_KERNELS = { [CONV2D_BACKPROP_FILTER_KERNEL]: nativeConv2DBackpropFilter, [ADAM_STEP_KERNEL]: nativeAdamStep, [GATED_PATH_KERNEL]: nativeGatedPath, [GATED_PATH_VJP_KERNEL]: nativeGatedPathVjp } as const;

const originals = new Map<string, tf.KernelConfig>();

/** Put the wasm backend's own kernels back. */
export function disableNativeKernels(reason = 'disabled'): NativeStatus {
  for (const [name, config] of originals) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  originals.clear();
  setNativeFlatAdam(null);
  setNativeSoftUpdate(null);
  setDirectGatedPath(null);
  for (const name of Object.keys(OWN_KERNELS)) {
    if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
  }
  return setNativeStatus(nativeOff(reason));
}

/** Register the native kernels on the wasm backend if the addon loads (`load` is injectable for tests). */
export function enableNativeKernels(load: NativeLoad = loadNativeAddon()): NativeStatus {
  disableNativeKernels();
  if (load.addon === null) return setNativeStatus(nativeOff(load.reason));
  const addon = load.addon;
  for (const [name, make] of Object.entries(KERNELS)) {
    const original = tf.getKernel(name, 'wasm');
    if (original === undefined) {
      disableNativeKernels();
      return setNativeStatus(nativeOff(`the wasm backend has no ${name} kernel to replace`));
    }
    originals.set(name, original);
    tf.unregisterKernel(name, 'wasm');
    // setupFunc stays the wasm one: the fallback kernel needs it when the backend initializes.
    tf.registerKernel({ ...original, kernelFunc: make(addon, original.kernelFunc as never) as unknown as tf.KernelFunc });
  }
  for (const [name, make] of Object.entries(OWN_KERNELS)) {
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(addon) as unknown as tf.KernelFunc });
  }
  setNativeFlatAdam((...args) => addon.adamTf1(...args));
  setNativeSoftUpdate((...args) => addon.softUpdate(...args));
  setDirectGatedPath((...args) => addon.gatedPath(...args));
  const info = addon.info();
  return setNativeStatus({ enabled: true, isa: info.isa, threads: info.threads,
    kernels: [...Object.keys(KERNELS), ...Object.keys(OWN_KERNELS)], reason: null });
}

export { nativeStatus, type NativeStatus } from './nativeState.js';
