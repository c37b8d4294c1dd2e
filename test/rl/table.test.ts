/** The paper's RL tables and the markdown table of our runs beside them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAPER_RL_TABLES, cellsFromResults, formatRlTable, rlTableMarkdown, summarize } from '../../src/rl/table.js';
import { testMetrics, type RlResult } from '../../src/rl/runner.js';
import { ENV_NAMES } from '../../src/rl/envs/index.js';

function fakeRun(env: string, agent: 'ddpg' | 'naf' | 'icnn', seed: number, rewards: number[]): RlResult {
  return {
    format: 'icnn-rl-results', version: 1, env, agent, seed, steps: 1000, testInterval: 100, testEpisodes: 1, maxEpisodeSteps: 1000,
    rewardScale: 1, updatesPerStep: 1, agentOptions: { seed }, complete: true,
    tests: rewards.map((reward, i) => ({ step: i * 100, reward, length: 1 })), train: [], metrics: testMetrics(rewards),
    timing: { seconds: 1, stepsPerSecond: 1000, actMs: 0.1, updateMs: 1, testSeconds: 0.1, actions: 1, updates: 1 }, resumedAt: 0, backend: 'wasm',
  };
}

test("Table 3's values (digest §5.4) are keyed by our environment names", () => {
  const t = PAPER_RL_TABLES.maxTestReward;
  assert.equal(Object.keys(t).length, 10);
  for (const env of Object.keys(t)) assert.ok((ENV_NAMES as readonly string[]).includes(env), env);
  assert.deepEqual(t.HalfCheetah, { ddpg: 2909.77, naf: 2575.16, icnn: 3822.99 });
  assert.deepEqual(t.Reacher, { ddpg: -6.1, naf: -6.31, icnn: -5.08 });
  assert.equal(PAPER_RL_TABLES.cumulativeTestReward.InvertedPendulum.icnn, 60925.9);
  assert.equal(PAPER_RL_TABLES.finalTestReward.Walker2d.naf, 627.33);
});

test('summarize: mean, sample std and best over the seeds that have a value', () => {
  assert.deepEqual(summarize([1, 3, null]), { n: 2, mean: 2, std: Math.SQRT2, best: 3 });
  assert.deepEqual(summarize([null]), { n: 0, mean: null, std: null, best: null });
  assert.deepEqual(summarize([5]), { n: 1, mean: 5, std: 0, best: 5 });
});

test('the markdown table puts ours (mean ± std (best) [n]) next to the paper, per task row', () => {
  const ramp = (top: number) => Array.from({ length: 12 }, (_, i) => (i < 2 ? 0 : top));
  const results = [
    fakeRun('InvertedPendulum', 'ddpg', 0, ramp(1000)),
    fakeRun('InvertedPendulum', 'ddpg', 1, ramp(500)),
    fakeRun('InvertedPendulum', 'icnn', 0, ramp(1000)),
    fakeRun('Pendulum', 'ddpg', 0, ramp(-150)),
    fakeRun('Pendulum', 'icnn', 0, [1, 2, 3]),
  ];
  const md = formatRlTable(cellsFromResults(results), { agents: ['ddpg', 'naf', 'icnn'] });
  const lines = md.split('\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[0], '| Task | steps | DDPG ours: mean ± std (best) [n] | DDPG paper | NAF ours: mean ± std (best) [n] | NAF paper | ICNN ours: mean ± std (best) [n] | ICNN paper |');
  assert.equal(lines[1], '|---|---:|---:|---:|---:|---:|---:|---:|');
  // Rolling means of 10 over 12 points: 800, 1000, 1000 → max 1000; the 500 run gives 500.
  assert.equal(lines[2], '| InvertedPendulum | 1000 | 750.00 ± 353.55 (1000.00) [2] | 1000.00 | not run | 1000.00 | 1000.00 ± 0.00 (1000.00) [1] | 1000.00 |');
  // Rolling means -120, -135, -150: the max is -120. Pendulum has no paper value; ≤ 10 tests give no statistic.
  assert.equal(lines[3], '| Pendulum | 1000 | -120.00 ± 0.00 (-120.00) [1] | – | not run | – | – (≤ 10 tests) [0/1] | – |');
  const doc = rlTableMarkdown(results, { notes: ['budget note'] });
  assert.match(doc, /^# Continuous control/);
  assert.match(doc, /## Maximum test reward \(Table 3\)/);
  assert.match(doc, /## Cumulative test reward/);
  assert.match(doc, /- budget note/);
  assert.throws(() => cellsFromResults([results[0], { ...results[1], steps: 2000 }]), /one budget per cell/);
});
