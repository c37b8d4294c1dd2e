/**
 * Exact inference by linear programming, with its certificate (§3.1).
 *
 * For a ReLU PICNN and fixed x, min_{y ∈ box} f(x, y) is a linear program over y and the hidden units (solved by
 * HiGHS). Its optimal value is the minimum itself, and f evaluated at the LP's ŷ gives the same number: that is the
 * certificate. The bundle method (§3.3) gives an upper value and a certified lower bound that bracket it.
 *
 *   npx tsx examples/exact-lp.ts [--tiny]
 */
import * as tf from '@tensorflow/tfjs-core';
import { PICNN, Rng, argmin, init, solveLp } from 'icnn';
import { runIfMain, type ExampleSize } from './shared.js';

export async function exactLp(size: ExampleSize = 'full') {
  await init();
  const [xDim, yDim, rows] = size === 'tiny' ? [3, 2, 4] : [8, 4, 32];
  const model = new PICNN({ xDim, yDim, hidden: size === 'tiny' ? [8, 8] : [32, 32], seed: 5 });
  const rng = new Rng(5);
  const x = tf.tensor2d(Float32Array.from({ length: rows * xDim }, () => rng.normal()), [rows, xDim]);
  try {
    const lp = await solveLp(model, x, { lower: 0, upper: 1 });
    const fAtLp = tf.tidy(() => model.energy(x, lp.y).dataSync());
    const bundle = await argmin(model, x, { method: 'bundle', domain: 'unit-box', iterations: 50 });
    bundle.y.dispose();
    const rowsOut = Array.from(lp.energy, (value, i) => ({
      status: lp.status[i],
      lpValue: value,
      energyAtLpY: fAtLp[i],
      bundleEnergy: bundle.energy[i],
      bundleLowerBound: bundle.lowerBound![i],
    }));
    lp.y.dispose();
    return {
      rows: rowsOut,
      /** max |f(x, ŷ_LP) − LP value| (float32 network against the float64 LP). */
      worstCertificateError: Math.max(...rowsOut.map((r) => Math.abs(r.energyAtLpY - r.lpValue))),
    };
  } finally {
    x.dispose();
    model.dispose();
  }
}

await runIfMain(import.meta.url, exactLp);
