/**
 * Training-mode batch norm (src/models/batchNorm.ts) is one op with a hand-written gradient. Against tfjs autodiff of
 * the textbook formula (tf.moments, broadcasting ops), on cpu and on wasm: the output, ∂/∂x, ∂/∂γ and ∂/∂β for rows
 * [n, c] and for conv maps [b, h, w, c]; the moving averages after one step; and the gradient through a PICNN's u-path
 * against central finite differences.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PICNN, setBackend, tf } from '../helpers/icnn.js';
import { ParameterStore } from '../../src/models/parameters.js';
import { addBatchNorm, applyBatchNorm, BN_DECAY, BN_EPSILON } from '../../src/models/batchNorm.js';
import { Rng } from '../../src/util/random.js';
import { relErr } from '../backend/reference.js';

interface Case {
  shape: number[];
  seed: number;
}

const CASES: Case[] = [
  { shape: [16, 5], seed: 1 },
  { shape: [3, 4, 2, 6], seed: 2 },
  { shape: [5, 1], seed: 3 },
];

/** A store with γ, β drawn away from their initial 1 and 0, so that a swapped or missing factor shows. */
function storeFor(channels: number, rng: Rng): ParameterStore {
  const store = new ParameterStore('clip');
  addBatchNorm(store, 'bn', channels);
  store.variable('bn.gamma').assign(tf.tensor1d(rng.fillUniform(channels, 0.5, 2)));
  store.variable('bn.beta').assign(tf.tensor1d(rng.fillNormal(channels)));
  return store;
}

/** The textbook formula, differentiated by tfjs: the reference. */
function reference(store: ParameterStore, x: tf.Tensor): tf.Tensor {
  const axes = [...Array(x.rank - 1).keys()];
  const { mean, variance } = tf.moments(x, axes);
  const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, BN_EPSILON)));
  return tf.add(tf.mul(xhat, store.value('bn.gamma')), store.value('bn.beta'));
}

/** The output and the gradients of Σ out·w with respect to x, γ and β. */
function outputAndGrads(store: ParameterStore, norm: (x: tf.Tensor) => tf.Tensor, xValues: Float32Array, wValues: Float32Array, shape: number[]) {
  return tf.tidy(() => {
    const x = tf.tensor(xValues, shape);
    const w = tf.tensor(wValues, shape);
    const gamma = store.variable('bn.gamma');
    const beta = store.variable('bn.beta');
    const out = norm(x);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(norm(xx), w)))(x);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(norm(x), w)) as tf.Scalar, [gamma, beta]);
    return {
      out: out.dataSync().slice(),
      dx: dx.dataSync().slice(),
      dGamma: grads[gamma.name].dataSync().slice(),
      dBeta: grads[beta.name].dataSync().slice(),
    };
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`batch norm in training mode on ${backend}`, () => {
    after(async () => {
      await setBackend('wasm');
    });

    for (const { shape, seed } of CASES) {
      test(`[${shape}]: output and gradients equal autodiff of the formula`, async () => {
        await setBackend(backend);
        const rng = new Rng(seed);
        const store = storeFor(shape[shape.length - 1], rng);
        const n = shape.reduce((a, b) => a * b, 1);
        const x = rng.fillNormal(n).map((v, i) => 3 * v + (i % 7));
        const w = rng.fillNormal(n);
        const want = outputAndGrads(store, (t) => reference(store, t), x, w, shape);
        const got = outputAndGrads(store, (t) => applyBatchNorm(store, 'bn', t, true), x, w, shape);
        for (const key of ['out', 'dx', 'dGamma', 'dBeta'] as const) {
          const err = relErr(got[key], want[key]);
          assert.ok(err <= 2e-5, `[${shape}] ${key}: relative error ${err.toExponential(2)}`);
        }
        store.list().forEach((p) => p.variable.dispose());
      });
    }

    test('one training step moves the moving averages by decay 0.9 towards the batch moments', async () => {
      await setBackend(backend);
      const rng = new Rng(5);
      const store = storeFor(3, rng);
      const x = tf.tensor2d(rng.fillNormal(8 * 3), [8, 3]);
      const { mean, variance } = tf.moments(x, [0]);
      tf.dispose(applyBatchNorm(store, 'bn', x, true));
      const expectMean = Array.from(mean.dataSync(), (m) => (1 - BN_DECAY) * m);
      const expectVar = Array.from(variance.dataSync(), (v) => BN_DECAY + (1 - BN_DECAY) * v);
      assert.ok(relErr(store.variable('bn.movingMean').dataSync(), expectMean) <= 1e-6);
      assert.ok(relErr(store.variable('bn.movingVariance').dataSync(), expectVar) <= 1e-6);
      tf.dispose([x, mean, variance]);
      store.list().forEach((p) => p.variable.dispose());
    });
  });
}

test('∇_θ of a PICNN with u-path batch norm in training mode against central differences (cpu)', async () => {
  await setBackend('cpu');
  const model = new PICNN({ xDim: 4, yDim: 3, hidden: [6, 5], uHidden: [6, 5], batchNorm: true, activation: 'softplus', uActivation: 'softplus', seed: 4 });
  const rng = new Rng(6);
  const x = tf.tensor2d(rng.fillNormal(10 * 4), [10, 4]);
  const y = tf.tensor2d(rng.fillNormal(10 * 3), [10, 3]);
  const energy = () => tf.sum(model.energyFromContext(model.context(x, { training: true }), y)) as tf.Scalar;
  const { grads } = tf.variableGrads(energy, model.trainableVariables);
  // The first u-layer (ahead of the batch norm) and the batch norm's γ, β: a few entries each.
  const checked = model.parameters().filter((p) => p.role !== 'state' && p.name.startsWith('u0.')).map((p) => p.variable);
  assert.equal(checked.length, 4, `u0.W, u0.b, u0.bn.gamma, u0.bn.beta: ${model.parameters().map((p) => p.name).join(', ')}`);
  const h = 1e-2;
  for (const v of checked) {
    const values = v.dataSync().slice();
    const analytic = grads[v.name].dataSync();
    for (const i of [0, Math.floor(values.length / 2), values.length - 1]) {
      const at = (d: number) => {
        const perturbed = values.slice();
        perturbed[i] += d;
        v.assign(tf.tensor(perturbed, v.shape));
        return tf.tidy(() => energy().dataSync()[0]);
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(values, v.shape));
      assert.ok(Math.abs(numeric - analytic[i]) <= 2e-2 * Math.max(1, Math.abs(numeric)),
        `${v.name}[${i}]: analytic ${analytic[i]}, central difference ${numeric}`);
    }
  }
  tf.dispose([x, y]);
  await setBackend('wasm');
});
