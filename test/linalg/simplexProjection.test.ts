/**
 * Euclidean projection onto the simplex {λ ≥ 0, Σλ = r}, used by the entropy dual solvers (`../shared/icnn-paper.md`
 * §3.4) and the simplex domain.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { projectOntoSimplex } from '../../src/linalg/simplexProjection.js';
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

describe('projectOntoSimplex', () => {
  test('matches the bisection reference and lands on the simplex', () => {
    const rng = new Rng(1);
    for (let rep = 0; rep < 500; rep++) {
      const k = 1 + rng.int(40);
      const scale = [1e-6, 1, 10, 1e6][rep % 4];
      const v = Float64Array.from({ length: k }, () => scale * rng.normal());
      const p = projectOntoSimplex(v);
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
      const p = projectOntoSimplex(v);
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
    assert.deepEqual(Array.from(projectOntoSimplex(x)), [0.2, 0.3, 0.5]);
    assert.deepEqual(Array.from(projectOntoSimplex([5, 5, 5, 5])), [0.25, 0.25, 0.25, 0.25]);
    assert.deepEqual(Array.from(projectOntoSimplex([7])), [1]);
    const shifted = projectOntoSimplex([1000.2, 1000.3, 1000.5]);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(shifted[i] - x[i]) < 1e-12);
    const y = Float64Array.from([3, -1, 0.5]);
    assert.equal(projectOntoSimplex(y, y), y);
    assert.deepEqual(Array.from(y), [1, 0, 0]);
    assert.throws(() => projectOntoSimplex([]), IcnnError);
    assert.throws(() => projectOntoSimplex([1, NaN]), IcnnError);
    assert.throws(() => projectOntoSimplex([1, 2], new Float64Array(3)), IcnnError);
  });
});
