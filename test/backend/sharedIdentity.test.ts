/**
 * The copy-free Identity (src/backend/sharedIdentity.ts): a clone shares its input's data on the wasm backend, the
 * data lives until both are disposed, gradients through identities are unchanged, and string tensors still clone.
 * Skipped, with the reason, when the native kernels are not active (the override is registered with them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendInfo, setBackend, tf } from '../helpers/icnn.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

test('a clone shares the data and outlives its input; memory is freed when both are gone', { skip }, async () => {
  await setBackend('wasm');
  const backend = tf.backend() as unknown as { refCount(dataId: object): number };
  const bytesBefore = tf.memory().numBytes;
  const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const b = tf.clone(a);
  assert.equal(b.dataId, a.dataId, 'no copy');
  assert.equal(backend.refCount(a.dataId), 2);
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(b.shape, [2, 3]);
  b.dispose();
  assert.equal(backend.refCount(b.dataId), 0, 'freed with the last reference');
  assert.equal(tf.memory().numBytes, bytesBefore);
});

test('gradients through identities and string clones are as before', { skip }, async () => {
  await setBackend('wasm');
  const x = tf.tensor1d([0.5, -1, 2]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clone(t), tf.clone(t))))(x);
  assert.deepEqual(Array.from(g.dataSync()), [1, -2, 4]);
  const s = tf.tensor1d(['a', 'b'], 'string');
  assert.deepEqual(tf.clone(s).arraySync(), ['a', 'b']);
  tf.dispose([x, g, s]);
});
