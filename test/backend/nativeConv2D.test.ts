/**
 * The native Conv2D kernel (src/backend/nativeConv2D.ts) against the cpu backend (relative 1e-5): strides,
 * dilations, 'same', 'valid' and explicit padding, sizes that are not multiples of the micro-tile, the shapes of the
 * ConvPICNN's forward and gradient convolutions; and the shapes it leaves to XNNPACK still give cpu's results.
 * Skipped, with the reason, when the addon is not active.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendInfo, setBackend, tf } from '../helpers/icnn.js';
import { nativeConvPays } from '../../src/backend/nativeConv2D.js';
import { Rng } from '../../src/util/random.js';
import { relErr } from './reference.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

interface ConvCase {
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dilations: number | [number, number];
}

const NATIVE_CASES: ConvCase[] = [
  { x: [16, 17, 9, 8], filter: [4, 3, 8, 21], strides: 2, pad: 'same', dilations: 1 },
  { x: [2, 16, 8, 32], filter: [4, 4, 32, 64], strides: 2, pad: 'same', dilations: 1 },
  { x: [5, 8, 4, 64], filter: [3, 3, 64, 64], strides: 1, pad: 'same', dilations: 1 },
  { x: [4, 10, 6, 64], filter: [3, 3, 64, 33], strides: 1, pad: 'valid', dilations: 1 },
  { x: [8, 18, 10, 9], filter: [8, 4, 9, 64], strides: 1, pad: 'valid', dilations: 2 },
  { x: [6, 15, 13, 12], filter: [3, 5, 12, 40], strides: [2, 3], pad: [[0, 0], [1, 2], [3, 0], [0, 0]], dilations: 1 },
  { x: [1, 30, 20, 16], filter: [3, 3, 16, 17], strides: 1, pad: 'same', dilations: [2, 3] },
  { x: [4, 64, 32, 1], filter: [8, 8, 1, 32], strides: 4, pad: 'same', dilations: 1 },
  { x: [8, 21, 19, 2], filter: [5, 4, 2, 16], strides: [2, 1], pad: 'same', dilations: 1 },
];

/** Shapes XNNPACK keeps (short filter rows on one channel, one output channel, tiny). */
const WASM_CASES: ConvCase[] = [
  { x: [4, 64, 32, 1], filter: [3, 3, 1, 16], strides: 1, pad: 'same', dilations: 1 },
  { x: [4, 16, 8, 32], filter: [3, 3, 32, 1], strides: 1, pad: 'same', dilations: 1 },
  { x: [1, 5, 5, 8], filter: [2, 2, 8, 16], strides: 1, pad: 'valid', dilations: 1 },
];

function info(c: ConvCase): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations, c.pad, undefined, false, 'channelsLast');
}

async function compare(c: ConvCase, seed: number): Promise<number> {
  const rng = new Rng(seed);
  const x = rng.fillNormal(c.x.reduce((a, b) => a * b));
  const f = rng.fillNormal(c.filter.reduce((a, b) => a * b));
  const run = async (backend: 'cpu' | 'wasm') => {
    await setBackend(backend);
    return tf.tidy(() => tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(f, c.filter), c.strides, c.pad, 'NHWC', c.dilations).dataSync().slice());
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  return relErr(wasm, cpu);
}

describe('native Conv2D equals the cpu backend', { skip }, () => {
  after(async () => {
    await setBackend('wasm');
  });
  NATIVE_CASES.forEach((c, i) => {
    test(`x[${c.x}] filter[${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)} dilations ${JSON.stringify(c.dilations)}`, async () => {
      assert.ok(nativeConvPays(info(c)), 'the case must take the native path');
      const err = await compare(c, i + 1);
      assert.ok(err <= 1e-5, `relative error ${err}`);
    });
  });
  test('shapes left to XNNPACK give the same results', async () => {
    for (const [i, c] of WASM_CASES.entries()) {
      assert.ok(!nativeConvPays(info(c)), `case ${i} must stay on XNNPACK`);
      const err = await compare(c, 50 + i);
      assert.ok(err <= 1e-5, `case ${i}: relative error ${err}`);
    }
  });
});

/** The shape of dy for a Conv2D case (no dilation). */
function dyShapeOf(c: Omit<ConvCase, 'dilations'>): Shape4 {
  const o = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, undefined, false, 'channelsLast');
  return [o.batchSize, o.outHeight, o.outWidth, o.outChannels];
}

/** `compute` on cpu and on wasm (native): same values within 1e-5, `outShape`'s size, and no tensor left behind. */
async function assertGradientKernelMatchesCpu(outShape: Shape4, compute: () => tf.Tensor): Promise<void> {
  const run = async (backend: 'cpu' | 'wasm') => {
    await setBackend(backend);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => compute().dataSync().slice());
    assert.equal(tf.memory().numTensors, before);
    return out;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  assert.equal(wasm.length, outShape.reduce((a, b) => a * b));
  const err = relErr(wasm, cpu);
  assert.ok(err <= 1e-5, `relative error ${err}`);
}

