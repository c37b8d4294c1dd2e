export { init, ensureInit, setBackend, ready, backendInfo, BACKEND_NAMES } from './backend.js';
export type { BackendName, BackendInfo, InitOptions } from './backend.js';
export { registerGradientOverrides } from './gradients.js';
export { enableNativeKernels, disableNativeKernels, nativeStatus } from './nativeKernels.js';
export type { NativeStatus } from './nativeKernels.js';
