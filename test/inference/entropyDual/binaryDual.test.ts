/**
 * The bundle entropy subproblem solver (src/inference/entropyDual/binaryDual.ts; `../shared/icnn-paper.md` §3.4):
 *   min_{y∈(0,1)ⁿ, t} t − H(y)  s.t.  G y + h ≤ t·1,   via the simplex dual min_λ F(λ).
 * Checked against: the closed form for one cut; brute force (grid + golden section) on the primal for n = 1, 2; an
 * independent accelerated projected-gradient solver of the dual (own projection by bisection) for larger n; weak
 * duality, which makes primalValue − dualValue ≥ 0 a certificate; and degenerate bundles.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dualObjective,
  kktResidual,
  kktScale,
  primalObjective,
  solveBundleEntropyDual,
  type BundleEntropyDualResult,
} from '../../../src/inference/entropyDual/binaryDual.js';
import { binaryEntropySum as entropy, logistic } from '../../../src/inference/entropyDual/numerics.js';
import { IcnnError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/random.js';
import { goldenBracket, gridThenGolden, randomBundle, type Bundle } from '../../helpers/dual.js';

/** Independent primal objective max_i(g_iᵀy + h_i) − H(y) (plain formulas, no shared helpers). */
function primal(b: Bundle, y: ArrayLike<number>): number {
  let t = -Infinity;
  for (let i = 0; i < b.k; i++) {
    let s = b.h[i];
    for (let j = 0; j < b.n; j++) s += b.G[i * b.n + j] * y[j];
    t = Math.max(t, s);
  }
  let hy = 0;
  for (let j = 0; j < b.n; j++) {
    const v = y[j];
    if (v > 0) hy -= v * Math.log(v);
    if (v < 1) hy -= (1 - v) * Math.log(1 - v);
  }
  return t - hy;
}

/** Golden-section minimization of a convex (unimodal) function on [lo, hi]. */
function golden(f: (x: number) => number, lo: number, hi: number, iters = 90): { x: number; f: number } {
  const { a, b, c, d, fc, fd } = goldenBracket(f, lo, hi, iters);
  const x = (a + b) / 2;
  const fx = f(x);
  const best = [
    { x, f: fx },
    { x: c, f: fc },
    { x: d, f: fd },
  ].sort((p, q) => p.f - q.f)[0];
  return best;
}

/** Grid search then golden section on the bracket around the best grid point (1-D convex function on [0,1]). */
function minimize1d(f: (x: number) => number, grid = 400, iters = 90): { x: number; f: number } {
  return gridThenGolden(f, 0, 1, grid, iters, golden);
}

/** Reference minimum of the primal for n = 1 or 2 (nested minimization: partial minima of a convex function). */
function bruteForcePrimal(b: Bundle): number {
  if (b.n === 1) return minimize1d((x) => primal(b, [x]), 2000).f;
  if (b.n === 2) return minimize1d((x1) => minimize1d((x2) => primal(b, [x1, x2]), 60, 70).f, 60, 70).f;
  throw new Error('n must be 1 or 2');
}

/** Simplex projection by bisection on τ (independent of the library's sort-based one). */
function projectBisect(v: Float64Array): Float64Array {
  let hi = -Infinity;
  for (const x of v) hi = Math.max(hi, x);
  let lo = hi - 1;
  for (let it = 0; it < 120; it++) {
    const mid = (lo + hi) / 2;
    let s = 0;
    for (const x of v) s += Math.max(x - mid, 0);
    if (s > 1) lo = mid;
    else hi = mid;
  }
  const tau = (lo + hi) / 2;
  const out = Float64Array.from(v, (x) => Math.max(x - tau, 0));
  const s = out.reduce((p, q) => p + q, 0);
  for (let i = 0; i < out.length; i++) out[i] /= s;
  return out;
}

/** Plain dual objective and gradient, F(λ) = −hᵀλ + Σ log(1 + exp(−(Gᵀλ)_j)), ∇F = −(h + G σ(−Gᵀλ)). */
function dualFG(b: Bundle, lam: Float64Array, grad: Float64Array): number {
  let f = 0;
  const y = new Float64Array(b.n);
  for (let j = 0; j < b.n; j++) {
    let a = 0;
    for (let i = 0; i < b.k; i++) a += lam[i] * b.G[i * b.n + j];
    f += a < 0 ? -a + Math.log1p(Math.exp(a)) : Math.log1p(Math.exp(-a));
    y[j] = 1 / (1 + Math.exp(a));
  }
  for (let i = 0; i < b.k; i++) {
    let s = b.h[i];
    for (let j = 0; j < b.n; j++) s += b.G[i * b.n + j] * y[j];
    grad[i] = -s;
    f -= b.h[i] * lam[i];
  }
  return f;
}

