/**
 * The Olivetti bundle-entropy objective with batch statistics (the authors' is_training(True) in the inner solve
 * and the Prop. 3 surrogate; reproduction-audit.md, Olivetti #2) against moving statistics: the two modes give
 * different losses on a fresh batch-normalized model, and the batch-statistics loss is that of the argmin solved
 * with the x-path in training mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/backend.js';
import { ConvPICNN } from '../../src/models/convPicnn.js';
import { argmin } from '../../src/inference/argmin.js';
import { argminSurrogate } from '../../src/learning/argminDifferentiation.js';
import { lossAndGradRow } from '../../src/learning/losses.js';
import { BundleEntropyFromRow, olivettiObjective, olivettiSettings, olivettiVariant } from '../../src/experiments/olivettiTask.js';
import { Rng } from '../../src/util/random.js';

const SHAPE = { xShape: [8, 4, 1], yShape: [8, 4, 1], conv: [{ filters: 3, kernel: 4, stride: 2 }], fcHidden: [6] };
const build = () => new ConvPICNN({ ...SHAPE, batchNorm: true, seed: 11 });
const ROWS = 5;
const DIM = 32;

async function mseOf(y: tf.Tensor, target: Float32Array): Promise<number> {
  const yh = Float64Array.from(await y.data());
  let loss = 0;
  for (let e = 0; e < ROWS; e++) {
    loss += lossAndGradRow('mse', yh.subarray(e * DIM, (e + 1) * DIM), Float64Array.from(target.subarray(e * DIM, (e + 1) * DIM)), ROWS).loss;
  }
  return loss;
}

test('bundle-entropy training with batch statistics solves and differentiates on the batch statistics, not the moving ones', async () => {
  await ready();
  const rng = new Rng(4);
  // x far from the fresh moving statistics (mean 0, variance 1), so the two modes differ.
  const xData = rng.fillUniform(ROWS * DIM, 2, 5);
  const yData = rng.fillUniform(ROWS * DIM);
  const meanY = new Float32Array(DIM).fill(0.5);
  const x = tf.tensor2d(xData, [ROWS, DIM]);
  const y = tf.tensor2d(yData, [ROWS, DIM]);
  const models = [build(), build(), build(), build()];
  try {
    const batchStats = await new BundleEntropyFromRow(meanY, 5, true).step(models[0], { x, y });
    const moving = await new BundleEntropyFromRow(meanY, 5, false).step(models[1], { x, y });
    const solve = (training: boolean) => argmin(models[2], x, {
      method: 'bundle-entropy', iterations: 5, domain: { lower: 0, upper: 1 }, init: Array.from(meanY), tolerance: 1e-6, training,
    });
    const inTraining = await solve(true);
    const expected = await mseOf(inTraining.y, yData);
    assert.ok(Math.abs(batchStats.loss - expected) < 1e-6, `loss ${batchStats.loss} = MSE of the argmin in training mode ${expected}`);
    assert.ok(Math.abs(batchStats.loss - moving.loss) > 1e-4, `the modes differ: ${batchStats.loss} vs ${moving.loss}`);
    // The surrogate's value (and so its θ-gradient) depends on the mode too.
    const n = DIM;
    const rows = [{ example: 0, point: new Float64Array(n).fill(0.3), c: 1, v: new Float64Array(n).fill(0.1) },
      { example: 3, point: new Float64Array(n).fill(0.6), c: 0.5, v: new Float64Array(n).fill(-0.2) }];
    const [sTrain, sMoving] = [argminSurrogate(models[3], x, rows, { training: true }), argminSurrogate(models[3], x, rows)];
    assert.ok(Math.abs((await sTrain.data())[0] - (await sMoving.data())[0]) > 1e-4, 'surrogate in training mode uses batch statistics');
    const grads = [batchStats.grads, moving.grads].map((g) => Object.values(g).flatMap((t) => Array.from(t.dataSync())));
    assert.ok(grads[0].some((g, i) => Math.abs(g - grads[1][i]) > 1e-6), 'the two modes give different parameter gradients');
    inTraining.y.dispose();
    tf.dispose([sTrain, sMoving, ...Object.values(batchStats.grads), ...Object.values(moving.grads)]);
    await assert.rejects(argmin(models[2], x, { training: 'yes' as never }), /training must be a boolean/);
  } finally {
    tf.dispose([x, y]);
    for (const m of models) m.dispose();
  }
});

test('the bundle-entropy-30 variant trains with 30 bundle iterations (icnn_ebundle.py\'s default), the main row with the paper\'s 5', () => {
  const s = olivettiSettings(false);
  const meanY = new Float32Array(DIM).fill(0.5);
  const start = tf.zeros([1, DIM]) as tf.Tensor2D;
  try {
    const iterations = (id: string) => (olivettiObjective(olivettiVariant(id), s, meanY, start) as BundleEntropyFromRow).iterations;
    assert.equal(iterations('bundle-entropy'), 5);
    assert.equal(iterations('bundle-entropy-30'), 30);
    assert.equal(iterations('bundle-entropy.moving-stats'), 5);
    assert.deepEqual([olivettiVariant('bundle-entropy-30').method, olivettiVariant('bundle-entropy-30').batchStatistics], ['bundle-entropy', true]);
  } finally {
    start.dispose();
  }
});
