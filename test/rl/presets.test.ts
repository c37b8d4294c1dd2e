/**
 * The 'paper' preset: the authors' per-task table of RL/run-exp.py (commit 4bfde42) and their ICNN inner loop,
 * as returned by presetSettings and as applied by runRl (explicit options win).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/icnn.js';
import type { ICNNOptions } from '../../src/rl/agents/index.js';
import { PAPER_TABLE, presetSettings } from '../../src/rl/presets.js';
import { runRl } from '../../src/rl/runner.js';
import { MUJOCO_DIR } from './envs/helpers.js';

test('presetSettings: the hand-tuned rows of the issue, the ICNN inner loop on every task, nothing for none', () => {
  const icnn = presetSettings('paper', 'HalfCheetah', 'icnn');
  assert.equal(icnn.rewardScale, 0.4);
  const io = icnn.agentOptions as ICNNOptions;
  assert.equal(io.l2, 0);
  assert.deepEqual(
    [io.innerAdam, io.innerStop, io.batchSize, io.targetIterations, io.entropyWeight],
    ['authors', 'batch', 256, 1000, 1]);
  assert.deepEqual(presetSettings('paper', 'HalfCheetah', 'ddpg'), { rewardScale: 1, agentOptions: { l2: 0.01 } });
  assert.deepEqual(presetSettings('paper', 'HalfCheetah', 'naf'), { rewardScale: 0.1, agentOptions: { initStd: 0.007, batchNorm: true } });
  assert.deepEqual(['ddpg', 'naf', 'icnn'].map((a) => presetSettings('paper', 'InvertedDoublePendulum', a as 'ddpg').rewardScale), [0.03, 0.02, 0.01]);
  // A task run-exp.py does not list: no reward scale; the ICNN agent still runs the authors' inner loop.
  const pendulum = presetSettings('paper', 'Pendulum', 'icnn');
  assert.equal(pendulum.rewardScale, undefined);
  assert.equal((pendulum.agentOptions as ICNNOptions).innerAdam, 'authors');
  assert.deepEqual(presetSettings('paper', 'Pendulum', 'ddpg'), { agentOptions: {} });
  assert.deepEqual(presetSettings(undefined, 'HalfCheetah', 'icnn'), { agentOptions: {} });
  assert.throws(() => presetSettings('tuned', 'HalfCheetah', 'icnn'), /runRl: preset must be one of 'none', 'paper', got "tuned"/);
  for (const rows of Object.values(PAPER_TABLE)) for (const row of Object.values(rows)) assert.ok(row.rewardScale > 0);
});

test('runRl with preset paper: the table applied to InvertedDoublePendulum, explicit options override it', async () => {
  const common = { env: 'InvertedDoublePendulum', envOptions: { mujocoDir: MUJOCO_DIR }, steps: 20, testInterval: 10, seed: 1, preset: 'paper' as const };
  const naf = await runRl({ ...common, agent: 'naf', agentOptions: { hidden: [8, 8] } });
  assert.equal(naf.rewardScale, 0.02);
  const icnn = await runRl({ ...common, agent: 'icnn', rewardScale: 0.5, agentOptions: { hidden: [8, 8], batchSize: 16 } });
  assert.equal(icnn.rewardScale, 0.5);
  assert.equal(icnn.agentOptions.innerAdam, 'authors');
  assert.equal(icnn.agentOptions.targetIterations, 1000);
  assert.equal(icnn.agentOptions.batchSize, 16);
  await assert.rejects(runRl({ ...common, agent: 'ddpg', preset: 'tuned' as never }), /preset must be one of 'none', 'paper'/);
});
