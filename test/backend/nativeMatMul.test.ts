/**
 * The native BatchMatMul and _FusedMatMul kernels (src/backend/nativeMatMul.ts) against the cpu backend (relative
 * 1e-5, ‖·‖∞): random shapes with every transpose combination, batch broadcasting, 1×n, n×1 and 0-length operands,
 * sizes that are not multiples of the micro-tile (8×32, 6×16) or of the 256-deep k block, fewer than 8 rows, every fused activation,
 * and a call whose output allocation grows (and detaches) the wasm heap. Skipped, with the reason, when the addon is
 * not built or is disabled.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendInfo, setBackend, tf } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';
import { relErr } from './reference.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

interface Operands {
  aShape: number[];
  bShape: number[];
  a: Float32Array;
  b: Float32Array;
}

/** Stored shape of an operand of op-shape [..., r, c] that is passed transposed. */
function stored(shape: number[], transposed: boolean): number[] {
  if (!transposed) return shape;
  const s = shape.slice();
  [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
  return s;
}

function operands(rng: Rng, aOp: number[], bOp: number[], transposeA: boolean, transposeB: boolean): Operands {
  const aShape = stored(aOp, transposeA);
  const bShape = stored(bOp, transposeB);
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  return { aShape, bShape, a: rng.fillNormal(size(aShape)), b: rng.fillNormal(size(bShape)) };
}

async function run(backend: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await setBackend(backend);
  const before = tf.memory().numTensors;
  const t = tf.tidy(fn);
  const out = { shape: t.shape, values: t.dataSync().slice() as Float32Array };
  t.dispose();
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return out;
}

/** Compare wasm (native) with cpu; zero-size and all-zero references are compared exactly. */
async function assertMatchesCpu(label: string, fn: () => tf.Tensor): Promise<void> {
  const cpu = await run('cpu', fn);
  const wasm = await run('wasm', fn);
  assert.deepEqual(wasm.shape, cpu.shape, `${label}: shape`);
  if (cpu.values.every((v) => v === 0)) {
    assert.deepEqual(wasm.values, cpu.values, `${label}: values`);
    return;
  }
  const err = relErr(wasm.values, cpu.values);
  assert.ok(err <= 1e-5, `${label}: relative error ${err.toExponential(2)}`);
}

function matMulOf(o: Operands, transposeA: boolean, transposeB: boolean): () => tf.Tensor {
  return () => tf.matMul(tf.tensor(o.a, o.aShape), tf.tensor(o.b, o.bShape), transposeA, transposeB);
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

/** Op shapes [a, b] (before transposition) on which cpu's batch rule (index modulo batch size) is numpy's. */
const FIXED: [number[], number[]][] = [
  [[1, 7], [7, 5]],
  [[9, 1], [1, 6]],
  [[6, 4], [4, 1]],
  [[1, 300], [300, 1]],
  [[0, 5], [5, 3]],
  [[4, 0], [0, 3]],
  [[4, 5], [5, 0]],
  [[37, 300], [300, 70]],
  [[8, 256], [256, 32]],
  [[129, 513], [513, 65]],
  [[2, 3, 17, 9], [3, 9, 33]],
  [[1, 10, 8], [5, 8, 12]],
  [[5, 10, 8], [1, 8, 12]],
  [[4, 6, 3], [3, 2]],
  [[2, 0, 3], [3, 2]],
  [[1, 200], [200, 200]],
  [[7, 37], [37, 45]],
  [[3, 5, 300], [300, 9]],
  // Edge strips of exactly NR/2 = 16 columns and of 17 (AVX-512: the half-width kernel, then the full one), and the
  // ICNN agent's 256×200·200×200 (an 8-column strip).
  [[16, 48], [48, 48]],
  [[9, 40], [40, 49]],
  [[256, 200], [200, 200]],
];

function randomShapes(rng: Rng): [number[], number[]] {
  const m = 1 + rng.int(150);
  const k = 1 + rng.int(400);
  const n = 1 + rng.int(150);
  const batch = 1 + rng.int(3);
  const layout = rng.int(4);
  if (layout === 0) return [[m, k], [k, n]];
  if (layout === 1) return [[batch, m, k], [batch, k, n]];
  if (layout === 2) return [[batch, m, k], [k, n]];
  return [[1, m, k], [batch, k, n]];
}

describe('native BatchMatMul equals the cpu backend', { skip }, () => {
  after(async () => {
    await setBackend('wasm');
  });

  for (const [aOp, bOp] of FIXED) {
    for (const [ta, tb] of TRANSPOSES) {
      test(`[${aOp}]·[${bOp}], transposeA=${ta}, transposeB=${tb}`, async () => {
        await assertMatchesCpu('matMul', matMulOf(operands(new Rng(aOp.length + aOp[0]), aOp, bOp, ta, tb), ta, tb));
      });
    }
  }

  test('40 random shapes and transposes', async () => {
    const rng = new Rng(16);
    for (let i = 0; i < 40; i++) {
      const [aOp, bOp] = randomShapes(rng);
      const [ta, tb] = TRANSPOSES[rng.int(4)];
      await assertMatchesCpu(`[${aOp}]·[${bOp}] ${ta} ${tb}`, matMulOf(operands(rng, aOp, bOp, ta, tb), ta, tb));
    }
  });

  test('batch dims broadcast both ways ([4,1]·[1,3] batches) equal the explicitly tiled product', async () => {
    // cpu's BatchMatMul indexes batches modulo their count, which is not numpy broadcasting here: tile on cpu instead.
    const o = operands(new Rng(5), [4, 1, 5, 6], [1, 3, 6, 2], false, false);
    const cpu = await run('cpu', () => tf.matMul(tf.tile(tf.tensor(o.a, o.aShape), [1, 3, 1, 1]),
      tf.tile(tf.tensor(o.b, o.bShape), [4, 1, 1, 1])));
    const wasm = await run('wasm', matMulOf(o, false, false));
    assert.deepEqual(wasm.shape, [4, 3, 5, 2]);
    assert.ok(relErr(wasm.values, cpu.values) <= 1e-5, `relative error ${relErr(wasm.values, cpu.values)}`);
  });

  test('an output that grows the wasm heap is written to the new heap', async () => {
    await setBackend('wasm');
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
    const before = heap();
    // An output larger than the whole current heap cannot fit without growing it.
    const side = Math.ceil(Math.sqrt(before.byteLength / 4)) + 64;
    const rng = new Rng(7);
    const a = rng.fillNormal(side * 3);
    const b = rng.fillNormal(3 * side);
    const out = tf.tidy(() => tf.matMul(tf.tensor2d(a, [side, 3]), tf.tensor2d(b, [3, side])));
    assert.notEqual(heap(), before, 'the heap did not grow (test precondition)');
    const values = out.dataSync();
    out.dispose();
    for (const [i, j] of [[0, 0], [side - 1, side - 1], [17, side - 5], [side - 3, 2]]) {
      const expected = a[3 * i] * b[j] + a[3 * i + 1] * b[side + j] + a[3 * i + 2] * b[2 * side + j];
      assert.ok(Math.abs(values[i * side + j] - expected) <= 1e-5 * (1 + Math.abs(expected)), `C[${i},${j}]`);
    }
  });
});

describe('native _FusedMatMul equals the cpu backend', { skip }, () => {
  after(async () => {
    await setBackend('wasm');
  });
  const activations = ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu', 'prelu'] as const;
  for (const activation of activations) {
    for (const [ta, tb] of TRANSPOSES) {
      test(`${activation}, transposeA=${ta}, transposeB=${tb}, with and without bias`, async () => {
        const rng = new Rng(activation.length);
        const o = operands(rng, [3, 19, 70], [70, 45], ta, tb);
        const bias = rng.fillNormal(45);
        const alpha = rng.fillUniform(45, 0, 0.5);
        for (const withBias of [true, false]) {
          await assertMatchesCpu(`${activation} bias=${withBias}`, () => tf.fused.matMul({
            a: tf.tensor<tf.Rank>(o.a, o.aShape) as tf.Tensor3D, b: tf.tensor<tf.Rank>(o.b, o.bShape) as tf.Tensor2D, transposeA: ta, transposeB: tb,
            bias: withBias ? tf.tensor1d(bias) : undefined, activation,
            preluActivationWeights: activation === 'prelu' ? tf.tensor1d(alpha) : undefined, leakyreluAlpha: 0.15,
          }));
        }
      });
    }
  }

  /** Fused products of [aOp]·[k, n] for every transpose combination, with a bias and `activation`. */
  async function fusedCases(rng: Rng, cases: [number[], number][], activation: 'leakyrelu' | 'elu'): Promise<void> {
    for (const [aOp, n] of cases) {
      for (const [ta, tb] of TRANSPOSES) {
        const k = aOp[aOp.length - 1];
        const o = operands(rng, aOp, [k, n], ta, tb);
        const bias = rng.fillNormal(n);
        await assertMatchesCpu(`[${aOp}]·[${k},${n}] ${ta} ${tb}`, () => tf.fused.matMul({
          a: tf.tensor<tf.Rank>(o.a, o.aShape) as tf.Tensor3D, b: tf.tensor<tf.Rank>(o.b, o.bShape) as tf.Tensor2D, transposeA: ta,
          transposeB: tb, bias: tf.tensor1d(bias), activation, leakyreluAlpha: 0.15,
        }));
      }
    }
  }

  test('narrow outputs (fewer than 8 columns: dot products) with bias and activation, threaded over rows', async () => {
    // [2, 1500, 300]·[300, n] is above the threading threshold (2 MFLOP), [3, 19, 70]·[70, n] below it.
    await fusedCases(new Rng(21), [[[2, 1500, 300], 5], [[3, 19, 70], 1], [[3, 19, 70], 7]], 'leakyrelu');
  });

  test('short products (fewer than 8 rows: plain loops) with bias and activation', async () => {
    await fusedCases(new Rng(22), [[[1, 200], 200], [[2, 7, 33], 40], [[3, 1, 5], 3]], 'elu');
  });

  test('a row of the product does not depend on the other rows of the call (bitwise), short or packed', async () => {
    await setBackend('wasm');
    const rng = new Rng(23);
    for (const [k, n] of [[300, 40], [200, 200], [37, 9]]) {
      for (const tb of [false, true]) {
        const a = rng.fillNormal(12 * k);
        const b = rng.fillNormal(k * n);
        const bShape: [number, number] = tb ? [n, k] : [k, n];
        const product = (rows: number) => tf.tidy(() =>
          tf.matMul(tf.tensor2d(a.subarray(0, rows * k), [rows, k]), tf.tensor2d(b, bShape), false, tb).dataSync().slice());
        const all = product(12);
        for (const rows of [1, 3, 7, 8]) {
          assert.deepEqual(Array.from(product(rows)), Array.from(all.subarray(0, rows * n)), `k ${k}, n ${n}, transposeB ${tb}, ${rows} rows`);
        }
      }
    }
  });

  test('gradients through a fused relu matMul with bias', async () => {
    const rng = new Rng(3);
    const o = operands(rng, [33, 40], [40, 17], false, false);
    const bias = rng.fillNormal(17);
    for (const wrt of [0, 1, 2]) {
      await assertMatchesCpu(`gradient wrt input ${wrt}`, () => {
        const inputs = [tf.tensor2d(o.a, [33, 40]), tf.tensor2d(o.b, [40, 17]), tf.tensor1d(bias)];
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.square(tf.fused.matMul({
          a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation: 'relu',
        })));
        return tf.grads(f)(inputs)[wrt];
      });
    }
  });
});

describe('native GEMM and subnormal numbers', { skip }, () => {
  test('products treat subnormal float32 as zero inside the addon, and leave the caller\'s floating-point mode alone', async () => {
    await setBackend('wasm');
    // 1e-39 is subnormal in float32: the addon runs with flush-to-zero / denormals-are-zero (gemm.cc, SubnormalsOff).
    const a = new Float32Array(64 * 40).fill(1e-39);
    a[0] = 1;
    const b = new Float32Array(40 * 8).fill(1e3);
    const c = tf.tidy(() => tf.matMul(tf.tensor2d(a, [64, 40]), tf.tensor2d(b, [40, 8])).dataSync());
    assert.equal(c[8], 0, 'a row of subnormal inputs (1e-39·1e3·40 = 4e-35 in exact arithmetic) counts as zero');
    assert.ok(Math.abs(c[0] - (1e3 + 39 * 0)) <= 1e-3, `row 0: ${c[0]}`);
    // The main thread's mode is restored: JavaScript (doubles) and float32 arrays still see subnormals.
    const tiny = Number(process.env.ICNN_TEST_TINY ?? '1e-310');
    assert.ok(tiny / 3 > 0, 'double subnormal arithmetic after a native product');
    const f = new Float32Array([1e-39]);
    f[0] = f[0] * 0.5;
    assert.ok(f[0] > 0, 'float32 subnormal after a native product');
  });
});

describe('native kernels', () => {
  before(async () => {
    await setBackend('wasm');
  });
  test('status names the instruction set and threads when enabled, and the reason when not', () => {
    const info = backendInfo().native;
    if (info.enabled) {
      assert.match(info.isa ?? '', /^(avx512|avx2\+fma|generic)$/);
      assert.ok(info.threads >= 1);
      assert.deepEqual(info.kernels, ['BatchMatMul', '_FusedMatMul', 'Conv2D', 'Conv2DBackpropInput', 'Identity', 'Sum', 'Mean', 'Conv2DBackpropFilter', 'IcnnAdamStep', 'IcnnGatedPath', 'IcnnGatedPathVjp']);
    } else {
      assert.ok((info.reason ?? '').length > 0);
    }
  });
});
