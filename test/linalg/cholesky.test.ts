/**
 * Dense float64 Cholesky and triangular solves (src/linalg/cholesky.ts), used by the bundle entropy dual solver
 * (`../shared/icnn-paper.md` §3.4): residuals on random SPD matrices up to n = 200, and the documented behaviour on
 * singular PSD, indefinite and non-finite matrices.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  choleskyInPlace,
  choleskyRegularized,
  choleskySolve,
  solveLowerInPlace,
  solveLowerTransposeInPlace,
} from '../../src/linalg/cholesky.js';
import { IcnnError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/random.js';

function matVec(a: Float64Array, n: number, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
    out[i] = s;
  }
  return out;
}

function norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** Frobenius norm of an n×n matrix. */
function frob(a: Float64Array): number {
  return norm(a);
}

/** A = B Bᵀ + shift·I with B n×r Gaussian (r ≥ n and shift > 0 give SPD; r < n and shift 0 give rank r PSD). */
function gram(rng: Rng, n: number, r: number, shift = 0): Float64Array {
  const b = new Float64Array(n * r);
  for (let i = 0; i < n * r; i++) b[i] = rng.normal();
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < r; p++) s += b[i * r + p] * b[j * r + p];
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
    a[i * n + i] += shift;
  }
  return a;
}

/** Orthonormal n×n Q (columns) by modified Gram–Schmidt on a Gaussian matrix, re-orthogonalized twice. */
function orthogonal(rng: Rng, n: number): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) q[i] = rng.normal();
  for (let c = 0; c < n; c++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q[i * n + c] * q[i * n + p];
        for (let i = 0; i < n; i++) q[i * n + c] -= d * q[i * n + p];
      }
    }
    let nn = 0;
    for (let i = 0; i < n; i++) nn += q[i * n + c] ** 2;
    nn = Math.sqrt(nn);
    for (let i = 0; i < n; i++) q[i * n + c] /= nn;
  }
  return q;
}

describe('choleskyInPlace / choleskySolve on SPD matrices', () => {
  test('relative residual ≤ 1e-12 on random SPD matrices, n = 1..200', () => {
    const rng = new Rng(42);
    for (const n of [1, 2, 3, 5, 10, 30, 64, 100, 200]) {
      for (let rep = 0; rep < (n > 64 ? 1 : 3); rep++) {
        // Moderately conditioned (shift) and badly conditioned (r = n, no shift beyond 1e-3) cases.
        const a = gram(rng, n, n + 3, rep === 2 ? 1e-3 : 0.1 * n);
        const b = new Float64Array(n);
        for (let i = 0; i < n; i++) b[i] = rng.normal();
        const l = Float64Array.from(a);
        assert.equal(choleskyInPlace(l, n), true, `n=${n}: SPD matrix must factor`);
        const x = choleskySolve(l, n, b);
        const res = matVec(a, n, x);
        for (let i = 0; i < n; i++) res[i] -= b[i];
        const rel = norm(res) / (frob(a) * norm(x));
        assert.ok(rel <= 1e-12, `n=${n}: backward residual ${rel}`);
        // L Lᵀ reproduces A, and the strict upper triangle is zero.
        let err = 0;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p <= Math.min(i, j); p++) s += l[i * n + p] * l[j * n + p];
            err = Math.max(err, Math.abs(s - a[i * n + j]));
            if (j > i) assert.equal(l[i * n + j], 0);
          }
        }
        assert.ok(err <= 1e-12 * frob(a), `n=${n}: reconstruction error ${err}`);
      }
    }
  });

  test('triangular solves invert L and Lᵀ', () => {
    const rng = new Rng(3);
    const n = 17;
    const l = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) l[i * n + j] = rng.normal();
      l[i * n + i] = 1 + rng.uniform();
    }
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.normal();
    // b = L x, then solve.
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) b[i] += l[i * n + j] * x[j];
    solveLowerInPlace(l, n, b);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(b[i] - x[i]) <= 1e-12 * (1 + Math.abs(x[i])));
    // c = Lᵀ x, then solve.
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) c[i] += l[j * n + i] * x[j];
    solveLowerTransposeInPlace(l, n, c);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(c[i] - x[i]) <= 1e-12 * (1 + Math.abs(x[i])));
  });

  test('choleskySolve may write into its right-hand side', () => {
    const a = Float64Array.from([4, 2, 2, 3]);
    const l = Float64Array.from(a);
    assert.ok(choleskyInPlace(l, 2));
    const b = Float64Array.from([2, 1]);
    const x = choleskySolve(l, 2, b, b);
    assert.equal(x, b);
    const r = matVec(a, 2, x);
    assert.ok(Math.abs(r[0] - 2) < 1e-15 && Math.abs(r[1] - 1) < 1e-15);
  });
});

