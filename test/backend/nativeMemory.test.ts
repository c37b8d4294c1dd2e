/**
 * No leak through the native kernels over 1000 training steps of a PICNN (forward, ∇_θ through BatchMatMul, SGD
 * update) and of a small ConvPICNN (native Conv2D, Conv2DBackpropFilter and the narrow input gradients): the tensor count is constant after the first step, the wasm heap does not grow, and the process RSS
 * stays within a tolerance (the addon's per-thread packing buffers are allocated once and reused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { backendInfo, ConvPICNN, PICNN, setBackend, tf, type EnergyModel } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;
const STEPS = 1000;
// RSS moves by ±20 MB with V8's heap and the allocator's caching even without a leak, so it is sampled every 100
// steps after a full GC and the minimum of the first three samples is compared with the minimum of the last three:
// a leak of 1 kB per matmul call (≈ 20 calls per step) would raise the latter by ≈ 14 MB.
const RSS_TOLERANCE_MB = 8;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function rssMb(): number {
  gc();
  return process.memoryUsage().rss / 2 ** 20;
}

/** 100 warm-up steps, then STEPS more: the tensor count constant, the wasm heap unchanged, RSS within tolerance. */
function assertFlatOverSteps(step: () => void): void {
  const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
  for (let i = 0; i < 100; i++) step();
  const tensors = tf.memory().numTensors;
  const heap = heapBytes();
  const samples: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    step();
    if (tf.memory().numTensors !== tensors) assert.fail(`step ${i}: ${tf.memory().numTensors - tensors} tensors leaked`);
    if (i % 100 === 0 || i === STEPS - 1) samples.push(rssMb());
  }
  assert.equal(heapBytes(), heap, 'the wasm heap grew');
  const grownMb = Math.min(...samples.slice(-3)) - Math.min(...samples.slice(0, 3));
  assert.ok(grownMb < RSS_TOLERANCE_MB, `RSS grew by ${grownMb.toFixed(1)} MB over ${STEPS} steps (samples ${samples.map((v) => v.toFixed(0))})`);
}

/** One SGD step on the mean energy of `model` at (x, y). */
function sgdStep(model: EnergyModel, x: tf.Tensor, y: tf.Tensor, optimizer: tf.Optimizer): () => void {
  return () => {
    const cost = optimizer.minimize(() => tf.mean(model.energy(x, y)) as tf.Scalar, true, model.trainableVariables);
    cost?.dispose();
  };
}

test('1000 native training steps of a PICNN: tensors, wasm heap and RSS flat', { skip }, async () => {
  await setBackend('wasm');
  const model = new PICNN({ xDim: 40, yDim: 24, hidden: [96, 64], seed: 5 });
  const rng = new Rng(8);
  const x = tf.tensor2d(rng.fillNormal(64 * 40), [64, 40]);
  const y = tf.tensor2d(rng.fillUniform(64 * 24), [64, 24]);
  const optimizer = tf.train.sgd(1e-4);
  assertFlatOverSteps(sgdStep(model, x, y, optimizer));
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
});

test('1000 native training steps of a ConvPICNN (conv filter and input gradients): tensors, wasm heap and RSS flat', { skip }, async () => {
  await setBackend('wasm');
  // The 16→32 conv takes the native Conv2D, every conv the native filter gradient, and the z-path's one-channel
  // convs the narrow loops.
  const model = new ConvPICNN({ xShape: [16, 8, 1], yShape: [16, 8, 1], conv: [{ filters: 16, kernel: 4, stride: 2 }, { filters: 32, kernel: 3, stride: 1 }], fcHidden: [32], seed: 6 });
  const rng = new Rng(9);
  const x = tf.tensor4d(rng.fillUniform(8 * 128), [8, 16, 8, 1]);
  const y = tf.tensor4d(rng.fillUniform(8 * 128), [8, 16, 8, 1]);
  const optimizer = tf.train.sgd(1e-4);
  assertFlatOverSteps(sgdStep(model, x, y, optimizer));
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
});
