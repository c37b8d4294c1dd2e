/**
 * ICNN Q-learning (Algorithm 3) specifics: the plain-JS inner oracle against tfjs, greedy actions against a grid
 * search of Q̃ = Q + H, concavity of Q in the action after training (Jensen), W^(z) ≥ 0, TD-target clipping,
 * soft target updates, the two inner engines agreeing, and which oracle the 'auto' engine picks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PICNN, backendInfo, disableNativeKernels, enableNativeKernels, tf } from '../../helpers/icnn.js';
import { EnergyOracle } from '../../../src/inference/oracle.js';
import { ICNNAgent, LayerOracle } from '../../../src/rl/agents/index.js';
import { actionEntropy, meanEntropyBonus } from '../../../src/rl/agents/icnn.js';
import { Rng } from '../../../src/util/random.js';
import { randomBatch } from './helpers.js';
import { tempDirFor } from '../../helpers/tmp.js';
import path from 'node:path';

const BASE = { hidden: [16, 16] as [number, number], batchSize: 32, warmup: 0, seed: 2 };

async function trained(options: ConstructorParameters<typeof ICNNAgent>[2] = {}, actionSize = 1): Promise<ICNNAgent> {
  const inner = options.solver === 'bundle-entropy' ? {} : { innerLearningRate: 0.1 };
  const agent = new ICNNAgent(3, actionSize, { ...BASE, actIterations: 20, ...inner, ...options });
  const batch = randomBatch(64, 3, actionSize, 7);
  for (let i = 0; i < 60; i++) await agent.update(batch);
  return agent;
}

/** The (online, target) variable pairs of the agent's critic `k` (private state, read by white-box tests). */
function criticPairs(agent: ICNNAgent, k = 0): { name: string; online: tf.Variable; target: tf.Variable }[] {
  return (agent as unknown as { critics: { pairs: { name: string; online: tf.Variable; target: tf.Variable }[] }[] }).critics[k].pairs;
}

test('LayerOracle: energies and ∇_a of a leaky-ReLU PICNN match tfjs', () => {
  const model = new PICNN({ xDim: 4, yDim: 2, hidden: [12, 9], activation: 'leaky-relu', leakySlope: 0.05, seed: 3 });
  const rng = new Rng(4);
  const x = tf.tensor2d(rng.fillNormal(5 * 4), [5, 4]);
  const y = Float64Array.from(rng.fillUniform(5 * 2, -1, 1));
  const oracle = new LayerOracle(model, x, 5);
  const { energy, grad } = oracle.evaluate(y);
  const ctx = model.context(x);
  const ref = model.energyAndGradFromContext(ctx, tf.tensor2d(Float32Array.from(y), [5, 2]));
  const e = ref.energy.dataSync();
  const g = ref.grad.dataSync();
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(energy[i] - e[i]) <= 1e-4 * Math.max(1, Math.abs(e[i])), `energy ${i}: ${energy[i]} vs ${e[i]}`);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(grad[i] - g[i]) <= 1e-4 * Math.max(1, Math.abs(g[i])), `grad ${i}: ${grad[i]} vs ${g[i]}`);
  tf.dispose([x, ref.energy, ref.grad, ...ctx.tensors]);
  model.dispose();
});

test('after training, Q(s, ·) is concave (Jensen on random pairs, 1-D and 2-D actions) and W^(z) ≥ 0', async () => {
  for (const d of [1, 2]) {
    const agent = await trained({}, d);
    try {
      assert.ok(agent.model.minConvexWeight() >= 0);
      const rng = new Rng(11);
      const n = 200;
      const obs = rng.fillNormal(n * 3);
      const a1 = rng.fillUniform(n * d, -1, 1);
      const a2 = rng.fillUniform(n * d, -1, 1);
      const lam = Array.from({ length: n }, () => rng.uniform());
      const mid = Float32Array.from(a1, (v, i) => lam[Math.floor(i / d)] * v + (1 - lam[Math.floor(i / d)]) * a2[i]);
      const q1 = agent.qValues(obs, a1);
      const q2 = agent.qValues(obs, a2);
      const qm = agent.qValues(obs, mid);
      let spread = 0;
      for (let i = 0; i < n; i++) {
        const chord = lam[i] * q1[i] + (1 - lam[i]) * q2[i];
        spread = Math.max(spread, Math.abs(q1[i] - q2[i]));
        assert.ok(qm[i] >= chord - 1e-4 * Math.max(1, Math.abs(chord)), `d=${d} row ${i}: Q(mid) ${qm[i]} < chord ${chord}`);
      }
      assert.ok(spread > 1e-3, 'Q must depend on the action, or the check is vacuous');
    } finally {
      agent.dispose();
    }
  }
});

