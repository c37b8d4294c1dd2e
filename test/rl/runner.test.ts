/**
 * The experiment loop: the paper's statistics, results.json and the learning-curve PNG, exact resume from a
 * checkpoint, refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import '../helpers/icnn.js';
import { runRl, testMetrics, type RlResult } from '../../src/rl/runner.js';
import { DDPGAgent } from '../../src/rl/agents/index.js';
import { readPngInfo } from '../../src/report/index.js';
import { tempDirFor } from '../helpers/tmp.js';

const TINY = { hidden: [8, 8] as [number, number], batchSize: 16, warmup: 50 };

test("testMetrics: rolling mean of 10 ('valid'), then max, last and sum; nothing with ≤ 10 tests", () => {
  const r = Array.from({ length: 12 }, (_, i) => i);
  const m = testMetrics(r);
  assert.deepEqual(m.rolling, [4.5, 5.5, 6.5]);
  assert.equal(m.maxTestReward, 6.5);
  assert.equal(m.finalTestReward, 6.5);
  assert.equal(m.cumulativeTestReward, 16.5);
  assert.equal(m.bestTestReward, 11);
  const few = testMetrics(r.slice(0, 10));
  assert.equal(few.rolling.length, 1);
  assert.equal(few.maxTestReward, null);
  assert.equal(few.cumulativeTestReward, null);
  const down = testMetrics([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 0, 0]);
  assert.equal(down.maxTestReward, 10);
  assert.equal(down.finalTestReward, 8);
});

test('runRl writes results.json (tests at every block boundary and at the end) and a learning-curve PNG', async (t) => {
  const dir = tempDirFor(t);
  const seen: number[] = [];
  const r = await runRl({
    env: 'Pendulum', agent: 'ddpg', agentOptions: TINY, steps: 600, seed: 1, testInterval: 100, outDir: dir,
    rewardScale: 0.1, onProgress: (p) => seen.push(p.step),
  });
  assert.equal(r.complete, true);
  assert.deepEqual(r.tests.map((p) => p.step), [0, 200, 400, 600]); // 200-step episodes: one test per episode boundary
  assert.deepEqual(r.train.map((e) => e.length), [200, 200, 200]);
  // Every episode had updates (warm-up is 50 steps): their mean TD loss, mean Q and DDPG's actor loss are recorded.
  for (const e of r.train) {
    assert.ok(e.updates !== undefined, `episode ending at ${e.step} has no update statistics`);
    for (const key of ['loss', 'q', 'actorLoss']) assert.ok(Number.isFinite(e.updates[key]), `${key}: ${e.updates[key]}`);
    assert.ok(e.updates.loss >= 0);
  }
  for (const p of r.tests) assert.equal(p.length, 200);
  assert.equal(r.timing.updates, 600 - 50);
  assert.equal(r.timing.actions, 600 + 4 * 200);
  assert.ok(r.timing.actMs > 0 && r.timing.updateMs > 0 && r.timing.seconds > 0);
  assert.equal(r.metrics.maxTestReward, null); // ≤ 10 tests
  assert.ok(seen.includes(600));
  const onDisk = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as RlResult;
  assert.deepEqual(onDisk.tests, r.tests);
  assert.equal(onDisk.agentOptions.seed, 1);
  assert.equal(onDisk.rewardScale, 0.1);
  assert.ok(['wasm', 'cpu', 'tensorflow'].includes(onDisk.backend));
  const png = readPngInfo(readFileSync(path.join(dir, 'learning-curve.png')));
  assert.ok(png.width > 400 && png.height > 200);
  assert.ok(!existsSync(path.join(dir, 'checkpoint.json')), 'a complete run drops its checkpoint');
});

test('an interrupted run resumes from its checkpoint and ends exactly as the uninterrupted run', async (t) => {
  const common = {
    env: 'CartPoleContinuous', agent: 'naf' as const, agentOptions: TINY, steps: 400, seed: 3, testInterval: 50,
    checkpointInterval: 100, rewardScale: 0.1,
  };
  const a = await runRl({ ...common, outDir: tempDirFor(t) });
  const dirB = tempDirFor(t);
  await assert.rejects(runRl({
    ...common, outDir: dirB, onProgress: (p) => {
      if (p.step >= 250) throw new Error('killed');
    },
  }), /killed/);
  assert.ok(existsSync(path.join(dirB, 'checkpoint.json')));
  const partial = JSON.parse(readFileSync(path.join(dirB, 'results.json'), 'utf8')) as RlResult;
  assert.equal(partial.complete, false);
  await assert.rejects(runRl({ ...common, seed: 4, outDir: dirB }), /checkpoint of another run/);
  const b = await runRl({ ...common, outDir: dirB });
  assert.ok(b.resumedAt > 0 && b.resumedAt < 400, `resumed at ${b.resumedAt}`);
  assert.deepEqual(b.tests, a.tests);
  assert.deepEqual(b.train, a.train);
  assert.equal(b.timing.updates, a.timing.updates);
});

test('runRl refuses bad options before any work', async () => {
  await assert.rejects(runRl({ env: 'Pendulum', agent: 'ddpg', steps: 0 }), /steps must be a positive integer/);
  await assert.rejects(runRl({ env: 'Pendulum', agent: 'ddpg', steps: 10, stepz: 3 } as never), /unknown option 'stepz'/);
  await assert.rejects(runRl({ env: 'Pendulum-v0', agent: 'ddpg', steps: 10 }), /only Pendulum-v1 semantics/);
  await assert.rejects(runRl({ env: 'Pendulum', agent: 'ppo' as never, steps: 10 }), /unknown agent 'ppo'/);
  await assert.rejects(runRl({ env: 'Pendulum', agent: 'ddpg', steps: 10, checkpointInterval: 5 }), /checkpointInterval needs outDir/);
});

test('a run whose training diverges ends there, complete, with the tests before and the step and cause recorded', async (t) => {
  const dir = tempDirFor(t);
  const agent = new DDPGAgent(3, 1, { ...TINY, seed: 2 });
  // After 250 training actions the "policy" turns NaN, as a diverged network's does.
  let trainingActions = 0;
  const act = agent.act.bind(agent);
  agent.act = async (obs, options) => {
    const a = await act(obs, options);
    if (options?.explore && ++trainingActions > 250) a[0] = Number.NaN;
    return a;
  };
  const r = await runRl({ env: 'Pendulum', agent, steps: 600, seed: 2, testInterval: 100, outDir: dir });
  assert.equal(r.complete, true);
  assert.deepEqual(r.diverged, { step: 250, reason: "the training action's entry 0 is NaN" });
  assert.deepEqual(r.tests.map((p) => p.step), [0, 200]);
  const onDisk = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as RlResult;
  assert.deepEqual(onDisk.diverged, r.diverged);
  assert.ok(!existsSync(path.join(dir, 'checkpoint.json')), 'ended: no checkpoint left to resume');
  const again = await runRl({ env: 'Pendulum', agent: 'ddpg', agentOptions: { ...TINY, seed: 2 }, steps: 600, seed: 2, testInterval: 100, outDir: dir });
  assert.deepEqual(again.diverged, r.diverged, 'a second call returns the recorded run, not a new one');
});

test('timeLimitTerminal stores the time-limit step as terminal (the authors\' loop), never the step budget\'s cut, and is part of the run\'s settings', async (t) => {
  /** The steps (1-based) at which the runner stored a terminal transition. */
  async function terminalSteps(timeLimitTerminal: boolean | undefined, outDir?: string): Promise<{ terminals: number[]; r: RlResult }> {
    const agent = new DDPGAgent(3, 1, { ...TINY, seed: 2 });
    const terminals: number[] = [];
    let n = 0;
    const observe = agent.observe.bind(agent);
    agent.observe = (tr) => {
      n++;
      if (tr.terminal) terminals.push(n);
      observe(tr);
    };
    // Pendulum never terminates; episodes are cut at 30 steps by maxEpisodeSteps and the budget cuts the fourth at 10.
    const r = await runRl({
      env: 'Pendulum', agent, steps: 100, seed: 1, testInterval: 50, maxEpisodeSteps: 30, outDir,
      ...(timeLimitTerminal === undefined ? {} : { timeLimitTerminal }),
    });
    return { terminals, r };
  }
  assert.deepEqual((await terminalSteps(undefined)).terminals, [], 'default: bootstrap through truncation');
  assert.deepEqual((await terminalSteps(false)).terminals, []);
  const dir = tempDirFor(t);
  const on = await terminalSteps(true, dir);
  assert.deepEqual(on.terminals, [30, 60, 90]);
  assert.deepEqual(on.r.train.map((e) => e.length), [30, 30, 30, 10]);
  assert.equal(on.r.timeLimitTerminal, true);
  assert.equal((JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as RlResult).timeLimitTerminal, true);
  // Without the option the settings differ from the complete run in dir: refused, not silently reused.
  await assert.rejects(terminalSteps(undefined, dir), /complete run of other settings \(timeLimitTerminal true there/);
  const off = await terminalSteps(undefined);
  assert.equal('timeLimitTerminal' in off.r, false, 'left out of results when not set, so older runs keep matching');
});
