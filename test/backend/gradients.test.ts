/**
 * The BatchMatMul and Conv2D gradient overrides of src/backend/gradients.ts, checked on wasm and cpu against
 * float64 plain-JS references (./reference.ts). The overrides are registered globally, so cpu runs them too:
 * comparing wasm with cpu alone would prove nothing, and every check here has an independent reference.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setBackend, registerGradientOverrides, disableNativeKernels, enableNativeKernels, nativeStatus } from '../../src/backend/index.js';
import {
  centralDiff, conv2dGradRef, conv2dRef, dot, matMulGradRef, matMulRef, maxAbs, randomArray, range, relErr, rng, size,
  type ConvSpec, type MatMulSpec, type Pad,
} from './reference.js';

const RTOL = 1e-4;
const BACKENDS = ['wasm', 'cpu'] as const;
type Backend = (typeof BACKENDS)[number];

function t32(values: Float64Array, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from(values), shape, 'float32');
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = RTOL): void {
  let e: number;
  try {
    e = relErr(actual, expected);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  assert.ok(e <= rtol, `${what}: relative error ${e.toExponential(2)} > ${rtol} (reference max |.| ${maxAbs(expected).toExponential(2)})`);
}

/** Record every kernel dispatched while `fn` runs (name and attributes); the tensors `fn` makes are disposed. */
function recordKernels(fn: () => void): { name: string; attrs: Record<string, unknown> }[] {
  const engine = tf.engine() as unknown as { runKernel: (name: string, inputs: unknown, attrs?: Record<string, unknown>) => unknown };
  const original = engine.runKernel;
  const seen: { name: string; attrs: Record<string, unknown> }[] = [];
  engine.runKernel = function (this: unknown, name: string, inputs: unknown, attrs?: Record<string, unknown>) {
    seen.push({ name, attrs: attrs ?? {} });
    return original.call(this, name, inputs, attrs);
  };
  try {
    tf.tidy(() => {
      fn();
    });
  } finally {
    engine.runKernel = original;
  }
  return seen;
}

// ---------------------------------------------------------------------------------------------------------------