test('greedy actions are the argmax of Q̃ = Q + H((a+1)/2) on a 1-D grid (Adam and bundle entropy), and of Q with w = 0', async () => {
  const configs: NonNullable<ConstructorParameters<typeof ICNNAgent>[2]>[] = [
    { actIterations: 200, targetIterations: 10, innerLearningRate: 0.01 },
    { solver: 'bundle-entropy', actIterations: 30, targetIterations: 5 },
    { entropyWeight: 0, actIterations: 400, targetIterations: 10, innerLearningRate: 0.01 },
  ];
  for (const config of configs) {
    const agent = await trained(config);
    try {
      const rng = new Rng(5);
      const grid = Float32Array.from({ length: 2001 }, (_, i) => -1 + i / 1000);
      for (let k = 0; k < 6; k++) {
        const s = rng.fillNormal(3);
        const a = (await agent.act(s))[0];
        const obs = new Float32Array(grid.length * 3);
        for (let i = 0; i < grid.length; i++) obs.set(s, i * 3);
        const score = config.entropyWeight === 0 ? agent.qValues(obs, grid) : agent.qTildeValues(obs, grid);
        let best = 0;
        for (let i = 1; i < grid.length; i++) if (score[i] > score[best]) best = i;
        const at = (config.entropyWeight === 0 ? agent.qValues(s, Float32Array.of(a)) : agent.qTildeValues(s, Float32Array.of(a)))[0];
        const range = Math.max(...score) - Math.min(...score);
        // Within 1e-3 of the grid's best value (relative to the range of Q̃ over the box), and near its argmax.
        assert.ok(at >= score[best] - 1e-3 * Math.max(range, 1e-3), `${JSON.stringify(config)}: Q̃(a*=${a}) = ${at} < grid max ${score[best]} at ${grid[best]}`);
        assert.ok(Math.abs(a - grid[best]) < 0.05 || Math.abs(at - score[best]) < 1e-4 * Math.max(range, 1e-3), `a* ${a} vs grid argmax ${grid[best]}`);
      }
    } finally {
      agent.dispose();
    }
  }
});

test('the js and tfjs inner engines find the same actions', async () => {
  const js = await trained({ innerEngine: 'js', actIterations: 40, innerLearningRate: 0.05 });
  const tfjs = new ICNNAgent(3, 1, { ...BASE, innerEngine: 'tfjs', actIterations: 40, innerLearningRate: 0.05 });
  try {
    const state = criticPairs(js);
    const other = criticPairs(tfjs);
    state.forEach((p, i) => {
      other[i].online.assign(p.online);
      other[i].target.assign(p.target);
    });
    const obs = new Rng(9).fillNormal(10 * 3);
    const a = await js.greedyActions(obs);
    const b = await tfjs.greedyActions(obs);
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-3, `row ${i}: ${a[i]} vs ${b[i]}`);
  } finally {
    js.dispose();
    tfjs.dispose();
  }
});

test('TD targets are clipped to Q̃(s, a) ± 1; a fully clipped batch has loss exactly 1', async () => {
  const agent = new ICNNAgent(3, 1, { ...BASE, actIterations: 10, innerLearningRate: 0.1 });
  try {
    const batch = randomBatch(32, 3, 1, 1);
    const huge = { ...batch, rewards: batch.rewards.map(() => 1000) };
    const t = await agent.targets(huge);
    for (let i = 0; i < 32; i++) {
      assert.ok(t.raw[i] > t.qTilde[i] + 1);
      assert.ok(Math.abs(t.clipped[i] - (t.qTilde[i] + 1)) < 1e-9);
    }
    const lossBefore = await agent.tdLoss(huge);
    assert.ok(Math.abs(lossBefore - 1) < 1e-6);
    const stats = await agent.update(huge);
    assert.equal(stats.clippedFraction, 1);
    assert.ok(Math.abs(stats.loss - 1) < 1e-4, `loss ${stats.loss}`);
    // Near-consistent targets are not clipped.
    const near = { ...batch, terminals: batch.terminals.map(() => 1), rewards: Float32Array.from(t.qTilde) };
    const t2 = await agent.targets(near);
    // The update above moved Q̃, so compare against the new Q̃: each |raw − Q̃| is small and equals the clipped value.
    for (let i = 0; i < 32; i++) if (Math.abs(t2.raw[i] - t2.qTilde[i]) < 1) assert.equal(t2.clipped[i], t2.raw[i]);
    const none = new ICNNAgent(3, 1, { ...BASE, actIterations: 10, innerLearningRate: 0.1, tdClip: 0 });
    const t3 = await none.targets(huge);
    assert.deepEqual(t3.clipped, t3.raw);
    none.dispose();
  } finally {
    agent.dispose();
  }
});

