/**
 * What is known about the native kernels, kept apart from ./nativeKernels.ts (which loads the Node addon) so that the
 * core's gradient rules can ask without importing anything Node-only.
 */
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

export function nativeOff(reason: string): NativeStatus {
  return { enabled: false, isa: null, threads: 0, kernels: [], reason };
}

let status: NativeStatus = nativeOff('not initialized');

/** Whether the native kernels are on, with their instruction set, threads and kernels, or why they are off (a copy). */
export function nativeStatus(): NativeStatus {
  return { ...status, kernels: [...status.kernels] };
}

export function setNativeStatus(next: NativeStatus): NativeStatus {
  status = next;
  return status;
}
