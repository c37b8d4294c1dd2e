/** §5.1 toy sets: shapes, seeding, exact geometry without noise, noise moments, the paper's label flip. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCircles, makeLinear, makeMoons, makeSynthetic } from '../../src/data/synthetic.js';

function moments(v: ArrayLike<number>, stride: number, offset: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let i = offset; i < v.length; i += stride) {
    s += v[i];
    s2 += v[i] * v[i];
    n++;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

const count = (y: Float32Array, label: number): number => y.reduce((a, v) => a + (v === label ? 1 : 0), 0);

test('defaults: 100 points, x n×2, balanced 0/1 labels, deterministic per seed', () => {
  for (const make of [makeMoons, makeCircles, makeLinear]) {
    const d = make();
    assert.equal(d.n, 100);
    assert.equal(d.x.length, 200);
    assert.equal(d.y.length, 100);
    assert.ok(d.x instanceof Float32Array && d.y instanceof Float32Array);
    assert.ok(d.y.every((v) => v === 0 || v === 1));
    assert.ok(d.x.every(Number.isFinite));
    assert.deepEqual(make({ seed: 3 }), make({ seed: 3 }));
    assert.notDeepEqual(make({ seed: 3 }).x, make({ seed: 4 }).x);
  }
  // n // 2 points on the first curve (moons: upper, label 0; circles: outer, label 1 after the flip), the rest on the other.
  assert.deepEqual([count(makeMoons({ n: 101 }).y, 0), count(makeMoons({ n: 101 }).y, 1)], [50, 51]);
  assert.deepEqual([count(makeCircles({ n: 101 }).y, 1), count(makeCircles({ n: 101 }).y, 0)], [50, 51]);
});

test('moons without noise lie on the two half circles; the points are shuffled', () => {
  const d = makeMoons({ n: 200, noise: 0, seed: 1 });
  for (let i = 0; i < d.n; i++) {
    const [a, b] = [d.x[2 * i], d.x[2 * i + 1]];
    if (d.y[i] === 0) {
      assert.ok(Math.abs(a * a + b * b - 1) < 1e-6 && b >= -1e-7, `upper moon point ${a},${b}`);
    } else {
      assert.ok(Math.abs((a - 1) ** 2 + (b - 0.5) ** 2 - 1) < 1e-6 && b <= 0.5 + 1e-7, `lower moon point ${a},${b}`);
    }
  }
  // Not sorted by label.
  assert.notDeepEqual(Array.from(d.y.slice(0, 100)), new Array(100).fill(0));
  // Endpoints included, as numpy.linspace(0, pi, n): (1, 0) and (-1, 0) are on the upper moon.
  const upper = Array.from({ length: d.n }, (_, i) => i).filter((i) => d.y[i] === 0);
  assert.ok(upper.some((i) => Math.abs(d.x[2 * i] - 1) < 1e-6) && upper.some((i) => Math.abs(d.x[2 * i] + 1) < 1e-6));
});

test('circles without noise: the paper flips labels (outer radius 1 → 1, inner radius factor → 0)', () => {
  const d = makeCircles({ n: 300, noise: 0, factor: 0.5, seed: 2 });
  for (let i = 0; i < d.n; i++) {
    const r = Math.hypot(d.x[2 * i], d.x[2 * i + 1]);
    assert.ok(Math.abs(r - (d.y[i] === 1 ? 1 : 0.5)) < 1e-6, `label ${d.y[i]} at radius ${r}`);
  }
  const sk = makeCircles({ n: 300, noise: 0, factor: 0.3, seed: 2, flipLabels: false });
  for (let i = 0; i < sk.n; i++) {
    const r = Math.hypot(sk.x[2 * i], sk.x[2 * i + 1]);
    assert.ok(Math.abs(r - (sk.y[i] === 0 ? 1 : 0.3)) < 1e-6);
  }
});

test('Gaussian noise adds noise² to the variance of each coordinate, and nothing to the mean', () => {
  const n = 40_000;
  for (const [make, noise] of [
    [makeMoons, 0.3],
    [makeCircles, 0.2],
  ] as const) {
    const clean = make({ n, noise: 0, seed: 5 });
    const noisy = make({ n, noise, seed: 6 });
    for (const axis of [0, 1]) {
      const a = moments(clean.x, 2, axis);
      const b = moments(noisy.x, 2, axis);
      assert.ok(Math.abs(b.mean - a.mean) < 0.01, `mean ${b.mean} vs ${a.mean}`);
      assert.ok(Math.abs(b.variance - a.variance - noise * noise) < 0.01, `variance ${b.variance} - ${a.variance} vs ${noise * noise}`);
    }
  }
  // Moons: mean (0.5, 0.25) analytically.
  const m = makeMoons({ n, noise: 0.3, seed: 7 });
  assert.ok(Math.abs(moments(m.x, 2, 0).mean - 0.5) < 0.01);
  assert.ok(Math.abs(moments(m.x, 2, 1).mean - 0.25) < 0.01);
});

test('linear: one cluster per class at distinct vertices of {-1,1}², shifted by the U(0,2) noise mean', () => {
  const n = 20_000;
  for (const seed of [0, 1, 2, 3]) {
    const d = makeLinear({ n, seed, flipY: 0, uniformNoise: 0 });
    assert.equal(count(d.y, 0), n / 2);
    const centers = [0, 1].map((label) => {
      const idx = Array.from({ length: n }, (_, i) => i).filter((i) => d.y[i] === label);
      return [0, 1].map((axis) => idx.reduce((a, i) => a + d.x[2 * i + axis], 0) / idx.length);
    });
    for (const c of centers) for (const v of c) assert.ok(Math.abs(Math.abs(v) - 1) < 0.03, `center coordinate ${v}`);
    assert.ok(Math.hypot(centers[0][0] - centers[1][0], centers[0][1] - centers[1][1]) > 1.9, 'distinct vertices');
    const shifted = makeLinear({ n, seed, flipY: 0 });
    // Same clusters (same stream up to the noise), every coordinate moved by a U(0,2) draw: mean shift 1.
    assert.ok(Math.abs(moments(shifted.x, 2, 0).mean - moments(d.x, 2, 0).mean - 1) < 0.03);
  }
  // Label noise: flipY = 1 re-draws every label at random, so the classes stay about balanced.
  const f = makeLinear({ n, flipY: 1, seed: 9 });
  assert.ok(Math.abs(count(f.y, 1) / n - 0.5) < 0.02);
});

test('makeSynthetic picks the paper set by name; bad options are refused with a clear message', () => {
  assert.deepEqual(makeSynthetic('moons', { seed: 1 }), makeMoons({ seed: 1 }));
  assert.deepEqual(makeSynthetic('circles', { seed: 1 }), makeCircles({ seed: 1 }));
  assert.deepEqual(makeSynthetic('linear', { seed: 1 }), makeLinear({ seed: 1 }));
  assert.throws(() => makeSynthetic('spirals' as never), /one of 'moons', 'circles', 'linear'/);
  assert.throws(() => makeMoons({ n: 0 }), /makeMoons: n must be a positive integer/);
  assert.throws(() => makeMoons({ noise: -1 }), /noise must be a finite number ≥ 0/);
  assert.throws(() => makeCircles({ factor: 1 }), /factor must be a finite number in \[0, 1\)/);
  assert.throws(() => makeLinear({ flipY: 2 }), /flipY must be a finite number in \[0, 1\]/);
  assert.throws(() => makeMoons({ samples: 5 } as never), /unknown option 'samples'/);
  assert.throws(() => makeMoons({ seed: NaN }), /seed must be a finite number within float32 range, got NaN/);
});
