/**
 * The native kernel of a PICNN z-path (src/backend/nativeGatedPath.ts, native/src/gated_path.cc) as the inference
 * oracle (src/inference/oracle.ts) uses it: energies and ∇_y f against the float64 plain-JS oracle of the same
 * network (src/rl/agents/layerOracle.ts) on random PICNNs (ReLU and leaky ReLU, with and without (α/2)‖y‖², one to
 * three hidden layers, widths off the micro-kernel tiles, batches of 1 to 96); equal to the bit to the tfjs ops of
 * PICNN.energyAndGradFromContext on the same backend (a piecewise-linear f has kinks, where any other rounding may pick
 * another piece's gradient); the oracle's fallback to tfjs ops where the kernel is off, and no tensor left behind.
 * Skipped, with the reason, when the addon is not active.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PICNN, backendInfo, disableNativeKernels, enableNativeKernels, setBackend, tf } from '../helpers/icnn.js';
import { EnergyOracle } from '../../src/inference/oracle.js';
import { LayerOracle } from '../../src/rl/agents/layerOracle.js';
import { gatedPathKernelActive } from '../../src/backend/nativeGatedPath.js';
import { Rng } from '../../src/util/random.js';
import { relErr } from './reference.js';
import { describeCase, randomPicnn, type GatedPathCase } from './gatedPathCases.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

const CASES: GatedPathCase[] = [
  { hidden: [200, 200], rows: 64, activation: 'leaky-relu', strongConvexity: 0 },
  { hidden: [37, 19], rows: 1, activation: 'leaky-relu', strongConvexity: 0 },
  { hidden: [33], rows: 17, activation: 'relu', strongConvexity: 0.5 },
  { hidden: [50, 23, 31], rows: 96, activation: 'relu', strongConvexity: 0 },
  { hidden: [8, 8], rows: 5, activation: 'leaky-relu', strongConvexity: 2 },
  { hidden: [24, 12], rows: 9, activation: 'leaky-relu', strongConvexity: 0, positivity: 'softplus' },
  { hidden: [24, 12], rows: 9, activation: 'relu', strongConvexity: 0, positivity: 'none' },
];

/** y in [−1, 1] and x with a spread wide enough that gates and activations take both signs. */
function inputs(rng: Rng, rows: number, xDim: number, yDim: number) {
  return { x: tf.tensor2d(rng.fillNormal(rows * xDim), [rows, xDim]), y: Float64Array.from(rng.fillUniform(rows * yDim, -1, 1)) };
}

test('the native z-path equals the float64 oracle of the same PICNN (energies and ∇_y f)', { skip }, async () => {
  await setBackend('wasm');
  const rng = new Rng(11);
  for (const [k, c] of CASES.entries()) {
    if (c.positivity === 'none') continue; // the float64 oracle refuses the nonconvex ablation; see the next test
    const xDim = 3 + k * 5;
    const yDim = 1 + k * 3;
    const model = randomPicnn(c, k, xDim, yDim);
    const { x, y } = inputs(rng, c.rows, xDim, yDim);
    const oracle = new EnergyOracle(model, x, c.rows);
    const reference = new LayerOracle(model, x, c.rows);
    const what = describeCase(c);
    assert.ok(oracle.native, `${what}: the oracle runs the native kernel`);
    const got = oracle.evaluate(y);
    const want = reference.evaluate(y);
    assert.ok(relErr(got.energy, want.energy) < 1e-5, `${what}: energy rel. error ${relErr(got.energy, want.energy)}`);
    assert.ok(relErr(got.grad, want.grad) < 1e-5, `${what}: ∇_y rel. error ${relErr(got.grad, want.grad)}`);
    assert.deepEqual(oracle.energy(y), got.energy, `${what}: energy() equals evaluate()'s energies`);
    oracle.dispose();
    x.dispose();
    model.dispose();
  }
});

test('on the wasm backend with the native kernels, the z-path kernel equals the tfjs ops bit for bit', { skip }, async () => {
  await setBackend('wasm');
  const rng = new Rng(12);
  for (const [k, c] of CASES.entries()) {
    const model = randomPicnn(c, 20 + k, 7, 2 + k);
    const { x, y } = inputs(rng, c.rows, 7, 2 + k);
    const oracle = new EnergyOracle(model, x, c.rows);
    assert.ok(oracle.native);
    const got = oracle.evaluate(y);
    const ctx = model.context(x);
    const yt = tf.tensor2d(Float32Array.from(y), [c.rows, 2 + k]);
    const r = model.energyAndGradFromContext(ctx, yt);
    const want = { energy: Float64Array.from(r.energy.dataSync()), grad: Float64Array.from(r.grad.dataSync()) };
    tf.dispose([...ctx.tensors, yt, r.energy, r.grad]);
    const what = describeCase(c);
    assert.deepEqual(got.energy, want.energy, `${what}: energies`);
    assert.deepEqual(got.grad, want.grad, `${what}: ∇_y f`);
    oracle.dispose();
    x.dispose();
    model.dispose();
  }
});

