/**
 * Shared helpers of the bundle entropy dual tests (not a test file itself): random bundles and the one-dimensional
 * searches (grid, then golden section) behind their brute-force primal references.
 */
import { Rng } from '../../src/util/random.js';

export interface Bundle {
  G: Float64Array;
  h: Float64Array;
  k: number;
  n: number;
}

export function randomBundle(rng: Rng, k: number, n: number, gScale = 1, hScale = 1): Bundle {
  const G = new Float64Array(k * n);
  const h = new Float64Array(k);
  for (let i = 0; i < k * n; i++) G[i] = gScale * rng.normal();
  for (let i = 0; i < k; i++) h[i] = hScale * rng.normal();
  return { G, h, k, n };
}

/** The final bracket [a, b] and inner points c < d (with their values) of `iters` golden-section steps on [lo, hi]. */
export function goldenBracket(
  f: (x: number) => number,
  lo: number,
  hi: number,
  iters: number,
): { a: number; b: number; c: number; d: number; fc: number; fd: number } {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let it = 0; it < iters; it++) {
    if (fc <= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return { a, b, c, d, fc, fd };
}

/**
 * Grid search on [lo, hi] (grid + 1 points), then `golden` on the bracket around the best grid point; returns the
 * better of the two.
 */
export function gridThenGolden(
  f: (x: number) => number,
  lo: number,
  hi: number,
  grid: number,
  iters: number,
  golden: (f: (x: number) => number, lo: number, hi: number, iters: number) => { x: number; f: number },
): { x: number; f: number } {
  let bi = 0;
  let bf = Infinity;
  for (let i = 0; i <= grid; i++) {
    const v = f(lo + ((hi - lo) * i) / grid);
    if (v < bf) {
      bf = v;
      bi = i;
    }
  }
  const r = golden(f, lo + ((hi - lo) * Math.max(0, bi - 1)) / grid, lo + ((hi - lo) * Math.min(grid, bi + 1)) / grid, iters);
  return r.f < bf ? r : { x: lo + ((hi - lo) * bi) / grid, f: bf };
}
