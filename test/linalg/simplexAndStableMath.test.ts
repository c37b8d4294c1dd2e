/**
 * Euclidean projection onto the simplex and the stable scalar helpers (σ, softplus, softplus differences, binary
 * entropy) used by the bundle entropy dual solver (`../shared/icnn-paper.md` §3.4).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { projectSimplex } from '../../src/linalg/simplex.js';
import {
  binaryEntropy,
  binaryEntropyFromLogit,
  logistic,
  softplus,
  softplusDiff,
} from '../../src/linalg/stableMath.js';
import { IcnnError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/random.js';

/** Independent reference: τ by bisection on Σ max(v − τ, 0) = 1 (no sorting). */
function projectByBisection(v: ArrayLike<number>): Float64Array {
  let lo = -Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) hi = Math.max(hi, v[i]);
  lo = hi - 1; // Σ max(v − (max − 1), 0) ≥ 1
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    let s = 0;
    for (let i = 0; i < v.length; i++) s += Math.max(v[i] - mid, 0);
    if (s > 1) lo = mid;
    else hi = mid;
  }
  const tau = (lo + hi) / 2;
  return Float64Array.from(v, (x) => Math.max(x - tau, 0));
}

describe('projectSimplex', () => {
  test('matches the bisection reference and lands on the simplex', () => {
    const rng = new Rng(1);
    for (let rep = 0; rep < 500; rep++) {
      const k = 1 + rng.int(40);
      const scale = [1e-6, 1, 10, 1e6][rep % 4];
      const v = Float64Array.from({ length: k }, () => scale * rng.normal());
      const p = projectSimplex(v);
      const ref = projectByBisection(v);
      let sum = 0;
      for (let i = 0; i < k; i++) {
        assert.ok(p[i] >= 0);
        sum += p[i];
        assert.ok(Math.abs(p[i] - ref[i]) <= 1e-12 * Math.max(1, scale), `rep ${rep}: ${p[i]} vs ${ref[i]}`);
      }
      assert.ok(Math.abs(sum - 1) <= 1e-14 * k, `sum ${sum}`);
    }
  });

  test('is the closest point: no random simplex point is nearer', () => {
    const rng = new Rng(2);
    for (let rep = 0; rep < 100; rep++) {
      const k = 2 + rng.int(10);
      const v = Float64Array.from({ length: k }, () => 2 * rng.normal());
      const p = projectSimplex(v);
      let dp = 0;
      for (let i = 0; i < k; i++) dp += (v[i] - p[i]) ** 2;
      for (let t = 0; t < 50; t++) {
        const u = Float64Array.from({ length: k }, () => -Math.log(rng.uniform() + 1e-300));
        const su = u.reduce((x, y) => x + y, 0);
        let du = 0;
        for (let i = 0; i < k; i++) du += (v[i] - u[i] / su) ** 2;
        assert.ok(dp <= du + 1e-12);
      }
    }
  });

  test('fixes simplex points, handles ties, shifts and aliasing; rejects bad input', () => {
    const x = Float64Array.from([0.2, 0.3, 0.5]);
    assert.deepEqual(Array.from(projectSimplex(x)), [0.2, 0.3, 0.5]);
    assert.deepEqual(Array.from(projectSimplex([5, 5, 5, 5])), [0.25, 0.25, 0.25, 0.25]);
    assert.deepEqual(Array.from(projectSimplex([7])), [1]);
    const shifted = projectSimplex([1000.2, 1000.3, 1000.5]);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(shifted[i] - x[i]) < 1e-12);
    const y = Float64Array.from([3, -1, 0.5]);
    assert.equal(projectSimplex(y, y), y);
    assert.deepEqual(Array.from(y), [1, 0, 0]);
    assert.throws(() => projectSimplex([]), IcnnError);
    assert.throws(() => projectSimplex([1, NaN]), IcnnError);
    assert.throws(() => projectSimplex([1, 2], new Float64Array(3)), IcnnError);
  });
});

