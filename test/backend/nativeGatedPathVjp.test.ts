/**
 * The reverse pass of the native PICNN z-path (`IcnnGatedPathVjp`, native/src/gated_path.cc) that PICNN.networkEnergy
 * uses under a tape (src/backend/nativeGatedPath.ts, `gatedPathEnergy`): ∇_θ and ∇_y of a loss of f equal those of the
 * tfjs ops (the addon off, and the cpu backend) on random PICNNs, agree with finite differences, serve only where one
 * tape records (second-order gradients take the tfjs ops and still work), leave no tensor behind, and handle a batch of
 * no rows. Skipped, with the reason, when the addon is not active.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type PICNN, backendInfo, disableNativeKernels, enableNativeKernels, setBackend, tf } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';
import { relErr } from './reference.js';
import { describeCase, randomPicnn, type GatedPathCase } from './gatedPathCases.js';
import { gatedPathEnergy } from '../../src/backend/nativeGatedPath.js';
import type { GatedPath } from '../../src/models/gatedPath.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

const CASES: GatedPathCase[] = [
  { hidden: [40, 30], rows: 64, activation: 'leaky-relu', strongConvexity: 0, batchNorm: false },
  { hidden: [37, 19], rows: 1, activation: 'leaky-relu', strongConvexity: 0, batchNorm: false },
  { hidden: [33], rows: 17, activation: 'relu', strongConvexity: 0.5, batchNorm: false },
  { hidden: [50, 23, 31], rows: 45, activation: 'relu', strongConvexity: 0, batchNorm: true },
  { hidden: [24, 12], rows: 9, activation: 'leaky-relu', strongConvexity: 2, batchNorm: true, positivity: 'softplus' },
  { hidden: [24, 12], rows: 9, activation: 'relu', strongConvexity: 0, batchNorm: false, positivity: 'none' },
];

interface Inputs { x: Float32Array; y: Float32Array; weights: Float32Array; rows: number; xDim: number; yDim: number }

function randomInputs(rng: Rng, rows: number, xDim: number, yDim: number): Inputs {
  return {
    x: Float32Array.from(rng.fillNormal(rows * xDim)), y: Float32Array.from(rng.fillUniform(rows * yDim, -1, 1)),
    weights: Float32Array.from(rng.fillUniform(rows, -1, 1)), rows, xDim, yDim,
  };
}

/** L = Σ_r w_r f(x_r, y_r) (training mode) and its gradients in θ and y, by name ('y' for y), plus the kernels run. */
async function lossAndGrads(model: PICNN, inp: Inputs): Promise<{ loss: number; grads: Map<string, Float64Array>; kernels: string[] }> {
  const x = tf.tensor2d(inp.x, [inp.rows, inp.xDim]);
  const y = tf.variable(tf.tensor2d(inp.y, [inp.rows, inp.yDim]), true, `y${Math.random()}`) as tf.Variable<tf.Rank.R2>;
  const w = tf.tensor1d(inp.weights);
  const names = new Map<string, string>(model.parameters().filter((p) => p.role !== 'state').map((p) => [p.variable.name, p.name]));
  const vars = [...model.trainableVariables, y];
  let out!: { loss: number; grads: Map<string, Float64Array> };
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.energyFromContext(model.context(x, { training: true }), y), w)) as tf.Scalar, vars);
    out = {
      loss: value.dataSync()[0],
      grads: new Map(Object.entries(grads).map(([k, g]) => [k === y.name ? 'y' : (names.get(k) ?? k), Float64Array.from(g.dataSync())])),
    };
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([x, y, w]);
  return { ...out, kernels: profile.kernels.map((k) => k.name) };
}