test('ICNN target network: θ\' ← (1 − τ)θ\' + τθ after each step (θ projected first)', async () => {
  const agent = new ICNNAgent(3, 1, { ...BASE, tau: 0.2, actIterations: 5, innerLearningRate: 0.1 });
  try {
    const pairs = criticPairs(agent);
    const old = pairs.map((p) => Float32Array.from(p.target.dataSync() as Float32Array));
    await agent.update(randomBatch(32, 3, 1, 3));
    let moved = false;
    pairs.forEach((p, i) => {
      const on = p.online.dataSync();
      const tg = p.target.dataSync();
      for (let k = 0; k < tg.length; k++) {
        assert.ok(Math.abs(tg[k] - (0.8 * old[i][k] + 0.2 * on[k])) < 1e-5, `${p.name}[${k}]`);
        if (Math.abs(on[k] - old[i][k]) > 1e-6) moved = true;
      }
    });
    assert.ok(moved);
    assert.ok(agent.target.minConvexWeight() >= 0);
  } finally {
    agent.dispose();
  }
});

test("engine 'auto': the native z-path oracle where its kernel runs, else the plain-JS oracle for small problems", async () => {
  const seen: boolean[] = [];
  const original = EnergyOracle.prototype.evaluate;
  EnergyOracle.prototype.evaluate = function (this: EnergyOracle, y: Float64Array) {
    seen.push(this.native);
    return original.call(this, y);
  };
  const agent = new ICNNAgent(3, 1, { ...BASE, actIterations: 5 });
  try {
    const nativeOn = backendInfo().native.enabled && tf.getBackend() === 'wasm';
    await agent.greedyActions(Float32Array.from([0.1, -0.2, 0.3]));
    if (nativeOn) assert.ok(seen.length > 0 && seen.every((n) => n), `native on: every evaluation native (${seen.length} seen)`);
    else assert.equal(seen.length, 0, 'native off: the plain-JS oracle');
    seen.length = 0;
    disableNativeKernels('test');
    await agent.greedyActions(Float32Array.from([0.1, -0.2, 0.3]));
    assert.equal(seen.length, 0, 'kernel disabled: a batch-1 problem of a 16/16 network runs on the plain-JS oracle');
  } finally {
    EnergyOracle.prototype.evaluate = original;
    if (backendInfo().native.reason === 'test') enableNativeKernels();
    agent.dispose();
  }
});

test('the entropy diagnostic is w·Σ_j H((a_j + 1)/2) averaged over rows, as actionEntropy, and the update reports it with the mean reward', async () => {
  // a = 0 gives ln 2 per coordinate; a = ±1 the clipped 1e-4 value; two rows of d = 2, w = 0.5.
  const a = Float32Array.from([0, 0, 1, -0.5]);
  const h = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  const expected = (0.5 * (2 * Math.LN2 + h(1 - 1e-4) + h(0.25))) / 2;
  assert.ok(Math.abs(meanEntropyBonus(a, 2, 0.5) - expected) < 1e-12, `${meanEntropyBonus(a, 2, 0.5)} vs ${expected}`);
  const viaTf = tf.tidy(() => tf.mean(actionEntropy(tf.tensor2d(a, [2, 2]))).dataSync()[0]);
  assert.ok(Math.abs(meanEntropyBonus(a, 2, 1) - viaTf) < 1e-6, `js ${meanEntropyBonus(a, 2, 1)} vs tfjs ${viaTf}`);
  assert.equal(meanEntropyBonus(a, 2, 0), 0);

  const agent = new ICNNAgent(3, 2, { ...BASE, actIterations: 10, targetIterations: 10, innerLearningRate: 0.1, entropyWeight: 0.5 });
  const batch = randomBatch(32, 3, 2, 9);
  const stats = await agent.update(batch);
  const meanReward = batch.rewards.reduce((s, r) => s + r, 0) / batch.size;
  assert.ok(Math.abs(stats.reward - meanReward) < 1e-9, `${stats.reward} vs ${meanReward}`);
  assert.ok(stats.entropy > 0 && stats.entropy <= 0.5 * 2 * Math.LN2 + 1e-12, `entropy ${stats.entropy}`);
  agent.dispose();
});

