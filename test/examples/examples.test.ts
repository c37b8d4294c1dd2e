/**
 * Every script of examples/ runs here at its tiny size, and what it claims is asserted. The examples import the
 * package by its name ('icnn', the built dist/ of this repository), as a user would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convexRegression } from '../../examples/convex-regression.js';
import { multiLabel } from '../../examples/multilabel-bundle-entropy.js';
import { exactLp } from '../../examples/exact-lp.js';
import { saveLoadResume } from '../../examples/save-load-resume.js';
import { pendulumQLearning } from '../../examples/pendulum-q-learning.js';

const MINUTE = 60_000;

test('convex-regression: energy regression lowers the loss and the learned function satisfies Jensen', { timeout: 3 * MINUTE }, async () => {
  const r = await convexRegression('tiny');
  assert.ok(r.finalLoss < 0.1 * r.firstEpochLoss, `loss ${r.firstEpochLoss} → ${r.finalLoss} should fall tenfold`);
  assert.equal(r.jensenPairs, 200);
  // float32 energies of magnitude ~3: rounding allows a violation of a few 1e-7 relative, nothing more.
  assert.ok(r.worstJensenViolation <= 1e-5, `Jensen violated by ${r.worstJensenViolation}`);
});

test('multilabel-bundle-entropy: trained PICNN beats "every label on", predictions certified', { timeout: 3 * MINUTE }, async () => {
  const r = await multiLabel('tiny');
  assert.ok(r.finalLoss < r.firstEpochLoss, `loss ${r.firstEpochLoss} → ${r.finalLoss}`);
  assert.ok(r.testExampleF1 > r.allLabelsOnExampleF1 + 0.1, `F1 ${r.testExampleF1} vs trivial ${r.allLabelsOnExampleF1}`);
  assert.ok(r.worstGap >= -1e-9 && r.worstGap <= 1e-3, `bundle-entropy gap ${r.worstGap}`);
  assert.equal(r.predictionsInUnitBox, true);
});

test('exact-lp: the LP value is f at its own ŷ and lies within the bundle bracket', { timeout: 3 * MINUTE }, async () => {
  const r = await exactLp('tiny');
  assert.equal(r.rows.length, 4);
  for (const row of r.rows) {
    assert.equal(row.status, 'optimal');
    // Bracketed by the bundle method: its certified lower bound ≤ min f ≤ its best value (float32 network slack).
    const slack = 1e-5 * Math.max(1, Math.abs(row.lpValue));
    assert.ok(row.bundleLowerBound <= row.lpValue + slack, `bound ${row.bundleLowerBound} > LP ${row.lpValue}`);
    assert.ok(row.lpValue <= row.bundleEnergy + slack, `LP ${row.lpValue} > bundle ${row.bundleEnergy}`);
  }
  assert.ok(r.worstCertificateError <= 1e-5, `|f(ŷ_LP) − LP value| = ${r.worstCertificateError}`);
});

test('save-load-resume: the resumed run equals the uninterrupted one; a loaded model has the same energies', { timeout: 5 * MINUTE }, async () => {
  const r = await saveLoadResume('tiny');
  assert.equal(r.resumedFromEpoch, 2);
  assert.equal(r.epochsAfterResume, 4);
  assert.equal(r.resumeVsUninterrupted, 0);
  assert.equal(r.saveLoadEnergyDifference, 0);
});

test('pendulum-q-learning: a short ICNN run completes with finite TD losses and returns in Pendulum\'s range', { timeout: 5 * MINUTE }, async () => {
  const r = await pendulumQLearning('tiny');
  assert.equal(r.complete, true);
  assert.equal(r.steps, 400);
  assert.deepEqual(r.testReturns.map((t) => t.step), [0, 200, 400]);
  // One Pendulum step costs at most π² + 0.1·8² + 0.001·2² ≈ 16.27.
  for (const t of [...r.testReturns, ...r.episodes]) assert.ok(t.return <= 0 && t.return >= -16.3 * 200, `return ${t.return}`);
  assert.equal(r.episodes.length, 2);
  for (const e of r.episodes) assert.ok(e.tdLoss !== null && Number.isFinite(e.tdLoss) && e.tdLoss >= 0, `TD loss ${e.tdLoss}`);
});