/**
 * Independent reference for the dual: FISTA (accelerated projected gradient) with backtracking on the Lipschitz
 * estimate and function-value restarts, on the simplex with the bisection projection. Returns the best F found.
 */
function fistaDual(b: Bundle, iters: number): number {
  const k = b.k;
  let x: Float64Array = new Float64Array(k).fill(1 / k);
  let z: Float64Array = Float64Array.from(x);
  let tk = 1;
  let L = 1;
  const g = new Float64Array(k);
  const gx = new Float64Array(k);
  let fx = dualFG(b, x, gx);
  let best = fx;
  for (let it = 0; it < iters; it++) {
    const fz = dualFG(b, z, g);
    let xn: Float64Array;
    let fn: number;
    for (;;) {
      xn = projectBisect(Float64Array.from(z, (v, i) => v - g[i] / L));
      fn = dualFG(b, xn, gx);
      let lin = 0;
      let sq = 0;
      for (let i = 0; i < k; i++) {
        const d = xn[i] - z[i];
        lin += g[i] * d;
        sq += d * d;
      }
      if (fn <= fz + lin + (L / 2) * sq + 1e-15 * Math.abs(fz)) break;
      L *= 2;
    }
    L *= 0.9;
    best = Math.min(best, fn);
    if (fn > fx) {
      // Restart momentum.
      tk = 1;
      z = Float64Array.from(x);
      continue;
    }
    const tn = (1 + Math.sqrt(1 + 4 * tk * tk)) / 2;
    z = Float64Array.from(xn, (v, i) => v + ((tk - 1) / tn) * (v - x[i]));
    x = xn;
    fx = fn;
    tk = tn;
  }
  return best;
}

/**
 * The invariants every result must satisfy. The duality gap is checked relative to 1 + |value|, or, with
 * `gapRelativeToData`, relative to 1 + |value| + kktScale + max|h|: for cuts of size 1e6 the value can be a small
 * difference of 1e7-sized cut values, and then the gap is limited by the resolution of λ itself (ulp(λ) ≈ 1e-17
 * times a Hessian of order kktScale² ≈ 1e13 gives ≈ 1e-4 in the cut values), not by the solver.
 */
