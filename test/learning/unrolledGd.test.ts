/**
 * Unrolled gradient descent (§4.4): the θ-gradient of ℓ(y_N(θ), y*), differentiated by autodiff through all N
 * momentum steps (second order through ∇_y f), equals central finite differences of θ ↦ ℓ(y_N(θ), y*) on the cpu
 * backend, for every parameter tensor of a small PICNN and FICNN (softplus, so the unrolled map is smooth).
 * The update itself is checked against a hand-written loop on a quadratic energy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FICNN, PICNN, setBackend, tf, type EnergyModel } from '../helpers/icnn.js';
import { unrolledGd } from '../../src/learning/unrolledGd.js';
import { Rng } from '../../src/util/random.js';
import { finiteDifferencePairs } from '../helpers/gradients.js';

const OPTS = { steps: 8, learningRate: 0.05, momentum: 0.5 };

function loss(model: EnergyModel, x: tf.Tensor2D | null, target: tf.Tensor2D): tf.Scalar {
  const n = target.shape[0];
  const ctx = model.context(x, { batch: n });
  const y0 = tf.fill([n, model.yDim], 0.5) as tf.Tensor2D;
  return tf.mean(tf.square(tf.sub(unrolledGd(model, ctx, y0, OPTS), target))) as tf.Scalar;
}

async function check(model: EnergyModel, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const n = 3;
  const x = model.xDim === 0 ? null : tf.tensor2d(rng.fillNormal(n * model.xDim), [n, model.xDim]);
  const target = tf.tensor2d(rng.fillUniform(n * model.yDim), [n, model.yDim]);
  const vars = model.trainableVariables;
  const { grads, value } = tf.variableGrads(() => loss(model, x, target), vars);
  value.dispose();
  const { analytic, numeric } = finiteDifferencePairs(vars, (v) => (grads[v.name]?.dataSync() as Float32Array | undefined) ?? new Float32Array(v.size),
    () => tf.tidy(() => loss(model, x, target).dataSync()[0]), rng);
  let num = 0;
  let den = 0;
  analytic.forEach((a, i) => {
    num += (a - numeric[i]) ** 2;
    den += numeric[i] ** 2;
  });
  assert.ok(den > 1e-10, 'the loss depends on θ');
  const rel = Math.sqrt(num / den);
  assert.ok(rel < 1e-2, `relative error ${rel} over ${analytic.length} entries`);
  tf.dispose([...Object.values(grads), target]);
  x?.dispose();
}

describe('unrolled GD gradient against finite differences (cpu)', () => {
  before(async () => {
    await setBackend('cpu');
  });
  after(async () => {
    await setBackend('wasm');
  });
  test('PICNN', async () => {
    const model = new PICNN({ xDim: 3, yDim: 2, hidden: [10, 10], activation: 'softplus', seed: 2, absScale: 0.5 });
    await check(model, 1);
    model.dispose();
  });
  test('FICNN without x', async () => {
    const model = new FICNN({ yDim: 3, hidden: [10, 10], activation: 'softplus', seed: 3, absScale: 0.5 });
    await check(model, 2);
    model.dispose();
  });
});

test('the unrolled update is the paper\'s momentum rule (quadratic energy, hand-written loop)', () => {
  // FICNN with no hidden layers and a strongly convex term: f(y) = wᵀy + b + (α/2)||y||², ∇f = w + αy.
  const alpha = 0.8;
  const model = new FICNN({ yDim: 2, hidden: [], strongConvexity: alpha, seed: 5 });
  const w = Array.from(model.parameters().find((p) => p.name === 'layer0.Wv')!.variable.dataSync());
  const ctx = model.context(null, { batch: 1 });
  const yN = unrolledGd(model, ctx, tf.tensor2d([[0.5, 0.5]]), OPTS).dataSync();
  let y = [0.5, 0.5];
  let v = [0, 0];
  for (let t = 0; t < OPTS.steps; t++) {
    const g = y.map((yi, i) => w[i] + alpha * yi);
    const vNew = v.map((vi, i) => OPTS.momentum * vi - OPTS.learningRate * g[i]);
    y = y.map((yi, i) => yi - OPTS.momentum * v[i] + (1 + OPTS.momentum) * vNew[i]);
    v = vNew;
  }
  y.forEach((yi, i) => assert.ok(Math.abs(yi - yN[i]) < 1e-5, `coordinate ${i}: ${yN[i]} vs ${yi}`));
  model.dispose();
});
