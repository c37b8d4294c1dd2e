/**
 * FlatParams (flat JS mirrors of online and target parameters): three steps of Adam + projection + soft update
 * give what the per-tensor path gives (Adam.apply, W ← max(W, 0), softUpdate), and `sync` picks up outside writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../helpers/icnn.js';
import { FlatParams } from '../../../src/rl/agents/flatParams.js';
import { Adam, softUpdate } from '../../../src/rl/agents/nets.js';
import { Rng } from '../../../src/util/random.js';

function variables(rng: Rng, shapes: number[][]): tf.Variable[] {
  // Inside a tidy, so that the initial tensors are freed and each variable owns its data alone (as the agents' do).
  return shapes.map((s) => tf.tidy(() => tf.variable(tf.tensor(rng.fillNormal(s.reduce((a, b) => a * b, 1)), s))));
}

test('FlatParams.step matches Adam.apply, the projection and softUpdate tensor by tensor', () => {
  const shapes = [[3, 4], [4], [4, 2]];
  const convex = [false, false, true];
  const make = () => {
    const rng = new Rng(1);
    const online = variables(rng, shapes);
    const target = variables(rng, shapes);
    return { online, target };
  };
  const a = make();
  const b = make();
  const optA = new Adam(a.online, 0.01, 1e-8);
  const optB = new Adam(b.online, 0.01, 1e-8);
  const flat = new FlatParams(b.online.map((v, i) => ({ online: v, target: b.target[i], convex: convex[i] })), optB);
  const rng = new Rng(2);
  for (let step = 0; step < 3; step++) {
    const grads = shapes.map((s) => tf.tensor(rng.fillNormal(s.reduce((x, y) => x * y, 1)), s));
    optA.apply(grads);
    a.online.forEach((v, i) => { if (convex[i]) v.assign(tf.relu(v)); });
    softUpdate(a.target, a.online, 0.1);
    flat.step(grads, 0.1);
    tf.dispose(grads);
  }
  a.online.forEach((v, i) => {
    const x = v.dataSync();
    const y = b.online[i].dataSync();
    x.forEach((value, k) => assert.ok(Math.abs(value - y[k]) < 1e-6, `online ${i}[${k}]: ${value} vs ${y[k]}`));
    const tx = a.target[i].dataSync();
    const ty = b.target[i].dataSync();
    tx.forEach((value, k) => assert.ok(Math.abs(value - ty[k]) < 1e-6, `target ${i}[${k}]`));
  });
  assert.ok(Array.from(b.online[2].dataSync()).every((w) => w >= 0), 'the convex weights are projected');
  assert.equal(optB.iterations, 3);
  // An outside write (a checkpoint load) followed by sync is what the next step starts from.
  b.online[1].assign(tf.zeros([4]));
  flat.sync();
  assert.deepEqual(Array.from(flat.online.subarray(12, 16)), [0, 0, 0, 0]);
  tf.dispose([...a.online, ...a.target, ...b.online, ...b.target]);
});

test('ICNNAgent with batchNorm: training steps move the u-path statistics, keep W^(z) ≥ 0 and leak no tensors', async () => {
  const { ICNNAgent } = await import('../../../src/rl/agents/index.js');
  const { randomBatch } = await import('./helpers.js');
  const agent = new ICNNAgent(3, 2, { hidden: [8, 8], batchSize: 16, warmup: 0, seed: 3, batchNorm: true, innerAdam: 'authors', targetIterations: 20 });
  try {
    const batch = randomBatch(16, 3, 2, 5);
    const stat = () => Array.from(agent.model.parameters().find((p) => p.name.endsWith('movingMean'))?.variable.dataSync() ?? []);
    const before = stat();
    assert.ok(before.length > 0, 'the PICNN has batch-norm statistics');
    await agent.update(batch);
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await agent.update(batch);
    assert.equal(tf.memory().numTensors, tensors);
    assert.notDeepEqual(stat(), before);
    assert.ok(agent.model.minConvexWeight() >= 0);
  } finally {
    agent.dispose();
  }
});

test('FlatParams.step writes the variables in place on wasm, and by assign where their data is shared or on cpu', async () => {
  const { setBackend } = await import('../../helpers/icnn.js');
  for (const backend of ['wasm', 'cpu'] as const) {
    await setBackend(backend);
    const rng = new Rng(3);
    const online = variables(rng, [[5, 3], [3]]);
    const target = variables(rng, [[5, 3], [3]]);
    const flat = new FlatParams(online.map((v, i) => ({ online: v, target: target[i], convex: i === 0 })), new Adam(online, 0.01, 1e-8));
    // A clone shares the variable's data (refCount 2): it must keep its values through the step.
    const held = tf.clone(online[1]);
    const heldBefore = Array.from(held.dataSync());
    const dataBefore = online[0].dataId;
    const tensors = tf.memory().numTensors;
    const grads = [tf.tensor(rng.fillNormal(15), [5, 3]), tf.tensor(rng.fillNormal(3), [3])];
    flat.step(grads, 0.1);
    tf.dispose(grads);
    assert.equal(tf.memory().numTensors, tensors, `${backend}: tensors created or lost by the step`);
    assert.deepEqual(Array.from(held.dataSync()), heldBefore, `${backend}: a tensor sharing a variable's data changed`);
    let offset = 0;
    online.forEach((v, i) => {
      assert.deepEqual(Array.from(v.dataSync()), Array.from(flat.online.subarray(offset, offset + v.size)), `${backend}: online ${i}`);
      assert.deepEqual(Array.from(target[i].dataSync()), Array.from(flat.target.subarray(offset, offset + v.size)), `${backend}: target ${i}`);
      offset += v.size;
    });
    assert.notDeepEqual(Array.from(online[1].dataSync()), heldBefore, `${backend}: the step did not move the variable`);
    // In place on wasm (same data), by assign on cpu (new data).
    assert.equal(online[0].dataId === dataBefore, backend === 'wasm', `${backend}: in place or not`);
    tf.dispose([held, ...online, ...target]);
  }
  await setBackend('wasm');
});