function assertSameGrads(got: Map<string, Float64Array>, want: Map<string, Float64Array>, what: string): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: the same parameters have gradients`);
  for (const [name, g] of want) {
    if (g.every((e) => e === 0)) { // e.g. W^(u) in a second-order gradient: ∇_y f does not depend on it
      assert.ok(got.get(name)!.every((e) => Math.abs(e) < 1e-12), `${what}: ∂L/∂${name} is zero`);
      continue;
    }
    const e = relErr(got.get(name)!, g);
    assert.ok(e < 1e-5, `${what}: ∂L/∂${name} rel. error ${e}`);
  }
}

test('∇θ and ∇y through the native z-path equal the tfjs ops (addon off, and the cpu backend)', { skip }, async () => {
  const rng = new Rng(21);
  for (const [k, c] of CASES.entries()) {
    await setBackend('wasm');
    const model = randomPicnn(c, 40 + k, 5 + k, 2 + 2 * k);
    const inp = randomInputs(rng, c.rows, 5 + k, 2 + 2 * k);
    const what = describeCase(c);
    const fused = await lossAndGrads(model, inp);
    assert.ok(fused.kernels.includes('IcnnGatedPathVjp'), `${what}: the reverse pass ran natively`);
    let off!: Awaited<ReturnType<typeof lossAndGrads>>;
    try {
      disableNativeKernels('test');
      off = await lossAndGrads(model, inp);
    } finally {
      enableNativeKernels();
    }
    assert.ok(!off.kernels.includes('IcnnGatedPathVjp'), `${what}: addon off, tfjs ops`);
    assert.ok(Math.abs(fused.loss - off.loss) <= 1e-5 * Math.max(1, Math.abs(off.loss)), `${what}: loss ${fused.loss} vs ${off.loss}`);
    assertSameGrads(fused.grads, off.grads, `${what}, against the addon off`);
    await setBackend('cpu');
    const cpu = await lossAndGrads(model, inp);
    assertSameGrads(fused.grads, cpu.grads, `${what}, against the cpu backend`);
    await setBackend('wasm');
    model.dispose();
  }
});

test('∇θ through the native z-path agrees with central differences along random directions', { skip }, async () => {
  await setBackend('wasm');
  const rng = new Rng(22);
  const c: GatedPathCase = { hidden: [16, 12], rows: 8, activation: 'leaky-relu', strongConvexity: 0, batchNorm: false };
  const model = randomPicnn(c, 3, 6, 4);
  const inp = randomInputs(rng, c.rows, 6, 4);
  const { grads } = await lossAndGrads(model, inp);
  const params = model.parameters().filter((p) => p.role !== 'state' && grads.has(p.name));
  const x = tf.tensor2d(inp.x, [inp.rows, inp.xDim]);
  const y = tf.tensor2d(inp.y, [inp.rows, inp.yDim]);
  const w = Float64Array.from(inp.weights);
  const loss = () => {
    const f = tf.tidy(() => model.energyFromContext(model.context(x, { training: true }), y));
    const v = Float64Array.from(f.dataSync());
    f.dispose();
    return v.reduce((s, fr, r) => s + w[r] * fr, 0);
  };
  const h = 1e-3;
  for (let trial = 0; trial < 4; trial++) {
    const directions = params.map((p) => Float32Array.from(rng.fillNormal(p.variable.size)));
    const originals = params.map((p) => p.variable.dataSync().slice() as Float32Array);
    const shift = (t: number) => params.forEach((p, i) => p.variable.assign(tf.tensor(originals[i].map((v0, j) => v0 + t * directions[i][j]), p.variable.shape)));
    shift(h);
    const up = loss();
    shift(-h);
    const down = loss();
    shift(0);
    const numeric = (up - down) / (2 * h);
    const analytic = params.reduce((s, p, i) => s + grads.get(p.name)!.reduce((a, g, j) => a + g * directions[i][j], 0), 0);
    assert.ok(Math.abs(numeric - analytic) <= 2e-2 * Math.max(1, Math.abs(analytic)),
      `direction ${trial}: central difference ${numeric}, ∇θL·v ${analytic}`);
  }
  tf.dispose([x, y]);
  model.dispose();
});

test('second-order gradients (a tape inside a tape) take the tfjs ops and equal those with the addon off', { skip }, async () => {
  await setBackend('wasm');
  const rng = new Rng(23);
  const model = randomPicnn(CASES[0], 5, 7, 4);
  const inp = randomInputs(rng, 16, 7, 4);
  const v = tf.tensor2d(Float32Array.from(rng.fillNormal(16 * 4)), [16, 4]);
  const secondOrder = async () => {
    const x = tf.tensor2d(inp.x, [16, 7]);
    const y = tf.tensor2d(inp.y, [16, 4]);
    let out!: Map<string, Float64Array>;
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => {
        const ctx = model.context(x);
        const gy = tf.grad((yy: tf.Tensor) => tf.sum(model.energyFromContext(ctx, yy as tf.Tensor2D)))(y);
        return tf.sum(tf.mul(gy, v)) as tf.Scalar;
      }, model.trainableVariables);
      out = new Map(Object.entries(grads).map(([k, g]) => [k, Float64Array.from(g.dataSync())]));
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([x, y]);
    return { grads: out, kernels: profile.kernels.map((k) => k.name) };
  };
  const nested = await secondOrder();
  assert.ok(!nested.kernels.includes('IcnnGatedPathVjp'), 'no native reverse pass inside a nested tape');
  let off!: Map<string, Float64Array>;
  try {
    disableNativeKernels('test');
    off = (await secondOrder()).grads;
  } finally {
    enableNativeKernels();
  }
  assertSameGrads(nested.grads, off, 'second order');
  v.dispose();
  model.dispose();
});

test('training steps through the native z-path leave no tensor behind; a batch of no rows has zero weight gradients', { skip }, async () => {
  await setBackend('wasm');
  const rng = new Rng(24);
  const model = randomPicnn(CASES[3], 6, 5, 3);
  const inp = randomInputs(rng, 12, 5, 3);
  const x = tf.tensor2d(inp.x, [12, 5]);
  const y = tf.tensor2d(inp.y, [12, 3]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(model.energyFromContext(model.context(x, { training: true }), y)) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 50; i++) step();
  assert.equal(tf.memory().numTensors, before, 'numTensors after 50 steps');
  tf.dispose([x, y]);

  // No rows (the models refuse an empty batch, so the path is built by hand): zero weight gradients, empty others.
  const [d, m] = [3, 4];
  const passthrough = [tf.variable(tf.randomNormal([d, m]) as tf.Tensor2D, true, 'vjpWy0'), tf.variable(tf.randomNormal([d, 1]) as tf.Tensor2D, true, 'vjpWy1')];
  const convex = tf.variable(tf.abs(tf.randomNormal([m, 1])) as tf.Tensor2D, true, 'vjpWz1');
  const none = (cols: number) => tf.zeros([0, cols]) as tf.Tensor2D;
  const path: GatedPath = {
    layers: [
      { yGate: none(d), passthrough: passthrough[0], uTerm: none(m), zGate: null, convex: null },
      { yGate: none(d), passthrough: passthrough[1], uTerm: none(1), zGate: none(m), convex },
    ],
    negativeSlope: 0.1, strongConvexity: 0,
  };
  const { value, grads } = tf.variableGrads(() => tf.sum(gatedPathEnergy(path, none(d))) as tf.Scalar, [...passthrough, convex]);
  assert.equal(value.dataSync()[0], 0);
  assert.equal(Object.keys(grads).length, 3);
  for (const [name, g] of Object.entries(grads)) {
    assert.ok(g.dataSync().every((e) => e === 0), `∂L/∂${name} is zero for no rows`);
  }
  tf.dispose([value, ...Object.values(grads), ...passthrough, convex, ...path.layers.flatMap((l) => [l.yGate, l.uTerm, ...(l.zGate ? [l.zGate] : [])])]);
  model.dispose();
});
