/**
 * The native Sum and Mean (src/backend/nativeSum.ts) against the cpu backend (each output within 1e-6·Σ|x|, over the
 * count for Mean): reductions over leading and trailing blocks of axes on random shapes, negative axes, keepDims,
 * 0-length and 1-wide dimensions,
 * and the cases left to the wasm kernel (a middle block, split axes, int32). Skipped, with the reason, when the addon
 * is not active.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendInfo, setBackend, tf } from '../helpers/icnn.js';
import { planSum } from '../../src/backend/nativeSum.js';
import { Rng } from '../../src/util/random.js';
import { relErr } from './reference.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

type Reduction = 'sum' | 'mean';

async function reduceOn(op: Reduction, backend: 'cpu' | 'wasm', shape: number[], values: Float32Array | Int32Array, axis: number | number[] | null,
  keepDims: boolean) {
  await setBackend(backend);
  const dtype = values instanceof Int32Array ? 'int32' : 'float32';
  const x = tf.tensor(values, shape, dtype);
  const s = tf[op](x, axis ?? undefined, keepDims);
  const out = { shape: s.shape, values: Float32Array.from(s.dataSync()) };
  tf.dispose([x, s]);
  return out;
}

test('planSum: leading and trailing blocks only', () => {
  assert.deepEqual(planSum([128, 600], 0), { outer: 128, inner: 600, reduceOuter: true });
  assert.deepEqual(planSum([128, 600], -1), { outer: 128, inner: 600, reduceOuter: false });
  assert.deepEqual(planSum([2, 3, 4], [1, 0]), { outer: 6, inner: 4, reduceOuter: true });
  assert.deepEqual(planSum([2, 3, 4], [1, 2]), { outer: 2, inner: 12, reduceOuter: false });
  assert.deepEqual(planSum([2, 3, 4], [0, 1, 2]), { outer: 24, inner: 1, reduceOuter: true });
  assert.equal(planSum([2, 3, 4, 5], [1, 2]), null, 'a middle block');
  assert.equal(planSum([2, 3, 4], [0, 2]), null, 'split axes');
  assert.equal(planSum([], []), null);
  assert.equal(planSum([9, 17], [1, -1]), null, 'a repeated axis');
  assert.deepEqual(planSum([2, 3, 4], null), { outer: 24, inner: 1, reduceOuter: true }, 'no axis: every axis');
});

for (const op of ['sum', 'mean'] as const) test(`native ${op} equals the cpu backend on random shapes and axes`, { skip }, async () => {
  const rng = new Rng(3);
  const cases: [number[], number | number[] | null, boolean][] = [
    [[128, 600], 0, false], [[128, 600], 1, true], [[128, 600], [-2], false], [[70, 1], 0, false], [[1, 513], 1, false],
    [[3, 5, 7], [0, 1], true], [[3, 5, 7], [2, 1], false], [[3, 5, 7], [0, 1, 2], false], [[0, 4], 0, false],
    [[4, 0], 1, false], [[2, 3, 4, 5], [1, 2], true], [[2, 3, 4], [0, 2], false],
    // No axis (tf.sum(x)), empty ones too: the wasm kernel's own sum of an empty tensor is uninitialized memory.
    [[0], null, false], [[0, 3], null, true], [[5, 7], null, false],
  ];
  for (let r = 0; r < 20; r++) {
    const rank = 1 + Math.floor(rng.uniform() * 3);
    const shape = Array.from({ length: rank }, () => 1 + Math.floor(rng.uniform() * 40));
    const from = Math.floor(rng.uniform() * rank);
    const leading = rng.uniform() < 0.5;
    cases.push([shape, leading ? Array.from({ length: from + 1 }, (_, i) => i) : Array.from({ length: rank - from }, (_, i) => from + i), rng.uniform() < 0.3]);
  }
  for (const [shape, axis, keepDims] of cases) {
    const values = rng.fillNormal(shape.reduce((a, b) => a * b, 1));
    const want = await reduceOn(op, 'cpu', shape, values, axis, keepDims);
    const got = await reduceOn(op, 'wasm', shape, values, axis, keepDims);
    const what = `${op} of [${shape}] over ${JSON.stringify(axis)} keepDims ${keepDims}`;
    assert.deepEqual(got.shape, want.shape, what);
    // Float32 summation error scales with Σ|x| (the cpu backend sums in float64): each output within 1e-6 of it (of
    // the mean of |x| for a mean).
    const scale = await reduceOn(op, 'cpu', shape, values.map(Math.abs), axis, keepDims);
    got.values.forEach((g, i) => assert.ok(Math.abs(g - want.values[i]) <= 1e-6 * scale.values[i],
      `${what}: output ${i} is ${g}, the cpu backend's ${want.values[i]} (Σ|x| ${scale.values[i]})`));
  }
  const ints = Int32Array.from({ length: 12 }, (_, i) => i - 5);
  assert.deepEqual(await reduceOn(op, 'wasm', [3, 4], ints, 0, false), await reduceOn(op, 'cpu', [3, 4], ints, 0, false), 'int32 (wasm kernel)');
  await setBackend('wasm');
});

test('gradients through sums are unchanged (bias gradient of a dense layer)', { skip }, async () => {
  const rng = new Rng(8);
  const x = rng.fillNormal(64 * 30);
  const grads = async (backend: 'cpu' | 'wasm') => {
    await setBackend(backend);
    const xs = tf.tensor2d(x, [64, 30]);
    const b = tf.zeros([30]);
    const g = tf.grad((bb: tf.Tensor) => tf.sum(tf.square(tf.add(xs, bb))))(b);
    const out = Float32Array.from(g.dataSync());
    tf.dispose([xs, b, g]);
    return out;
  };
  assert.ok(relErr(await grads('wasm'), await grads('cpu')) <= 1e-5);
  await setBackend('wasm');
});
