/**
 * Tensors of another tfjs copy (issue #17: a user's own tfjs, when npm does not deduplicate it with ours) are
 * recognized by structure (`isTensor`), not `instanceof`, and used through a copy: the model, argmin and fit give
 * the same numbers as with this copy's tensors, and free the copies. The foreign tensor is a plain object with a
 * tensor's fields, as another engine's `Tensor` class would be to ours.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { FICNN, PICNN, argmin, fit, setBackend, tf } from '../helpers/icnn.js';
import { isTensor } from '../../src/util/tensors.js';

/** A tensor of "another engine": the fields and methods of a tfjs Tensor, none of its class. */
function foreign<T extends tf.Tensor>(t: T): T {
  const values = t.dataSync().slice();
  const fake = {
    dataId: {}, id: -1, shape: [...t.shape], dtype: t.dtype, rank: t.rank, size: t.size, strides: [], isDisposed: false,
    dataSync: () => values, data: async () => values, dispose: () => {
      fake.isDisposed = true;
    },
  };
  return fake as unknown as T;
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('tensors of another tfjs copy', () => {
  before(async () => {
    await setBackend('cpu');
  });

  test('isTensor: true for tensors of either copy, false for look-alikes that are not tensors', () => {
    const t = tf.tensor2d([[1, 2]]);
    assert.equal(isTensor(t), true);
    assert.equal(isTensor(foreign(t)), true);
    for (const v of [null, undefined, 3, [[1, 2]], { shape: [1, 2], dtype: 'float32' }, new Float32Array(2)]) {
      assert.equal(isTensor(v), false, JSON.stringify(v));
    }
    t.dispose();
  });

  test('PICNN energy and argmin take foreign x and y and give the same numbers', async () => {
    const model = new PICNN({ xDim: 3, yDim: 2, hidden: [6, 6], seed: 4 });
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
    const y = tf.randomUniform([5, 2], -1, 1, 'float32', 2);
    const start = tf.memory().numTensors;
    const own = model.energy(x, y);
    const theirs = model.energy(foreign(x), foreign(y));
    assert.deepEqual(values(theirs), values(own));
    tf.dispose([own, theirs]);
    assert.equal(tf.memory().numTensors, start, 'the copies were freed');
    const a = await argmin(model, x, { method: 'gd', iterations: 20 });
    const b = await argmin(model, foreign(x), { method: 'gd', iterations: 20 });
    assert.deepEqual(values(b.y), values(a.y));
    tf.dispose([a.y, b.y, x, y]);
    model.dispose();
  });

  test('fit on a foreign data set trains as on our own tensors, and frees its copies', async () => {
    const y = tf.randomUniform([24, 2], -1, 1, 'float32', 5) as tf.Tensor2D;
    const target = tf.sum(tf.square(y), 1) as tf.Tensor1D;
    const options = { objective: 'energy-regression' as const, epochs: 2, batchSize: 8, seed: 3 };
    const a = new FICNN({ yDim: 2, hidden: [8], seed: 9 });
    const b = new FICNN({ yDim: 2, hidden: [8], seed: 9 });
    const ha = await fit(a, { x: null, y, target }, options);
    const start = tf.memory().numTensors;
    const hb = await fit(b, { x: null, y: foreign(y), target: foreign(target) }, { ...options, validation: { x: null, y: foreign(y), target: foreign(target) } });
    assert.equal(tf.memory().numTensors, start, 'the copies were freed');
    assert.deepEqual(hb.epochs.map((e) => e.trainLoss), ha.epochs.map((e) => e.trainLoss));
    const pb = new Map(b.parameters().map((p) => [p.name, values(p.variable)]));
    for (const p of a.parameters()) assert.deepEqual(pb.get(p.name), values(p.variable), p.name);
    tf.dispose([y, target]);
    a.dispose();
    b.dispose();
  });
});
