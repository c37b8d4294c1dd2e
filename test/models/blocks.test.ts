/**
 * The layer blocks (src/models/blocks.ts) and the positivity modes they hold (src/models/positivity.ts;
 * `../shared/icnn-paper.md` §1.4, Prop. 1): the effective weight is non-negative under 'clip' (after projection) and
 * 'softplus' (always), and untouched under 'none'; the blocks compute the plain dense / conv maps of their weights.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../helpers/icnn.js';
import { ConvBlock, DenseBlock, PositiveConvBlock, PositiveDenseBlock, readValues } from '../../src/models/blocks.js';
import { effectiveWeight, POSITIVITY_MODES, projectPositive, storedPositiveValues } from '../../src/models/positivity.js';
import { Rng } from '../../src/util/random.js';

function variable(values: Float32Array, shape: number[]): tf.Variable {
  return tf.variable(tf.tensor(values, shape, 'float32'));
}

/** Row-major [rows × inner] · [inner × cols] in float64 (an independent reference for the dense blocks). */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, inner: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let k = 0; k < inner; k++) s += a[r * inner + k] * b[k * cols + c];
      out[r * cols + c] = s;
    }
  }
  return out;
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

describe('positivity modes', () => {
  test("stored values: softplus⁻¹ of W under 'softplus' (floored at 1e-4), W itself otherwise", () => {
    const w = Float32Array.from([0, 1e-6, 0.5, 3, 25]);
    assert.equal(storedPositiveValues(w, 'clip'), w);
    assert.equal(storedPositiveValues(w, 'none'), w);
    const stored = storedPositiveValues(w, 'softplus');
    const back = Array.from(stored, (v) => Math.log1p(Math.exp(v)));
    assertClose(back, [1e-4, 1e-4, 0.5, 3, 25], 1e-6, 'softplus(stored)');
  });

  test('effective weight and projection, for every mode, on random weights of both signs', () => {
    const rng = new Rng(3);
    for (const mode of POSITIVITY_MODES) {
      const raw = rng.fillNormal(40);
      const v = variable(raw, [8, 5]);
      try {
        const eff = readValues(() => effectiveWeight(v, mode));
        if (mode === 'softplus') {
          assertClose(eff, Array.from(raw, (x) => Math.log1p(Math.exp(x))), 1e-6, 'softplus');
          assert.ok(eff.every((x) => x > 0));
        } else {
          assert.deepEqual(Array.from(eff), Array.from(raw));
        }
        projectPositive(v, mode);
        const after = v.dataSync();
        const want = mode === 'clip' ? Array.from(raw, (x) => Math.max(x, 0)) : Array.from(raw);
        assert.deepEqual(Array.from(after), want, `${mode}: projection`);
      } finally {
        v.dispose();
      }
    }
  });
});

describe('blocks', () => {
  test('DenseBlock: x W + b, without bias, and on a slice of the input', () => {
    const rng = new Rng(5);
    const [n, din, dout] = [4, 6, 3];
    const W = variable(rng.fillNormal(din * dout), [din, dout]);
    const b = variable(rng.fillNormal(dout), [dout]);
    const x = tf.tensor2d(rng.fillNormal(n * din), [n, din]);
    try {
      const Wv = W.dataSync();
      const bv = b.dataSync();
      const xv = x.dataSync();
      const block = new DenseBlock(W, b);
      assert.equal(block.inDim, din);
      assert.equal(block.outDim, dout);
      const want = matmul(xv, Wv, n, din, dout).map((v, i) => v + bv[i % dout]);
      assertClose(readValues(() => block.apply(x)), want, 1e-5, 'x W + b');
      assertClose(readValues(() => new DenseBlock(W).apply(x)), matmul(xv, Wv, n, din, dout), 1e-5, 'x W');
      // The last 2 input columns against rows 4..5 of W.
      const tail = tf.tidy(() => tf.slice(x, [0, 4], [n, 2]) as tf.Tensor2D);
      const wTail = Wv.slice(4 * dout);
      assertClose(readValues(() => block.applyToSlice(tail, 4, false)), matmul(tail.dataSync(), wTail, n, 2, dout), 1e-5, 'slice');
      tail.dispose();
    } finally {
      tf.dispose([W, b, x]);
    }
  });

  test('PositiveDenseBlock applies the effective weight of its mode', () => {
    const rng = new Rng(6);
    const [n, din, dout] = [3, 5, 4];
    const raw = rng.fillNormal(din * dout);
    const z = tf.tensor2d(rng.fillUniform(n * din, 0, 2), [n, din]);
    try {
      for (const mode of POSITIVITY_MODES) {
        const v = variable(raw, [din, dout]);
        const block = new PositiveDenseBlock(v, mode);
        const eff = mode === 'softplus' ? Array.from(raw, (x) => Math.log1p(Math.exp(x))) : Array.from(raw);
        assertClose(block.readWeight(), eff, 1e-6, `${mode}: weight`);
        assertClose(readValues(() => block.apply(z)), matmul(z.dataSync(), eff, n, din, dout), 1e-5, `${mode}: z W`);
        assert.equal(block.positivity, mode);
        v.dispose();
      }
    } finally {
      z.dispose();
    }
  });

  test('ConvBlock and PositiveConvBlock: a 1×1 kernel is a per-pixel dense map; strides follow "same" padding', () => {
    const rng = new Rng(7);
    const [h, w, cin, cout] = [5, 4, 3, 2];
    const raw = rng.fillNormal(cin * cout);
    const W = variable(raw, [1, 1, cin, cout]);
    const b = variable(rng.fillNormal(cout), [cout]);
    const x = tf.tensor4d(rng.fillNormal(h * w * cin), [1, h, w, cin]);
    try {
      const pixels = matmul(x.dataSync(), raw, h * w, cin, cout);
      const bv = b.dataSync();
      assertClose(readValues(() => new ConvBlock(W, b, 1).apply(x)), pixels.map((v, i) => v + bv[i % cout]), 1e-5, 'conv + b');
      const strided = new ConvBlock(W, null, 2).apply(x);
      assert.deepEqual(strided.shape, [1, Math.ceil(h / 2), Math.ceil(w / 2), cout]);
      strided.dispose();
      const soft = new PositiveConvBlock(W, 'softplus', 1);
      const eff = Array.from(raw, (v) => Math.log1p(Math.exp(v)));
      assertClose(readValues(() => soft.apply(x)), matmul(x.dataSync(), eff, h * w, cin, cout), 1e-5, 'positive conv');
      assert.equal(soft.stride, 1);
    } finally {
      tf.dispose([W, b, x]);
    }
  });
});
