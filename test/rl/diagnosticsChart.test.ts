/**
 * Diagnostics per training episode: results.json's train[].updates carries the ICNN statistics (TD loss, mean Q,
 * share of |a*| > 0.99, inner iterations) and the NAF ones (‖μ‖, mean log diag L), and diagnostics.png plots them
 * beside the test returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import '../helpers/icnn.js';
import { readPngInfo } from '../../src/report/index.js';
import { diagnosticSeries } from '../../src/rl/diagnosticsChart.js';
import { runRl } from '../../src/rl/runner.js';

test('runRl records the ICNN and NAF diagnostics per training episode and draws diagnostics.png', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'icnn-diag-'));
  try {
    const common = { env: 'Pendulum', steps: 120, testInterval: 60, seed: 0, checkpointInterval: 0 };
    const icnn = await runRl({
      ...common, agent: 'icnn', outDir: path.join(dir, 'icnn'),
      agentOptions: { hidden: [8, 8], batchSize: 8, warmup: 20, innerAdam: 'authors', targetIterations: 50, actIterations: 50 },
    });
    const withUpdates = icnn.train.filter((e) => e.updates !== undefined);
    assert.ok(withUpdates.length > 0);
    for (const e of withUpdates) {
      const u = e.updates as Record<string, number>;
      for (const k of ['loss', 'q', 'saturatedFraction', 'innerIterations', 'entropy', 'reward']) assert.ok(Number.isFinite(u[k]), `${k} in ${JSON.stringify(u)}`);
      assert.ok(u.saturatedFraction >= 0 && u.saturatedFraction <= 1);
      assert.ok(u.innerIterations >= 1 && u.innerIterations <= 50);
    }
    const png = readPngInfo(await readFile(path.join(dir, 'icnn', 'diagnostics.png')));
    assert.ok(png.width > png.height, `${png.width}×${png.height}: panels side by side`);
    const panels = diagnosticSeries(icnn).map((s) => s.panel);
    assert.equal(panels[0], 'test return (raw reward)');
    assert.ok(panels.includes("share of |a'*| > 0.99") && panels.includes('inner iterations (mean over rows)'), `${panels}`);
    assert.ok(panels.includes("mean w·H(a'*) in the TD target") && panels.includes('mean scaled reward of the minibatch'), `${panels}`);

    const naf = await runRl({ ...common, agent: 'naf', agentOptions: { hidden: [8, 8], batchSize: 8, warmup: 20, batchNorm: true } });
    const u = naf.train.find((e) => e.updates !== undefined)?.updates as Record<string, number>;
    assert.ok(u.muNorm >= 0 && Number.isFinite(u.logDiagL), JSON.stringify(u));
    assert.ok(diagnosticSeries(naf).some((s) => s.panel === '‖μ(s)‖'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ICNN runs record the value-gap decomposition at each test after learning starts, without changing the run; valueGapRows 0 turns it off', async () => {
  const common = {
    env: 'Pendulum', agent: 'icnn' as const, steps: 600, testInterval: 100, seed: 1, checkpointInterval: 0,
    agentOptions: { hidden: [8, 8] as [number, number], batchSize: 8, warmup: 20, innerAdam: 'authors' as const, targetIterations: 30, actIterations: 30 },
  };
  const on = await runRl({ ...common, valueGapRows: 64 });
  const off = await runRl({ ...common, valueGapRows: 0 });
  // Its own random stream, no change to the agent: the same run either way.
  assert.deepEqual(on.tests.map((p) => p.reward), off.tests.map((p) => p.reward));
  assert.deepEqual(on.train, off.train);
  assert.ok(off.tests.every((p) => p.valueGap === undefined));
  assert.equal(on.tests[0].valueGap, undefined, 'no decomposition before the first update');
  const later = on.tests.slice(1);
  assert.ok(later.length >= 3);
  for (const p of later) {
    const g = p.valueGap;
    assert.ok(g !== undefined, `test at ${p.step} lacks valueGap`);
    assert.equal(g.rows, 64);
    const parts = g.reward + g.discount + g.gamma * (g.greedyGap + g.targetLag + g.nextState) + g.terminal;
    assert.ok(Math.abs(parts - g.tdError) <= 1e-6 * Math.max(1, Math.abs(g.tdError)), `step ${p.step}: parts ${parts} vs TD error ${g.tdError}`);
    assert.ok(g.gapAboveDiscount >= 0 && g.gapAboveDiscount <= 1);
  }
  const gap = diagnosticSeries(on).filter((s) => s.panel === 'greedy gap G / Q̃ at test points');
  assert.deepEqual(gap.map((s) => s.name), ['G / Q̃', '1 − γ']);
  assert.equal(gap[0].points.length, later.length);
  assert.ok(Math.abs(gap[1].points[0][1] - 0.01) < 1e-12);
  assert.ok(!diagnosticSeries(off).some((s) => s.panel === 'greedy gap G / Q̃ at test points'));
});
