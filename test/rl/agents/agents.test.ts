/**
 * DDPG, NAF and ICNN agents through the common interface: updates reduce the TD loss on a fixed batch, soft
 * target updates, actions in [−1, 1], exploration noise, save/load (exact continuation), option checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../helpers/icnn.js';
import { AGENT_KINDS, createAgent, softUpdate, DDPGAgent } from '../../../src/rl/agents/index.js';
import { tempDirFor } from '../../helpers/tmp.js';
import { fillReplay, randomBatch, smallAgent } from './helpers.js';
import path from 'node:path';

for (const kind of AGENT_KINDS) {
  test(`${kind}: 120 updates on one batch at least halve its TD loss`, async () => {
    const agent = smallAgent(kind, 3, 1, { seed: 1, gamma: 0.5 });
    try {
      const batch = randomBatch(64, 3, 1, 2);
      const before = await agent.tdLoss(batch);
      let last = NaN;
      for (let i = 0; i < 120; i++) last = (await agent.update(batch)).loss;
      const after = await agent.tdLoss(batch);
      assert.ok(Number.isFinite(last));
      // A fitted Q on a fixed batch: the loss must drop clearly, not by noise.
      assert.ok(after < 0.5 * before, `${kind}: TD loss ${before} → ${after}`);
      assert.equal(agent.updates, 120);
    } finally {
      agent.dispose();
    }
  });

  test(`${kind}: actions lie in [−1, 1]; exploration adds noise; greedy actions are deterministic`, async () => {
    const agent = smallAgent(kind, 3, 2, { seed: 3, ouSigma: 0.5 });
    try {
      const obs = [0.3, -1.2, 2];
      const g1 = await agent.act(obs);
      const g2 = await agent.act(obs);
      assert.deepEqual(g1, g2);
      agent.startEpisode();
      const noisy = await Promise.all(Array.from({ length: 20 }, () => agent.act(obs, { explore: true })));
      for (const a of [g1, ...noisy]) for (const v of a) assert.ok(v >= -1 && v <= 1);
      assert.ok(noisy.some((a) => Math.abs(a[0] - g1[0]) > 1e-3));
      await assert.rejects(agent.act([1, 2]), /observation must be an array of 3/);
      await assert.rejects(agent.act([1, 2, NaN]), /finite/);
    } finally {
      agent.dispose();
    }
  });

  test(`${kind}: save then load continues exactly (weights, targets, optimizer moments, replay, counters)`, async (t) => {
    const dir = tempDirFor(t);
    const file = path.join(dir, 'agent.bin');
    const a = smallAgent(kind, 3, 1, { seed: 4 });
    const b = smallAgent(kind, 3, 1, { seed: 99 }); // other weights; options must match for load, so same seed below
    const c = smallAgent(kind, 3, 1, { seed: 4 });
    try {
      fillReplay(a, 200, 5);
      for (let i = 0; i < 5; i++) await a.update();
      a.startEpisode();
      await a.save(file);
      await assert.rejects(b.load(file), /options differ/);
      await c.load(file);
      assert.equal(c.updates, 5);
      assert.equal(c.observed, 200);
      assert.equal(c.replay.size, 200);
      const obs = [0.5, 0.1, -0.4];
      assert.deepEqual(await c.act(obs), await a.act(obs));
      // The next updates sample the same minibatches and move the weights identically.
      const sa = await a.update();
      const sc = await c.update();
      assert.equal(sc.loss, sa.loss);
      assert.deepEqual(await c.act(obs), await a.act(obs));
      c.startEpisode();
      a.startEpisode();
      assert.deepEqual(await c.act(obs, { explore: true }), await a.act(obs, { explore: true }));
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });
}

test('softUpdate moves each target by τ toward its source: θ\' ← (1 − τ)θ\' + τθ', () => {
  const src = [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.tensor2d([[4]]))];
  const dst = [tf.variable(tf.tensor1d([0, 0, 0])), tf.variable(tf.tensor2d([[2]]))];
  softUpdate(dst, src, 0.25);
  assert.deepEqual([...dst[0].dataSync()], [0.25, 0.5, 0.75]);
  assert.deepEqual([...dst[1].dataSync()], [2.5]);
  softUpdate(dst, src, 1);
  assert.deepEqual([...dst[0].dataSync()], [1, 2, 3]);
  tf.dispose([...src, ...dst]);
});

test('DDPG: after an update the target networks moved by exactly τ toward the updated online networks', async () => {
  const agent = new DDPGAgent(3, 1, { hidden: [8, 8], batchSize: 16, warmup: 0, tau: 0.1, seed: 0 });
  try {
    const named = () => (agent as unknown as { namedVariables(): { name: string; variable: tf.Variable }[] }).namedVariables();
    const before = new Map(named().map((v) => [v.name, Float32Array.from(v.variable.dataSync() as Float32Array)]));
    await agent.update(randomBatch(16, 3, 1, 0));
    const after = new Map(named().map((v) => [v.name, Float32Array.from(v.variable.dataSync() as Float32Array)]));
    let checked = 0;
    for (const [name, value] of after) {
      if (!name.startsWith('target.')) continue;
      const online = after.get(name.slice('target.'.length)) as Float32Array;
      const old = before.get(name) as Float32Array;
      for (let i = 0; i < value.length; i++) {
        assert.ok(Math.abs(value[i] - (0.9 * old[i] + 0.1 * online[i])) < 1e-6, `${name}[${i}]`);
        checked++;
      }
      // The online network did move, so the check is not vacuous.
      assert.ok(online.some((v, i) => Math.abs(v - (before.get(name.slice('target.'.length)) as Float32Array)[i]) > 0));
    }
    assert.ok(checked > 0);
  } finally {
    agent.dispose();
  }
});

test('agents refuse unknown options and bad values; createAgent refuses unknown kinds', () => {
  assert.throws(() => createAgent('ddpg', 3, 1, { gama: 0.9 } as never), /unknown option 'gama'/);
  assert.throws(() => createAgent('naf', 3, 1, { tau: 0 }), /tau must be a finite number in \(0, 1\]/);
  assert.throws(() => createAgent('icnn', 3, 1, { solver: 'lbfgs' } as never), /solver must be one of/);
  assert.throws(() => createAgent('icnn', 3, 1, { solver: 'bundle-entropy', entropyWeight: 0 }), /needs entropyWeight > 0/);
  assert.throws(() => createAgent('ddpg', 3, 1, { hidden: [10] as never }), /hidden must be two layer widths/);
  assert.throws(() => createAgent('sac' as never, 3, 1), /unknown agent 'sac'/);
});

test('an update on an empty replay is refused; a disposed agent refuses work', async () => {
  const agent = smallAgent('ddpg');
  await assert.rejects(agent.update(), /replay buffer is empty/);
  assert.equal(agent.warm, false);
  fillReplay(agent, 5, 0);
  assert.equal(agent.warm, true);
  agent.dispose();
  await assert.rejects(agent.act([0, 0, 0]), /disposed/);
  assert.equal(tf.memory().numTensors >= 0, true);
});