describe('stable scalar helpers', () => {
  test('logistic and softplus: finite at extremes, symmetric identities', () => {
    for (const x of [-1e308, -1000, -745, -40, -1, -1e-20, 0, 1e-20, 1, 40, 745, 1000, 1e308]) {
      const s = logistic(x);
      const sp = softplus(x);
      assert.ok(Number.isFinite(s) && s >= 0 && s <= 1, `σ(${x}) = ${s}`);
      assert.ok(Number.isFinite(sp) && sp >= 0, `softplus(${x}) = ${sp}`);
      assert.ok(Math.abs(s + logistic(-x) - 1) <= 1e-16);
      // softplus(x) − softplus(−x) = x.
      assert.ok(Math.abs(sp - softplus(-x) - x) <= 4e-16 * Math.max(1, Math.abs(x)));
    }
    assert.equal(logistic(0), 0.5);
    assert.equal(softplus(0), Math.LN2);
    assert.equal(softplus(-1000), 0);
    assert.equal(softplus(1000), 1000);
    // Tiny values keep relative accuracy: softplus(−50) = log1p(e^{−50}) ≈ e^{−50}.
    assert.ok(Math.abs(softplus(-50) / Math.exp(-50) - 1) < 1e-15);
    assert.ok(Math.abs(logistic(-50) / Math.exp(-50) - 1) < 1e-15);
  });

  test('softplusDiff keeps relative accuracy for tiny differences', () => {
    const rng = new Rng(4);
    for (let rep = 0; rep < 300; rep++) {
      const x = 20 * rng.normal();
      const delta = 10 ** (-15 + 14 * rng.uniform()) * (rng.uniform() < 0.5 ? -1 : 1);
      // Second-order Taylor reference: σ(x)δ + σ(x)σ(−x)δ²/2 + O(δ³).
      const s = logistic(x);
      const ref = s * delta + (s * logistic(-x) * delta * delta) / 2;
      const got = softplusDiff(x, delta);
      const tolAbs = Math.abs(delta) ** 3 + 1e-15 * Math.abs(ref);
      assert.ok(Math.abs(got - ref) <= tolAbs, `x=${x} δ=${delta}: ${got} vs ${ref}`);
    }
    // Large differences agree with the plain difference.
    for (const [x, d] of [
      [0, 5],
      [3, -40],
      [-30, 60],
      [800, -1600],
    ]) {
      assert.ok(Math.abs(softplusDiff(x, d) - (softplus(x + d) - softplus(x))) <= 1e-12 * Math.max(1, Math.abs(x)));
    }
    assert.equal(softplusDiff(3, 0), 0);
  });

  test('binary entropy: endpoints, maximum, the logit form', () => {
    assert.equal(binaryEntropy(0), 0);
    assert.equal(binaryEntropy(1), 0);
    assert.ok(Math.abs(binaryEntropy(0.5) - Math.LN2) < 1e-16);
    assert.ok(Number.isNaN(binaryEntropy(-0.1)) && Number.isNaN(binaryEntropy(1.5)));
    for (const a of [-30, -5, -1, -1e-9, 0, 1e-9, 1, 5, 30]) {
      const y = logistic(-a);
      assert.ok(Math.abs(binaryEntropyFromLogit(a) - binaryEntropy(y)) < 1e-14, `a=${a}`);
      assert.equal(binaryEntropyFromLogit(a), binaryEntropyFromLogit(-a));
    }
    // Where y rounds to 1 the logit form still gives the (tiny, positive) entropy ≈ (|a| + 1)e^{−|a|}.
    for (const a of [-40, -100, -700]) {
      const hval = binaryEntropyFromLogit(a);
      const approx = (Math.abs(a) + 1) * Math.exp(-Math.abs(a));
      assert.ok(Math.abs(hval / approx - 1) < 1e-12, `a=${a}: ${hval} vs ${approx}`);
    }
    assert.equal(binaryEntropyFromLogit(1e6), 0);
  });
});
