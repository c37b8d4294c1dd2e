/**
 * PICNN's hand-written backward pass (src/models/picnn.ts, `energyAndGradFromContext`) against tfjs's tape (the
 * EnergyModel default, whose gradients test/models/gradients.test.ts checks against finite differences): the same
 * energies and ∇_y f for every convex activation, positivity mode, strong convexity and batch norm, and the same
 * second-order gradients ∇_θ(c·f + ∇_y f·v) that argmin differentiation (§4.3) takes through it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend, tf } from '../helpers/icnn.js';
import { relErr } from '../helpers/gradients.js';
import { PICNN } from '../../src/models/picnn.js';
import { EnergyModel, type EnergyContext } from '../../src/models/energyModel.js';

before(async () => {
  await setBackend('cpu');
});
after(async () => {
  await setBackend('wasm');
});

type Pass = (model: EnergyModel, ctx: EnergyContext, y: tf.Tensor2D) => { energy: tf.Tensor1D; grad: tf.Tensor2D };
const manual: Pass = (model, ctx, y) => model.energyAndGradFromContext(ctx, y);
const tape: Pass = (model, ctx, y) => EnergyModel.prototype.energyAndGradFromContext.call(model, ctx, y);

const CASES = [
  { activation: 'relu', positivity: 'clip', strongConvexity: 0, batchNorm: false },
  { activation: 'leaky-relu', leakySlope: 0.01, positivity: 'clip', strongConvexity: 0, batchNorm: true },
  { activation: 'leaky-relu', leakySlope: 0.3, positivity: 'none', strongConvexity: 0.5, batchNorm: false },
  { activation: 'softplus', positivity: 'softplus', strongConvexity: 0.5, batchNorm: true },
  { activation: 'softplus', positivity: 'clip', strongConvexity: 0, batchNorm: false, hidden: [7] },
] as const;

function setup(c: (typeof CASES)[number], seed: number) {
  const model = new PICNN({ xDim: 5, yDim: 3, ...c, hidden: 'hidden' in c ? [...c.hidden] : [11, 9], seed, weightStd: 0.5 });
  const x = tf.randomNormal([6, 5], 0, 1, 'float32', seed) as tf.Tensor2D;
  const y = tf.randomUniform([6, 3], -1, 1, 'float32', seed + 1) as tf.Tensor2D;
  return { model, x, y };
}

for (const c of CASES) {
  const name = `${c.activation}${'leakySlope' in c ? ` ${c.leakySlope}` : ''}, positivity ${c.positivity}, α ${c.strongConvexity}, batch norm ${c.batchNorm}`;

  test(`PICNN manual backward = tape: energy and ∇_y f (${name})`, () => {
    const { model, x, y } = setup(c, 3);
    const ctx = model.context(x);
    const [m, t] = [manual, tape].map((pass) => tf.tidy(() => {
      const r = pass(model, ctx, y);
      return { energy: r.energy.dataSync().slice(), grad: r.grad.dataSync().slice(), shape: r.grad.shape };
    }));
    assert.deepEqual(m.shape, [6, 3]);
    assert.ok(relErr(m.energy, t.energy) < 1e-6, `energy: relative error ${relErr(m.energy, t.energy)}`);
    assert.ok(relErr(m.grad, t.grad) < 1e-5, `∇_y f: relative error ${relErr(m.grad, t.grad)}`);
    assert.ok(t.grad.some((g) => Math.abs(g) > 1e-3), 'a non-trivial gradient');
    tf.dispose([...ctx.tensors, x, y]);
    model.dispose();
  });

  test(`PICNN manual backward = tape: second order ∇_θ(c·f + ∇_y f·v) (${name})`, () => {
    const { model, x, y } = setup(c, 4);
    const v = tf.randomNormal([6, 3], 0, 1, 'float32', 7);
    const cw = tf.randomNormal([6], 0, 1, 'float32', 8);
    const vars = model.trainableVariables;
    const [m, t] = [manual, tape].map((pass) => {
      const { grads, value } = tf.variableGrads(() => {
        const ctx = model.context(x, { training: c.batchNorm });
        const r = pass(model, ctx, y);
        return tf.add(tf.sum(tf.mul(r.energy, cw)), tf.sum(tf.mul(r.grad, v))) as tf.Scalar;
      }, vars);
      const flat = vars.flatMap((vv) => Array.from(grads[vv.name]?.dataSync() ?? new Float32Array(vv.size)));
      tf.dispose([value, ...Object.values(grads)]);
      return flat;
    });
    assert.ok(relErr(m, t) < 1e-5, `relative error ${relErr(m, t)}`);
    assert.ok(t.some((g) => Math.abs(g) > 1e-3), 'a non-trivial gradient');
    tf.dispose([x, y, v, cw]);
    model.dispose();
  });
}

test('PICNN manual backward leaks no tensors', () => {
  const { model, x, y } = setup(CASES[1], 5);
  const ctx = model.context(x);
  manual(model, ctx, y); // warm-up (lazily created constants)
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    const r = manual(model, ctx, y);
    tf.dispose([r.energy, r.grad]);
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([...ctx.tensors, x, y]);
  model.dispose();
});
