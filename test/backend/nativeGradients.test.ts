/**
 * Model gradients through the native matmul kernels (wasm backend with the addon): ∇_θ f and second-order
 * ∇_θ(∇_y f · v) of every model kind against central finite differences, as test/models/gradients.test.ts does on
 * cpu, and against the same gradients with the native kernels swapped out (plain wasm). Skipped, with the reason,
 * when the addon is not active.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZOO, randomInputs } from '../models/modelZoo.js';
import { backendInfo, setBackend, tf } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';
import { disableNativeKernels, enableNativeKernels } from '../../src/backend/nativeKernels.js';
import { build, gradDot, probeIndices, relErr, secondOrderGrads, thetaGrads, totalEnergy, withPerturbed } from '../helpers/gradients.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

describe('gradients through the native kernels', { skip }, () => {
  before(async () => {
    await setBackend('wasm');
  });
  after(() => {
    enableNativeKernels();
  });

  for (const entry of ZOO) {
    test(`${entry.name}: ∇_θ f against finite differences`, () => {
      const model = build(entry);
      const rng = new Rng(2);
      const { x, y } = randomInputs(model, 4, rng);
      const grads = thetaGrads(model, x, y);
      const analytic: number[] = [];
      const numeric: number[] = [];
      const h = 1e-2;
      model.trainableVariables.forEach((v, k) => {
        for (const i of probeIndices(grads[k], rng, 2)) {
          numeric.push((withPerturbed(v, i, h, () => totalEnergy(model, x, y))
            - withPerturbed(v, i, -h, () => totalEnergy(model, x, y))) / (2 * h));
          analytic.push(grads[k][i]);
        }
      });
      assert.ok(relErr(analytic, numeric) < 1e-2, `relative error ${relErr(analytic, numeric)} over ${analytic.length} entries`);
      model.dispose();
    });

    test(`${entry.name}: ∇_θ(∇_y f · v) against finite differences`, () => {
      const model = build(entry);
      const rng = new Rng(3);
      const { x, y } = randomInputs(model, 3, rng);
      const v = tf.tensor2d(rng.fillNormal(3 * model.yDim), [3, model.yDim]);
      const grads = secondOrderGrads(model, x, y, v);
      const analytic: number[] = [];
      const numeric: number[] = [];
      const h = 3e-3;
      model.trainableVariables.forEach((variable, k) => {
        for (const i of probeIndices(grads[k], rng, 2)) {
          numeric.push((withPerturbed(variable, i, h, () => gradDot(model, x, y, v))
            - withPerturbed(variable, i, -h, () => gradDot(model, x, y, v))) / (2 * h));
          analytic.push(grads[k][i]);
        }
      });
      assert.ok(analytic.some((a) => Math.abs(a) > 1e-3), 'second-order gradient is not identically zero');
      assert.ok(relErr(analytic, numeric) < 2e-2, `relative error ${relErr(analytic, numeric)} over ${analytic.length} entries`);
      model.dispose();
    });

    test(`${entry.name}: native and plain-wasm gradients agree (relative 1e-5)`, () => {
      const results: Float32Array[][] = [];
      for (const useNative of [true, false]) {
        if (useNative) enableNativeKernels(); else disableNativeKernels('test: plain wasm');
        const model = entry.build({ activation: 'relu', seed: 13 });
        const { x, y } = randomInputs(model, 6, new Rng(4));
        results.push(thetaGrads(model, x, y));
        model.dispose();
      }
      enableNativeKernels();
      results[1].forEach((g, k) => assert.ok(relErr(results[0][k], g) < 1e-5, `variable ${k}: ${relErr(results[0][k], g)}`));
    });
  }
});