test('with the kernel off (another backend, or the addon disabled) the oracle runs tfjs ops, with the same values', { skip }, async () => {
  const rng = new Rng(5);
  const c = CASES[0];
  await setBackend('wasm');
  const model = randomPicnn(c, 9, 11, 6);
  const { x, y } = inputs(rng, c.rows, 11, 6);
  const nativeResult = (() => {
    const o = new EnergyOracle(model, x, c.rows);
    assert.ok(o.native);
    try {
      return o.evaluate(y);
    } finally {
      o.dispose();
    }
  })();
  try {
    disableNativeKernels('test');
    assert.equal(gatedPathKernelActive(), false);
    const o = new EnergyOracle(model, x, c.rows);
    assert.equal(o.native, false, 'addon disabled: tfjs ops');
    const r = o.evaluate(y);
    o.dispose();
    assert.ok(relErr(r.energy, nativeResult.energy) < 1e-5 && relErr(r.grad, nativeResult.grad) < 1e-5);
  } finally {
    enableNativeKernels();
  }
  await setBackend('cpu');
  assert.equal(gatedPathKernelActive(), false, 'cpu backend: no native kernel');
  const xs = tf.tensor2d(x.dataSync() as Float32Array, x.shape);
  const o = new EnergyOracle(model, xs, c.rows);
  assert.equal(o.native, false);
  const r = o.evaluate(y);
  o.dispose();
  xs.dispose();
  assert.ok(relErr(r.energy, nativeResult.energy) < 1e-5 && relErr(r.grad, nativeResult.grad) < 1e-5, 'cpu backend');
  await setBackend('wasm');
  tf.dispose(x);
  model.dispose();
});

test('a softplus PICNN (no gated path) keeps tfjs ops; oracles leave no tensor behind', { skip }, async () => {
  await setBackend('wasm');
  const rng = new Rng(2);
  const soft = new PICNN({ xDim: 4, yDim: 3, hidden: [6], activation: 'softplus' });
  const relu = new PICNN({ xDim: 4, yDim: 3, hidden: [6, 5] });
  const { x, y } = inputs(rng, 4, 4, 3);
  const before = tf.memory().numTensors;
  for (const [model, isNative] of [[soft, false], [relu, true]] as const) {
    for (let i = 0; i < 3; i++) {
      const o = new EnergyOracle(model, x, 4);
      assert.equal(o.native, isNative);
      o.evaluate(y);
      o.energy(y);
      o.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before, 'numTensors after three oracles per model');
  tf.dispose(x);
  soft.dispose();
  relu.dispose();
});

test('direct evaluations survive a tidy around the oracle and a growth of the wasm heap between calls', { skip }, async () => {
  await setBackend('wasm');
  const rng = new Rng(31);
  const c = CASES[0];
  const model = randomPicnn(c, 4, 9, 5);
  const { x, y } = inputs(rng, c.rows, 9, 5);
  const before = tf.memory().numTensors;
  let oracle!: EnergyOracle;
  tf.tidy(() => { oracle = new EnergyOracle(model, x, c.rows); }); // its tensors must outlive the tidy
  assert.ok(oracle.native);
  const first = oracle.evaluate(y);
  const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
  const size = heap();
  // Enough new tensors to grow (and so detach) the heap's ArrayBuffer, kept alive across the next evaluation.
  const filler: tf.Tensor[] = [];
  while (heap() === size) filler.push(tf.fill([1 << 22], 1.5));
  const again = oracle.evaluate(y);
  tf.dispose(filler);
  assert.deepEqual(again, first, 'the same energies and gradients after the heap grew');
  assert.deepEqual(oracle.energy(y), first.energy);
  oracle.dispose();
  assert.equal(tf.memory().numTensors, before, 'numTensors after dispose');
  tf.dispose(x);
  model.dispose();
});

test('EnergyOracle.rows: an oracle over some rows, gathered from the native path, equals the full one on them; null without the kernel', { skip }, async () => {
  await setBackend('wasm');
  const rng = new Rng(41);
  for (const [k, c] of CASES.entries()) {
    const xDim = 4 + k;
    const yDim = 2 + k;
    const model = randomPicnn(c, k + 20, xDim, yDim);
    const { x, y } = inputs(rng, c.rows, xDim, yDim);
    const before = tf.memory().numTensors;
    const full = new EnergyOracle(model, x, c.rows);
    const want = full.evaluate(y);
    // Every other row, reversed (positions need not be sorted), and a narrowing of the narrowed one.
    const positions = Int32Array.from({ length: Math.ceil(c.rows / 2) }, (_, i) => c.rows - 1 - 2 * i);
    const part = full.rows(positions) as EnergyOracle;
    const what = describeCase(c);
    assert.ok(part !== null && part.native && part.batch === positions.length, `${what}: a native oracle over ${positions.length} rows`);
    full.dispose(); // the narrowed oracle owns its tensors
    const ySub = new Float64Array(positions.length * yDim);
    positions.forEach((r, i) => ySub.set(y.subarray(r * yDim, (r + 1) * yDim), i * yDim));
    const got = part.evaluate(ySub);
    positions.forEach((r, i) => {
      assert.equal(got.energy[i], want.energy[r], `${what}: energy of row ${r}`);
      assert.deepEqual(Array.from(got.grad.subarray(i * yDim, (i + 1) * yDim)), Array.from(want.grad.subarray(r * yDim, (r + 1) * yDim)), `${what}: ∇_y of row ${r}`);
    });
    const last = part.rows(Int32Array.of(positions.length - 1)) as EnergyOracle;
    assert.equal(last.evaluate(ySub.subarray((positions.length - 1) * yDim)).energy[0], want.energy[positions[positions.length - 1]], `${what}: narrowed twice`);
    part.dispose();
    last.dispose();
    assert.equal(tf.memory().numTensors, before, `${what}: numTensors after dispose`);
    tf.dispose(x);
    model.dispose();
  }
  const c = CASES[0];
  const model = randomPicnn(c, 3, 5, 2);
  const { x } = inputs(rng, 4, 5, 2);
  try {
    disableNativeKernels('test');
    const o = new EnergyOracle(model, x, 4);
    assert.equal(o.rows(Int32Array.of(0, 1)), null, 'addon disabled: no narrowed oracle (the caller builds one from x)');
    o.dispose();
  } finally {
    enableNativeKernels();
  }
  tf.dispose(x);
  model.dispose();
});
