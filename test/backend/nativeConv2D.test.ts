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
];

/** Shapes XNNPACK keeps (one input channel, one output channel, tiny). */
const WASM_CASES: ConvCase[] = [
  { x: [4, 64, 32, 1], filter: [8, 8, 1, 32], strides: 4, pad: 'same', dilations: 1 },
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

/** Transposed convolutions (Conv2DBackpropInput): the ConvPICNN's thin first layer, strides, paddings, odd sizes. */
const TRANSPOSED_CASES: Omit<ConvCase, 'dilations'>[] = [
  { x: [70, 64, 32, 1], filter: [8, 8, 1, 32], strides: 4, pad: 'same' },
  { x: [3, 17, 9, 2], filter: [5, 3, 2, 7], strides: [3, 2], pad: 'same' },
  { x: [2, 16, 8, 32], filter: [4, 4, 32, 64], strides: 2, pad: 'same' },
  { x: [4, 10, 6, 5], filter: [3, 3, 5, 9], strides: 1, pad: 'valid' },
  { x: [2, 15, 13, 3], filter: [3, 5, 3, 4], strides: [2, 3], pad: [[0, 0], [1, 2], [3, 0], [0, 0]] },
  { x: [1, 1, 1, 1], filter: [1, 1, 1, 1], strides: 1, pad: 'valid' },
];

describe('native Conv2DBackpropInput equals the cpu backend', { skip }, () => {
  after(async () => {
    await setBackend('wasm');
  });
  TRANSPOSED_CASES.forEach((c, i) => {
    test(`dx of x[${c.x}] filter[${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}`, async () => {
      const o = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, undefined, false, 'channelsLast');
      const dyShape: Shape4 = [o.batchSize, o.outHeight, o.outWidth, o.outChannels];
      const rng = new Rng(100 + i);
      const dy = rng.fillNormal(dyShape.reduce((a, b) => a * b));
      const f = rng.fillNormal(c.filter.reduce((a, b) => a * b));
      const run = async (backend: 'cpu' | 'wasm') => {
        await setBackend(backend);
        const before = tf.memory().numTensors;
        const out = tf.tidy(() => tf.conv2dTranspose(tf.tensor4d(dy, dyShape), tf.tensor4d(f, c.filter), c.x, c.strides, c.pad as never).dataSync().slice());
        assert.equal(tf.memory().numTensors, before);
        return out;
      };
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      assert.equal(wasm.length, c.x.reduce((a, b) => a * b));
      const err = relErr(wasm, cpu);
      assert.ok(err <= 1e-5, `relative error ${err}`);
    });
  });
});
