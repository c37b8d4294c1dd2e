/**
 * The hand-written reverse pass of unrolled GD through a piecewise-linear PICNN (src/learning/piecewiseLinearUnrolledGd.ts)
 * against tfjs's tape through the same loop (`tapedUnrolledGd`), against central finite differences, and for leaks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PICNN, setBackend, tf, type EnergyModel } from '../helpers/icnn.js';
import { tapedUnrolledGd, unrolledGd, type UnrolledGdOptions } from '../../src/learning/unrolledGd.js';
import { adjointScales } from '../../src/learning/piecewiseLinearUnrolledGd.js';
import { Rng } from '../../src/util/random.js';
import { finiteDifferencePairs } from '../helpers/gradients.js';

type Unroll = typeof unrolledGd;

interface Case {
  name: string;
  model: () => PICNN;
  opts: UnrolledGdOptions;
}

const CASES: Case[] = [
  { name: 'ReLU, momentum 0.3', model: () => new PICNN({ xDim: 4, yDim: 3, hidden: [12, 7], seed: 11, gateBias: 0.3 }), opts: { steps: 9, learningRate: 0.1, momentum: 0.3 } },
  {
    name: 'leaky ReLU, strong convexity, momentum 0.5',
    model: () => new PICNN({ xDim: 5, yDim: 4, hidden: [9, 6, 5], activation: 'leaky-relu', leakySlope: 0.2, strongConvexity: 0.7, seed: 12 }),
    opts: { steps: 7, learningRate: 0.05, momentum: 0.5 },
  },
  { name: 'ReLU, one hidden layer, no momentum', model: () => new PICNN({ xDim: 3, yDim: 2, hidden: [8], seed: 13 }), opts: { steps: 5, learningRate: 0.2, momentum: 0 } },
  { name: 'ReLU, batch norm on the u-path', model: () => new PICNN({ xDim: 6, yDim: 3, hidden: [10, 4], batchNorm: true, seed: 14 }), opts: { steps: 6, learningRate: 0.1, momentum: 0.3 } },
];

function data(model: EnergyModel, seed: number, n = 5): { x: tf.Tensor2D; target: tf.Tensor2D } {
  const rng = new Rng(seed);
  return {
    x: tf.tensor2d(rng.fillNormal(n * model.xDim), [n, model.xDim]),
    target: tf.tensor2d(rng.fillUniform(n * model.yDim), [n, model.yDim]),
  };
}

function loss(unroll: Unroll, model: EnergyModel, x: tf.Tensor2D, target: tf.Tensor2D, o: UnrolledGdOptions): tf.Scalar {
  const n = target.shape[0];
  const ctx = model.context(x, { training: true });
  const y0 = tf.fill([n, model.yDim], 0.5) as tf.Tensor2D;
  return tf.mean(tf.square(tf.sub(unroll(model, ctx, y0, o), target))) as tf.Scalar;
}

function gradients(unroll: Unroll, model: EnergyModel, x: tf.Tensor2D, target: tf.Tensor2D, o: UnrolledGdOptions): Map<string, Float32Array> {
  const { grads, value } = tf.variableGrads(() => loss(unroll, model, x, target, o), model.trainableVariables);
  value.dispose();
  const out = new Map(model.trainableVariables.map((v) => [v.name, Float32Array.from(grads[v.name]?.dataSync() ?? new Float32Array(v.size))]));
  tf.dispose(Object.values(grads));
  return out;
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

test('adjointScales: the scalar reverse of the momentum recurrence matches finite differences of y_N', () => {
  // One coordinate, g_t = w + α y_t: y_N is linear in y0 and in each per-step gradient offset.
  const steps = 6;
  const lr = 0.15;
  const m = 0.4;
  const alpha = 0.9;
  const run = (y0: number, offsets: number[]) => {
    let y = y0;
    let v = 0;
    for (let t = 0; t < steps; t++) {
      const g = 0.3 + alpha * y + offsets[t];
      const vNew = m * v - lr * g;
      y = y - m * v + (1 + m) * vNew;
      v = vNew;
    }
    return y;
  };
  const { perStep, start } = adjointScales(steps, lr, m, alpha);
  const zero = new Array(steps).fill(0);
  const h = 1e-6;
  assert.ok(Math.abs((run(1 + h, zero) - run(1 - h, zero)) / (2 * h) - start) < 1e-7, 'dy_N/dy_0');
  for (let t = 0; t < steps; t++) {
    const plus = zero.slice();
    const minus = zero.slice();
    plus[t] = h;
    minus[t] = -h;
    const fd = (run(0.5, plus) - run(0.5, minus)) / (2 * h);
    assert.ok(Math.abs(fd - perStep[t]) < 1e-7, `dy_N/dg_${t}: ${perStep[t]} vs ${fd}`);
  }
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`hand-written reverse pass against the tape (${backend})`, () => {
    before(async () => {
      await setBackend(backend);
    });
    after(async () => {
      await setBackend('wasm');
    });
    for (const c of CASES) {
      test(c.name, () => {
        const model = c.model();
        const { x, target } = data(model, 3);
        assert.notEqual(model.gatedPath(model.context(x)), null, 'the model takes the hand-written path');
        const yHand = tf.tidy(() => unrolledGd(model, model.context(x), tf.fill([5, model.yDim], 0.5) as tf.Tensor2D, c.opts).dataSync().slice());
        const yTape = tf.tidy(() => tapedUnrolledGd(model, model.context(x), tf.fill([5, model.yDim], 0.5) as tf.Tensor2D, c.opts).dataSync().slice());
        assert.ok(relativeError(yHand, yTape) < 1e-5, `y_N: ${relativeError(yHand, yTape)}`);
        const hand = gradients(unrolledGd, model, x, target, c.opts);
        const tape = gradients(tapedUnrolledGd, model, x, target, c.opts);
        let nonzero = 0;
        for (const [name, g] of tape) {
          const err = relativeError(hand.get(name)!, g);
          if (g.some((v) => v !== 0)) {
            nonzero++;
            assert.ok(err < 1e-4, `${name}: relative error ${err}`);
          } else {
            assert.ok(hand.get(name)!.every((v) => Math.abs(v) < 1e-7), `${name}: the tape's gradient is 0, ours is not`);
          }
        }
        assert.ok(nonzero >= model.trainableVariables.length / 2, `${nonzero} of ${model.trainableVariables.length} parameters have a gradient`);
        tf.dispose([x, target]);
        model.dispose();
      });
    }
  });
}

describe('hand-written reverse pass against finite differences (cpu)', () => {
  before(async () => {
    await setBackend('cpu');
  });
  after(async () => {
    await setBackend('wasm');
  });
  test('leaky ReLU PICNN: the largest and a random entry of every parameter tensor', () => {
    const c = CASES[1];
    const model = c.model();
    const { x, target } = data(model, 4, 3);
    const rng = new Rng(7);
    const grads = gradients(unrolledGd, model, x, target, c.opts);
    const { analytic, numeric } = finiteDifferencePairs(model.trainableVariables, (v) => grads.get(v.name)!,
      () => tf.tidy(() => loss(unrolledGd, model, x, target, c.opts).dataSync()[0]), rng);
    const rel = relativeError(analytic, numeric);
    assert.ok(numeric.some((v) => Math.abs(v) > 1e-4), 'the loss depends on θ');
    assert.ok(rel < 1e-2, `relative error ${rel} over ${analytic.length} entries`);
    tf.dispose([x, target]);
    model.dispose();
  });
});

test('softplus PICNNs have no gated path and take the taped loop', () => {
  const model = new PICNN({ xDim: 2, yDim: 2, hidden: [4], activation: 'softplus', seed: 1 });
  const ctx = model.context(tf.ones([1, 2]) as tf.Tensor2D);
  assert.equal(model.gatedPath(ctx), null);
  tf.dispose(ctx.tensors);
  model.dispose();
});

test('no tensor is left behind by a training step or a prediction through the hand-written path', () => {
  const c = CASES[0];
  const model = c.model();
  const { x, target } = data(model, 5);
  gradients(unrolledGd, model, x, target, c.opts); // warm-up: lazily created tensors (optimizer-free, but kernels may cache)
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) gradients(unrolledGd, model, x, target, c.opts);
  tf.tidy(() => unrolledGd(model, model.context(x), tf.fill([5, model.yDim], 0.5) as tf.Tensor2D, c.opts)).dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, target]);
  model.dispose();
});