/** Transposed convolutions (Conv2DBackpropInput): the ConvPICNN's thin first layer, strides, paddings, odd sizes. */
const TRANSPOSED_CASES: Omit<ConvCase, 'dilations'>[] = [
  { x: [70, 64, 32, 1], filter: [8, 8, 1, 32], strides: 4, pad: 'same' },
  { x: [3, 17, 9, 2], filter: [5, 3, 2, 7], strides: [3, 2], pad: 'same' },
  { x: [2, 16, 8, 32], filter: [4, 4, 32, 64], strides: 2, pad: 'same' },
  { x: [4, 10, 6, 5], filter: [3, 3, 5, 9], strides: 1, pad: 'valid' },
  { x: [2, 15, 13, 3], filter: [3, 5, 3, 4], strides: [2, 3], pad: [[0, 0], [1, 2], [3, 0], [0, 0]] },
  { x: [9, 16, 8, 32], filter: [3, 3, 32, 1], strides: 1, pad: 'same' },
  { x: [1, 1, 1, 1], filter: [1, 1, 1, 1], strides: 1, pad: 'valid' },
];

describe('native Conv2DBackpropInput equals the cpu backend', { skip }, () => {
  after(async () => {
    await setBackend('wasm');
  });
  TRANSPOSED_CASES.forEach((c, i) => {
    test(`dx of x[${c.x}] filter[${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}`, async () => {
      const dyShape = dyShapeOf(c);
      const rng = new Rng(100 + i);
      const dy = rng.fillNormal(dyShape.reduce((a, b) => a * b));
      const f = rng.fillNormal(c.filter.reduce((a, b) => a * b));
      await assertGradientKernelMatchesCpu(c.x, () => tf.conv2dTranspose(tf.tensor4d(dy, dyShape), tf.tensor4d(f, c.filter), c.x, c.strides, c.pad as never));
    });
  });
});

/**
 * Filter gradients (the Conv2DBackpropFilter kernel, which the wasm backend lacks): against the cpu backend's own
 * kernel, on the transposed convolutions' cases and a thin one; the first has more output pixels than one im2col
 * block (accumulated over blocks), and those with fewer than 8 output channels are accumulated directly.
 */
const FILTER_GRADIENT_CASES: Omit<ConvCase, 'dilations'>[] = [
  ...TRANSPOSED_CASES,
  { x: [5, 64, 32, 1], filter: [3, 3, 1, 1], strides: 1, pad: 'same' },
];

describe('native Conv2DBackpropFilter equals the cpu backend', { skip }, () => {
  after(async () => {
    await setBackend('wasm');
  });
  FILTER_GRADIENT_CASES.forEach((c, i) => {
    test(`dW of x[${c.x}] filter[${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}`, async () => {
      const dyShape = dyShapeOf(c);
      const rng = new Rng(200 + i);
      const x = rng.fillNormal(c.x.reduce((a, b) => a * b));
      const dy = rng.fillNormal(dyShape.reduce((a, b) => a * b));
      await assertGradientKernelMatchesCpu(c.filter, () => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, c.x), dy: tf.tensor4d(dy, dyShape) },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter } as unknown as tf.NamedAttrMap) as tf.Tensor);
    });
  });
  test('a dy of the wrong shape is refused with both shapes named', async () => {
    await setBackend('wasm');
    assert.throws(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.zeros([2, 8, 8, 3]), dy: tf.zeros([2, 4, 4, 5]) },
      { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 5] } as unknown as tf.NamedAttrMap),
    /dy has shape \[2, 4, 4, 5\], expected \[2, 8, 8, 5\]/);
  });
});

/**
 * Through tf.grad: the first-order filter gradient (the native kernel on wasm) and the second order through its
 * gradient rule (./gradients.ts: transposed and forward convs) equal the cpu backend's, which builds the same
 * gradients from forward convolutions only.
 */
describe('filter gradients through tf.grad on the native path equal the cpu backend', { skip }, () => {
  after(async () => {
    await setBackend('wasm');
  });
  const cases: Omit<ConvCase, 'dilations'>[] = [FILTER_GRADIENT_CASES[1], FILTER_GRADIENT_CASES[2], FILTER_GRADIENT_CASES[5]];
  cases.forEach((c, i) => {
    test(`∇W and ∇x(∇W · R) for x[${c.x}] filter[${c.filter}]`, async () => {
      const dyShape = dyShapeOf(c);
      const rng = new Rng(300 + i);
      const [x, w, v, r] = [c.x, c.filter, dyShape, c.filter].map((s) => rng.fillNormal(s.reduce((a, b) => a * b)));
      const run = async (backend: 'cpu' | 'wasm') => {
        await setBackend(backend);
        return tf.tidy(() => {
          const [xt, wt, vt, rt] = [tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter), tf.tensor4d(v, dyShape), tf.tensor4d(r, c.filter)];
          const gradW = (xx: tf.Tensor) => tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.strides, c.pad as never), vt)))(wt);
          const first = gradW(xt);
          const second = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(gradW(xx), rt)))(xt);
          return [first.dataSync().slice(), second.dataSync().slice()];
        });
      };
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      assert.ok(relErr(wasm[0], cpu[0]) <= 1e-5, `∇W: relative error ${relErr(wasm[0], cpu[0])}`);
      assert.ok(relErr(wasm[1], cpu[1]) <= 1e-5, `∇x: relative error ${relErr(wasm[1], cpu[1])}`);
    });
  });
});
