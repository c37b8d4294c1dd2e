/**
 * Gradients of every model kind:
 * - ∇_y f and ∇_θ f against central finite differences (cpu backend, the oracle);
 * - wasm gradients against cpu gradients (relative 1e-4), the same weights on both (seeded initialization);
 * - second order ∇_θ(∇_y f · v), needed by argmin differentiation (§4.3), on cpu and wasm, against finite
 *   differences of θ ↦ ∇_y f(θ) · v.
 * Smooth activations (softplus) keep finite differences away from relu kinks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZOO, FEED_FORWARD, randomInputs, type ZooEntry } from './modelZoo.js';
import { setBackend, tf } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';
import { build, gradDot, probeIndices, relErr, secondOrderGrads, thetaGrads, totalEnergy, withPerturbed } from '../helpers/gradients.js';

const ENTRIES: ZooEntry[] = [...ZOO, FEED_FORWARD];

describe('finite differences on cpu', () => {
  before(async () => {
    await setBackend('cpu');
  });
  after(async () => {
    await setBackend('wasm');
  });

  for (const entry of ENTRIES) {
    test(`${entry.name}: ∇_y f`, () => {
      const model = build(entry);
      const rng = new Rng(1);
      const { x, y } = randomInputs(model, 3, rng);
      const g = tf.tidy(() => model.gradY(x, y)).dataSync();
      const yv = y.dataSync();
      const h = 1e-2;
      const cols = Math.min(model.yDim, 12);
      const analytic: number[] = [];
      const numeric: number[] = [];
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < cols; c++) {
          const j = c * Math.floor(model.yDim / cols);
          const at = (d: number) => {
            const yy = yv.slice();
            yy[r * model.yDim + j] += d;
            const t = tf.tensor2d(yy, y.shape);
            const e = tf.tidy(() => model.energy(x, t).dataSync()[r]);
            t.dispose();
            return e;
          };
          numeric.push((at(h) - at(-h)) / (2 * h));
          analytic.push(g[r * model.yDim + j]);
        }
      }
      assert.ok(relErr(analytic, numeric) < 1e-2, `relative error ${relErr(analytic, numeric)}`);
      model.dispose();
    });

    test(`${entry.name}: ∇_θ f`, () => {
      const model = build(entry);
      const rng = new Rng(2);
      const { x, y } = randomInputs(model, 4, rng);
      const grads = thetaGrads(model, x, y);
      const vars = model.trainableVariables;
      const analytic: number[] = [];
      const numeric: number[] = [];
      const h = 1e-2;
      vars.forEach((v, k) => {
        for (const i of probeIndices(grads[k], rng, 2)) {
          const plus = withPerturbed(v, i, h, () => totalEnergy(model, x, y));
          const minus = withPerturbed(v, i, -h, () => totalEnergy(model, x, y));
          numeric.push((plus - minus) / (2 * h));
          analytic.push(grads[k][i]);
        }
      });
      assert.ok(relErr(analytic, numeric) < 1e-2, `relative error ${relErr(analytic, numeric)} over ${analytic.length} entries`);
      model.dispose();
    });

    test(`${entry.name}: second order ∇_θ(∇_y f · v)`, () => {
      const model = build(entry);
      const rng = new Rng(3);
      const { x, y } = randomInputs(model, 3, rng);
      const v = tf.tensor2d(rng.fillNormal(3 * model.yDim), [3, model.yDim]);
      const grads = secondOrderGrads(model, x, y, v);
      const vars = model.trainableVariables;
      const analytic: number[] = [];
      const numeric: number[] = [];
      // A smaller step than for first order: the batch-normalized u-path curves strongly (truncation error).
      const h = 3e-3;
      vars.forEach((variable, k) => {
        for (const i of probeIndices(grads[k], rng, 2)) {
          const plus = withPerturbed(variable, i, h, () => gradDot(model, x, y, v));
          const minus = withPerturbed(variable, i, -h, () => gradDot(model, x, y, v));
          numeric.push((plus - minus) / (2 * h));
          analytic.push(grads[k][i]);
        }
      });
      assert.ok(analytic.some((a) => Math.abs(a) > 1e-3), 'second-order gradient is not identically zero');
      assert.ok(relErr(analytic, numeric) < 2e-2, `relative error ${relErr(analytic, numeric)} over ${analytic.length} entries`);
      model.dispose();
    });
  }
});

describe('wasm gradients equal cpu gradients', () => {
  after(async () => {
    await setBackend('wasm');
  });
  for (const entry of ENTRIES) {
    for (const activation of ['relu', 'softplus'] as const) {
      test(`${entry.name}, ${activation}: ∇_y f, ∇_θ f and ∇_θ(∇_y f · v)`, async () => {
        const results: Record<string, { gy: Float32Array; gt: Float32Array[]; g2: Float32Array[] }> = {};
        for (const backend of ['cpu', 'wasm'] as const) {
          await setBackend(backend);
          const model = entry.build({ activation, seed: 13 });
          const rng = new Rng(4);
          const { x, y } = randomInputs(model, 5, rng);
          const v = tf.tensor2d(rng.fillNormal(5 * model.yDim), [5, model.yDim]);
          const gy = tf.tidy(() => model.gradY(x, y)).dataSync() as Float32Array;
          results[backend] = { gy, gt: thetaGrads(model, x, y), g2: secondOrderGrads(model, x, y, v) };
          model.dispose();
        }
        const c = results.cpu;
        const w = results.wasm;
        assert.ok(relErr(w.gy, c.gy) < 1e-4, `∇_y relative difference ${relErr(w.gy, c.gy)}`);
        c.gt.forEach((g, k) => assert.ok(relErr(w.gt[k], g) < 1e-4, `∇_θ variable ${k}: ${relErr(w.gt[k], g)}`));
        c.g2.forEach((g, k) => assert.ok(relErr(w.g2[k], g) < 1e-4 || Math.max(...g.map(Math.abs)) < 1e-6,
          `second order, variable ${k}: ${relErr(w.g2[k], g)}`));
      });
    }
  }
});
