/**
 * Each model's affine structure with x fixed (src/models/affineStructure.ts; `../shared/icnn-paper.md` §3.1): the
 * per-row maps s_i = A_i z_i + B_i y + c_i, evaluated here in float64 with the model's own hidden activation (ReLU,
 * leaky ReLU or softplus), reproduce the model's forward pass at random x and y; A_i ≥ 0 for convex models; the
 * shapes and the `shared` flag match the architecture; models without such a structure say so (null).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConvPICNN, FICNN, FeedForward, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import type { AffineLayer, AffineStructure } from '../../src/models/affineStructure.js';
import { Rng } from '../../src/util/random.js';
import { perturb, randomX } from '../helpers/inference.js';

/** g(s) for the hidden activations, plain formulas. */
function hiddenActivation(s: AffineStructure): (v: number) => number {
  const h = s.hidden;
  if (h === null) return (v) => v;
  if (h.activation === 'relu') return (v) => Math.max(v, 0);
  if (h.activation === 'leaky-relu') return (v) => (v > 0 ? v : h.leakySlope * v);
  return (v) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
}

/** f(y) from the layers: hidden layers activated, the last linear, plus (α/2)||y||². */
function evaluate(layers: AffineLayer[], g: (v: number) => number, alpha: number, y: ArrayLike<number>): number {
  const n = y.length;
  let z: number[] = [];
  for (let i = 0; i < layers.length; i++) {
    const L = layers[i];
    const s: number[] = [];
    for (let k = 0; k < L.outDim; k++) {
      let v = L.c[k];
      for (let j = 0; j < n; j++) v += L.B[k * n + j] * y[j];
      for (let j = 0; j < L.zDim; j++) v += (L.A as Float64Array)[k * L.zDim + j] * z[j];
      s.push(i === layers.length - 1 ? v : g(v));
    }
    z = s;
  }
  let sq = 0;
  for (let j = 0; j < n; j++) sq += y[j] * y[j];
  return z[0] + (alpha / 2) * sq;
}

const CONVEX: [string, () => EnergyModel][] = [
  ['FICNN without x', () => new FICNN({ yDim: 3, hidden: [8, 6], seed: 1 })],
  ['FICNN with x, leaky ReLU, strong convexity', () => new FICNN({ xDim: 2, yDim: 3, hidden: [8, 8], activation: 'leaky-relu', leakySlope: 0.2, strongConvexity: 0.3, seed: 2 })],
  ['FICNN, softplus activation and positivity', () => new FICNN({ xDim: 2, yDim: 3, hidden: [5], activation: 'softplus', positivity: 'softplus', seed: 3 })],
  ['PICNN, batch norm, softplus positivity', () => new PICNN({ xDim: 4, yDim: 3, hidden: [8, 8, 4], batchNorm: true, positivity: 'softplus', seed: 4 })],
  ['PICNN, principled init, uHidden', () => new PICNN({ xDim: 4, yDim: 3, hidden: [6, 5], uHidden: [7, 3], init: 'principled', seed: 5 })],
  ['FeedForward linear', () => new FeedForward({ xDim: 4, yDim: 3, hidden: [8], seed: 6 })],
];

describe('affine structure reproduces the forward pass', () => {
  for (const [name, build] of CONVEX) {
    test(name, () => {
      const model = build();
      perturb(model, 7);
      const rows = 6;
      const x = randomX(model, rows, 8);
      const y = tf.tensor2d(new Rng(9).fillUniform(rows * model.yDim, -2, 2), [rows, model.yDim]);
      const before = tf.memory().numTensors;
      try {
        const s = model.affineStructure(x, rows) as AffineStructure;
        assert.notEqual(s, null);
        assert.equal(tf.memory().numTensors, before, 'the structure holds no tensors');
        assert.equal(s.rows, rows);
        assert.equal(s.yDim, model.yDim);
        assert.equal(s.widths[s.widths.length - 1], 1);
        assert.equal(s.shared, model.xDim === 0);
        const f = model.energy(x, y);
        const fv = f.dataSync();
        f.dispose();
        const yv = y.dataSync();
        const g = hiddenActivation(s);
        for (let r = 0; r < rows; r++) {
          const layers = s.layers(r);
          assert.deepEqual(layers.map((L) => L.outDim), [...s.widths]);
          layers.forEach((L, i) => {
            assert.equal(L.B.length, L.outDim * s.yDim);
            assert.equal(L.zDim, i === 0 ? 0 : s.widths[i - 1]);
            if (L.A !== null) assert.ok(L.A.every((a) => a >= 0), `row ${r} layer ${i}: A ≥ 0`);
          });
          const f64 = evaluate(layers, g, s.strongConvexity, yv.subarray(r * model.yDim, (r + 1) * model.yDim));
          assert.ok(Math.abs(f64 - fv[r]) <= 1e-5 * Math.max(1, Math.abs(f64)), `row ${r}: ${f64} vs model ${fv[r]}`);
        }
        assert.ok(s.positiveWeights.every((w) => w.values.every((v) => v >= 0)));
      } finally {
        tf.dispose([x, y].filter((t): t is tf.Tensor2D => t !== null));
        model.dispose();
      }
    });
  }

  test('the nonconvex ablation still has its affine structure, with W^(z) of both signs', () => {
    const model = new PICNN({ xDim: 3, yDim: 2, hidden: [6, 6], positivity: 'none', seed: 10 });
    const x = randomX(model, 2, 11) as tf.Tensor2D;
    try {
      const s = model.affineStructure(x, 2) as AffineStructure;
      assert.deepEqual(s.positiveWeights.map((w) => w.name), ['z1.Wz', 'z2.Wz']);
      assert.ok(s.positiveWeights.some((w) => w.values.some((v) => v < 0)));
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

test('models without an affine structure for the LP return null', () => {
  const conv = new ConvPICNN({ xShape: [4, 4, 1], yShape: [4, 4, 1], conv: [{ filters: 2, kernel: 3, stride: 1 }], fcHidden: [3] });
  const joint = new FeedForward({ xDim: 3, yDim: 2, hidden: [4], energy: 'joint' });
  const x16 = tf.zeros([1, 16]) as tf.Tensor2D;
  const x3 = tf.zeros([1, 3]) as tf.Tensor2D;
  try {
    assert.equal(conv.affineStructure(x16, 1), null);
    assert.equal(joint.affineStructure(x3, 1), null);
  } finally {
    tf.dispose([x16, x3]);
    conv.dispose();
    joint.dispose();
  }
});
