/**
 * Small dense float64 Cholesky factorization and triangular solves (row-major n×n Float64Array), for the Newton
 * systems of the bundle entropy dual solver (`../shared/icnn-paper.md` §3.4) and the argmin-gradient systems of §4.3.
 *
 * Behaviour on singular or nearly singular symmetric positive semidefinite (PSD) matrices:
 * - `choleskyInPlace` does no regularization. It fails (returns false) as soon as a pivot is not strictly greater than
 *   `minPivot` (default 0) or not finite. On an exactly singular PSD matrix whose zero pivot is computed exactly
 *   (e.g. a zero row, or [[1,1],[1,1]]) it fails; when rounding makes the would-be-zero pivot a tiny positive number it
 *   "succeeds" with that pivot, and solves with the factor are then dominated by rounding. Pass a relative `minPivot`
 *   (e.g. 1e-14·max diag) to reject such factors.
 * - `choleskyRegularized` first tries A itself with pivots required to exceed `pivotTol·s` (s = largest |diagonal|,
 *   or 1 for a zero diagonal), then A + δI with δ = jitter0·s, growing by ×10 each retry, up to maxJitter·s. It
 *   returns the factor of A + δI and δ. For a singular PSD A and a right-hand side b in range(A), the solution of
 *   (A + δI)x = b tends to the minimum-norm (pseudo-inverse) solution A⁺b as δ → 0 in exact arithmetic, and
 *   ‖A x − b‖ ≤ δ‖x‖. In floating point the null-space part of x is rounding noise (≈ ε‖A‖‖b‖) amplified by 1/δ, so
 *   x is near A⁺b only for δ ≫ ε‖A‖ (e.g. jitter0 = 1e-8: error ≈ 1e-8‖A⁺b‖ + 1e-8‖b‖); with the default tiny first
 *   shift the residual is small but x may carry a large null-space component.
 *   It throws when A has non-finite entries or when even the largest shift fails (A is then far from PSD).
 */
import { fail } from '../util/errors.js';

/**
 * Overwrites the lower triangle of the symmetric matrix `a` (row-major n×n; only the lower triangle is read) with
 * its Cholesky factor L (A = L Lᵀ) and zeroes the strict upper triangle. Returns false, leaving `a` partly
 * overwritten, when a pivot is ≤ minPivot or not finite.
 */
export function choleskyInPlace(a: Float64Array, n: number, minPivot = 0): boolean {
  if (a.length < n * n) fail(`choleskyInPlace: matrix has ${a.length} entries, expected ${n * n}`);
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j];
    for (let p = 0; p < j; p++) d -= a[rowJ + p] * a[rowJ + p];
    if (!(d > minPivot) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let p = 0; p < j; p++) s -= a[rowI + p] * a[rowJ + p];
      a[rowI + j] = s / ljj;
    }
    for (let i = 0; i < j; i++) a[i * n + j] = 0;
  }
  return true;
}

/** Solves L x = b in place (L lower triangular, row-major n×n). */
export function solveLowerInPlace(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = b[i];
    for (let p = 0; p < i; p++) s -= l[row + p] * b[p];
    b[i] = s / l[row + i];
  }
  return b;
}

/** Solves Lᵀ x = b in place (L lower triangular, row-major n×n). */
export function solveLowerTransposeInPlace(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let p = i + 1; p < n; p++) s -= l[p * n + i] * b[p];
    b[i] = s / l[i * n + i];
  }
  return b;
}

/** Solves (L Lᵀ) x = b given the Cholesky factor L; returns a new array unless `out` is given (may alias b). */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>, out?: Float64Array): Float64Array {
  const x = out ?? new Float64Array(n);
  if (x !== b) for (let i = 0; i < n; i++) x[i] = b[i];
  solveLowerInPlace(l, n, x);
  solveLowerTransposeInPlace(l, n, x);
  return x;
}

export interface RegularizedCholeskyOptions {
  /** Pivots of the unshifted attempt must exceed pivotTol·s (default 0: any positive pivot). */
  pivotTol?: number;
  /** First relative shift, δ = jitter0·s (default 1e-14). */
  jitter0?: number;
  /** Largest relative shift tried before giving up (default 1e-2). */
  maxJitter?: number;
}

export interface RegularizedCholesky {
  /** Lower factor of A + jitter·I (row-major n×n). */
  l: Float64Array;
  /** The absolute diagonal shift that was needed (0 when A itself factored). */
  jitter: number;
}

/** Cholesky of a symmetric (near-)PSD matrix, adding the smallest δI from a geometric ladder needed to factor it. */
export function choleskyRegularized(
  a: Float64Array,
  n: number,
  opts: RegularizedCholeskyOptions = {},
): RegularizedCholesky {
  const pivotTol = opts.pivotTol ?? 0;
  const jitter0 = opts.jitter0 ?? 1e-14;
  const maxJitter = opts.maxJitter ?? 1e-2;
  if (a.length < n * n) fail(`choleskyRegularized: matrix has ${a.length} entries, expected ${n * n}`);
  let s = 0;
  for (let i = 0; i < n * n; i++) if (!Number.isFinite(a[i])) fail(`choleskyRegularized: entry ${i} is ${a[i]}`);
  for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(a[i * n + i]));
  if (s === 0) s = 1;
  const l = new Float64Array(n * n);
  let jitter = 0;
  let rel = 0;
  for (;;) {
    l.set(a.subarray(0, n * n));
    if (jitter > 0) for (let i = 0; i < n; i++) l[i * n + i] += jitter;
    if (choleskyInPlace(l, n, jitter > 0 ? 0 : pivotTol * s)) return { l, jitter };
    rel = rel === 0 ? jitter0 : rel * 10;
    if (rel > maxJitter * (1 + 1e-12)) {
      fail(`choleskyRegularized: matrix is not positive semidefinite (failed with shift ${maxJitter}·${s})`);
    }
    jitter = rel * s;
  }
}
