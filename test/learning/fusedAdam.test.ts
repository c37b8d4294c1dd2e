/**
 * fit's default optimizer (src/learning/fusedAdam.ts): the fused native step gives tfjs's AdamOptimizer results to the
 * bit (same float32 operations in the same order), on sizes below, at and above the native kernel's 65,536-value
 * chunk (the threaded path), with gradients by position or by name and a missing gradient; its state round-trips
 * through getWeights/setWeights into tfjs's own Adam and back; without the kernel (cpu, or the addon off) it is tfjs's
 * Adam. Native cases are skipped, with the reason, when the addon is not built.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendInfo, setBackend, tf } from '../helpers/icnn.js';
import { disableNativeKernels, enableNativeKernels } from '../../src/backend/nativeKernels.js';
import { ADAM_STEP_KERNEL } from '../../src/backend/nativeAdam.js';
import { FusedAdamOptimizer, defaultAdam } from '../../src/learning/fusedAdam.js';
import { Rng } from '../../src/util/random.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;
const SHAPES = [[1], [7, 3], [300, 219], [600, 159], [3]]; // 65,700 and 95,400 values cross the chunk size
let run = 0;

type Trace = { values: Float32Array[]; m: Float32Array[]; v: Float32Array[] };

/**
 * `steps` Adam steps from the same start and gradients on the current backend; `byName` passes the gradients as a map
 * instead of a list, with none (null) for variable `skipIndex`.
 */
async function train(make: (lr: number) => tf.Optimizer, steps: number, opts: { byName?: boolean; skipIndex?: number } = {}): Promise<Trace> {
  const rng = new Rng(11);
  const tag = `fa${run++}`;
  const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(rng.fillNormal(s.reduce((a, b) => a * b, 1)), s), true, `${tag}/w${i}`));
  const optimizer = make(0.01);
  for (let t = 0; t < steps; t++) {
    const grads = vars.map((x) => tf.tensor(rng.fillNormal(x.size).map((g) => g * (1 + t)), x.shape));
    const named = vars.map((x, i) => ({ name: x.name, tensor: grads[i] }));
    // A missing gradient, as tfjs's optimizers take it: the name maps to null.
    const map = Object.fromEntries(named.map((g, i) => [g.name, i === opts.skipIndex ? null : g.tensor]));
    optimizer.applyGradients(opts.byName ? map as unknown as tf.NamedTensorMap : named);
    tf.dispose(grads);
  }
  const weights = await optimizer.getWeights();
  const moments = weights.slice(1).map((w) => w.tensor.dataSync() as Float32Array);
  const half = moments.length / 2;
  const trace = { values: vars.map((x) => x.dataSync() as Float32Array), m: moments.slice(0, half), v: moments.slice(half) };
  optimizer.dispose();
  tf.dispose(vars);
  return trace;
}

const tfjsAdam = (lr: number) => tf.train.adam(lr);

function assertSameTrace(actual: Trace, expected: Trace, what: string): void {
  for (const key of ['values', 'm', 'v'] as const) {
    assert.equal(actual[key].length, expected[key].length, `${what}: ${key} count`);
    actual[key].forEach((a, i) => assert.deepEqual(a, expected[key][i], `${what}: ${key}[${i}] differs`));
  }
}

afterEach(async () => {
  if (native.enabled) enableNativeKernels();
  await setBackend('wasm');
});

describe('the fused Adam step', { skip }, () => {
  test('equals tfjs Adam to the bit over 5 steps, on wasm and against the cpu backend', async () => {
    await setBackend('wasm');
    const kernels: string[] = [];
    const info = await tf.profile(async () => { await train(defaultAdam, 1); });
    kernels.push(...info.kernels.map((k) => k.name));
    assert.ok(kernels.includes(ADAM_STEP_KERNEL), `the fused kernel ran (kernels: ${[...new Set(kernels)].join(', ')})`);
    const fused = await train(defaultAdam, 5);
    assertSameTrace(fused, await train(tfjsAdam, 5), 'fused vs tfjs on wasm');
    await setBackend('cpu');
    assertSameTrace(fused, await train(tfjsAdam, 5), 'fused on wasm vs tfjs on cpu');
  });

  test('gradients by name, and a variable without a gradient keeps its value and moments', async () => {
    await setBackend('wasm');
    const fused = await train(defaultAdam, 3, { byName: true, skipIndex: 1 });
    assertSameTrace(fused, await train(tfjsAdam, 3, { byName: true, skipIndex: 1 }), 'by name, one missing');
    assert.ok(fused.m[1].every((x) => x === 0), 'no gradient: the first moment stays 0');
  });

  test('state moves between the fused and tfjs optimizers through getWeights/setWeights', async () => {
    await setBackend('wasm');
    const rng = new Rng(5);
    const steps = (optimizer: tf.Optimizer, x: tf.Variable, n: number, seed: number) => {
      const r = new Rng(seed);
      for (let t = 0; t < n; t++) {
        const g = tf.tensor(r.fillNormal(x.size), x.shape);
        optimizer.applyGradients([{ name: x.name, tensor: g }]);
        g.dispose();
      }
    };
    const start = rng.fillNormal(70_000);
    const a = tf.variable(tf.tensor(start), true, `fa${run++}/a`);
    const b = tf.variable(tf.tensor(start), true, `fa${run++}/b`);
    const fusedA = defaultAdam(0.01);
    steps(fusedA, a, 3, 1);
    const plainB = tf.train.adam(0.01);
    steps(plainB, b, 3, 1);
    // Each variable's state moves to the other kind of optimizer: fused continues b from tfjs's state, tfjs continues a.
    const [wa, wb] = [await fusedA.getWeights(), await plainB.getWeights()];
    const fusedB = defaultAdam(0.01);
    await fusedB.setWeights(wb);
    const plainA = tf.train.adam(0.01);
    await plainA.setWeights(wa);
    steps(plainA, a, 2, 2);
    steps(fusedB, b, 2, 2);
    assert.deepEqual(a.dataSync(), b.dataSync());
    tf.dispose([a, b]);
    [fusedA, plainB, fusedB, plainA].forEach((o) => o.dispose());
  });

  test('no tensor is left behind after the first step', async () => {
    await setBackend('wasm');
    const x = tf.variable(tf.randomNormal([300, 300]), true, `fa${run++}/x`);
    const g = tf.randomNormal([300, 300]);
    const optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999);
    optimizer.applyGradients([{ name: x.name, tensor: g }]);
    const before = tf.memory().numTensors;
    for (let t = 0; t < 20; t++) optimizer.applyGradients([{ name: x.name, tensor: g }]);
    assert.equal(tf.memory().numTensors, before);
    optimizer.dispose();
    tf.dispose([x, g]);
  });
});

describe('without the fused kernel', () => {
  test('the addon off: tfjs Adam, same numbers', { skip }, async () => {
    await setBackend('wasm');
    const fused = await train(defaultAdam, 3);
    disableNativeKernels('test: plain wasm');
    assert.equal(tf.getKernel(ADAM_STEP_KERNEL, 'wasm'), undefined);
    assertSameTrace(await train(defaultAdam, 3), fused, 'addon off vs fused');
  });

  test('on the cpu backend it is tfjs Adam', async () => {
    await setBackend('cpu');
    assertSameTrace(await train(defaultAdam, 3), await train(tfjsAdam, 3), 'cpu');
  });
});
