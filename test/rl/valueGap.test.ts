/**
 * The TD-error decomposition of ../../src/rl/valueGap.ts and `icnn rl-inspect`: the parts sum to the TD error, agree
 * with the agent's own TD targets, terminal rows, loading a run's checkpoint, and the refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/icnn.js';
import { ICNNAgent } from '../../src/rl/agents/index.js';
import { valueGap } from '../../src/rl/valueGap.js';
import { loadCheckpointAgent, runRl } from '../../src/rl/runner.js';
import { formatValueGap, rlInspectCommand } from '../../src/cli/commands/rlInspect.js';
import { Rng } from '../../src/util/random.js';
import { tempDirFor } from '../helpers/tmp.js';
import { randomBatch } from './agents/helpers.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

async function trainedAgent(): Promise<ICNNAgent> {
  const agent = new ICNNAgent(3, 2, { hidden: [16, 16], batchSize: 32, warmup: 0, seed: 4, actIterations: 40, innerLearningRate: 0.05, tdClip: 0.5 });
  const batch = randomBatch(64, 3, 2, 5);
  for (let i = 0; i < 40; i++) await agent.update(batch);
  return agent;
}

test('valueGap: reward + discount + γ(G + ΔT + ΔS) + terminal is the TD error, which matches the agent\'s own targets', async () => {
  const agent = await trainedAgent();
  try {
    const batch = randomBatch(96, 3, 2, 11);
    const terminals = Array.from(batch.terminals).filter((t) => t > 0).length;
    assert.ok(terminals > 0 && terminals < batch.size, `the batch mixes terminal (${terminals}) and other rows`);
    const g = await valueGap(agent, batch);
    assert.equal(g.rows, 96);
    close(g.reward + g.discount + g.gamma * (g.greedyGap + g.targetLag + g.nextState) + g.terminal, g.tdError, 'sum of the parts');
    const t = await agent.targets(batch);
    let td = 0;
    let clippedTd = 0;
    let above = 0;
    let below = 0;
    let q = 0;
    for (let i = 0; i < batch.size; i++) {
      td += t.raw[i] - t.qTilde[i];
      clippedTd += t.clipped[i] - t.qTilde[i];
      q += t.qTilde[i];
      if (t.clipped[i] < t.raw[i]) above++;
      if (t.clipped[i] > t.raw[i]) below++;
    }
    close(g.tdError, td / batch.size, 'TD error against agent.targets');
    close(g.clippedTdError, clippedTd / batch.size, 'clipped TD error against agent.targets');
    assert.ok(Math.abs(g.clippedTdError) <= 0.5 + 1e-9 && Math.abs(g.clippedTdError - g.tdError) > 1e-6, 'the clip changes the mean');
    close(g.qTilde, q / batch.size, 'Q̃ against agent.targets');
    close(g.discount, -(1 - g.gamma) * g.qTilde, 'discount');
    assert.equal(g.clippedAbove, above / batch.size);
    assert.equal(g.clippedBelow, below / batch.size);
    assert.ok(g.clippedAbove + g.clippedBelow > 0, 'tdClip 0.5 clips some targets');
  } finally {
    agent.dispose();
  }
});

test('valueGap: on terminal rows only the reward, the discount and −γQ̃ remain', async () => {
  const agent = await trainedAgent();
  try {
    const b = randomBatch(32, 3, 2, 12);
    const batch = { ...b, terminals: new Float32Array(b.size).fill(1) };
    const g = await valueGap(agent, batch);
    assert.equal(g.greedyGap, 0);
    assert.equal(g.targetLag, 0);
    assert.equal(g.nextState, 0);
    close(g.terminal, -g.gamma * g.qTilde, 'terminal part');
    close(g.tdError, g.reward - g.qTilde, 'TD error of terminal rows');
  } finally {
    agent.dispose();
  }
});

test('rl-inspect: the agent of a stopped run\'s checkpoint, its decomposition printed; no checkpoint and non-ICNN runs refused', async (t) => {
  const dir = tempDirFor(t);
  const run = { env: 'Pendulum', steps: 300, seed: 1, testInterval: 50, checkpointInterval: 100 };
  const small = { hidden: [8, 8] as [number, number], batchSize: 16, warmup: 50 };
  await assert.rejects(runRl({
    ...run, agent: 'icnn', agentOptions: { ...small, actIterations: 20 }, outDir: dir, onProgress: (p) => {
      if (p.step >= 250) throw new Error('stopped');
    },
  }), /stopped/);
  const { agent, env, seed, step } = await loadCheckpointAgent(dir);
  try {
    assert.ok(agent instanceof ICNNAgent);
    assert.deepEqual([env, seed, step], ['Pendulum', 1, 200]);
    assert.ok(agent.replay.size >= 200, `the replay came back: ${agent.replay.size}`);
    const g = await valueGap(agent as ICNNAgent, agent.replay.sample(64, new Rng(0)));
    const text = formatValueGap('Pendulum/icnn seed 1 at step 200', g);
    assert.match(text, /^Pendulum\/icnn seed 1 at step 200, 64 replayed transitions/);
    assert.match(text, new RegExp(`TD error y − Q̃\\(s, a\\), before the clip +${g.tdError.toFixed(3)} += the sum of`));
    assert.match(text, new RegExp(`γ·G, +greedy gap .* +${(g.gamma * g.greedyGap).toFixed(3)}\\n`));
  } finally {
    agent.dispose();
  }

  const inspect = (args: string[]) => rlInspectCommand().exitOverride().parseAsync(args, { from: 'user' });
  await assert.rejects(inspect([tempDirFor(t)]), /no checkpoint\.json \(runs keep their last checkpoint only until they finish\)/);
  const ddpgDir = tempDirFor(t);
  await assert.rejects(runRl({
    ...run, agent: 'ddpg', agentOptions: small, outDir: ddpgDir, onProgress: (p) => {
      if (p.step >= 150) throw new Error('stopped');
    },
  }), /stopped/);
  await assert.rejects(inspect([ddpgDir]), /is a DDPG run; the decomposition needs the ICNN agent's argmax/);
});
