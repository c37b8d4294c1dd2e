/**
 * Max-margin structured prediction (§4.2) on a synthetic multi-label task (labels are linear thresholds of x):
 * margin violations (mean hinge on the training set) and test Hamming error fall below stated bounds, and far
 * below the best constant predictor's error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PICNN, tf } from '../helpers/icnn.js';
import { MaxMargin } from '../../src/learning/objectives/maxMargin.js';
import { Rng } from '../../src/util/random.js';

function dataset(rng: Rng, N: number, d: number, n: number, W: Float32Array) {
  const xs = rng.fillNormal(N * d);
  const ys = new Float32Array(N * n);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += xs[i * d + k] * W[k * n + j];
      ys[i * n + j] = s > 0 ? 1 : 0;
    }
  }
  return { x: tf.tensor2d(xs, [N, d]), y: tf.tensor2d(ys, [N, n]) };
}

test('max-margin learns a multi-label task: hinge < 0.05 on train, Hamming error < 0.15 on test', async () => {
  const rng = new Rng(1);
  const d = 10;
  const n = 6;
  const W = rng.fillNormal(d * n);
  const train = dataset(rng, 192, d, n, W);
  const testSet = dataset(rng, 128, d, n, W);
  const model = new PICNN({ xDim: d, yDim: n, hidden: [32, 32], seed: 2 });
  const objective = new MaxMargin({ inference: { method: 'gd', iterations: 30 } });
  const optimizer = tf.train.adam(1e-2);
  const hammingError = async (x: tf.Tensor2D, y: tf.Tensor2D) => {
    const p = await objective.predict(model, x, x.shape[0]);
    const e = tf.tidy(() => tf.mean(tf.cast(tf.notEqual(tf.greater(p, 0.5), tf.greater(y, 0.5)), 'float32')).dataSync()[0]);
    p.dispose();
    return e;
  };
  const before = await hammingError(testSet.x, testSet.y);
  let lastEpochHinge = Infinity;
  for (let epoch = 0; epoch < 20; epoch++) {
    let total = 0;
    for (let b = 0; b < 192; b += 32) {
      const xb = tf.slice(train.x, [b, 0], [32, d]);
      const yb = tf.slice(train.y, [b, 0], [32, n]);
      const { loss, grads } = await objective.step(model, { x: xb, y: yb });
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose([...Object.values(grads), xb, yb]);
      model.project();
      total += loss;
    }
    lastEpochHinge = total / 6;
  }
  const after = await hammingError(testSet.x, testSet.y);
  // The best constant predictor: the majority value per label on the test set.
  const constantError = tf.tidy(() => {
    const rate = tf.mean(testSet.y, 0);
    return tf.mean(tf.minimum(rate, tf.sub(1, rate))).dataSync()[0];
  });
  assert.ok(lastEpochHinge < 0.05, `mean hinge (margin violation) in the last epoch ${lastEpochHinge}`);
  assert.ok(after < 0.15, `test Hamming error ${after} (before training ${before}, constant predictor ${constantError})`);
  assert.ok(after < constantError - 0.2, `test Hamming error ${after} vs constant predictor ${constantError}`);
  assert.ok(model.minConvexWeight() >= 0, 'still convex after projected subgradient steps');
  optimizer.dispose();
  model.dispose();
});

test('max-margin refuses unknown margins and exact LP on the augmented energy', () => {
  assert.throws(() => new MaxMargin({ margin: 'zero-one' as never }), /unknown margin/);
  assert.throws(() => new MaxMargin({ inference: { method: 'lp' } }), /'lp'/);
});
