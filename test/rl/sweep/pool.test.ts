/** The local executor: runs in a pool of worker threads; a failing run fails alone; a second pass reuses complete runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDirFor } from '../../helpers/tmp.js';
import { validateSweepSpec } from '../../../src/rl/sweep/spec.js';
import { expandSweep, runDirectory, runKey } from '../../../src/rl/sweep/expand.js';
import { runSweepLocally } from '../../../src/rl/sweep/pool.js';
import { checkAgentOptions } from '../../../src/rl/sweep/execute.js';
import type { RlResult } from '../../../src/rl/runner.js';

test('runSweepLocally runs every run on 2 threads into OUT/<task>/<agent>/<hash>; a bad run fails alone; a rerun reuses the results', async (t) => {
  const out = tempDirFor(t);
  const runs = expandSweep(validateSweepSpec({
    tasks: ['Pendulum'], agents: ['ddpg', 'naf'], steps: 150, testInterval: 50,
    parameters: { 'hidden.0': { value: 8 }, 'hidden.1': { value: 8 }, batchSize: { value: 16 }, warmup: { value: 50 } },
  }));
  const settings = { ...runs[1], agentOptions: { ...runs[1].agentOptions, warmup: -3 } };
  const bad = { ...settings, hash: runKey(settings) };
  const lines: string[] = [];
  const first = await runSweepLocally([runs[0], bad, runs[1]], out, { workers: 2, log: (l) => lines.push(l) });
  assert.equal(first[1].error, 'NAFAgent: warmup must be a non-negative integer, got -3 (out of range)');
  assert.match(lines.join('\n'), /Pendulum\/naf sample 0 seed 0 \([0-9a-f]{12}\): failed: NAFAgent: warmup must be a non-negative integer/);
  for (const [i, run] of [[0, runs[0]], [2, runs[1]]] as const) {
    assert.equal(first[i].outcome?.status, 'done');
    assert.equal(first[i].outcome?.dir, runDirectory(out, run));
    const r = JSON.parse(readFileSync(path.join(runDirectory(out, run), 'results.json'), 'utf8')) as RlResult;
    assert.deepEqual([r.env, r.agent, r.steps, r.complete, r.agentOptions.hidden], ['Pendulum', run.agent, 150, true, [8, 8]]);
  }
  const second = await runSweepLocally(runs, out, { workers: 2 });
  assert.deepEqual(second.map((s) => s.outcome?.status), ['reused', 'reused']);
  assert.deepEqual(second.map((s) => s.outcome?.maxTestReward), [first[0].outcome?.maxTestReward, first[2].outcome?.maxTestReward]);
});

test('checkAgentOptions refuses a sweep whose parameter an agent does not know, naming the run; accepts the paper-like options', async () => {
  const spec = (parameters: Record<string, unknown>) => expandSweep(validateSweepSpec({ tasks: ['Pendulum'], agents: ['ddpg', 'icnn'], samples: 2, steps: 100, parameters }));
  await checkAgentOptions(spec({ 'hidden.0': { int: [100, 600] }, 'hidden.1': { int: [100, 'hidden.0'] }, leakySlope: { logUniform: [-4, -1], agents: ['icnn'] } }));
  await assert.rejects(checkAgentOptions(spec({ leakySlope: { value: 0.01 } })),
    /^IcnnError: sweep: Pendulum\/ddpg sample 0: DDPGAgent: unknown option 'leakySlope' \(expected one of: seed, gamma/);
  await assert.rejects(checkAgentOptions(spec({ ouTheta: { value: 2 } })), /sweep: Pendulum\/ddpg sample 0: .*ouTheta must be a finite number in \[0, 1\], got 2 \(out of range\)/);
});
