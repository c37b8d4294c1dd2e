/**
 * Overwrite a float32 tensor's values where its data lives, without making a tensor: on the wasm backend a
 * tensor's data is a range of the module's heap. The RL agents rewrite every parameter after each step (their
 * flat mirrors, ../rl/agents/flatParams.ts); through `tf.tensor` + `assign` that was a tensor creation, a heap
 * allocation and a free per variable, about 3 ms of an ICNN update at the paper's sizes. Browser-safe: it needs
 * the wasm backend, not the native addon.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmTensorData {
  memoryOffset: number;
  refCount: number;
}

interface WasmBackendData {
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/**
 * Write `values` (t.size of them) into t's data in place and return true, where that is safe: the wasm backend is
 * active, t is float32, and no other tensor shares t's data (a clone or reshape of a variable keeps its values
 * when the variable is assigned, so a shared buffer must not change under it). Otherwise write nothing and return
 * false: the caller assigns a new tensor instead.
 */
export function writeInPlace(t: tf.Tensor, values: Float32Array): boolean {
  if (values.length !== t.size) throw new Error(`writeInPlace: ${values.length} values for a tensor of ${t.size}`);
  if (tf.getBackend() !== 'wasm' || t.dtype !== 'float32') return false;
  const backend = tf.backend() as unknown as WasmBackendData;
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined || data.refCount !== 1 || typeof data.memoryOffset !== 'number') return false;
  new Float32Array(backend.wasm.HEAPU8.buffer, data.memoryOffset, t.size).set(values);
  return true;
}