describe('singular, indefinite and non-finite matrices (documented behaviour)', () => {
  test('choleskyInPlace fails on exactly singular PSD matrices whose zero pivot is exact', () => {
    assert.equal(choleskyInPlace(Float64Array.from([1, 1, 1, 1]), 2), false);
    assert.equal(choleskyInPlace(new Float64Array(9), 3), false);
    assert.equal(choleskyInPlace(Float64Array.from([2, 0, 0, 0]), 2), false); // zero row
  });

  test('choleskyInPlace fails on indefinite matrices and on NaN', () => {
    assert.equal(choleskyInPlace(Float64Array.from([1, 2, 2, 1]), 2), false);
    assert.equal(choleskyInPlace(Float64Array.from([-1]), 1), false);
    assert.equal(choleskyInPlace(Float64Array.from([NaN]), 1), false);
  });

  test('minPivot rejects a rank-deficient Gram matrix whose zero pivot rounds to a tiny number', () => {
    const rng = new Rng(5);
    const n = 12;
    const a = gram(rng, n, 4); // rank 4
    let maxDiag = 0;
    for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, a[i * n + i]);
    assert.equal(choleskyInPlace(Float64Array.from(a), n, 1e-10 * maxDiag), false);
  });

  test('choleskyRegularized: no jitter for SPD input, identical factor', () => {
    const rng = new Rng(8);
    const n = 20;
    const a = gram(rng, n, n + 5, 1);
    const { l, jitter } = choleskyRegularized(a, n);
    assert.equal(jitter, 0);
    const l2 = Float64Array.from(a);
    assert.ok(choleskyInPlace(l2, n));
    assert.deepEqual(Array.from(l), Array.from(l2));
  });

  test('choleskyRegularized on singular PSD: small jitter, and for b ∈ range(A) the solution approaches A⁺b', () => {
    const rng = new Rng(11);
    for (const [n, rank] of [
      [2, 1],
      [6, 3],
      [25, 10],
      [40, 39],
    ] as const) {
      // A = Q diag(θ) Qᵀ with exactly `rank` nonzero eigenvalues in [1, 10].
      const q = orthogonal(rng, n);
      const theta = new Float64Array(n);
      for (let i = 0; i < rank; i++) theta[i] = 1 + 9 * rng.uniform();
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < n; p++) s += q[i * n + p] * theta[p] * q[j * n + p];
          a[i * n + j] = s;
        }
      }
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i] = (a[i * n + j] + a[j * n + i]) / 2;
      // b in range(A): b = Q c with c supported on the first `rank` eigenvectors; A⁺b = Q (c/θ).
      const c = new Float64Array(n);
      for (let i = 0; i < rank; i++) c[i] = rng.normal();
      const b = new Float64Array(n);
      const xPinv = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < rank; p++) {
          b[i] += q[i * n + p] * c[p];
          xPinv[i] += (q[i * n + p] * c[p]) / theta[p];
        }
      }
      let maxDiag = 0;
      for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, a[i * n + i]);
      // Default ladder (first shift 1e-14·s): factors with a tiny shift; the residual is small, but the null-space
      // component of x is rounding noise amplified by 1/δ, so x need not be near A⁺b.
      {
        const { l, jitter } = choleskyRegularized(a, n, { pivotTol: 1e-12 });
        assert.ok(jitter > 0, `n=${n}: a singular matrix needs a shift`);
        assert.ok(jitter <= 1e-10 * maxDiag, `n=${n}: shift ${jitter} larger than expected`);
        const x = choleskySolve(l, n, b);
        for (const v of x) assert.ok(Number.isFinite(v));
        const res = matVec(a, n, x);
        for (let i = 0; i < n; i++) res[i] -= b[i];
        assert.ok(norm(res) <= 1e-8 * (norm(b) + maxDiag * norm(x)), `n=${n}: residual ${norm(res)}`);
      }
      // A shift well above rounding (jitter0 = 1e-8): x = (A + δI)⁻¹b is within (δ/θ_min)‖A⁺b‖ + O(ε‖A‖‖b‖/δ)
      // of the pseudo-inverse solution (θ_min ≥ 1 here).
      {
        const { l, jitter } = choleskyRegularized(a, n, { pivotTol: 1e-12, jitter0: 1e-8 });
        assert.ok(jitter === 1e-8 * maxDiag, `n=${n}: expected the first shift, got ${jitter}`);
        const x = choleskySolve(l, n, b);
        let err = 0;
        for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(x[i] - xPinv[i]));
        const bound = 2 * jitter * norm(xPinv) + (1e3 * 2.2e-16 * maxDiag * n * norm(b)) / jitter;
        assert.ok(err <= bound, `n=${n}: ‖x − A⁺b‖∞ = ${err} > ${bound} (δ = ${jitter})`);
        assert.ok(err <= 1e-5 * norm(xPinv), `n=${n}: ‖x − A⁺b‖∞ = ${err}`);
      }
    }
  });

  test('choleskyRegularized on the zero matrix: jitter relative to 1, solution b/δ', () => {
    const { l, jitter } = choleskyRegularized(new Float64Array(4), 2);
    assert.equal(jitter, 1e-14);
    const x = choleskySolve(l, 2, [1e-14, 0]);
    assert.ok(Math.abs(x[0] - 1) < 1e-12 && x[1] === 0);
  });

  test('choleskyRegularized throws on clearly indefinite and non-finite matrices', () => {
    assert.throws(() => choleskyRegularized(Float64Array.from([1, 0, 0, -1]), 2), IcnnError);
    assert.throws(() => choleskyRegularized(Float64Array.from([1, NaN, NaN, 1]), 2), IcnnError);
    assert.throws(() => choleskyRegularized(Float64Array.from([Infinity]), 1), IcnnError);
  });
});
