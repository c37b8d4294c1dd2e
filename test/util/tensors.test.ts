/** toFlatBatch and assertFinite: shapes, conversions, ownership and messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../helpers/icnn.js';
import { IcnnError } from '../../src/util/errors.js';
import { assertFinite, sizeOf, toFlatBatch } from '../../src/util/tensors.js';

function throwsIcnn(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof IcnnError && re.test(e.message));
}

test('a tensor of the flat shape is returned as is', () => {
  const t = tf.zeros([3, 4]);
  assert.equal(toFlatBatch('f', 'y', t, [4]), t);
  assert.equal(toFlatBatch('f', 'y', t, [2, 2]), t);
  t.dispose();
});

test('item-shaped tensors and nested arrays are flattened row-major', () => {
  const img = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
  const flat = toFlatBatch('f', 'y', img, [2, 2, 1]);
  assert.deepEqual(flat.shape, [2, 4]);
  assert.deepEqual([...flat.dataSync()], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(!img.isDisposed);
  const fromNested = toFlatBatch('f', 'y', [[[[1], [2]], [[3], [4]]]], [2, 2, 1]);
  assert.deepEqual(fromNested.shape, [1, 4]);
  assert.equal(fromNested.dtype, 'float32');
  tf.dispose([img, flat, fromNested]);
});

test('rows given as typed arrays are accepted', () => {
  const f = toFlatBatch('f', 'y', [new Float32Array([1, 2]), new Float64Array([3, 4])] as never, [2]);
  assert.deepEqual(f.shape, [2, 2]);
  assert.deepEqual([...f.dataSync()], [1, 2, 3, 4]);
  f.dispose();
  throwsIcnn(() => toFlatBatch('M', 'y', [new Float32Array([1, 2]), new Float32Array([3])] as never, [2]), /y\[1\] has 1 entries/);
});

test('non-float tensors are cast without disposing the input', () => {
  const t = tf.tensor2d([[1, 2]], [1, 2], 'int32');
  const before = tf.memory().numTensors;
  const f = toFlatBatch('f', 'x', t, [2]);
  assert.equal(f.dtype, 'float32');
  assert.equal(tf.memory().numTensors, before + 1);
  assert.ok(!t.isDisposed);
  tf.dispose([t, f]);
});

test('refusals name the caller and argument, the expected and the actual shape, and free temporaries', () => {
  const before = tf.memory().numTensors;
  throwsIcnn(() => toFlatBatch('Model.energy', 'y', [[1, 2, 3]], [2]), /^Model\.energy: y must have shape \[N, 2\], got \[1, 3\]$/);
  throwsIcnn(() => toFlatBatch('M', 'x', [[1, 2]], [2, 2, 1]), /x must have shape \[N, 4\] or \[N, 2, 2, 1\], got \[1, 2\]/);
  throwsIcnn(() => toFlatBatch('M', 'x', [], [2]), /x (must have shape|has no rows)/);
  throwsIcnn(() => toFlatBatch('M', 'x', [[1], [2, 3]] as never, [1]), /^M: x is not a rectangular array of numbers: x\[1\] has 2 entries, expected an array of 1$/);
  throwsIcnn(() => toFlatBatch('M', 'x', [[1, 2], [3]] as never, [2]), /x\[1\] has 1 entries, expected an array of 2/);
  throwsIcnn(() => toFlatBatch('M', 'y', [[1, 2], [3, 'a']] as never, [2]), /y is not a rectangular array of numbers: y\[1\]\[1\] is "a"/);
  throwsIcnn(() => toFlatBatch('M', 'y', [[1, 2], [3, null]] as never, [2]), /y\[1\]\[1\] is null/);
  throwsIcnn(() => toFlatBatch('M', 'y', [[1, 2], [3, [4]]] as never, [2]), /y\[1\]\[1\] is an array/);
  throwsIcnn(() => toFlatBatch('M', 'y', [[1, 2], 5] as never, [2]), /y\[1\] is 5, expected an array of 2/);
  throwsIcnn(() => toFlatBatch('M', 'y', [[[[1]], [[2]]], [[[3]], [[4], [5]]]] as never, [2, 1, 1]), /y\[1\]\[1\] has 2 entries/);
  throwsIcnn(() => toFlatBatch('M', 'x', { rows: 1 } as never, [2]), /x must be a tf\.Tensor or an array of rows, got object/);
  assert.equal(tf.memory().numTensors, before);
});

test('assertFinite names the first offending entry by row and column', () => {
  const ok = tf.tensor2d([[1, 2], [3, 4]]);
  assertFinite('f', 'y', ok);
  const bad = tf.tensor2d([[1, 2, 3], [4, 5, NaN], [Infinity, 0, 0]]);
  throwsIcnn(() => assertFinite('Model.gradY', 'y', bad), /^Model\.gradY: y contains NaN at row 1, column 2; inputs must be finite$/);
  const before = tf.memory().numTensors;
  throwsIcnn(() => assertFinite('f', 'x', tf.tensor2d([[0, -Infinity]])), /x contains -Infinity at row 0, column 1/);
  assert.equal(tf.memory().numTensors, before + 1, 'only the test\'s own input tensor remains');
  tf.dispose([ok, bad]);
});

test('sizeOf', () => {
  assert.equal(sizeOf([]), 1);
  assert.equal(sizeOf([2, 3, 4]), 24);
});
