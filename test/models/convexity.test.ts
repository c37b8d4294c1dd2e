/**
 * Convexity in y (Prop. 1): Jensen's inequality on ≥ 1000 random segments per model, for every model kind,
 * positivity mode and convex activation, at initialization and after training; and the same check finds
 * violations in the nonconvex ablation (positivity 'none'), which shows that the check can fail.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZOO, FEED_FORWARD, jensenViolations, trainOnRandomTargets } from './modelZoo.js';
import { FICNN, FeedForward, tf } from '../helpers/icnn.js';

const SEGMENTS = 1000;

describe('Jensen inequality holds for convex models', () => {
  for (const entry of ZOO) {
    for (const positivity of ['clip', 'softplus'] as const) {
      for (const activation of ['relu', 'leaky-relu', 'softplus'] as const) {
        test(`${entry.name}, positivity ${positivity}, ${activation}`, () => {
          const model = entry.build({ positivity, activation, seed: 3 });
          try {
            assert.equal(model.isConvex, true);
            const r = jensenViolations(model, SEGMENTS, 11, { scale: 2 });
            assert.equal(r.violations, 0, `worst relative excess ${r.worst}`);
          } finally {
            model.dispose();
          }
        });
      }
    }
  }
  test('principled initialization', () => {
    for (const entry of ZOO) {
      const model = entry.build({ init: 'principled', seed: 5 });
      try {
        assert.ok(model.minConvexWeight() > 0, 'log-normal W^(z) are positive');
        assert.equal(jensenViolations(model, SEGMENTS, 12, { scale: 2 }).violations, 0, entry.name);
      } finally {
        model.dispose();
      }
    }
  });
  test(`${FEED_FORWARD.name} is linear, hence convex, in y`, () => {
    const model = FEED_FORWARD.build({ seed: 1 });
    assert.equal(model.isConvex, true);
    assert.equal(jensenViolations(model, SEGMENTS, 13, { scale: 2 }).violations, 0);
    model.dispose();
  });
  test('FICNN with x is jointly convex in (x, y)', () => {
    // Treat [x, y] as the variable of an FICNN with xDim 0 sharing the same weights: build with xDim 3 and
    // check Jensen along segments in x and y together.
    const model = new FICNN({ xDim: 3, yDim: 2, hidden: [16, 16], seed: 4 });
    const n = SEGMENTS;
    const x1 = tf.randomNormal([n, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const x2 = tf.randomNormal([n, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
    const y1 = tf.randomUniform([n, 2], -2, 2, 'float32', 3) as tf.Tensor2D;
    const y2 = tf.randomUniform([n, 2], -2, 2, 'float32', 4) as tf.Tensor2D;
    const t = tf.randomUniform([n, 1], 0, 1, 'float32', 5);
    const mix = (a: tf.Tensor, b: tf.Tensor) => tf.add(tf.mul(t, a), tf.mul(tf.sub(1, t), b)) as tf.Tensor2D;
    const f1 = model.energy(x1, y1).dataSync();
    const f2 = model.energy(x2, y2).dataSync();
    const fm = model.energy(mix(x1, x2), mix(y1, y2)).dataSync();
    const tv = t.dataSync();
    let violations = 0;
    for (let i = 0; i < n; i++) {
      const tol = 1e-4 * (Math.abs(f1[i]) + Math.abs(f2[i]) + Math.abs(fm[i])) + 1e-5;
      if (fm[i] > tv[i] * f1[i] + (1 - tv[i]) * f2[i] + tol) violations++;
    }
    assert.equal(violations, 0);
    model.dispose();
  });
});

describe('convexity survives training with projection', () => {
  for (const entry of ZOO) {
    for (const positivity of ['clip', 'softplus'] as const) {
      test(`${entry.name}, positivity ${positivity}, 300 Adam steps`, () => {
        const model = entry.build({ positivity, seed: 7 });
        try {
          trainOnRandomTargets(model, 300, 21);
          assert.ok(model.minConvexWeight() >= 0, `min W^(z) = ${model.minConvexWeight()}`);
          const r = jensenViolations(model, SEGMENTS, 31, { scale: 2 });
          assert.equal(r.violations, 0, `worst relative excess ${r.worst}`);
        } finally {
          model.dispose();
        }
      });
    }
  }
});

describe('the check can fail: the nonconvex ablation violates Jensen', () => {
  for (const entry of ZOO) {
    test(`${entry.name}, positivity none`, () => {
      const model = entry.build({ positivity: 'none', seed: 3 });
      try {
        assert.equal(model.isConvex, false);
        trainOnRandomTargets(model, 100, 22);
        assert.ok(model.minConvexWeight() < 0, 'W^(z) takes negative values without projection');
        const r = jensenViolations(model, SEGMENTS, 41, { scale: 2 });
        assert.ok(r.violations > 0, `expected violations, worst relative excess ${r.worst}`);
      } finally {
        model.dispose();
      }
    });
  }
  test('a joint feed-forward energy is not convex', () => {
    const model = new FeedForward({ xDim: 3, yDim: 2, hidden: [32, 32], energy: 'joint', activation: 'tanh', seed: 2 });
    assert.equal(model.isConvex, false);
    assert.ok(jensenViolations(model, SEGMENTS, 51, { scale: 3 }).violations > 0);
    model.dispose();
  });
});
