/**
 * No leak through the native kernels over 1000 training steps of a PICNN (forward, ∇_θ through BatchMatMul, SGD
 * update): the tensor count is constant after the first step, the wasm heap does not grow, and the process RSS
 * stays within a tolerance (the addon's per-thread packing buffers are allocated once and reused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { backendInfo, PICNN, setBackend, tf } from '../helpers/icnn.js';
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

test('1000 native training steps: tensors, wasm heap and RSS flat', { skip }, async () => {
  await setBackend('wasm');
  const model = new PICNN({ xDim: 40, yDim: 24, hidden: [96, 64], seed: 5 });
  const rng = new Rng(8);
  const x = tf.tensor2d(rng.fillNormal(64 * 40), [64, 40]);
  const y = tf.tensor2d(rng.fillUniform(64 * 24), [64, 24]);
  const optimizer = tf.train.sgd(1e-4);
  const step = () => {
    const cost = optimizer.minimize(() => tf.mean(model.energy(x, y)) as tf.Scalar, true, model.trainableVariables);
    cost?.dispose();
  };
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
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
});
