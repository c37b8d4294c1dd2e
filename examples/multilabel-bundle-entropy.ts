/**
 * Multi-label prediction with a PICNN and bundle entropy (§4.3, §5.2).
 *
 * ŷ(x) = argmin_{y ∈ [0,1]^L} f(x, y) − H(y) is found by the bundle entropy method (§3.4, Algorithm 2), and the
 * PICNN is trained by differentiating through that argmin (objective 'argmin-bundle-entropy', cross-entropy loss),
 * as the paper's BibTeX experiment. The data: labels that are thresholds of random linear functions of x, so a
 * model has something to learn. Every prediction carries a certificate: the method's lower bound on the minimum.
 *
 *   npx tsx examples/multilabel-bundle-entropy.ts [--tiny]
 */
import * as tf from '@tensorflow/tfjs-core';
import { PICNN, Rng, argmin, exampleF1, fit, init } from 'icnn';
import { runIfMain, type ExampleSize } from './shared.js';

/** x ~ N(0, I); label j is on when w_jᵀx > 0.3 for a random w_j (about a third of the labels per row). */
function makeData(rng: Rng, n: number, xDim: number, labels: number, weights: Float32Array) {
  const x = Float32Array.from({ length: n * xDim }, () => rng.normal());
  const y = new Float32Array(n * labels);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < labels; j++) {
      let s = 0;
      for (let d = 0; d < xDim; d++) s += weights[j * xDim + d] * x[i * xDim + d];
      y[i * labels + j] = s / Math.sqrt(xDim) > 0.3 ? 1 : 0;
    }
  }
  return { x, y };
}

export async function multiLabel(size: ExampleSize = 'full') {
  await init();
  const [xDim, labels] = [8, 6];
  const [nTrain, nTest] = size === 'tiny' ? [128, 64] : [1024, 512];
  const rng = new Rng(11);
  const weights = Float32Array.from({ length: labels * xDim }, () => rng.normal());
  const train = makeData(rng, nTrain, xDim, labels, weights);
  const test = makeData(rng, nTest, xDim, labels, weights);
  const model = new PICNN({ xDim, yDim: labels, hidden: size === 'tiny' ? [16] : [64, 64], seed: 2 });
  const xTrain = tf.tensor2d(train.x, [nTrain, xDim]);
  const yTrain = tf.tensor2d(train.y, [nTrain, labels]);
  const xTest = tf.tensor2d(test.x, [nTest, xDim]);
  try {
    const history = await fit(model, { x: xTrain, y: yTrain }, {
      objective: 'argmin-bundle-entropy', objectiveOptions: { iterations: 10, loss: 'bce' },
      epochs: size === 'tiny' ? 8 : 40, batchSize: 32, learningRate: 0.01, seed: 2,
    });
    const r = await argmin(model, xTest, { method: 'bundle-entropy', domain: 'unit-box', iterations: 30 });
    const predicted = r.y.dataSync();
    r.y.dispose();
    const allOn = new Float32Array(nTest * labels).fill(1);
    return {
      firstEpochLoss: history.epochs[0].trainLoss,
      finalLoss: history.epochs[history.epochs.length - 1].trainLoss,
      /** Example F1 of thresholded ŷ on held-out rows, and of the trivial "every label on" answer. */
      testExampleF1: exampleF1(predicted, test.y, nTest, labels),
      allLabelsOnExampleF1: exampleF1(allOn, test.y, nTest, labels),
      /** Largest certified gap (f − H at ŷ minus the lower bound) over the test rows. */
      worstGap: Math.max(...r.gap!),
      predictionsInUnitBox: predicted.every((v) => v >= 0 && v <= 1),
    };
  } finally {
    tf.dispose([xTrain, yTrain, xTest]);
    model.dispose();
  }
}

await runIfMain(import.meta.url, multiLabel);