test('targetNoise: Q̃\' is concave in a, so the smoothed TD targets lie at or below those at the argmax, and strictly below on average', async () => {
  const options = { ...BASE, actIterations: 200, targetIterations: 200, innerLearningRate: 0.05, tdClip: 0 };
  const smoothed = await trained({ ...options, targetNoise: 0.3 }, 2);
  try {
    const batch = randomBatch(64, 3, 2, 13);
    const b = await smoothed.targets(batch);
    const fresh = new ICNNAgent(3, 2, { ...options, targetNoise: 0.3 });
    const c = await fresh.targets(batch);
    const d = await fresh.targets(batch);
    assert.deepEqual(c.raw, d.raw, 'the noise is a function of the seed and the update count');
    fresh.dispose();
    let below = 0;
    let sumA = 0;
    let sumB = 0;
    for (let i = 0; i < batch.size; i++) {
      if (batch.terminals[i] > 0) {
        assert.equal(b.raw[i], batch.rewards[i]);
        continue;
      }
      // b's own unsmoothed target: r + γ·Q̃'(s', a'*) from its inner solution.
      const atMax = smoothed.qTildeValues(batch.nextObservations.subarray(i * 3, i * 3 + 3), b.nextActions.subarray(i * 2, i * 2 + 2), smoothed.target)[0];
      const unsmoothed = batch.rewards[i] + smoothed.options.gamma * atMax;
      assert.ok(b.raw[i] <= unsmoothed + 1e-3 * Math.max(1, Math.abs(unsmoothed)), `row ${i}: smoothed ${b.raw[i]} above the target at the argmax ${unsmoothed}`);
      if (b.raw[i] < unsmoothed - 1e-6) below++;
      sumA += unsmoothed;
      sumB += b.raw[i];
    }
    assert.ok(below > 0 && sumB < sumA, `smoothing lowers the targets: ${below} rows below, means ${sumB} vs ${sumA}`);
    // Off, the option is absent from the resolved options: agent files, checkpoints and results.json written before
    // it existed compare their options as JSON and must still match.
    const off = new ICNNAgent(3, 2, { ...options, targetNoise: 0 });
    assert.equal('targetNoise' in off.options, false);
    off.dispose();
  } finally {
    smoothed.dispose();
  }
});

/** The target PICNN of the agent's critic `k` (private state, read by white-box tests). */
function criticTarget(agent: ICNNAgent, k: number): PICNN {
  return (agent as unknown as { critics: { target: PICNN }[] }).critics[k].target;
}