describe('float64 references (sanity of the oracle itself)', () => {
  test('matMulGradRef equals central finite differences of matMulRef, all transpose flags, batched', () => {
    const rand = rng(1);
    for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false], [true, true]]) {
      const spec: MatMulSpec = { aShape: [2, transposeA ? 4 : 3, transposeA ? 3 : 4], bShape: [2, transposeB ? 5 : 4, transposeB ? 4 : 5], transposeA, transposeB };
      const a = randomArray(size(spec.aShape), rand);
      const b = randomArray(size(spec.bShape), rand);
      const dc = randomArray(2 * 3 * 5, rand);
      const { ga, gb } = matMulGradRef(a, b, dc, spec);
      const fdA = centralDiff((p) => dot(matMulRef(p, b, spec).c, dc), a, range(a.length), 1e-3);
      const fdB = centralDiff((p) => dot(matMulRef(a, p, spec).c, dc), b, range(b.length), 1e-3);
      assert.ok(relErr(ga, fdA) < 1e-9, `ga tA=${transposeA} tB=${transposeB}`);
      assert.ok(relErr(gb, fdB) < 1e-9, `gb tA=${transposeA} tB=${transposeB}`);
    }
  });

  test('conv2dGradRef equals central finite differences of conv2dRef (strided, same, dilated, explicit pad)', () => {
    const rand = rng(2);
    const specs: ConvSpec[] = [
      { xShape: [2, 7, 6, 2], fShape: [3, 3, 2, 3], strides: [2, 2], pad: 'valid', dilations: [1, 1] },
      { xShape: [1, 6, 5, 2], fShape: [4, 3, 2, 2], strides: [2, 1], pad: 'same', dilations: [1, 1] },
      { xShape: [1, 8, 7, 1], fShape: [3, 2, 1, 2], strides: [1, 1], pad: 'same', dilations: [2, 3] },
      { xShape: [1, 6, 6, 2], fShape: [3, 3, 2, 2], strides: [2, 2], pad: [[0, 0], [1, 2], [0, 3], [0, 0]], dilations: [1, 1] },
    ];
    for (const spec of specs) {
      const x = randomArray(size(spec.xShape), rand);
      const f = randomArray(size(spec.fShape), rand);
      const { y } = conv2dRef(x, f, spec);
      const dy = randomArray(y.length, rand);
      const { gx, gf } = conv2dGradRef(x, f, dy, spec);
      const fdX = centralDiff((p) => dot(conv2dRef(p, f, spec).y, dy), x, range(x.length), 1e-3);
      const fdF = centralDiff((p) => dot(conv2dRef(x, p, spec).y, dy), f, range(f.length), 1e-3);
      assert.ok(relErr(gx, fdX) < 1e-9, `gx ${JSON.stringify(spec)}`);
      assert.ok(relErr(gf, fdF) < 1e-9, `gf ${JSON.stringify(spec)}`);
    }
  });

  test('conv2dRef padding rule: "same" puts the odd extra row/column at the bottom/right', () => {
    // 1x4 input, 1x2 all-ones filter, stride 1, same: total pad 1 -> left 0, right 1, so y = [x0+x1, x1+x2, x2+x3, x3].
    const spec: ConvSpec = { xShape: [1, 1, 4, 1], fShape: [1, 2, 1, 1], strides: [1, 1], pad: 'same', dilations: [1, 1] };
    const { y } = conv2dRef(Float64Array.from([1, 2, 4, 8]), Float64Array.from([1, 1]), spec);
    assert.deepEqual(Array.from(y), [3, 6, 12, 8]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 1. BatchMatMul

const FLAGS = [[false, false], [false, true], [true, false], [true, true]] as const;

function matMulSpec(batchA: number[], batchB: number[], m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): MatMulSpec {
  return {
    aShape: [...batchA, ...(transposeA ? [k, m] : [m, k])],
    bShape: [...batchB, ...(transposeB ? [n, k] : [k, n])],
    transposeA,
    transposeB,
  };
}

async function checkMatMulFirstOrder(backend: Backend, spec: MatMulSpec, seed: number): Promise<void> {
  await setBackend(backend);
  const rand = rng(seed);
  const a = randomArray(size(spec.aShape), rand);
  const b = randomArray(size(spec.bShape), rand);
  const ref = matMulRef(a, b, spec);
  const dc = randomArray(ref.c.length, rand);
  const { ga, gb } = matMulGradRef(a, b, dc, spec);
  const [cT, gaT, gbT] = tf.tidy(() => {
    const A = t32(a, spec.aShape);
    const B = t32(b, spec.bShape);
    const DC = t32(dc, ref.shape);
    const C = tf.matMul(A, B, spec.transposeA, spec.transposeB);
    const [gA, gB] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, spec.transposeA, spec.transposeB), DC)))([A, B]);
    return [C, gA, gB];
  });
  const what = `${backend} a${JSON.stringify(spec.aShape)} b${JSON.stringify(spec.bShape)} tA=${spec.transposeA} tB=${spec.transposeB}`;
  assert.deepEqual(cT.shape, ref.shape, `${what}: forward shape`);
  assert.deepEqual(gaT.shape, spec.aShape, `${what}: ∇a shape`);
  assert.deepEqual(gbT.shape, spec.bShape, `${what}: ∇b shape`);
  assertClose(await cT.data(), ref.c, `${what}: forward`);
  assertClose(await gaT.data(), ga, `${what}: ∇a`);
  assertClose(await gbT.data(), gb, `${what}: ∇b`);
  tf.dispose([cT, gaT, gbT]);
}

