/**
 * Evaluation metrics (src/learning/metrics.ts) against hand-computed values: example-F1 (the paper's "macro-F1",
 * sklearn f1_score(trueY.T, predY.T, average='macro')), label macro-F1, Hamming and subset accuracy, MSE, the 0.5
 * threshold (ŷ ≥ 0.5 is positive), the empty-row convention, regression errors, and batched evaluate().
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IcnnError, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import {
  evaluate, exampleF1, labelMacroF1, microF1, multiLabelMetrics, regressionMetrics, threshold,
} from '../../src/learning/metrics.js';
import type { Objective } from '../../src/learning/objectives/objective.js';
import { createObjective } from '../../src/learning/objectives/index.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// 3 examples × 3 labels.
const TRUTH = [1, 0, 1, /**/ 0, 1, 0, /**/ 1, 1, 1];
const PRED = [1, 1, 0, /**/ 0, 1, 0, /**/ 0, 0, 0];

describe('multi-label F1', () => {
  test('example-F1 is the mean of per-example F1 = 2TP / (2TP + FP + FN)', () => {
    // Example 0: TP 1, FP 1, FN 1 → 0.5.  Example 1: TP 1 → 1.  Example 2: TP 0, FN 3 → 0.
    close(exampleF1(PRED, TRUTH, 3, 3), (0.5 + 1 + 0) / 3);
  });

  test('label macro-F1 is the mean of per-label F1, a different number on the same matrices', () => {
    // Label 0: truth 1,0,1, pred 1,0,0 → TP 1, FN 1 → 2/3.  Label 1: truth 0,1,1, pred 1,1,0 → TP 1, FP 1, FN 1 → 1/2.
    // Label 2: truth 1,0,1, pred 0,0,0 → 0.
    close(labelMacroF1(PRED, TRUTH, 3, 3), (2 / 3 + 1 / 2 + 0) / 3);
    assert.notEqual(labelMacroF1(PRED, TRUTH, 3, 3), exampleF1(PRED, TRUTH, 3, 3));
  });

  test('micro-F1 pools TP, FP, FN over the whole matrix (the authors\' score before d956176)', () => {
    // Pooled over PRED/TRUTH: TP 1 + 1 + 0 = 2, FP 1 + 0 + 0 = 1, FN 1 + 0 + 3 = 4 → 2·2 / (2·2 + 1 + 4) = 4/9,
    // unlike example-F1 (1/2) and label macro-F1 (7/18).
    close(microF1(PRED, TRUTH, 3, 3), 4 / 9);
    close(multiLabelMetrics(PRED, TRUTH, 3, 3).microF1, 4 / 9);
    assert.equal(microF1(TRUTH, TRUTH, 3, 3), 1);
    assert.equal(microF1([0, 0], [0, 0], 1, 2), 0);
    assert.equal(microF1([0, 0], [0, 0], 1, 2, { zeroDivision: 1 }), 1);
    assert.throws(() => microF1([1], [1, 0], 1, 2), /microF1/);
  });

  test('example-F1 is label macro-F1 of the transposed matrices (what the authors computed with sklearn)', () => {
    const transpose = (m: number[], rows: number, cols: number) =>
      Array.from({ length: rows * cols }, (_, i) => m[(i % rows) * cols + Math.floor(i / rows)]);
    const rows = 4;
    const cols = 5;
    const truth = [1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0];
    const pred = [1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0];
    close(exampleF1(pred, truth, rows, cols), labelMacroF1(transpose(pred, rows, cols), transpose(truth, rows, cols), cols, rows));
  });

  test('perfect predictions give 1; a row with empty truth and empty prediction counts 0 (sklearn default) or 1 if asked', () => {
    assert.equal(exampleF1(TRUTH, TRUTH, 3, 3), 1);
    assert.equal(labelMacroF1(TRUTH, TRUTH, 3, 3), 1);
    const truth = [1, 0, /**/ 0, 0];
    const pred = [1, 0, /**/ 0, 0];
    assert.equal(exampleF1(pred, truth, 2, 2), 0.5);
    assert.equal(exampleF1(pred, truth, 2, 2, { zeroDivision: 1 }), 1);
    // Label 1 is never true nor predicted.
    assert.equal(labelMacroF1(pred, truth, 2, 2), 0.5);
    assert.equal(labelMacroF1(pred, truth, 2, 2, { zeroDivision: 1 }), 1);
    // Predicting nothing for a row with labels is 0 either way.
    assert.equal(exampleF1([0, 0], [1, 0], 1, 2, { zeroDivision: 1 }), 0);
  });

  test('size mismatches are refused', () => {
    assert.throws(() => exampleF1([1, 0], [1, 0, 1], 1, 2), (e: unknown) => e instanceof IcnnError && /expected 1 × 2 = 2 entries/.test((e as Error).message));
    assert.throws(() => labelMacroF1([], [], 0, 2), /rows and cols must be positive integers/);
  });
});

