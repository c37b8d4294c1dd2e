/**
 * ConvPICNN: the FC u-layers' activation (the authors' bn(relu(fc))), per-layer-group initialization and the
 * authors' FC gate of the first FC z-layer (icnn-paper.md §5.3; reproduction-audit.md, Olivetti #1, #3, #4).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConvPICNN, tf } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';

const SMALL = { xShape: [16, 8, 1], yShape: [16, 8, 1], conv: [{ filters: 4, kernel: 4, stride: 2 }], fcHidden: [8] };

function stats(v: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    s += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = s / v.length;
  let q = 0;
  for (const x of v) q += (x - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length), min, max };
}

function param(m: ConvPICNN, name: string): tf.Variable {
  const p = m.parameters().find((q) => q.name === name);
  assert.ok(p, `parameter ${name}`);
  return p.variable;
}

function randomBatch(rows: number, dim: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(new Rng(seed).fillUniform(rows * dim), [rows, dim]);
}

describe('ConvPICNN', () => {
  test('the hidden FC u-layer is activated: with its pre-activations all negative, the next layer sees u = 0', () => {
    // bn(relu(fc)) in the authors' model; before the fix the 512-wide layer of fcHidden [512] stayed linear.
    const m = new ConvPICNN({ ...SMALL, batchNorm: false, seed: 3 });
    const x = randomBatch(3, 128, 1);
    const y = randomBatch(3, 128, 2);
    try {
      param(m, 'ufc0.b').assign(tf.fill([8], -100));
      const before = m.energy(x, y);
      const wu = param(m, 'fc1.Wu');
      wu.assign(tf.add(wu, tf.fill(wu.shape, 0.5)));
      const wzu = param(m, 'fc1.Wzu');
      wzu.assign(tf.add(wzu, tf.fill(wzu.shape, 0.5)));
      const after = m.energy(x, y);
      const diff = tf.max(tf.abs(tf.sub(before, after))).dataSync()[0];
      assert.ok(diff < 1e-6, `energy moved by ${diff} although relu(u) = 0 feeds fc1`);
      tf.dispose([before, after]);
    } finally {
      tf.dispose([x, y]);
      m.dispose();
    }
  });

  test("per-group init: convs uniform scaling (var 1/fan_in), FC truncated normal 0.02, W^(z) = |W|·absScale", () => {
    const m = new ConvPICNN({
      xShape: [64, 32, 1], yShape: [64, 32, 1], fcHidden: [512], convInit: 'uniform-scaling', fcInit: 'truncated-normal',
      absScale: 0.5, gateBias: 0, firstFcGate: 'fc', seed: 5,
    });
    try {
      // Truncated at ±2σ: std 0.8796σ, E|w| 0.7228σ; uniform on ±a: std a/√3, E|w| a/2.
      const TN_STD = 0.8796;
      const TN_ABS = 0.7228;
      let checked = 0;
      for (const p of m.parameters()) {
        const v = p.variable.dataSync() as Float32Array;
        const s = stats(v);
        const name = p.name;
        if (/\.(b|bz|by)$/.test(name) && !name.startsWith('u')) {
          assert.ok(v.every((x) => x === 0), `${name}: biases and gate biases 0`);
          continue;
        }
        if (/bn\./.test(name) || /\.b$/.test(name)) continue;
        const shape = p.variable.shape;
        const isConv = shape.length === 4;
        const fanIn = isConv ? shape[0] * shape[1] * shape[2] : shape[0];
        const convex = name.endsWith('.Wz');
        if (isConv) {
          const a = Math.sqrt(3 / fanIn);
          assert.ok(s.max <= a * (convex ? 0.5 : 1) + 1e-7 && s.min >= (convex ? 0 : -a - 1e-7), `${name}: within ±√(3/fan_in)`);
          if (v.length < 2000) continue;
          if (convex) assert.ok(Math.abs(s.mean - 0.25 * a) < 0.1 * 0.25 * a, `${name}: mean ${s.mean} vs ${0.25 * a}`);
          else assert.ok(Math.abs(s.std - a / Math.sqrt(3)) < 0.1 * a / Math.sqrt(3), `${name}: std ${s.std} vs ${a / Math.sqrt(3)}`);
        } else {
          assert.ok(s.max <= 0.04 * (convex ? 0.5 : 1) + 1e-7 && s.min >= (convex ? 0 : -0.04 - 1e-7), `${name}: truncated at 2σ`);
          if (v.length < 2000) continue;
          if (convex) assert.ok(Math.abs(s.mean - 0.5 * 0.02 * TN_ABS) < 0.05 * 0.5 * 0.02 * TN_ABS, `${name}: mean ${s.mean}`);
          else assert.ok(Math.abs(s.std - 0.02 * TN_STD) < 0.05 * 0.02 * TN_STD, `${name}: std ${s.std}`);
        }
        checked++;
      }
      assert.ok(checked >= 8, `checked ${checked} large tensors`);
      assert.deepEqual(param(m, 'fc0.Wzu').shape, [2048, 2048], 'the authors\' FC gate 2048 → 2048');
    } finally {
      m.dispose();
    }
  });

  test('default init is unchanged by the per-group options (same draws as before) and configs round-trip', () => {
    const a = new ConvPICNN({ ...SMALL, seed: 2 });
    const b = new ConvPICNN({ ...SMALL, seed: 2, convInit: 'lecun-normal', fcInit: 'lecun-normal', firstFcGate: 'conv3x3' });
    const c = new ConvPICNN({ ...SMALL, seed: 2, weightStd: 0.02 });
    try {
      assert.equal(a.config.convInit, 'lecun-normal');
      assert.equal(c.config.fcInit, 'truncated-normal');
      for (const p of a.parameters()) assert.deepEqual(Array.from(p.variable.dataSync()), Array.from(param(b, p.name).dataSync()), p.name);
      const copy = ConvPICNN.fromJSON(new ConvPICNN({ ...SMALL, firstFcGate: 'fc', convInit: 'uniform-scaling' }).toJSON());
      assert.equal(copy.config.firstFcGate, 'fc');
      assert.equal(copy.config.convInit, 'uniform-scaling');
      copy.dispose();
      assert.throws(() => new ConvPICNN({ ...SMALL, convInit: 'xavier' as never }), /ConvPICNN.*convInit/);
      assert.throws(() => new ConvPICNN({ ...SMALL, firstFcGate: 'dense' as never }), /ConvPICNN.*firstFcGate/);
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });

  test("with the FC gate the energy stays convex in y and depends on the gate's weights", () => {
    const m = new ConvPICNN({ ...SMALL, firstFcGate: 'fc', gateBias: 0, seed: 7 });
    const x = randomBatch(4, 128, 3);
    const y0 = randomBatch(4, 128, 4);
    const y1 = randomBatch(4, 128, 5);
    try {
      const mid = tf.mul(tf.add(y0, y1), 0.5) as tf.Tensor2D;
      const [e0, e1, em] = [m.energy(x, y0), m.energy(x, y1), m.energy(x, mid)].map((t) => Array.from(t.dataSync()));
      em.forEach((v, i) => assert.ok(v <= (e0[i] + e1[i]) / 2 + 1e-4, `midpoint convexity row ${i}`));
      const g = param(m, 'fc0.Wzu');
      g.assign(tf.add(g, tf.fill(g.shape, 0.3)));
      const moved = Array.from(m.energy(x, y0).dataSync());
      assert.ok(moved.some((v, i) => Math.abs(v - e0[i]) > 1e-6), 'fc0.Wzu gates the first FC layer');
      mid.dispose();
    } finally {
      tf.dispose([x, y0, y1]);
      m.dispose();
    }
  });
});
