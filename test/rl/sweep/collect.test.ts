/** rl-collect's sweep section: the best run of each cell next to mean ± sd, its settings, and its learning curves. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDirFor } from '../../helpers/tmp.js';
import { collectRuns } from '../../../src/cli/commands/rl.js';
import { bestRuns, bestRunsMarkdown, writeBestCurves } from '../../../src/rl/sweep/collect.js';
import { expandSweep, runDirectory } from '../../../src/rl/sweep/expand.js';
import { validateSweepSpec } from '../../../src/rl/sweep/spec.js';
import { testMetrics, type RlResult } from '../../../src/rl/runner.js';
import { readPngInfo } from '../../../src/report/index.js';
import { Rng } from '../../../src/util/random.js';

/** A complete result of `tests` test returns (one every 10 steps), as runRl writes it. */
function fakeResult(env: string, agent: 'ddpg' | 'naf', rewards: number[], rewardScale: number): RlResult {
  const tests = rewards.map((reward, i) => ({ step: 10 * i, reward, length: 10 }));
  return {
    format: 'icnn-rl-results', version: 1, env, agent, seed: 0, steps: 10 * (rewards.length - 1), testInterval: 10, testEpisodes: 1,
    maxEpisodeSteps: 1000, rewardScale, updatesPerStep: 1, agentOptions: { seed: 0 }, complete: true, tests, train: [],
    metrics: testMetrics(rewards), timing: { seconds: 1, stepsPerSecond: 1, actMs: 0, updateMs: 0, testSeconds: 0, actions: 0, updates: 0 },
    resumedAt: 0, backend: 'cpu',
  };
}

test('the best run per cell is the one with the largest max test reward; mean ± sd over the cell; settings from run.json; one chart per task', async (t) => {
  const out = tempDirFor(t);
  const runs = expandSweep(validateSweepSpec({
    tasks: ['Pendulum'], agents: ['ddpg', 'naf'], samples: 5, steps: 150, parameters: { rewardScale: { logUniform: [-2, 0] }, l2: { uniform: [0, 1] } },
  }));
  const rng = new Rng(7);
  const written = runs.map((run) => {
    const rewards = Array.from({ length: 16 }, () => -1000 + 800 * rng.uniform());
    const r = fakeResult(run.task, run.agent as 'ddpg' | 'naf', rewards, run.rewardScale);
    const dir = runDirectory(out, run);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'results.json'), JSON.stringify(r));
    writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run));
    return { run, r };
  });
  // A run with ≤ 10 tests has no statistic: counted in N, never the best.
  const short = fakeResult('Pendulum', 'naf', [5000, 5000], 1);
  mkdirSync(path.join(out, 'Pendulum', 'naf', 'ffffffffffff'), { recursive: true });
  writeFileSync(path.join(out, 'Pendulum', 'naf', 'ffffffffffff', 'results.json'), JSON.stringify(short));

  const dirs = new Map<RlResult, string>();
  const results = await collectRuns(out, () => undefined, dirs);
  assert.equal(results.length, runs.length + 1);
  const best = await bestRuns(results, dirs);
  assert.deepEqual(best.map((b) => b.agent), ['ddpg', 'naf']);
  for (const b of best) {
    const cell = written.filter((w) => w.run.agent === b.agent);
    const values = cell.map((w) => w.r.metrics.maxTestReward as number);
    const winner = cell[values.indexOf(Math.max(...values))];
    assert.equal(b.best.metrics.maxTestReward, Math.max(...values));
    assert.equal(b.dir, runDirectory(out, winner.run));
    assert.equal(b.sweep?.hash, winner.run.hash);
    assert.equal(b.runs, b.agent === 'naf' ? 6 : 5);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    const md = bestRunsMarkdown(best, out, new Map());
    const row = md.split('\n').find((l) => l.startsWith(`| Pendulum | ${b.agent.toUpperCase()} |`)) as string;
    assert.ok(row.includes(`| ${Math.max(...values).toFixed(2)} (of ${b.runs}) | ${mean.toFixed(2)} ± ${sd.toFixed(2)} [5] |`), row);
    assert.ok(row.includes(`| ${winner.run.sample} | rewardScale ${winner.run.rewardScale.toPrecision(3)}, l2 ${(winner.run.agentOptions.l2 as number).toPrecision(3)} |`), row);
    assert.ok(row.endsWith(`| ${path.join('Pendulum', b.agent, winner.run.hash)} |`), row);
  }
  const curves = await writeBestCurves(best, out);
  assert.deepEqual([...curves], [['Pendulum', path.join('best-curves', 'Pendulum.png')]]);
  assert.ok(readPngInfo(readFileSync(path.join(out, 'best-curves', 'Pendulum.png'))).width > 100);
  assert.match(bestRunsMarkdown(best, out, curves), /!\[Pendulum: learning curves of the best runs\]\(best-curves\/Pendulum\.png\)/);
});
