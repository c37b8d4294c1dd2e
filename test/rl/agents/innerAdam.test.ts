/**
 * The authors' inner Adam (../../../src/rl/agents/innerAdam.ts): its step sizes on a constant gradient against
 * hand-computed values, the adaptive stopping rule (batch and per row), TensorFlow's zero entropy gradient outside
 * the clip, and warm starts on a fixed PICNN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PICNN, tf } from '../../helpers/icnn.js';
import { ICNNAgent, LayerOracle } from '../../../src/rl/agents/index.js';
import { CompactingOracle, innerAdam, type RowOracle } from '../../../src/rl/agents/innerAdam.js';
import { Rng } from '../../../src/util/random.js';

/** f(a) = Σ c·a per row (constant gradient c), recording every point it is asked about and which rows were active. */
function linearOracle(batch: number, n: number, c: number): RowOracle & { points: Float64Array[]; actives: Uint8Array[] } {
  const points: Float64Array[] = [];
  const actives: Uint8Array[] = [];
  return {
    batch, n, points, actives,
    evaluate(y: Float64Array, active?: Uint8Array) {
      points.push(Float64Array.from(y));
      actives.push(active ? Uint8Array.from(active) : new Uint8Array(batch).fill(1));
      const energy = new Float64Array(batch);
      for (let r = 0; r < batch; r++) for (let j = 0; j < n; j++) energy[r] += c * y[r * n + j];
      return { energy, grad: new Float64Array(batch * n).fill(c) };
    },
  };
}

test('innerAdam: constant gradient, the authors\' steps α/√(1 − β2^t): 31.62α, 22.37α, 18.27α, … 10.02α at t = 10, 3.241α at t = 100', () => {
  const alpha = 1e-5; // small enough that 100 steps stay inside the box
  const oracle = linearOracle(1, 1, 1);
  innerAdam(oracle, [new Float64Array(1)], { learningRate: alpha, cap: 100, entropyWeight: 0, stop: 'none' });
  const steps = oracle.points.slice(1).map((p, i) => oracle.points[i][0] - p[0]);
  assert.equal(steps.length, 100);
  // Hand-computed: 0.01/√(1 − 0.999^t) for t = 1, 2, 3, 10, 100 is 0.316228, 0.223663, 0.182664, 0.100225, 0.032409.
  const expected: [number, number][] = [[1, 31.6228], [2, 22.3663], [3, 18.2664], [10, 10.0225], [100, 3.2409]];
  for (const [t, k] of expected) assert.ok(Math.abs(steps[t - 1] / alpha - k) < 2e-3 * k, `step ${t}: ${steps[t - 1] / alpha}α, expected ${k}α`);
  // Textbook Adam (v̂ corrected) steps α every time on a constant gradient.
  const textbook = linearOracle(1, 1, 1);
  innerAdam(textbook, [new Float64Array(1)], { learningRate: alpha, cap: 20, entropyWeight: 0, stop: 'none', correctSecondMoment: true });
  textbook.points.slice(1).forEach((p, i) => assert.ok(Math.abs((textbook.points[i][0] - p[0]) / alpha - 1) < 1e-3));
});

test('innerAdam: the batch rule stops after 6 iterations when the best action no longer moves, and runs to the cap while it does', () => {
  // f = Σ a: the start 0 is not optimal, so the best moves every step until the edge, then stays.
  const moving = linearOracle(2, 1, 1);
  const r = innerAdam(moving, [new Float64Array(2)], { learningRate: 0.01, cap: 1000, entropyWeight: 0 });
  // Steps 0.316, 0.224, 0.183, 0.158, 0.141 reach −1 at step 5; the best then stays, the EMA halves each iteration.
  assert.ok(r.actions.every((a) => a < -0.999), `${r.actions}`);
  const k = r.iterations[0];
  assert.ok(k > 6 && k < 30, `stopped after ${k}`);
  // An oracle whose start is already optimal (f = −Σa at a = 1 − 1e-8 is its own best): stop exactly at i = 6.
  const still = linearOracle(2, 1, 0);
  const s = innerAdam(still, [new Float64Array(2)], { learningRate: 0.01, cap: 1000, entropyWeight: 0 });
  assert.deepEqual(Array.from(s.iterations), [6, 6]);
  assert.equal(still.points.length, 7);
  // Without the rule, the cap.
  const capped = innerAdam(linearOracle(2, 1, 0), [new Float64Array(2)], { learningRate: 0.01, cap: 40, entropyWeight: 0, stop: 'none' });
  assert.deepEqual(Array.from(capped.iterations), [40, 40]);
});

