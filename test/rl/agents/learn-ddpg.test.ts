/**
 * A short learning run: DDPG on the continuous cart-pole (CartPoleContinuous, reward 1 per step, at most 500).
 * Asserted: after 2500 steps the greedy policy's mean return over 10 fixed evaluation episodes beats a uniformly
 * random policy's (≈ 26) by at least 100. (Pendulum needs ≳ 10k steps to separate clearly from random, too slow
 * for a unit test; see the experiment in the report for Pendulum and InvertedPendulum.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../helpers/icnn.js';
import { DDPGAgent } from '../../../src/rl/agents/index.js';
import { learnAndEvaluate } from './helpers.js';

test('DDPG learns to balance the continuous cart-pole within 2500 steps', async () => {
  const agent = new DDPGAgent(4, 1, { hidden: [64, 64], batchSize: 64, warmup: 500, seed: 0 });
  try {
    const { learned, random, seconds } = await learnAndEvaluate('CartPoleContinuous', agent, 2500, 0.1);
    assert.ok(learned >= random + 100, `greedy ${learned} vs random ${random} (${seconds.toFixed(1)} s)`);
  } finally {
    agent.dispose();
  }
});
