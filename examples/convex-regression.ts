/**
 * Fit a convex function with energy regression (§4.1) and check Jensen's inequality.
 *
 * An FICNN of y alone (no x) is convex in y by construction (§1.1, Prop. 1): whatever it learns, for any points a, b
 * and λ ∈ [0, 1], f(λa + (1 − λ)b) ≤ λ f(a) + (1 − λ) f(b). Here it learns g(y) = ‖y‖² + |y₁ − y₂| from samples on
 * [−1, 1]², and the inequality is checked on random triples afterwards.
 *
 *   npx tsx examples/convex-regression.ts [--tiny]
 */
import * as tf from '@tensorflow/tfjs-core';
import { FICNN, Rng, fit, init } from 'icnn';
import { runIfMain, type ExampleSize } from './shared.js';

function target(y0: number, y1: number): number {
  return y0 * y0 + y1 * y1 + Math.abs(y0 - y1);
}

export async function convexRegression(size: ExampleSize = 'full') {
  await init();
  const n = size === 'tiny' ? 128 : 1024;
  const rng = new Rng(7);
  const ys = Float32Array.from({ length: 2 * n }, () => 2 * rng.uniform() - 1);
  const es = Float32Array.from({ length: n }, (_, i) => target(ys[2 * i], ys[2 * i + 1]));
  const model = new FICNN({ yDim: 2, hidden: size === 'tiny' ? [16, 16] : [64, 64], activation: 'softplus', seed: 1 });
  const y = tf.tensor2d(ys, [n, 2]);
  const energies = tf.tensor1d(es);
  try {
    const history = await fit(model, { x: null, y, target: energies }, {
      objective: 'energy-regression', epochs: size === 'tiny' ? 20 : 200, batchSize: 64, learningRate: 0.01, seed: 1,
    });
    // Jensen's inequality on random triples (a, b, λ), evaluated in one batch of midpoints and endpoints.
    const pairs = size === 'tiny' ? 200 : 2000;
    const a = Float32Array.from({ length: 2 * pairs }, () => 2 * rng.uniform() - 1);
    const b = Float32Array.from({ length: 2 * pairs }, () => 2 * rng.uniform() - 1);
    const lambda = Float32Array.from({ length: pairs }, () => rng.uniform());
    const mid = a.map((v, k) => lambda[k >> 1] * v + (1 - lambda[k >> 1]) * b[k]);
    const f = (points: Float32Array) => tf.tidy(() => model.energy(null, tf.tensor2d(points, [pairs, 2])).dataSync());
    const [fa, fb, fm] = [f(a), f(b), f(mid)];
    let worst = -Infinity;
    for (let k = 0; k < pairs; k++) worst = Math.max(worst, fm[k] - (lambda[k] * fa[k] + (1 - lambda[k]) * fb[k]));
    return {
      firstEpochLoss: history.epochs[0].trainLoss,
      finalLoss: history.epochs[history.epochs.length - 1].trainLoss,
      jensenPairs: pairs,
      /** max over pairs of f(λa + (1−λ)b) − (λf(a) + (1−λ)f(b)): ≤ 0 up to float32 rounding. */
      worstJensenViolation: worst,
    };
  } finally {
    tf.dispose([y, energies]);
    model.dispose();
  }
}

await runIfMain(import.meta.url, convexRegression);