test('innerAdam: the row rule stops each row on its own and stops evaluating it', () => {
  // Row 0 starts at its optimum (gradient 0 there), row 1 has far to go.
  const oracle: RowOracle & { actives: Uint8Array[] } = {
    batch: 2, n: 1, actives: [],
    evaluate(y: Float64Array, active?: Uint8Array) {
      this.actives.push(Uint8Array.from(active ?? [1, 1]));
      return { energy: Float64Array.from([y[0] ** 2, (y[1] - 0.8) ** 2]), grad: Float64Array.from([2 * y[0], 2 * (y[1] - 0.8)]) };
    },
  };
  const r = innerAdam(oracle, [new Float64Array(2)], { learningRate: 0.01, cap: 1000, entropyWeight: 0, stop: 'row' });
  assert.equal(r.iterations[0], 6);
  assert.ok(r.iterations[1] > 6, `row 1 stopped after ${r.iterations[1]}`);
  assert.ok(Math.abs(r.actions[1] - 0.8) < 0.02, `row 1 at ${r.actions[1]}`);
  assert.equal(oracle.actives[oracle.actives.length - 1][0], 0, 'row 0 is no longer evaluated');
});

test('innerAdam: the entropy gradient is zero outside [1e-4, 0.9999] with entropyGradientClip, and pushes inward without', () => {
  const start = Float64Array.from([-1 + 1e-6]); // p = 5e-7, outside the clip
  const run = (clip: boolean) => innerAdam(linearOracle(1, 1, 0), [start], { learningRate: 0.01, cap: 10, entropyWeight: 1, entropyGradientClip: clip, stop: 'none' });
  const clipped = run(true);
  assert.equal(clipped.actions[0], start[0], 'no gradient, no move');
  // Without the clip the barrier's gradient pushes a inward; the objective (f − wH, H clipped) stays the same
  // until p re-enters [1e-4, 0.9999], so the best iterate is at least as far in.
  const pushed = innerAdam(linearOracle(1, 1, 0), [start], { learningRate: 0.01, cap: 10, entropyWeight: 1, entropyGradientClip: false, stop: 'none' });
  assert.ok(pushed.objective[0] < clipped.objective[0], `${pushed.objective[0]} vs ${clipped.objective[0]}`);
});

test('innerAdam: a warm start from the previous solution reaches the same optimum of a fixed PICNN in fewer iterations', () => {
  const model = new PICNN({ xDim: 4, yDim: 3, hidden: [24, 24], activation: 'leaky-relu', leakySlope: 0.01, seed: 5 });
  const rows = 16;
  const x = tf.tensor2d(new Rng(6).fillNormal(rows * 4), [rows, 4]);
  const oracle = new LayerOracle(model, x, rows);
  const options = { learningRate: 0.01, cap: 1000, entropyWeight: 1, stop: 'row' as const };
  const cold = innerAdam(oracle, [new Float64Array(rows * 3)], options);
  const warm = innerAdam(oracle, [new Float64Array(rows * 3), cold.actions], options);
  // The optimum to within the rule's precision: 5000 iterations without the stop.
  const reference = innerAdam(oracle, [new Float64Array(rows * 3)], { ...options, stop: 'none', cap: 5000 });
  x.dispose();
  model.dispose();
  const sum = (a: Int32Array) => a.reduce((s, v) => s + v, 0);
  assert.ok(sum(warm.iterations) < sum(cold.iterations) / 2, `warm ${sum(warm.iterations)} vs cold ${sum(cold.iterations)} iterations`);
  assert.ok(warm.startIndex.every((k) => k === 1), 'every row starts from the cached solution');
  // The adaptive stop ends within about 0.1 of the optimum's objective (its step sizes are still ~0.03 there);
  // the warm start is never worse than the cold solve it started from.
  for (let r = 0; r < rows; r++) {
    assert.ok(warm.objective[r] <= cold.objective[r] + 1e-12, `row ${r}: warm ${warm.objective[r]} vs cold ${cold.objective[r]}`);
    assert.ok(warm.objective[r] - reference.objective[r] < 0.1, `row ${r}: warm ${warm.objective[r]} vs optimum ${reference.objective[r]}`);
    assert.ok(reference.objective[r] <= warm.objective[r] + 1e-9, `row ${r}: the reference is the optimum`);
  }
});

for (const innerEngine of ['js', 'tfjs'] as const) test(`ICNNAgent with the authors' inner Adam and warm starts (${innerEngine}): fewer target iterations once the cache is filled`, async () => {
  const agent = new ICNNAgent(3, 2, { hidden: [16, 16], batchSize: 32, warmup: 0, seed: 1, innerAdam: 'authors', warmStart: true, innerStop: 'row', targetIterations: 500, innerEngine });
  try {
    const rng = new Rng(3);
    for (let i = 0; i < 32; i++) {
      agent.observe({ observation: rng.fillNormal(3), action: rng.fillUniform(2, -1, 1), reward: rng.normal(), nextObservation: rng.fillNormal(3), terminal: false });
    }
    const batch = agent.replay.gather(Array.from({ length: 32 }, (_, i) => i));
    const first = await agent.update(batch);
    const second = await agent.update(batch);
    assert.ok(second.innerIterations < first.innerIterations, `${second.innerIterations} vs ${first.innerIterations}`);
    assert.ok(second.saturatedFraction >= 0 && second.saturatedFraction <= 1);
  } finally {
    agent.dispose();
  }
});

