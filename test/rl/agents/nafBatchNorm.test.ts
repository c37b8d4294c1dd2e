/**
 * NAF batch normalization as the authors' `naf_nets_dm.py`: training mode normalizes with batch moments and moves
 * the averages (decay 0.999, ε 1e-3); test mode uses the averages (rows independent); the target V' shares V's
 * normalizations in training mode on the s' batch; β is trained; the diagnostics are reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../helpers/icnn.js';
import { NAFAgent } from '../../../src/rl/agents/index.js';
import { NafBatchNorm } from '../../../src/rl/agents/nafBatchNorm.js';
import { randomBatch } from './helpers.js';

test('NafBatchNorm: training mode uses batch moments and moves the averages by 0.1 %; test mode uses the averages', () => {
  const bn = new NafBatchNorm('t', 2);
  const x = tf.tensor2d([[1, 10], [3, 14], [5, 18]]);
  const train = bn.apply(x, true).arraySync();
  // Column 0: mean 3, population variance 8/3; column 1: mean 14, variance 32/3.
  const expect = (v: number, m: number, s2: number) => (v - m) / Math.sqrt(s2 + 1e-3);
  [[1, 10], [3, 14], [5, 18]].forEach((row, r) => {
    assert.ok(Math.abs(train[r][0] - expect(row[0], 3, 8 / 3)) < 1e-5);
    assert.ok(Math.abs(train[r][1] - expect(row[1], 14, 32 / 3)) < 1e-5);
  });
  const mm = bn.movingMean.arraySync() as number[];
  const mv = bn.movingVariance.arraySync() as number[];
  assert.ok(Math.abs(mm[0] - 0.001 * 3) < 1e-7 && Math.abs(mm[1] - 0.001 * 14) < 1e-6, `${mm}`);
  assert.ok(Math.abs(mv[0] - (0.999 + 0.001 * 8 / 3)) < 1e-6 && Math.abs(mv[1] - (0.999 + 0.001 * 32 / 3)) < 1e-6, `${mv}`);
  // Test mode: (x − moving mean)/√(moving variance + ε), averages untouched, each row on its own.
  const test1 = bn.apply(x, false).arraySync();
  assert.ok(Math.abs(test1[0][0] - (1 - mm[0]) / Math.sqrt(mv[0] + 1e-3)) < 1e-5);
  const single = bn.apply(tf.tensor2d([[1, 10]]), false).arraySync();
  assert.deepEqual(single[0], test1[0]);
  assert.deepEqual(bn.movingMean.arraySync(), mm);
  tf.dispose([x, bn.beta, bn.movingMean, bn.movingVariance]);
});

test('NAF with batchNorm: acting is per-row (test mode), the TD target couples the s\' rows (training mode), β learns', async () => {
  const agent = new NAFAgent(3, 2, { hidden: [16, 16], batchSize: 32, warmup: 0, seed: 4, batchNorm: true, initStd: 0.1 });
  try {
    const batch = randomBatch(32, 3, 2, 9);
    const before = await agent.tdLoss(batch);
    let stats = await agent.update(batch);
    for (let i = 0; i < 60; i++) stats = await agent.update(batch);
    assert.ok((await agent.tdLoss(batch)) < before, 'the TD loss falls');
    assert.ok(Number.isFinite(stats.muNorm) && stats.muNorm >= 0, `‖μ‖ ${stats.muNorm}`);
    assert.ok(Number.isFinite(stats.logDiagL), `log diag L ${stats.logDiagL}`);
    // Test mode: an observation's action does not depend on the other rows.
    const all = await agent.greedyActions(batch.observations);
    const one = await agent.greedyActions(batch.observations.slice(0, 3));
    assert.ok(Math.abs(all[0] - one[0]) < 1e-6 && Math.abs(all[1] - one[1]) < 1e-6);
    // Training mode on s': the first row's target changes when the rest of the s' batch changes.
    const internals = agent as unknown as { targets(t: object, training: boolean): tf.Tensor1D; batchTensors(b: object): Record<string, tf.Tensor> };
    const targetOfFirst = (b: typeof batch, training: boolean): number => {
      const t = internals.batchTensors(b);
      const y = internals.targets(t, training);
      const v = y.dataSync()[0];
      tf.dispose([y, ...Object.values(t)]);
      return v;
    };
    const other = randomBatch(32, 3, 2, 10);
    const mixed = { ...batch, nextObservations: Float32Array.from(batch.nextObservations) };
    mixed.nextObservations.set(other.nextObservations.subarray(3), 3);
    assert.notEqual(targetOfFirst(batch, true), targetOfFirst(mixed, true));
    assert.equal(targetOfFirst(batch, false), targetOfFirst(mixed, false));
    const betas = (agent as unknown as { bn: { V: NafBatchNorm[] } }).bn.V.map((b) => b.beta.dataSync());
    assert.ok(betas.some((b) => b.some((v) => v !== 0)), 'β is trained');
  } finally {
    agent.dispose();
  }
});

test('NAF: batchNorm must be a boolean', () => {
  assert.throws(() => new NAFAgent(3, 1, { batchNorm: 1 as never }), /NAFAgent: batchNorm must be a boolean, got 1/);
});