describe('BatchMatMul gradient override', () => {
  for (const backend of BACKENDS) {
    for (const [tA, tB] of FLAGS) {
      test(`${backend}: rank 2, transposeA=${tA} transposeB=${tB}`, async () => {
        await checkMatMulFirstOrder(backend, matMulSpec([], [], 7, 5, 4, tA, tB), 10);
        await checkMatMulFirstOrder(backend, matMulSpec([], [], 33, 70, 17, tA, tB), 11);
      });
      test(`${backend}: batched rank 3, transposeA=${tA} transposeB=${tB}`, async () => {
        await checkMatMulFirstOrder(backend, matMulSpec([3], [3], 6, 5, 4, tA, tB), 12);
      });
      test(`${backend}: broadcast batch dims, transposeA=${tA} transposeB=${tB}`, async () => {
        await checkMatMulFirstOrder(backend, matMulSpec([2, 3], [3], 4, 5, 3, tA, tB), 13);
        await checkMatMulFirstOrder(backend, matMulSpec([1], [3], 4, 5, 3, tA, tB), 14);
        await checkMatMulFirstOrder(backend, matMulSpec([], [3], 4, 5, 3, tA, tB), 15);
        // Not tested: broadcasting on both sides ([2,1] with [1,3]); tfjs 4.22's forward BatchMatMul computes only
        // max(batchA, batchB) products there and returns a [2,3,m,n] tensor holding 3·m·n values, on cpu and wasm.
        await checkMatMulFirstOrder(backend, matMulSpec([3, 2], [2], 2, 3, 4, tA, tB), 16);
      });
    }
  }

  test('the gradient dispatches untransposed BatchMatMul kernels on plain wasm (XNNPACK), flags without Transpose kernels with the native ones', async () => {
    await setBackend('wasm');
    const nativeAvailable = nativeStatus().enabled;
    for (const useNative of nativeAvailable ? [false, true] : [false]) {
      if (!useNative) disableNativeKernels('test: plain wasm');
      try {
        for (const [tA, tB] of FLAGS) {
          for (const batch of [[], [2]]) {
            const spec = matMulSpec(batch, batch, 4, 3, 5, tA, tB);
            const kernels = recordKernels(() => {
              const A = tf.ones(spec.aShape);
              const B = tf.ones(spec.bShape);
              tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, tA, tB)))([A, B]);
            });
            const mm = kernels.filter((k) => k.name === 'BatchMatMul');
            // one forward + two backward multiplications
            assert.equal(mm.length, 3, `tA=${tA} tB=${tB} batch=${JSON.stringify(batch)}: ${mm.length} BatchMatMul kernels`);
            // the recorder sees the attributes: the forward multiplication carries the flags it was called with
            assert.equal(mm[0].attrs.transposeA, tA);
            assert.equal(mm[0].attrs.transposeB, tB);
            if (useNative) {
              assert.ok(!kernels.some((k) => k.name === 'Transpose'), `tA=${tA} tB=${tB}: Transpose kernels with the native path`);
              continue;
            }
            for (const k of mm.slice(1)) {
              assert.equal(k.attrs.transposeA, false, `tA=${tA} tB=${tB}: backward matmul with transposeA`);
              assert.equal(k.attrs.transposeB, false, `tA=${tA} tB=${tB}: backward matmul with transposeB`);
            }
          }
        }
      } finally {
        if (!useNative && nativeAvailable) enableNativeKernels();
      }
    }
  });

  for (const backend of BACKENDS) {
    test(`${backend}: second order ∇_b<∇_a L, V> and ∇_a<∇_a L, V> for L = ½ΣW⊙(op(A)op(B))², all flags, rank 2 and 3`, async () => {
      await setBackend(backend);
      for (const [tA, tB] of FLAGS) {
        for (const batch of [[], [2]]) {
          const spec = matMulSpec(batch, batch, 4, 5, 3, tA, tB);
          const rand = rng(20);
          const a = randomArray(size(spec.aShape), rand);
          const b = randomArray(size(spec.bShape), rand);
          const outShape = matMulRef(a, b, spec).shape;
          const w = randomArray(size(outShape), rand);
          const v = randomArray(a.length, rand);
          // float64 reference: φ(a, b) = <∇_a L(a, b), v>, with ∇_a L = reverse mode of the loops at dC = W⊙C.
          const phi = (pa: Float64Array, pb: Float64Array): number => {
            const { c } = matMulRef(pa, pb, spec);
            const dc = c.map((ci, i) => ci * w[i]);
            return dot(matMulGradRef(pa, pb, dc, spec).ga, v);
          };
          const fdA = centralDiff((p) => phi(p, b), a, range(a.length), 1e-3);
          const fdB = centralDiff((p) => phi(a, p), b, range(b.length), 1e-3);
          const [gA, gB] = tf.tidy(() => {
            const A = t32(a, spec.aShape);
            const B = t32(b, spec.bShape);
            const W = t32(w, outShape);
            const V = t32(v, spec.aShape);
            const L = (x: tf.Tensor, y: tf.Tensor) => tf.mul(0.5, tf.sum(tf.mul(W, tf.square(tf.matMul(x, y, tA, tB)))));
            const phiT = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.grad((xx: tf.Tensor) => L(xx, y))(x), V));
            return tf.grads(phiT)([A, B]);
          });
          const what = `${backend} tA=${tA} tB=${tB} batch=${JSON.stringify(batch)}`;
          assertClose(await gA.data(), fdA, `${what}: ∇_a φ`);
          assertClose(await gB.data(), fdB, `${what}: ∇_b φ`);
          tf.dispose([gA, gB]);
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// 2. Conv2D, first order

interface ConvCase {
  label: string;
  spec: ConvSpec;
  /** Batch size used on the (slow) cpu backend; the full xShape[0] is used on wasm. */
  cpuBatch: number;
}

function conv(label: string, xShape: ConvSpec['xShape'], fShape: ConvSpec['fShape'], strides: number | [number, number], pad: Pad,
  dilations: number | [number, number] = 1, cpuBatch = 2): ConvCase {
  const s: [number, number] = typeof strides === 'number' ? [strides, strides] : strides;
  const d: [number, number] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  return { label, spec: { xShape, fShape, strides: s, pad, dilations: d }, cpuBatch };
}

const CONV_CASES: ConvCase[] = [
  // appendix B of dependencies.md
  conv('appB 1: x[8,64,32,1] 8x8x1x32 s4 valid', [8, 64, 32, 1], [8, 8, 1, 32], 4, 'valid'),
  conv('appB 2: x[8,15,7,32] 4x4x32x64 s2 valid', [8, 15, 7, 32], [4, 4, 32, 64], 2, 'valid'),
  conv('appB 3: x[8,6,2,64] 3x3x64x64 s1 same', [8, 6, 2, 64], [3, 3, 64, 64], 1, 'same'),
  conv('appB 4: x[4,9,9,3] 3x3x3x5 s2 same', [4, 9, 9, 3], [3, 3, 3, 5], 2, 'same', 1, 2),
  // the 'same'-padded DQN layers used by ConvPICNN
  conv('DQN 1: x[2,64,32,1] 8x8x1x32 s4 same', [2, 64, 32, 1], [8, 8, 1, 32], 4, 'same'),
  conv('DQN 2: x[2,16,8,32] 4x4x32x64 s2 same', [2, 16, 8, 32], [4, 4, 32, 64], 2, 'same'),
  conv('DQN 3: x[2,8,4,64] 3x3x64x64 s1 same', [2, 8, 4, 64], [3, 3, 64, 64], 1, 'same'),
  // strides, dilations and paddings the DQN shapes do not reach
  conv('stride [2,1] same', [2, 9, 7, 3], [3, 3, 3, 4], [2, 1], 'same', 1, 2),
  conv('stride [1,3] valid, 5x2 kernel', [2, 11, 13, 2], [5, 2, 2, 3], [1, 3], 'valid', 1, 2),
  conv('stride 3 same, input not a multiple of the stride', [2, 10, 11, 2], [4, 4, 2, 3], 3, 'same', 1, 2),
  conv('even kernel 4x4 s1 same (odd total padding)', [2, 7, 6, 2], [4, 4, 2, 3], 1, 'same', 1, 2),
  conv('dilation 2 stride 1 valid', [2, 10, 9, 3], [3, 3, 3, 4], 1, 'valid', 2, 2),
  conv('dilation 2 stride 1 same', [2, 10, 9, 3], [3, 3, 3, 4], 1, 'same', 2, 2),
  conv('dilation [2,3] same, 3x2 kernel', [2, 9, 10, 2], [3, 2, 2, 3], 1, 'same', [2, 3], 2),
  conv('numeric pad 1, stride 2, leftover row', [2, 9, 8, 3], [3, 3, 3, 4], 2, 1, 1, 2),
  conv('numeric pad 2, dilation 2', [2, 7, 8, 2], [3, 3, 2, 3], 1, 2, 2, 2),
  conv('explicit pad [[1,2],[0,3]], stride 2', [2, 8, 7, 2], [3, 3, 2, 3], 2, [[0, 0], [1, 2], [0, 3], [0, 0]], 1, 2),
  conv('1x1 kernel stride 2 valid (skips rows)', [2, 7, 6, 3], [1, 1, 3, 4], 2, 'valid', 1, 2),
  conv('kernel as large as the input, valid', [2, 5, 4, 2], [5, 4, 2, 3], 1, 'valid', 1, 2),
  // stride and dilation both > 1: tf.conv2d forbids it, the Conv2D kernel is dispatched directly (see conv2dOp)
  conv('stride 2 and dilation 2, same (direct kernel call)', [2, 11, 10, 2], [3, 3, 2, 3], 2, 'same', 2, 2),
  conv('stride [3,2] and dilation [2,3], valid (direct kernel call)', [2, 13, 12, 2], [3, 2, 2, 3], [3, 2], 'valid', [2, 3], 2),
];

/**
 * Forward Conv2D for `spec`. tf.conv2d refuses a stride and a dilation both > 1, but the Conv2D kernels of cpu
 * and wasm compute it (and the gradient rule has a branch for it), so that case dispatches the kernel directly.
 */
function conv2dOp(x: tf.Tensor, f: tf.Tensor, spec: ConvSpec): tf.Tensor4D {
  const both = Math.max(...spec.strides) > 1 && Math.max(...spec.dilations) > 1;
  if (!both) return tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, spec.strides, spec.pad, 'NHWC', spec.dilations);
  const attrs = { strides: spec.strides, pad: spec.pad, dataFormat: 'NHWC', dilations: spec.dilations };
  return tf.engine().runKernel('Conv2D', { x, filter: f }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

async function checkConvFirstOrder(backend: Backend, c: ConvCase, seed: number): Promise<void> {
  await setBackend(backend);
  const spec: ConvSpec = backend === 'cpu' ? { ...c.spec, xShape: [c.cpuBatch, ...c.spec.xShape.slice(1)] as ConvSpec['xShape'] } : c.spec;
  const rand = rng(seed);
  const x = randomArray(size(spec.xShape), rand);
  const f = randomArray(size(spec.fShape), rand);
  const ref = conv2dRef(x, f, spec);
  const dy = randomArray(ref.y.length, rand);
  const { gx, gf } = conv2dGradRef(x, f, dy, spec);
  const [yT, gxT, gfT] = tf.tidy(() => {
    const X = t32(x, spec.xShape) as tf.Tensor4D;
    const F = t32(f, spec.fShape) as tf.Tensor4D;
    const DY = t32(dy, ref.shape);
    const fwd = (xx: tf.Tensor, ff: tf.Tensor) =>
      conv2dOp(xx, ff, spec);
    const [gX, gF] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.mul(fwd(xx, ff), DY)))([X, F]);
    return [fwd(X, F), gX, gF];
  });
  const what = `${backend} ${c.label} (x ${JSON.stringify(spec.xShape)})`;
  assert.deepEqual(yT.shape, ref.shape, `${what}: forward shape`);
  assert.deepEqual(gxT.shape, spec.xShape, `${what}: ∇x shape`);
  assert.deepEqual(gfT.shape, spec.fShape, `${what}: ∇filter shape`);
  assertClose(await yT.data(), ref.y, `${what}: forward`);
  assertClose(await gxT.data(), gx, `${what}: ∇x`);
  assertClose(await gfT.data(), gf, `${what}: ∇filter`);
  tf.dispose([yT, gxT, gfT]);
}

describe('Conv2D gradient override, first order, against a float64 direct convolution', () => {
  for (const backend of BACKENDS) {
    CONV_CASES.forEach((c, i) => {
      test(`${backend}: ${c.label}`, async () => {
        await checkConvFirstOrder(backend, c, 100 + i);
      });
    });
  }

  test('no Conv2DBackpropFilter kernel (missing on wasm) is dispatched, in first or second order', async () => {
    await setBackend('cpu');
    for (const c of CONV_CASES.slice(7)) {
      const { spec } = c;
      const kernels = recordKernels(() => {
        const X = tf.ones([1, ...spec.xShape.slice(1)] as number[]);
        const F = tf.ones(spec.fShape as number[]);
        // Second order: differentiate Σ ∇_x conv(x, f) ⊙ x with respect to f and x.
        tf.grads((xx: tf.Tensor, ff: tf.Tensor) => {
          const gx = tf.grad((x2: tf.Tensor) => tf.sum(tf.square(conv2dOp(x2, ff, spec))))(xx);
          return tf.sum(tf.mul(gx, xx));
        })([X, F]);
      });
      const names = new Set(kernels.map((k) => k.name));
      assert.ok(names.has('Conv2D'), c.label);
      assert.ok(!names.has('Conv2DBackpropFilter'), `${c.label}: Conv2DBackpropFilter dispatched`);



    }
  });

  test('NCHW is rejected with a clear error rather than a wrong gradient', async () => {
    await setBackend('cpu');
    // tfjs's forward conv2d itself only supports NHWC; the gradient rule guards the attribute anyway.
    assert.throws(() => tf.tidy(() => {
      const X = tf.ones([1, 2, 5, 5]) as tf.Tensor4D;
      const F = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
      tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, 'valid', 'NCHW')))([X, F]);
    }), /Conv2D gradient: only NHWC is supported/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 3. Second order through conv2d

const SECOND_ORDER_CASES: ConvCase[] = [
  conv('s2 valid', [2, 7, 6, 2], [3, 3, 2, 3], 2, 'valid'),
  conv('s1 same, 3x2 kernel', [2, 6, 5, 2], [3, 2, 2, 3], 1, 'same'),
  conv('stride [2,1] same', [2, 7, 6, 2], [3, 3, 2, 2], [2, 1], 'same'),
  conv('dilation 2 same', [2, 8, 7, 2], [2, 3, 2, 2], 1, 'same', 2),
  conv('s4 same, 8x8 kernel (DQN layer 1 geometry)', [1, 16, 12, 1], [8, 8, 1, 2], 4, 'same'),
  conv('numeric pad 1 s2', [1, 7, 8, 2], [3, 3, 2, 2], 2, 1),
  conv('stride 2 and dilation 2, same (direct kernel call)', [1, 9, 8, 2], [3, 2, 2, 2], 2, 'same', 2),
];

describe('Conv2D second order (∇ of a gradient) against float64 finite differences', () => {
  for (const backend of BACKENDS) {
    SECOND_ORDER_CASES.forEach((c, ci) => {
      test(`${backend}: ${c.label}`, async () => {
        await setBackend(backend);
        const { spec } = c;
        const rand = rng(200 + ci);
        const x = randomArray(size(spec.xShape), rand);
        const f = randomArray(size(spec.fShape), rand);
        const outShape = conv2dRef(x, f, spec).shape;
        const w = randomArray(size(outShape), rand);
        const v = randomArray(x.length, rand);
        const u = randomArray(f.length, rand);
        // L(x, f) = ½ Σ W ⊙ conv(x, f)²; ∂L/∂y = W ⊙ y.
        const grads64 = (px: Float64Array, pf: Float64Array) => {
          const { y } = conv2dRef(px, pf, spec);
          return conv2dGradRef(px, pf, y.map((yi, i) => yi * w[i]), spec);
        };
        const phiX = (px: Float64Array, pf: Float64Array) => dot(grads64(px, pf).gx, v); // <∇_x L, v>
        const phiF = (px: Float64Array, pf: Float64Array) => dot(grads64(px, pf).gf, u); // <∇_f L, u>
        const h = 1e-4;
        const ref = {
          fOfPhiX: centralDiff((p) => phiX(x, p), f, range(f.length), h),
          xOfPhiX: centralDiff((p) => phiX(p, f), x, range(x.length), h),
          xOfPhiF: centralDiff((p) => phiF(p, f), x, range(x.length), h),
          fOfPhiF: centralDiff((p) => phiF(x, p), f, range(f.length), h),
        };
        const out = tf.tidy(() => {
          const X = t32(x, spec.xShape);
          const F = t32(f, spec.fShape);
          const W = t32(w, outShape);
          const V = t32(v, spec.xShape);
          const U = t32(u, spec.fShape);
          const L = (xx: tf.Tensor, ff: tf.Tensor) => tf.mul(0.5, tf.sum(tf.mul(W,
            tf.square(conv2dOp(xx, ff, spec)))));
          const phiXT = (xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.mul(tf.grad((a: tf.Tensor) => L(a, ff))(xx), V));
          const phiFT = (xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.mul(tf.grad((b: tf.Tensor) => L(xx, b))(ff), U));
          const [xOfPhiX, fOfPhiX] = tf.grads(phiXT)([X, F]);
          const [xOfPhiF, fOfPhiF] = tf.grads(phiFT)([X, F]);
          return { xOfPhiX, fOfPhiX, xOfPhiF, fOfPhiF };
        });
        for (const key of ['fOfPhiX', 'xOfPhiX', 'xOfPhiF', 'fOfPhiF'] as const) {
          assertClose(await out[key].data(), ref[key], `${backend} ${c.label}: ${key}`);
        }
        tf.dispose(Object.values(out));
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// 3b. Two-layer relu conv net: ∇_θ(∇_x f · v)

describe('two-layer relu conv net: ∇_θ(∇_x f · v)', () => {
  const xShape: ConvSpec['xShape'] = [2, 9, 8, 2];
  const l1: ConvSpec = { xShape, fShape: [3, 3, 2, 3], strides: [2, 2], pad: 'same', dilations: [1, 1] };
  const h1Shape = conv2dRef(new Float64Array(size(xShape)), new Float64Array(size(l1.fShape)), l1).shape as ConvSpec['xShape'];
  const l2: ConvSpec = { xShape: h1Shape, fShape: [3, 3, 3, 2], strides: [1, 1], pad: 'same', dilations: [1, 1] };
  const outShape = conv2dRef(new Float64Array(size(h1Shape)), new Float64Array(size(l2.fShape)), l2).shape;
  const rand = rng(300);
  const x = randomArray(size(xShape), rand);
  const theta = {
    f1: randomArray(size(l1.fShape), rand),
    b1: randomArray(3, rand, -0.2, 0.2),
    f2: randomArray(size(l2.fShape), rand),
    b2: randomArray(2, rand, -0.2, 0.2),
  };
  const wOut = randomArray(size(outShape), rand);
  const v = randomArray(x.length, rand);

  /**
   * float64: φ(θ) = <∇_x f(x; θ), v>, f = ½ Σ wOut ⊙ relu(conv(relu(conv(x, f1) + b1), f2) + b2)². The squared
   * read-out makes ∇_x f depend on the activations, so every parameter (the biases included) has a nonzero ∇_θ φ.
   */
  const phi64 = (f1: Float64Array, b1: Float64Array, f2: Float64Array, b2: Float64Array): number => {
    const y1 = conv2dRef(x, f1, l1).y.map((t, i) => t + b1[i % 3]);
    const a1 = y1.map((t) => Math.max(t, 0));
    const y2 = conv2dRef(a1, f2, l2).y.map((t, i) => t + b2[i % 2]);
    const d2 = y2.map((t, i) => (t > 0 ? wOut[i] * t : 0));
    const da1 = conv2dGradRef(a1, f2, d2, l2).gx;
    const d1 = da1.map((t, i) => (y1[i] > 0 ? t : 0));
    return dot(conv2dGradRef(x, f1, d1, l1).gx, v);
  };

  async function run(backend: Backend): Promise<Float32Array[]> {
    await setBackend(backend);
    const gs = tf.tidy(() => {
      const X = t32(x, xShape);
      const V = t32(v, xShape);
      const W = t32(wOut, outShape);
      const net = (xx: tf.Tensor, f1: tf.Tensor, b1: tf.Tensor, f2: tf.Tensor, b2: tf.Tensor) => {
        const h = tf.relu(tf.add(tf.conv2d(xx as tf.Tensor4D, f1 as tf.Tensor4D, l1.strides, l1.pad), b1));
        const out = tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, f2 as tf.Tensor4D, l2.strides, l2.pad), b2));
        return tf.mul(0.5, tf.sum(tf.mul(W, tf.square(out))));
      };
      const phi = (f1: tf.Tensor, b1: tf.Tensor, f2: tf.Tensor, b2: tf.Tensor) =>
        tf.sum(tf.mul(tf.grad((xx: tf.Tensor) => net(xx, f1, b1, f2, b2))(X), V));
      return tf.grads(phi)([t32(theta.f1, l1.fShape), t32(theta.b1, [3]), t32(theta.f2, l2.fShape), t32(theta.b2, [2])]);
    });
    const out = await Promise.all(gs.map((g) => g.data() as Promise<Float32Array>));
    tf.dispose(gs);
    return out;
  }

  test('wasm equals cpu, and both equal float64 finite differences', async () => {
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    const names = ['f1', 'b1', 'f2', 'b2'] as const;
    const h = 1e-6;
    const fd = [
      centralDiff((p) => phi64(p, theta.b1, theta.f2, theta.b2), theta.f1, range(theta.f1.length), h),
      centralDiff((p) => phi64(theta.f1, p, theta.f2, theta.b2), theta.b1, range(3), h),
      centralDiff((p) => phi64(theta.f1, theta.b1, p, theta.b2), theta.f2, range(theta.f2.length), h),
      centralDiff((p) => phi64(theta.f1, theta.b1, theta.f2, p), theta.b2, range(2), h),
    ];
    names.forEach((name, i) => {
      assertClose(wasm[i], cpu[i], `∇_${name}: wasm vs cpu`);
      assertClose(wasm[i], fd[i], `∇_${name}: wasm vs float64 FD`);
      assertClose(cpu[i], fd[i], `∇_${name}: cpu vs float64 FD`);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 5. No tensor leaks

describe('no tensor leaks', () => {
  for (const backend of BACKENDS) {
    test(`${backend}: first- and second-order conv/matmul gradients leave numTensors unchanged`, async () => {
      await setBackend(backend);
      const X = tf.randomNormal([2, 9, 7, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const F = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      const A = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 3);
      const B = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 4);
      const conv = (xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, [2, 1], 'same')));
      const mm = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b, false, true)));
      const work = () => {
        const g1 = tf.grads(conv)([X, F]);
        const g2 = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.grad((a: tf.Tensor) => conv(a, ff))(xx)))([X, F]);
        const g3 = tf.grads(mm)([A, B]);
        const g4 = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.grad((bb: tf.Tensor) => mm(a, bb))(b)))([A, B]);
        return [...g1, ...g2, ...g3, ...g4];
      };
      // warm up (lazy backend state), then measure
      tf.dispose(work());
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        tf.tidy(() => {
          const gs = work();
          for (const g of gs) assert.ok(maxAbs(g.dataSync()) > 0);
        });
        assert.equal(tf.memory().numTensors, before, `${backend}: tf.tidy iteration ${i}`);
      }
      // Without tidy: only the returned gradients survive, and disposing them restores the count.
      const gs = work();
      assert.equal(tf.memory().numTensors, before + gs.length, `${backend}: intermediates of the gradient rules leaked`);
      tf.dispose(gs);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([X, F, A, B]);
    });
  }

  test('registerGradientOverrides is idempotent', () => {
    const before = tf.getGradient('Conv2D');
    registerGradientOverrides();
    assert.equal(tf.getGradient('Conv2D'), before);
  });
});