test('ICNNAgent: the inner-Adam options are refused where they would be ignored', () => {
  assert.throws(() => new ICNNAgent(3, 1, { warmStart: true }), /warmStart applies to solver 'adam' with innerAdam 'authors' only/);
  assert.throws(() => new ICNNAgent(3, 1, { innerAdam: 'authors', innerStop: 'sometimes' as never }), /innerStop must be one of/);
  assert.throws(() => new ICNNAgent(3, 1, { innerAdam: 'authors', entropyGradientClip: 1 as never }), /entropyGradientClip must be a boolean, got 1/);
  assert.throws(() => new ICNNAgent(3, 1, { batchNorm: 'yes' as never }), /batchNorm must be a boolean/);
  assert.throws(() => new ICNNAgent(3, 1, { innerAdam: 'authors', innerTolerance: 1e-3 }), /innerTolerance does not apply to innerAdam 'authors'/);
  assert.throws(() => new ICNNAgent(3, 1, { innerStop: 'row' }), /innerStop applies to solver 'adam' with innerAdam 'authors' only/);
  assert.throws(() => new ICNNAgent(3, 1, { solver: 'bundle-entropy', innerLearningRate: 0.05 }), /innerLearningRate applies to solver 'adam' only/);
});

test("ICNNAgent: a resolved agent's options (as results.json and checkpoints record them) build the same agent again", () => {
  for (const mode of [{}, { innerAdam: 'authors' as const, warmStart: true }, { solver: 'bundle-entropy' as const }]) {
    const a = new ICNNAgent(3, 2, { hidden: [8, 8], ...mode });
    const b = new ICNNAgent(3, 2, { ...a.options });
    try {
      assert.deepEqual(b.options, a.options, JSON.stringify(mode));
    } finally {
      a.dispose();
      b.dispose();
    }
  }
});

test('CompactingOracle: the row rule gives the same solution on a compacting batched oracle, over fewer rows as they stop', () => {
  const model = new PICNN({ xDim: 4, yDim: 2, hidden: [16, 16], activation: 'leaky-relu', leakySlope: 0.01, seed: 8 });
  const rows = 12;
  const x = tf.tensor2d(new Rng(9).fillNormal(rows * 4), [rows, 4]);
  const sizes: number[] = [];
  const make = (subset: Int32Array) => {
    sizes.push(subset.length);
    const xs = tf.tidy(() => tf.gather(x, tf.tensor1d(subset, 'int32')) as tf.Tensor2D);
    const o = new LayerOracle(model, xs, subset.length);
    xs.dispose();
    return o;
  };
  const options = { learningRate: 0.01, cap: 300, entropyWeight: 1, stop: 'row' as const };
  const full = innerAdam(new LayerOracle(model, x, rows), [new Float64Array(rows * 2)], options);
  const compact = new CompactingOracle(rows, 2, make);
  const r = innerAdam(compact, [new Float64Array(rows * 2)], options);
  compact.dispose();
  const tensors = tf.memory().numTensors;
  x.dispose();
  model.dispose();
  assert.ok(tf.memory().numTensors < tensors);
  assert.deepEqual(Array.from(r.iterations), Array.from(full.iterations));
  r.actions.forEach((a, i) => assert.ok(Math.abs(a - full.actions[i]) < 1e-9));
  assert.ok(sizes.length > 1 && sizes[sizes.length - 1] < rows, `oracle sizes ${sizes}`);
});

test('CompactingOracle: with `narrow`, later oracles come from the current one (positions into its rows), same solution', () => {
  const model = new PICNN({ xDim: 4, yDim: 2, hidden: [16, 16], activation: 'leaky-relu', leakySlope: 0.01, seed: 8 });
  const rows = 12;
  const x = tf.tensor2d(new Rng(9).fillNormal(rows * 4), [rows, 4]);
  const over = (subset: Int32Array) => {
    const xs = tf.tidy(() => tf.gather(x, tf.tensor1d(subset, 'int32')) as tf.Tensor2D);
    const o = Object.assign(new LayerOracle(model, xs, subset.length), { subset });
    xs.dispose();
    return o;
  };
  let made = 0;
  const narrowed: number[] = [];
  const make = (subset: Int32Array) => { made++; return over(subset); };
  // What a narrowed oracle must hold: the current one's rows at `positions`, in the full batch's numbering.
  const narrow = (current: ReturnType<typeof over>, positions: Int32Array) => {
    narrowed.push(positions.length);
    assert.ok(positions.every((p) => p >= 0 && p < current.subset.length), 'positions index the current oracle');
    return over(positions.map((p) => current.subset[p]));
  };
  const options = { learningRate: 0.01, cap: 300, entropyWeight: 1, stop: 'row' as const };
  const full = innerAdam(new LayerOracle(model, x, rows), [new Float64Array(rows * 2)], options);
  const compact = new CompactingOracle(rows, 2, make, narrow);
  const r = innerAdam(compact, [new Float64Array(rows * 2)], options);
  compact.dispose();
  x.dispose();
  model.dispose();
  assert.equal(made, 1, 'make builds the first oracle only');
  assert.ok(narrowed.length > 1, `narrowed ${narrowed.length} times`);
  assert.deepEqual(Array.from(r.iterations), Array.from(full.iterations));
  r.actions.forEach((a, i) => assert.ok(Math.abs(a - full.actions[i]) < 1e-9));
});