function checkResult(b: Bundle, res: BundleEntropyDualResult, label: string, gapRelativeToData = false): void {
  const kktTol = 1e-8;
  const { k, n } = b;
  for (const v of [res.t, res.primalValue, res.dualValue, res.dualityGap, res.kktResidual, res.kktResidualAbs]) {
    assert.ok(Number.isFinite(v), `${label}: non-finite scalar in result`);
  }
  assert.equal(res.lambda.length, k);
  assert.equal(res.y.length, n);
  let sum = 0;
  for (const l of res.lambda) {
    assert.ok(Number.isFinite(l) && l >= -1e-15, `${label}: λ entry ${l}`);
    sum += l;
  }
  assert.ok(Math.abs(sum - 1) <= 1e-12, `${label}: Σλ = ${sum}`);
  for (const v of res.y) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${label}: y entry ${v}`);
  // y is the dual's primal recovery σ(−Gᵀλ).
  for (let j = 0; j < n; j++) {
    let a = 0;
    for (let i = 0; i < k; i++) a += res.lambda[i] * b.G[i * n + j];
    assert.ok(Math.abs(res.y[j] - logistic(-a)) <= 1e-15, `${label}: y ≠ σ(−Gᵀλ)`);
  }
  // Primal feasibility: t ≥ every cut at y, and t is attained.
  let cmax = -Infinity;
  for (let i = 0; i < k; i++) {
    let s = b.h[i];
    for (let j = 0; j < n; j++) s += b.G[i * n + j] * res.y[j];
    cmax = Math.max(cmax, s);
  }
  const tScale = 1 + Math.abs(cmax);
  assert.ok(cmax <= res.t + 1e-8 * tScale, `${label}: cut value ${cmax} above t = ${res.t}`);
  assert.ok(Math.abs(cmax - res.t) <= 1e-12 * tScale, `${label}: t is not the largest cut value`);
  // KKT: the reported relative residual, recomputed independently of the solver loop.
  assert.ok(res.converged, `${label}: not converged (r = ${res.kktResidual}, ${res.iterations} its)`);
  assert.ok(res.kktResidual < kktTol, `${label}: KKT residual ${res.kktResidual}`);
  const again = kktResidual(b.G, b.h, k, n, res.lambda, kktScale(b.G, k, n));
  assert.ok(Math.abs(again - res.kktResidual) <= 1e-15, `${label}: kktResidual() disagrees`);
  // Strong duality, and the primal value is the primal objective at y.
  const hAbs = b.h.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const scale = 1 + Math.abs(res.primalValue) + (gapRelativeToData ? res.kktScale + hAbs : 0);
  assert.ok(res.dualityGap >= 0, `${label}: negative gap`);
  assert.ok(res.primalValue - res.dualValue >= -1e-12 * scale, `${label}: weak duality violated`);
  assert.ok(Math.abs(res.primalValue - res.dualValue) < 1e-6 * scale, `${label}: gap ${res.primalValue - res.dualValue}`);
  assert.ok(Math.abs(res.primalValue - res.dualValue - res.dualityGap) <= 1e-9 * scale, `${label}: gap mismatch`);
  assert.ok(Math.abs(primal(b, res.y) - res.primalValue) <= 1e-10 * scale, `${label}: primalValue ≠ P(y)`);
  assert.ok(Math.abs(-dualObjective(b.G, b.h, k, n, res.lambda) - res.dualValue) <= 1e-10 * scale, `${label}: dual`);
}

describe('one cut (k = 1): closed form', () => {
  test('λ = 1, y = σ(−g) exactly, value h − Σ log(1 + e^{−g_j})', () => {
    const rng = new Rng(10);
    for (let rep = 0; rep < 50; rep++) {
      const n = 1 + rng.int(30);
      const b = randomBundle(rng, 1, n, [0.1, 1, 10, 100][rep % 4]);
      const res = solveBundleEntropyDual(b.G, b.h, 1, n);
      assert.deepEqual(Array.from(res.lambda), [1]);
      assert.equal(res.iterations, 0);
      assert.equal(res.kktResidual, 0);
      let value = b.h[0];
      for (let j = 0; j < n; j++) {
        const g = b.G[j];
        assert.equal(res.y[j], logistic(-g), 'y must be σ(−g) exactly');
        // Independent formula of the paper's closed form argmin_y cᵀy − H(y) = 1/(1 + exp(c)).
        assert.ok(Math.abs(res.y[j] - 1 / (1 + Math.exp(g))) <= 4e-16 * Math.max(res.y[j], 1e-300) + 1e-300);
        value -= Math.log1p(Math.exp(-g)) + (g < -30 ? 0 : 0);
      }
      const scale = 1 + Math.abs(value);
      assert.ok(Math.abs(res.primalValue - value) <= 1e-12 * scale, `primal ${res.primalValue} vs ${value}`);
      assert.ok(Math.abs(res.dualValue - value) <= 1e-12 * scale, `dual ${res.dualValue} vs ${value}`);
      checkResult(b, res, `k=1 rep ${rep}`);
      // y is a strict local minimizer of gᵀy − H(y): coordinate perturbations increase the objective.
      for (let j = 0; j < Math.min(n, 3); j++) {
        for (const e of [-1e-4, 1e-4]) {
          const yp = Float64Array.from(res.y);
          yp[j] = Math.min(1 - 1e-12, Math.max(1e-12, yp[j] + e));
          assert.ok(primal(b, yp) >= res.primalValue - 1e-13, 'perturbation decreased the objective');
        }
      }
    }
  });

  test('the closed form for a linear objective: argmin_y cᵀy − H(y) = σ(−c) (paper §3.4)', () => {
    // With G = cᵀ (one cut, h = 0) the subproblem is min_y cᵀy − H(y).
    const c = Float64Array.from([-3, -0.5, 0, 0.25, 2, 7]);
    const res = solveBundleEntropyDual(c, [0], 1, c.length);
    for (let j = 0; j < c.length; j++) assert.ok(Math.abs(res.y[j] - 1 / (1 + Math.exp(c[j]))) < 1e-16);
    const grid = minimize1d((x) => c[1] * x - (-(x * Math.log(x)) - (1 - x) * Math.log(1 - x)), 4000);
    assert.ok(Math.abs(grid.x - res.y[1]) < 1e-7);
  });
});

describe('random bundles', () => {
  test('k = 2..30, n = 1..50: KKT < 1e-8, on the simplex, strong duality, feasibility', () => {
    const rng = new Rng(20);
    let worstR = 0;
    let worstIt = 0;
    for (let rep = 0; rep < 400; rep++) {
      const k = 2 + rng.int(29);
      const n = 1 + rng.int(50);
      const b = randomBundle(rng, k, n, rep % 3 === 0 ? 3 : 1, rep % 5 === 0 ? 5 : 1);
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      checkResult(b, res, `rep ${rep} (k=${k}, n=${n})`);
      // Absolute residual (scale 1) too: s = max‖g_i‖₁ ≤ 600 here, and Newton's last step lands far below tol.
      assert.ok(res.kktResidualAbs < 1e-8 * res.kktScale, `rep ${rep}: absolute residual ${res.kktResidualAbs}`);
      worstR = Math.max(worstR, res.kktResidual);
      worstIt = Math.max(worstIt, res.iterations);
    }
    assert.ok(worstIt <= 40, `iterations grew to ${worstIt}`);
    assert.ok(worstR <= 1e-10);
  });

  test('the dual value is a lower bound for any λ on the simplex; λ* maximizes it', () => {
    const rng = new Rng(21);
    for (let rep = 0; rep < 40; rep++) {
      const k = 2 + rng.int(10);
      const n = 1 + rng.int(10);
      const b = randomBundle(rng, k, n);
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      for (let t = 0; t < 20; t++) {
        const u = Float64Array.from({ length: k }, () => -Math.log(rng.uniform() + 1e-300));
        const su = u.reduce((p, q) => p + q, 0);
        for (let i = 0; i < k; i++) u[i] /= su;
        const d = -dualObjective(b.G, b.h, k, n, u);
        assert.ok(d <= res.primalValue + 1e-12, 'weak duality');
        assert.ok(d <= res.dualValue + 1e-12, 'λ* is not the dual maximizer');
      }
    }
  });
});

describe('optimality against independent references', () => {
  test('n = 1 and n = 2: brute force on the primal (grid + golden section)', () => {
    const rng = new Rng(30);
    for (let rep = 0; rep < 24; rep++) {
      const n = rep % 2 === 0 ? 1 : 2;
      const k = 2 + rng.int(7);
      const b = randomBundle(rng, k, n, rep % 3 === 0 ? 4 : 1);
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      checkResult(b, res, `rep ${rep}`);
      const ref = bruteForcePrimal(b);
      assert.ok(res.primalValue <= ref + 1e-7, `rep ${rep}: primal ${res.primalValue} above reference ${ref}`);
      assert.ok(res.primalValue >= ref - 1e-6, `rep ${rep}: primal ${res.primalValue} below reference ${ref}`);
      // The dual value is certified: it cannot exceed any primal value, the reference's included.
      assert.ok(res.dualValue <= ref + 1e-12, `rep ${rep}: dual bound ${res.dualValue} above ${ref}`);
    }
  });

  test('larger n: dual values agree with accelerated projected gradient within 1e-7', () => {
    const rng = new Rng(31);
    for (let rep = 0; rep < 10; rep++) {
      const k = 2 + rng.int(9);
      const n = 3 + rng.int(20);
      const b = randomBundle(rng, k, n);
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      checkResult(b, res, `rep ${rep}`);
      const fRef = fistaDual(b, 4000);
      // The solver minimizes F, so its dual value −F is at least the reference's, and they agree.
      assert.ok(res.dualValue >= -fRef - 1e-9, `rep ${rep}: solver dual ${res.dualValue} below reference ${-fRef}`);
      assert.ok(Math.abs(res.dualValue + fRef) < 1e-7, `rep ${rep}: ${res.dualValue} vs ${-fRef}`);
    }
  });
});

describe('degenerate bundles', () => {
  test('duplicate cuts (twice, ten times) give the solution of the deduplicated bundle', () => {
    const rng = new Rng(40);
    for (let rep = 0; rep < 30; rep++) {
      const k = 2 + rng.int(8);
      const n = 1 + rng.int(15);
      const base = randomBundle(rng, k, n);
      const copies = rep % 2 === 0 ? 1 : 9;
      const src = rng.int(k);
      const G = new Float64Array((k + copies) * n);
      const h = new Float64Array(k + copies);
      G.set(base.G);
      h.set(base.h);
      for (let c = 0; c < copies; c++) {
        G.set(base.G.subarray(src * n, (src + 1) * n), (k + c) * n);
        h[k + c] = base.h[src];
      }
      const dup = { G, h, k: k + copies, n };
      const r1 = solveBundleEntropyDual(base.G, base.h, k, n);
      const r2 = solveBundleEntropyDual(G, h, k + copies, n);
      checkResult(base, r1, `rep ${rep} base`);
      checkResult(dup, r2, `rep ${rep} dup×${copies + 1}`);
      assert.ok(Math.abs(r1.primalValue - r2.primalValue) <= 1e-9 * (1 + Math.abs(r1.primalValue)));
      for (let j = 0; j < n; j++) assert.ok(Math.abs(r1.y[j] - r2.y[j]) <= 1e-6, `rep ${rep}: y differs`);
      // The duplicates share the original's weight.
      let w = r2.lambda[src];
      for (let c = 0; c < copies; c++) w += r2.lambda[k + c];
      assert.ok(Math.abs(w - r1.lambda[src]) <= 1e-6, `rep ${rep}: weight ${w} vs ${r1.lambda[src]}`);
    }
  });

  test('rank-deficient bundles: k > n + 1, and affinely dependent cuts', () => {
    const rng = new Rng(41);
    for (let rep = 0; rep < 40; rep++) {
      const n = 1 + rng.int(4);
      const k = n + 2 + rng.int(25);
      const b = randomBundle(rng, k, n);
      if (rep % 2 === 1) {
        // Make every third cut an affine combination of the two before it (same combination of offsets, shifted).
        for (let i = 2; i < k; i += 3) {
          const a1 = rng.normal();
          for (let j = 0; j < n; j++) b.G[i * n + j] = a1 * b.G[(i - 1) * n + j] + (1 - a1) * b.G[(i - 2) * n + j];
          b.h[i] = a1 * b.h[i - 1] + (1 - a1) * b.h[i - 2] + 0.1 * rng.normal();
        }
      }
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      checkResult(b, res, `rep ${rep} (k=${k}, n=${n})`);
      for (const v of res.y) assert.ok(v > 0 && v < 1);
    }
    // Low-rank G with many cuts.
    for (let rep = 0; rep < 20; rep++) {
      const k = 10 + rng.int(20);
      const n = 5 + rng.int(20);
      const r = 1 + rng.int(2);
      const A = Array.from({ length: k * r }, () => rng.normal());
      const B = Array.from({ length: r * n }, () => rng.normal());
      const b = randomBundle(rng, k, n);
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let q = 0; q < r; q++) s += A[i * r + q] * B[q * n + j];
          b.G[i * n + j] = s;
        }
      }
      checkResult(b, solveBundleEntropyDual(b.G, b.h, k, n), `low rank rep ${rep}`);
    }
  });

  test('cuts scaled by 1e6 and by 1e-8 (with h of either scale), and rows of mixed scales 1e±3', () => {
    const rng = new Rng(42);
    for (let rep = 0; rep < 40; rep++) {
      const k = 2 + rng.int(20);
      const n = 1 + rng.int(30);
      const b = randomBundle(rng, k, n, 1e6, 1e6);
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      checkResult(b, res, `1e6 rep ${rep}`, true);
      // Relative to the value alone the gap is usually tiny too (worst seen over 2000 such bundles: 7e-7).
      assert.ok(res.dualityGap <= 1e-5 * (1 + Math.abs(res.primalValue)), `1e6 rep ${rep}: gap ${res.dualityGap}`);
      assert.ok(res.kktScale > 1e5);
    }
    for (let rep = 0; rep < 40; rep++) {
      const k = 2 + rng.int(20);
      const n = 1 + rng.int(30);
      const b = randomBundle(rng, k, n, 1e-8, rep % 2 === 0 ? 1e-8 : 1);
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      checkResult(b, res, `1e-8 rep ${rep}`);
      // Nearly flat cuts: y ≈ 1/2, strictly inside.
      for (const v of res.y) assert.ok(Math.abs(v - 0.5) < 1e-6);
      // Relative residual 1e-10 at s ≈ 1e-8 is a much finer absolute statement.
      assert.ok(res.kktResidualAbs <= res.kktResidual + 1e-15);
    }
    for (let rep = 0; rep < 40; rep++) {
      const k = 2 + rng.int(20);
      const n = 1 + rng.int(30);
      const b = randomBundle(rng, k, n);
      for (let i = 0; i < k; i++) {
        const sc = 10 ** (3 * (2 * rng.uniform() - 1));
        for (let j = 0; j < n; j++) b.G[i * n + j] *= sc;
        b.h[i] *= sc;
      }
      checkResult(b, solveBundleEntropyDual(b.G, b.h, k, n), `mixed rep ${rep}`);
    }
  });

  test('huge offsets: spread 1e6, and a common offset 1e8', () => {
    const rng = new Rng(43);
    for (let rep = 0; rep < 30; rep++) {
      const k = 2 + rng.int(20);
      const n = 1 + rng.int(30);
      const b = randomBundle(rng, k, n, 1, 1e6);
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      checkResult(b, res, `spread rep ${rep}`);
      // The top offset dominates unless another is within the slopes' reach.
      const top = b.h.indexOf(Math.max(...b.h));
      assert.ok(res.lambda[top] > 0.5);
      for (const v of res.y) assert.ok(v > 0 && v < 1);
    }
    for (let rep = 0; rep < 30; rep++) {
      const k = 2 + rng.int(20);
      const n = 1 + rng.int(30);
      const b = randomBundle(rng, k, n);
      const shifted = { ...b, h: Float64Array.from(b.h, (v) => v + 1e8) };
      const r1 = solveBundleEntropyDual(b.G, b.h, k, n);
      const r2 = solveBundleEntropyDual(shifted.G, shifted.h, k, n);
      checkResult(shifted, r2, `offset rep ${rep}`);
      // A common offset shifts the value and nothing else (up to the rounding of h + 1e8, ≈ 1.5e-8).
      assert.ok(Math.abs(r2.primalValue - 1e8 - r1.primalValue) < 1e-6);
      for (let j = 0; j < n; j++) assert.ok(Math.abs(r1.y[j] - r2.y[j]) < 1e-6);
    }
  });

  test('all-zero G: y = 1/2, value max h − n log 2, λ on the top offsets', () => {
    for (const [h, n] of [
      [[0, 0, 0], 4],
      [[1, 3, 2, 3], 2],
      [[-5, 7], 1],
    ] as const) {
      const k = h.length;
      const G = new Float64Array(k * n);
      const res = solveBundleEntropyDual(G, h, k, n);
      const b = { G, h: Float64Array.from(h), k, n };
      checkResult(b, res, `zero G, h=${h}`);
      for (const v of res.y) assert.equal(v, 0.5);
      const hmax = Math.max(...h);
      assert.ok(Math.abs(res.primalValue - (hmax - n * Math.LN2)) < 1e-14);
      for (let i = 0; i < k; i++) if (h[i] < hmax) assert.equal(res.lambda[i], 0);
    }
  });

  test('large |Gᵀλ|: saturated y stays in [0,1] and finite values', () => {
    const rng = new Rng(44);
    for (let rep = 0; rep < 20; rep++) {
      const k = 2 + rng.int(6);
      const n = 2 + rng.int(10);
      const b = randomBundle(rng, k, n, 1);
      // Make one coordinate's slope huge and of one sign in every cut: y_j goes to 0 (|a_j| ~ 1e4).
      for (let i = 0; i < k; i++) b.G[i * n] = 1e4 * (1 + rng.uniform());
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      checkResult(b, res, `saturated rep ${rep}`);
      assert.equal(res.y[0], 0);
      assert.ok(res.y.slice(1).every((v) => v > 0 && v < 1));
      assert.ok(Math.abs(entropy(res.y) - (primal(b, res.y) - res.t) * -1) < 1e-9);
    }
  });

  test('n = 0 (no variables) and k = 1 with G = 0', () => {
    const res = solveBundleEntropyDual(new Float64Array(0), [1, 4, 2], 3, 0);
    assert.ok(res.lambda[0] === 0 && res.lambda[2] === 0 && Math.abs(res.lambda[1] - 1) < 1e-15, `λ = ${res.lambda}`);
    assert.equal(res.primalValue, 4);
    assert.equal(res.dualValue, 4);
    const one = solveBundleEntropyDual(new Float64Array(3), [2], 1, 3);
    assert.ok(Math.abs(one.primalValue - (2 - 3 * Math.LN2)) < 1e-15);
  });
});

describe('options and input validation', () => {
  test('warm start from the solution finishes at once; adding a cut reuses it', () => {
    const rng = new Rng(50);
    for (let rep = 0; rep < 20; rep++) {
      const k = 3 + rng.int(8);
      const n = 2 + rng.int(20);
      const b = randomBundle(rng, k, n, rep % 2 === 0 ? 1 : 500);
      const res = solveBundleEntropyDual(b.G, b.h, k, n);
      const again = solveBundleEntropyDual(b.G, b.h, k, n, { lambda0: res.lambda });
      assert.equal(again.iterations, 0, `rep ${rep}: warm start at the solution took ${again.iterations} steps`);
      // One more cut: the previous λ with a zero appended is a warm start.
      const extra = randomBundle(rng, 1, n, rep % 2 === 0 ? 1 : 500);
      const G2 = new Float64Array((k + 1) * n);
      G2.set(b.G);
      G2.set(extra.G, k * n);
      const h2 = Float64Array.from([...b.h, extra.h[0]]);
      const warm = solveBundleEntropyDual(G2, h2, k + 1, n, { lambda0: [...res.lambda, 0] });
      const cold = solveBundleEntropyDual(G2, h2, k + 1, n);
      checkResult({ G: G2, h: h2, k: k + 1, n }, warm, `warm rep ${rep}`);
      const diff = Math.abs(warm.primalValue - cold.primalValue);
      assert.ok(diff < 1e-8 * (1 + Math.abs(cold.primalValue)), `rep ${rep}: warm/cold values differ by ${diff}`);
    }
  });

  test('maxIter caps the work; the result is still a valid bound pair', () => {
    const rng = new Rng(51);
    const b = randomBundle(rng, 12, 20, 50);
    const full = solveBundleEntropyDual(b.G, b.h, 12, 20);
    for (const maxIter of [0, 1, 2]) {
      const res = solveBundleEntropyDual(b.G, b.h, 12, 20, { maxIter });
      assert.ok(res.iterations <= maxIter);
      assert.equal(res.converged, false);
      assert.ok(res.dualValue <= full.primalValue + 1e-12 && res.primalValue >= full.dualValue - 1e-12);
    }
  });

  test('a looser tol stops earlier but reports the honest residual', () => {
    const rng = new Rng(52);
    const b = randomBundle(rng, 15, 30, 2);
    const loose = solveBundleEntropyDual(b.G, b.h, 15, 30, { tol: 1e-3 });
    assert.ok(loose.converged && loose.kktResidual <= 1e-3);
    assert.equal(loose.kktResidual, kktResidual(b.G, b.h, 15, 30, loose.lambda, loose.kktScale));
  });

  test('kktResidual is zero at the optimum of a symmetric problem and positive elsewhere', () => {
    // Two mirror cuts y − 1/2 and 1/2 − y: optimum λ = (1/2, 1/2), y = 1/2.
    const G = [1, -1];
    const h = [-0.5, 0.5];
    assert.equal(kktResidual(G, h, 2, 1, [0.5, 0.5]), 0);
    assert.ok(kktResidual(G, h, 2, 1, [0.7, 0.3]) > 0.01);
    const res = solveBundleEntropyDual(G, h, 2, 1);
    assert.ok(Math.abs(res.lambda[0] - 0.5) < 1e-12 && Math.abs(res.y[0] - 0.5) < 1e-12);
    assert.ok(Math.abs(primalObjective(G, h, 2, 1, res.y) - res.primalValue) < 1e-15);
  });

  test('malformed input throws IcnnError', () => {
    assert.throws(() => solveBundleEntropyDual([1, 2], [0], 1, 3), IcnnError);
    assert.throws(() => solveBundleEntropyDual([1, 2], [0, 0], 2, 1.5), IcnnError);
    assert.throws(() => solveBundleEntropyDual([], [], 0, 0), IcnnError);
    assert.throws(() => solveBundleEntropyDual([NaN, 1], [0, 0], 2, 1), IcnnError);
    assert.throws(() => solveBundleEntropyDual([1, 1], [0, Infinity], 2, 1), IcnnError);
    assert.throws(() => solveBundleEntropyDual([1, 1], [0, 0], 2, 1, { lambda0: [1] }), IcnnError);
    assert.throws(() => solveBundleEntropyDual([1, 1], [0, 0], 2, 1, { maxIter: -1 }), IcnnError);
    assert.throws(() => kktResidual([1, 1], [0, 0], 2, 1, [1, 0], 0), IcnnError);
  });
});
