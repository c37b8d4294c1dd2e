/** Losses: binary cross-entropy stays finite when predictions saturate at 0 or 1 in float32. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../helpers/icnn.js';
import { lossTensor, lossAndGradRow } from '../../src/learning/losses.js';

test('BCE is finite for saturated predictions (ŷ = 1 with y* = 1 and y* = 0, ŷ = 0)', () => {
  const yHat = tf.tensor2d([[1, 0, 1, 0]]);
  const target = tf.tensor2d([[1, 0, 0, 1]]);
  const l = lossTensor('bce', yHat, target).dataSync()[0];
  assert.ok(Number.isFinite(l), `loss ${l}`);
  // Two confident mistakes at the float32 clip: −log(1e-7) − log(1 − fround(1 − 1e-7)) ≈ 32.06; correct entries ~0.
  const expected = -Math.log(Math.fround(1e-7)) - Math.log(1 - Math.fround(1 - 1e-7));
  assert.ok(Math.abs(l - expected) < 1e-2, `loss ${l} vs ${expected}`);
  const { grad } = lossAndGradRow('bce', Float64Array.from([1, 0]), Float64Array.from([1, 0]), 1);
  assert.ok(grad.every(Number.isFinite));
  tf.dispose([yHat, target]);
});