test('twinQ: the TD target is r + γ·min of the two target critics at the first one\'s argmax, below the first critic\'s own on some rows', async () => {
  const options = { ...BASE, actIterations: 50, targetIterations: 50, innerLearningRate: 0.05, tdClip: 0, twinQ: true };
  const agent = await trained(options, 2);
  try {
    const batch = randomBatch(64, 3, 2, 17);
    const t = await agent.targets(batch);
    const first = agent.qTildeValues(batch.nextObservations, t.nextActions, criticTarget(agent, 0));
    const second = agent.qTildeValues(batch.nextObservations, t.nextActions, criticTarget(agent, 1));
    let below = 0;
    for (let i = 0; i < batch.size; i++) {
      const expected = batch.rewards[i] + (batch.terminals[i] > 0 ? 0 : agent.options.gamma * Math.min(first[i], second[i]));
      assert.ok(Math.abs(t.raw[i] - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `row ${i}: ${t.raw[i]} vs ${expected}`);
      if (batch.terminals[i] === 0 && second[i] < first[i] - 1e-6) below++;
    }
    assert.ok(below > 0, 'the second critic lowers some targets');
  } finally {
    agent.dispose();
  }
});

test('twinQ: the critics start apart, both learn, the first is the single-critic agent\'s at init, and the option is absent when off', async () => {
  const options = { ...BASE, actIterations: 10, innerLearningRate: 0.1 };
  const single = new ICNNAgent(3, 1, options);
  const twin = new ICNNAgent(3, 1, { ...options, twinQ: true });
  try {
    const values = (pairs: { online: tf.Variable }[]) => pairs.map((p) => Array.from(p.online.dataSync()));
    // The first critic's seed streams are the agent's from before twinQ: earlier runs replay exactly.
    assert.deepEqual(values(criticPairs(twin, 0)), values(criticPairs(single)));
    assert.notDeepEqual(values(criticPairs(twin, 1)), values(criticPairs(twin, 0)));
    const before = [0, 1].map((k) => values(criticPairs(twin, k)));
    await twin.update(randomBatch(32, 3, 1, 5));
    for (const k of [0, 1]) assert.notDeepEqual(values(criticPairs(twin, k)), before[k], `critic ${k} moved`);
    const second = (twin as unknown as { critics: { model: PICNN }[] }).critics[1].model;
    assert.ok(second.minConvexWeight() >= 0, 'the second critic is projected too');
    assert.equal('twinQ' in single.options, false);
    const off = new ICNNAgent(3, 1, { ...options, twinQ: false });
    assert.equal('twinQ' in off.options, false);
    off.dispose();
  } finally {
    single.dispose();
    twin.dispose();
  }
});

test('twinQ: save then load continues exactly, and a single-critic file does not load into a twin agent', async (t) => {
  const dir = tempDirFor(t);
  const options = { ...BASE, actIterations: 10, innerLearningRate: 0.1, twinQ: true };
  const a = new ICNNAgent(3, 1, options);
  const b = new ICNNAgent(3, 1, options);
  const single = new ICNNAgent(3, 1, { ...options, twinQ: false });
  try {
    for (let i = 0; i < 3; i++) await a.update(randomBatch(32, 3, 1, 20 + i));
    await a.save(path.join(dir, 'twin.bin'));
    await single.save(path.join(dir, 'single.bin'));
    await assert.rejects(b.load(path.join(dir, 'single.bin')), /options differ/);
    await b.load(path.join(dir, 'twin.bin'));
    const batch = randomBatch(32, 3, 1, 30);
    const sa = await a.update(batch);
    const sb = await b.update(batch);
    assert.equal(sb.loss, sa.loss);
    for (const k of [0, 1]) assert.deepEqual(criticPairs(b, k).map((p) => Array.from(p.target.dataSync())), criticPairs(a, k).map((p) => Array.from(p.target.dataSync())));
  } finally {
    a.dispose();
    b.dispose();
    single.dispose();
  }
});

/** mean over the batch of Q̃(s, a*_s) − Q̃(s, a), a*_s the online argmax at s. */
async function meanGreedyGap(agent: ICNNAgent, batch: ReturnType<typeof randomBatch>): Promise<number> {
  const star = await agent.solve(agent.model, batch.observations, agent.options.targetIterations);
  const atStar = agent.qTildeValues(batch.observations, star.actions);
  const atData = agent.qTildeValues(batch.observations, batch.actions);
  return atStar.reduce((s, v, i) => s + v - atData[i], 0) / batch.size;
}

test('gapPenalty: the update reports the greedy gap it penalizes, and training with it leaves a smaller gap than without', async () => {
  // Without the entropy term, whose share of the gap no weight can change.
  const options = { ...BASE, actIterations: 60, targetIterations: 60, innerLearningRate: 0.05, entropyWeight: 0 };
  const batch = randomBatch(64, 3, 2, 23);
  const plain = new ICNNAgent(3, 2, options);
  const penalized = new ICNNAgent(3, 2, { ...options, gapPenalty: 2 });
  try {
    const expected = await meanGreedyGap(penalized, batch);
    const stats = await penalized.update(batch);
    assert.ok(Math.abs(stats.greedyGap - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `reported ${stats.greedyGap} vs ${expected}`);
    assert.equal((await plain.update(batch)).greedyGap, undefined);
    for (let i = 0; i < 80; i++) {
      await plain.update(batch);
      await penalized.update(batch);
    }
    const [gPlain, gPenalized] = [await meanGreedyGap(plain, batch), await meanGreedyGap(penalized, batch)];
    assert.ok(gPenalized < 0.5 * gPlain, `gap with the penalty ${gPenalized}, without ${gPlain}`);
    assert.equal('gapPenalty' in plain.options, false);
  } finally {
    plain.dispose();
    penalized.dispose();
  }
});