describe('multiLabelMetrics of continuous predictions', () => {
  test('threshold 0.5 inclusive (ŷ ≥ 0.5 is positive, as the authors), Hamming and subset accuracy, MSE of ŷ', () => {
    assert.deepEqual([...threshold([0.49, 0.5, 0.51, 1, 0])], [0, 1, 1, 1, 0]);
    const truth = [1, 0, 1, /**/ 0, 1, 0];
    const yHat = [0.5, 0.2, 0.9, /**/ 0.1, 0.4, 0.0];
    const m = multiLabelMetrics(yHat, truth, 2, 3);
    // Binary: [1,0,1] (exact), [0,0,0] (misses label 1).
    close(m.exampleF1, (1 + 0) / 2);
    close(m.hammingAccuracy, 5 / 6);
    close(m.subsetAccuracy, 1 / 2);
    const sq = [0.25, 0.04, 0.01, 0.01, 0.36, 0];
    close(m.mse, sq.reduce((a, b) => a + b, 0) / 6, 1e-12);
    // Label 0: TP 1 → 1; label 1: FN 1 → 0; label 2: TP 1 → 1.
    close(m.labelMacroF1, 2 / 3);
    const strict = multiLabelMetrics(yHat, truth, 2, 3, { threshold: 0.6 });
    close(strict.hammingAccuracy, 4 / 6);
    assert.throws(() => multiLabelMetrics(yHat, truth, 2, 3, { threshold: 1 }), /threshold must be in \(0, 1\)/);
  });
});

describe('regression metrics', () => {
  test('MSE, RMSE, MAE', () => {
    const m = regressionMetrics([1, 2, 4], [1, 0, 1]);
    close(m.mse, (0 + 4 + 9) / 3);
    close(m.rmse, Math.sqrt(13 / 3));
    close(m.mae, 5 / 3);
    assert.throws(() => regressionMetrics([1], [1, 2]), /as many predictions as targets/);
  });
});

describe('evaluate()', () => {
  /** An objective whose predictions are fixed rows, to check batching and bookkeeping. */
  class FixedObjective implements Objective {
    readonly name = 'fixed';
    calls: number[] = [];
    constructor(private readonly rows: number[][]) {}
    async step(): Promise<never> {
      throw new Error('not used');
    }
    async predict(_model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor> {
      const first = (await x!.data())[0];
      this.calls.push(batch);
      return tf.tensor2d(this.rows.slice(first, first + batch));
    }
  }

  test('batched predictions give the same metrics as one batch; no tensors are left', async () => {
    const model = new PICNN({ xDim: 1, yDim: 3, hidden: [4], seed: 1 });
    const x = tf.tensor2d([[0], [1], [2], [3], [4]]);
    const truthRows = [[1, 0, 1], [0, 1, 0], [1, 1, 1], [0, 0, 1], [1, 0, 0]];
    const yHatRows = [[0.9, 0.1, 0.6], [0.2, 0.7, 0.1], [0.3, 0.2, 0.8], [0.1, 0.1, 0.9], [0.4, 0.6, 0.2]];
    const y = tf.tensor2d(truthRows);
    try {
      const before = tf.memory().numTensors;
      const obj = new FixedObjective(yHatRows);
      const batched = await evaluate(model, obj, { x, y }, { batchSize: 2 });
      assert.deepEqual(obj.calls, [2, 2, 1]);
      const whole = await evaluate(model, new FixedObjective(yHatRows), { x, y });
      assert.deepEqual(batched, whole);
      assert.deepEqual(batched, multiLabelMetrics(Float32Array.from(yHatRows.flat()), truthRows.flat(), 5, 3)); // float32 predictions
      const picked = await evaluate(model, new FixedObjective(yHatRows), { x, y }, { metrics: ['exampleF1'] });
      assert.deepEqual(Object.keys(picked), ['exampleF1']);
      await assert.rejects(evaluate(model, new FixedObjective(yHatRows), { x, y }, { metrics: ['f2'] }), /unknown metric 'f2'/);
      assert.equal(tf.memory().numTensors, before);
    } finally {
      model.dispose();
      tf.dispose([x, y]);
    }
  });

  test('energy regression: errors of f(x, y) against the targets', async () => {
    const model = new PICNN({ xDim: 2, yDim: 2, hidden: [4], seed: 1 });
    const x = tf.tensor2d([[0, 1], [1, 0], [2, 2]]);
    const y = tf.tensor2d([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]);
    const e = model.energy(x, y);
    const energies = Array.from(e.dataSync());
    e.dispose();
    const target = tf.tensor1d(energies.map((v, i) => v + (i === 1 ? 0.5 : 0)));
    try {
      const m = await evaluate(model, createObjective('energy-regression'), { x, y, target }, { batchSize: 2 });
      close(m.mse, 0.25 / 3, 1e-6);
      close(m.mae, 0.5 / 3, 1e-6);
      await assert.rejects(evaluate(model, createObjective('energy-regression'), { x, y }), /needs the energies/);
    } finally {
      model.dispose();
      tf.dispose([x, y, target]);
    }
  });
});
