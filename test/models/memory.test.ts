/**
 * Memory hygiene: repeated forward/backward passes and training steps hold the tensor count constant, and a
 * disposed model frees everything it allocated.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConvPICNN, FICNN, FeedForward, PICNN, disposeContext, tf, type EnergyModel } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';

const STEPS = 100;

interface Case {
  name: string;
  build: () => EnergyModel;
  batch: number;
}

const CASES: Case[] = [
  { name: 'PICNN with batch norm', batch: 8, build: () => new PICNN({ xDim: 12, yDim: 6, hidden: [16, 8], batchNorm: true, seed: 1 }) },
  {
    name: 'ConvPICNN (small)', batch: 4,
    build: () => new ConvPICNN({
      xShape: [16, 8, 1], yShape: [16, 8, 1], conv: [{ filters: 4, kernel: 4, stride: 2 }, { filters: 4, kernel: 3, stride: 1 }],
      fcHidden: [8], seed: 2,
    }),
  },
];

function batchFor(model: EnergyModel, n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const rng = new Rng(seed);
  return {
    x: tf.tensor2d(rng.fillNormal(n * model.xDim), [n, model.xDim]),
    y: tf.tensor2d(rng.fillUniform(n * model.yDim), [n, model.yDim]),
  };
}

/** Run `step` once (warm-up), then STEPS times, asserting the tensor count never moves after the warm-up. */
function assertNoGrowth(label: string, step: (i: number) => void): void {
  step(0);
  const baseline = tf.memory().numTensors;
  for (let i = 1; i <= STEPS; i++) {
    step(i);
    const now = tf.memory().numTensors;
    if (now !== baseline) assert.fail(`${label}: ${now - baseline} tensors leaked after step ${i} (baseline ${baseline})`);
  }
}

describe('no tensors leak across repeated steps', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const model = c.build();
      const { x, y } = batchFor(model, c.batch, 3);
      const yImage = tf.reshape(y, [c.batch, ...model.yShape]);
      const xArr = x.arraySync();
      const yArr = y.arraySync();

      assertNoGrowth(`${c.name} energy`, () => {
        model.energy(x, y).dispose();
        model.energy(xArr, yArr).dispose();
        model.energy(x, y, { training: true }).dispose();
      });
      assertNoGrowth(`${c.name} gradY`, () => {
        model.gradY(x, y).dispose();
        model.gradY(x, yImage).dispose();
      });
      assertNoGrowth(`${c.name} energyAndGradY`, () => {
        const { energy, grad } = model.energyAndGradY(x, y);
        tf.dispose([energy, grad]);
      });
      assertNoGrowth(`${c.name} context + energyFromContext`, () => {
        const ctx = model.context(x);
        model.energyFromContext(ctx, y).dispose();
        model.energyFromContext(ctx, y).dispose();
        disposeContext(ctx);
      });

      // A training step: gradients of the summed energy w.r.t. the trainable variables, with the context built
      // in training mode (batch-norm statistics are updated as a side effect), then Adam and the projection.
      // Adam creates its slot variables on the first step: the warm-up step of assertNoGrowth.
      const optimizer: tf.Optimizer = tf.train.adam(1e-3);
      const variables = model.trainableVariables;
      const bnState = model.parameters().filter((p) => p.role === 'state');
      assert.ok(bnState.length > 0, 'the case should exercise batch-norm state updates');
      const meanBefore = bnState[0].variable.dataSync().slice();
      assertNoGrowth(`${c.name} training step`, () => {
        const { value, grads } = tf.variableGrads(() => {
          const ctx = model.context(x, { training: true });
          return tf.sum(model.energyFromContext(ctx, y)) as tf.Scalar;
        }, variables);
        optimizer.applyGradients(grads);
        model.project();
        tf.dispose(grads);
        value.dispose();
      });
      assert.notDeepEqual(bnState[0].variable.dataSync(), meanBefore, 'training steps should have updated the moving statistics');
      assert.ok(model.minConvexWeight() >= 0, 'project() keeps W^(z) >= 0');

      optimizer.dispose();
      tf.dispose([x, y, yImage]);
      model.dispose();
    });
  }
});

describe('disposal frees everything', () => {
  const builders: [string, () => EnergyModel][] = [
    ['FICNN', () => new FICNN({ xDim: 2, yDim: 3, hidden: [4, 4], seed: 1 })],
    ['PICNN', () => new PICNN({ xDim: 4, yDim: 3, hidden: [5, 4], batchNorm: true, positivity: 'softplus', seed: 1 })],
    ['ConvPICNN', () => CASES[1].build()],
    ['FeedForward', () => new FeedForward({ xDim: 4, yDim: 3, hidden: [5], batchNorm: true })],
  ];
  for (const [name, build] of builders) {
    test(`${name}: constructing, using and disposing a model leaves no tensors and no bytes behind`, () => {
      const before = tf.memory();
      const model = build();
      const { x, y } = batchFor(model, 2, 1);
      const xa = x.arraySync();
      const ya = y.arraySync();
      tf.dispose([x, y]);
      model.energy(xa, ya, { training: true }).dispose();
      model.project();
      const json = model.toJSON();
      model.dispose();
      const copy = (model.constructor as unknown as { fromJSON: (j: unknown) => EnergyModel }).fromJSON(json);
      copy.dispose();
      const after = tf.memory();
      assert.equal(after.numTensors, before.numTensors, `${name}: tensors left after dispose`);
      assert.equal(after.numBytes, before.numBytes, `${name}: bytes left after dispose`);
    });
  }
});
