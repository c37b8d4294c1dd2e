/**
 * The TD-target maxima by inner-solver setting (../../src/rl/targetArgmax.ts, `icnn rl-inspect --inner-settings`):
 * the cold settings equal the agent's own solves, warm starts and the reference never find less, minibatches are
 * taken as the agent's, and agents without the authors' inner Adam are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../helpers/icnn.js';
import { ICNNAgent, type ICNNOptions } from '../../src/rl/agents/index.js';
import { compareTargetArgmax } from '../../src/rl/targetArgmax.js';
import { formatTargetArgmax } from '../../src/cli/commands/rlInspect.js';
import { randomBatch } from './agents/helpers.js';

// The library's PICNN init (Q̃ of order 10), so that the maxima are not all at the entropy's centre.
const OPTIONS: ICNNOptions = {
  hidden: [16, 16], batchSize: 32, warmup: 0, seed: 9, weightInit: 'picnn', innerAdam: 'authors', innerEngine: 'tfjs', innerLearningRate: 0.05, targetIterations: 300,
};

/** −objective per row of the agent's own TD-target solve, minibatch by minibatch of `size` rows. */
async function agentMaxima(agent: ICNNAgent, next: Float32Array, rows: number, size: number): Promise<number[]> {
  const w = agent.observationSize;
  const out: number[] = [];
  for (let start = 0; start + size <= rows; start += size) {
    const s = await agent.solve(agent.target, next.slice(start * w, (start + size) * w), agent.options.targetIterations);
    out.push(...Array.from(s.objective, (v) => -v));
  }
  return out;
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('compareTargetArgmax: batch and row stop equal the agent\'s own solves under each rule; warm starts and the reference find at least as much', async () => {
  const batchAgent = new ICNNAgent(3, 2, { ...OPTIONS, innerStop: 'batch' });
  const rowAgent = new ICNNAgent(3, 2, { ...OPTIONS, innerStop: 'row' });
  try {
    // 80 rows: two minibatches of 32, the last 16 left out.
    const batch = randomBatch(80, 3, 2, 3);
    const settings = await compareTargetArgmax(batchAgent, batch, 500);
    assert.deepEqual(settings.map((s) => s.name), ['batch stop (the authors\')', 'row stop', 'batch stop + warm start', 'row stop + warm start', 'reference (500 iterations, no stop)']);
    const [batchStop, rowStop, warmBatch, warmRow, reference] = settings;
    // Same seed, untrained: the two agents' target networks are the same network.
    close(batchStop.value, mean(await agentMaxima(batchAgent, batch.nextObservations, 80, 32)), 'batch stop against agent.solve');
    close(rowStop.value, mean(await agentMaxima(rowAgent, batch.nextObservations, 80, 32)), 'row stop against agent.solve (innerStop row)');
    assert.ok(rowStop.meanIterations < batchStop.meanIterations, `rows stop earlier on average (${rowStop.meanIterations} vs ${batchStop.meanIterations})`);
    assert.equal(batchStop.vsBatchStop, 0);
    assert.equal(batchStop.higherShare, 0);
    close(rowStop.vsBatchStop, rowStop.value - batchStop.value, 'change against the batch stop');
    assert.ok(warmBatch.value >= batchStop.value - 1e-9 && warmRow.value >= rowStop.value - 1e-9, 'a warm start from the cold solution loses nothing');
    assert.equal(reference.shortfall, 0);
    assert.equal(reference.meanIterations, 500);
    for (const s of settings) {
      assert.ok(s.shortfall >= -1e-9, `${s.name}: the reference starts from the cold solutions, so nothing cold beats it (${s.shortfall})`);
      close(s.shortfall, reference.value - s.value, `${s.name}: shortfall`);
    }
    assert.ok(reference.value > batchStop.value, 'the long solve finds more than the adaptive stop on this network');
  } finally {
    batchAgent.dispose();
    rowAgent.dispose();
  }
});

test('compareTargetArgmax: refuses the library inner Adam and an empty batch; formatTargetArgmax prints one row per setting', async () => {
  const agent = new ICNNAgent(3, 2, { ...OPTIONS, innerAdam: 'library' });
  try {
    const authors = new ICNNAgent(3, 2, OPTIONS);
    try {
      const b = randomBatch(32, 3, 2, 1);
      await assert.rejects(compareTargetArgmax(authors, { ...b, size: 0, nextObservations: new Float32Array(0) }), /needs at least one replayed transition \(the batch is empty\)/);
    } finally {
      authors.dispose();
    }
    await assert.rejects(compareTargetArgmax(agent, randomBatch(32, 3, 2, 1)), /needs the authors' inner Adam \(solver 'adam', innerAdam 'authors'; this run has solver 'adam', innerAdam 'library'\)/);
  } finally {
    agent.dispose();
  }
  const text = formatTargetArgmax([
    { name: 'batch stop (the authors\')', value: 670.45, vsBatchStop: 0, higherShare: 0, shortfall: 0.0574, meanIterations: 81.8, maxIterations: 85 },
    { name: 'row stop', value: 670.163, vsBatchStop: -0.2869, higherShare: 0.011, shortfall: 0.3443, meanIterations: 25.7, maxIterations: 213 },
  ], 1024, 0.99);
  assert.match(text, /on the same 1024 next states .* γ = 0\.99/);
  assert.match(text, /\| batch stop \(the authors'\) \| 670\.450 \| \+0\.0000 \| 0\.0 % \| 0\.0574 \| 81\.8 \(85\) \|/);
  assert.match(text, /\| row stop \| 670\.163 \| -0\.2869 \| 1\.1 % \| 0\.3443 \| 25\.7 \(213\) \|/);
});
