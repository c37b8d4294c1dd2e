/**
 * `npx tsx bench/olivettiInit.ts [variants]`: the Olivetti model at initialization, the authors' init against the
 * library's (reproduction-audit.md, Olivetti #1), on the full DQN ConvPICNN and the real data (ICNN_DATA_DIR):
 * - mean over the test faces of |∇_y f(x, ȳ)| at the mean training left half ȳ (batch norm on moving statistics);
 * - the test MSE (0–255) of 5 unrolled GD steps from ȳ at init;
 * - after 25 Adam steps of training (5 epochs of 350 faces, batch 70, seed 0) with the variant's objective:
 *   the fraction of fc0.Wz projected to exactly 0, and the test MSE.
 * Variants (OLIVETTI_VARIANTS ids, default gd-5,gd-5.library-init). Prints one JSON line per variant and a table.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/backend.js';
import { loadOlivetti, olivettiCompletionSplit } from '../src/data/index.js';
import { fit } from '../src/learning/fit.js';
import { unrolledGd } from '../src/learning/unrolledGd.js';
import {
  mse255, olivettiModel, olivettiObjective, olivettiSettings, olivettiVariant, TO_255,
} from '../src/experiments/olivettiTask.js';

await ready();
const variants = (process.argv[2] ?? 'gd-5,gd-5.library-init').split(',');
const s = olivettiSettings(false);
const split = olivettiCompletionSplit((await loadOlivetti({})).images);
const shape = split.itemShape;
const dim = shape[0] * shape[1] * shape[2];
const meanY = new Float32Array(dim);
for (let i = 0; i < split.train.n; i++) for (let j = 0; j < dim; j++) meanY[j] += split.train.y[i * dim + j] / split.train.n;
const x = tf.tensor2d(split.train.x, [split.train.n, dim]);
const y = tf.tensor2d(split.train.y, [split.train.n, dim]);
const xTest = tf.tensor2d(split.test.x, [split.test.n, dim]);
const yTest = tf.tensor2d(split.test.y, [split.test.n, dim]);
const start = tf.tensor2d(meanY, [1, dim]);
const lines: string[] = [];
for (const id of variants) {
  const v = olivettiVariant(id);
  const net = olivettiModel(v, s, shape, 1);
  const t0 = Date.now();
  const nTest = split.test.n;
  const gradNorm = tf.tidy(() => {
    const g = net.gradY(xTest, tf.tile(start, [nTest, 1]) as tf.Tensor2D);
    return tf.mean(tf.norm(g as tf.Tensor2D, 'euclidean', 1)).dataSync()[0];
  });
  const gd5 = tf.tidy(() => {
    const ctx = net.context(xTest, { batch: nTest });
    return unrolledGd(net, ctx, tf.tile(start, [nTest, 1]) as tf.Tensor2D, { ...s.gd, steps: 5 });
  });
  const gdMse = mse255(await gd5.data(), split.test.y);
  gd5.dispose();
  const objective = olivettiObjective(v, s, meanY, start);
  const history = await fit(net, { x, y }, {
    objective, epochs: 5, batchSize: s.batchSize, learningRate: s.learningRate, seed: 0,
    validation: { x: xTest, y: yTest }, evalBatchSize: 50,
  });
  const wz = net.parameters().find((p) => p.name === 'fc0.Wz')!.variable.dataSync();
  const zeros = Array.from(wz as Float32Array).filter((w) => w === 0).length / wz.length;
  const r = {
    variant: id, gradNormAtMeanFace: gradNorm, gd5TestMseAtInit: gdMse, fc0WzZeroFractionAfter25Steps: zeros,
    testMseAfter25Steps: history.epochs[history.epochs.length - 1].metrics.mse * TO_255, steps: history.steps, seconds: (Date.now() - t0) / 1000,
  };
  console.log(JSON.stringify(r));
  lines.push(`| ${id} | ${gradNorm.toExponential(2)} | ${gdMse.toFixed(0)} | ${(100 * zeros).toFixed(1)} % | ${r.testMseAfter25Steps.toFixed(0)} | ${r.seconds.toFixed(0)} s |`);
  net.dispose();
}
console.log(['', '| variant | mean |∇_y f| at ȳ | GD-5 test MSE at init | fc0.Wz = 0 after 25 steps | test MSE after 25 steps | time |',
  '|---|---|---|---|---|---|', ...lines].join('\n'));
tf.dispose([x, y, xTest, yTest, start]);
