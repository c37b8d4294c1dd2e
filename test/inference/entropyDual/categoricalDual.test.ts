/**
 * The categorical bundle entropy subproblem solver (src/inference/entropyDual/categoricalDual.ts; `../shared/icnn-paper.md`
 * §3.4, simplex extension):
 *   min_{y∈Δ_n, t} t − H(y)  s.t.  G y + h ≤ t·1,   H(y) = −Σ y_j log y_j,
 * via the dual max_{λ∈Δ_k} hᵀλ − logsumexp(−Gᵀλ), y = softmax(−Gᵀλ).
 * Checked against: the closed form for one cut (softmax(−c), value −logsumexp(−c)); brute force on the primal over
 * the 2-simplex (n = 3, nested grid + golden-section searches); an independent long entropic mirror-descent run on the dual (plain formulas,
 * own softmax) for larger n; KKT residuals computed here with an own projection (bisection); weak duality against
 * random primal/dual points; and degenerate bundles (duplicates, G = 0, constant rows, k ≫ n, n = 1, extreme
 * scales, warm starts, malformed input).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  categoricalDualObjective,
  categoricalKktResidual,
  categoricalKktScale,
  categoricalPrimalObjective,
  solveCategoricalEntropyDual,
  type CategoricalDualResult,
} from '../../../src/inference/entropyDual/categoricalDual.js';
import { categoricalEntropy, logSumExp, softmax } from '../../../src/inference/entropyDual/numerics.js';
import { IcnnError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/random.js';
import { goldenBracket, gridThenGolden, randomBundle, type Bundle } from '../../helpers/dual.js';

/** Plain log-sum-exp (own implementation, max-shifted). */
function lse(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let j = 0; j < v.length; j++) m = Math.max(m, v[j]);
  let s = 0;
  for (let j = 0; j < v.length; j++) s += Math.exp(v[j] - m);
  return m + Math.log(s);
}

/** Independent primal objective max_i(g_iᵀy + h_i) + Σ y log y. */
function primal(b: Bundle, y: ArrayLike<number>): number {
  let t = -Infinity;
  for (let i = 0; i < b.k; i++) {
    let s = b.h[i];
    for (let j = 0; j < b.n; j++) s += b.G[i * b.n + j] * y[j];
    t = Math.max(t, s);
  }
  let negH = 0;
  for (let j = 0; j < b.n; j++) if (y[j] > 0) negH += y[j] * Math.log(y[j]);
  return t + negH;
}

/** Independent dual objective D(λ) = hᵀλ − lse(−Gᵀλ) (to be maximized), its gradient and the recovered y. */
function dualAt(b: Bundle, lam: ArrayLike<number>): { value: number; grad: Float64Array; y: Float64Array } {
  const z = new Float64Array(b.n);
  for (let j = 0; j < b.n; j++) for (let i = 0; i < b.k; i++) z[j] -= lam[i] * b.G[i * b.n + j];
  const l = lse(z);
  const y = Float64Array.from(z, (v) => Math.exp(v - l));
  let value = -l;
  const grad = new Float64Array(b.k);
  for (let i = 0; i < b.k; i++) {
    value += b.h[i] * lam[i];
    let c = b.h[i];
    for (let j = 0; j < b.n; j++) c += b.G[i * b.n + j] * y[j];
    grad[i] = c; // ∂D/∂λ_i: the value of cut i at y
  }
  return { value, grad, y };
}

/** Simplex projection by bisection on τ (independent of the library's sort-based one). */
function projectBisect(v: ArrayLike<number>): Float64Array {
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) hi = Math.max(hi, v[i]);
  let lo = hi - 1;
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    let s = 0;
    for (let i = 0; i < v.length; i++) s += Math.max(v[i] - mid, 0);
    if (s > 1) lo = mid;
    else hi = mid;
  }
  const out = Float64Array.from(v, (x) => Math.max(x - (lo + hi) / 2, 0));
  const s = out.reduce((p, q) => p + q, 0);
  return out.map((x) => x / s);
}

/** KKT residual ‖λ − P_Δ(λ + ∇D(λ)/scale)‖_∞ of the (maximized) dual, with the bisection projection. */
function kktRef(b: Bundle, lam: ArrayLike<number>, scale: number): number {
  const { grad } = dualAt(b, lam);
  let gmax = -Infinity;
  for (const g of grad) gmax = Math.max(gmax, g);
  const p = projectBisect(Float64Array.from(lam, (l, i) => l + (grad[i] - gmax) / scale));
  let r = 0;
  for (let i = 0; i < b.k; i++) r = Math.max(r, Math.abs(p[i] - lam[i]));
  return r;
}

/** Midrange-centred scale, computed independently: max_i (max_j g_ij − min_j g_ij)/2, or 1. */
function scaleRef(b: Bundle): number {
  let s = 0;
  for (let i = 0; i < b.k; i++) {
    const row = Array.from(b.G.subarray(i * b.n, (i + 1) * b.n));
    s = Math.max(s, (Math.max(...row) - Math.min(...row)) / 2);
  }
  return s > 0 ? s : 1;
}

function randomSimplexPoint(rng: Rng, n: number): Float64Array {
  // Exponential spacings: uniform on Δ_n; sometimes sparse (points on faces).
  const v = Float64Array.from({ length: n }, () => (rng.uniform() < 0.2 ? 0 : -Math.log(1 - rng.uniform())));
  let s = v.reduce((p, q) => p + q, 0);
  if (s === 0) {
    v[rng.int(n)] = 1;
    s = 1;
  }
  return v.map((x) => x / s);
}

/** Invariants every result must satisfy (tolerances relative to the data where that is the natural unit). */
function checkResult(b: Bundle, r: CategoricalDualResult, what: string, gapTol = 1e-9): void {
  const { k, n } = b;
  assert.equal(r.lambda.length, k, what);
  assert.equal(r.y.length, n, what);
  for (const v of [r.t, r.dualValue, r.primalValue, r.dualityGap, r.kktResidual, r.kktResidualAbs]) {
    assert.ok(Number.isFinite(v), `${what}: non-finite output ${v}`);
  }
  // Feasibility: λ ∈ Δ_k, y ∈ Δ_n.
  let ls = 0;
  for (const l of r.lambda) {
    assert.ok(l >= 0, `${what}: λ has a negative entry ${l}`);
    ls += l;
  }
  assert.ok(Math.abs(ls - 1) <= 1e-12, `${what}: Σλ = ${ls}`);
  let ys = 0;
  for (const v of r.y) {
    assert.ok(v >= 0 && v <= 1, `${what}: y entry ${v}`);
    ys += v;
  }
  assert.ok(Math.abs(ys - 1) <= 1e-12, `${what}: Σy = ${ys}`);
  // Recovery y = softmax(−Gᵀλ), the reported values are the independent formulas at (λ, y).
  const ref = dualAt(b, r.lambda);
  const s = scaleRef(b);
  let hmax = 0;
  for (const v of b.h) hmax = Math.max(hmax, Math.abs(v));
  const unit = 1 + Math.abs(r.primalValue);
  const dataUnit = unit + s + hmax;
  for (let j = 0; j < n; j++) assert.ok(Math.abs(ref.y[j] - r.y[j]) <= 1e-9, `${what}: y[${j}] ${r.y[j]} vs softmax ${ref.y[j]}`);
  assert.ok(Math.abs(ref.value - r.dualValue) <= 1e-12 * dataUnit * 100, `${what}: dual value ${r.dualValue} vs ${ref.value}`);
  let tRef = -Infinity;
  for (const c of ref.grad) tRef = Math.max(tRef, c);
  assert.ok(Math.abs(tRef - r.t) <= 1e-12 * dataUnit * 100, `${what}: t ${r.t} vs ${tRef}`);
  assert.ok(Math.abs(primal(b, r.y) - r.primalValue) <= 1e-12 * dataUnit * 100, `${what}: primal value`);
  // Weak and strong duality.
  assert.ok(r.dualityGap >= 0, `${what}: negative gap ${r.dualityGap}`);
  assert.ok(Math.abs(r.primalValue - r.dualValue - r.dualityGap) <= 1e-12 * dataUnit * 100, `${what}: gap inconsistent`);
  assert.ok(r.dualityGap <= gapTol * unit, `${what}: duality gap ${r.dualityGap} (value ${r.primalValue})`);
  // KKT (relative residual, own projection) and the reported one.
  assert.equal(r.kktScale, s, `${what}: kktScale`);
  assert.ok(r.converged, `${what}: not converged (r = ${r.kktResidual})`);
  assert.ok(r.kktResidual <= 1e-10, `${what}: r = ${r.kktResidual}`);
  assert.ok(kktRef(b, r.lambda, s) <= 1e-9, `${what}: independent KKT residual ${kktRef(b, r.lambda, s)}`);
}

/** Golden-section minimization of a convex (unimodal) function on [lo, hi]; returns the best point seen. */
function golden(f: (x: number) => number, lo: number, hi: number, iters: number): { x: number; f: number } {
  const { c, d, fc, fd } = goldenBracket(f, lo, hi, iters);
  return fc <= fd ? { x: c, f: fc } : { x: d, f: fd };
}

/** Grid search, then golden section on the bracket around the best grid point (convex function on [lo, hi]). */
function minimize1d(f: (x: number) => number, lo: number, hi: number, grid: number, iters: number): { x: number; f: number } {
  return gridThenGolden(f, lo, hi, grid, iters, golden);
}

/**
 * Brute-force minimum of the primal over the 2-simplex (n = 3) by nested one-dimensional searches: the partial
 * minimum φ(y₀) = min_{y₁ ∈ [0, 1−y₀]} P(y₀, y₁, 1−y₀−y₁) of a convex function is convex, so grid + golden section
 * works at both levels.
 */
function bruteForcePrimal3(b: Bundle): { value: number; y: Float64Array } {
  const inner = (y0: number) => minimize1d((y1) => primal(b, [y0, y1, Math.max(0, 1 - y0 - y1)]), 0, 1 - y0, 60, 80);
  const outer = minimize1d((y0) => inner(y0).f, 0, 1, 60, 80);
  const y1 = inner(outer.x).x;
  return { value: outer.f, y: new Float64Array([outer.x, y1, Math.max(0, 1 - outer.x - y1)]) };
}

/**
 * Independent reference for the dual: entropic mirror descent (exponentiated gradient ascent) on max_λ D(λ) with a
 * backtracked step and the best value kept. Returns the best D found.
 */
function mirrorDescentDual(b: Bundle, iters: number): number {
  let lam = new Float64Array(b.k).fill(1 / b.k);
  let cur = dualAt(b, lam);
  let best = cur.value;
  let eta = 1;
  for (let it = 0; it < iters; it++) {
    let gmax = -Infinity;
    for (const g of cur.grad) gmax = Math.max(gmax, g);
    for (let tries = 0; tries < 60; tries++) {
      const w = Float64Array.from(lam, (l, i) => l * Math.exp(eta * (cur.grad[i] - gmax)));
      const s = w.reduce((p, q) => p + q, 0);
      const cand = w.map((x) => x / s);
      const next = dualAt(b, cand);
      // Sufficient-increase test of the mirror step (KL-smoothness): D(λ') ≥ D(λ) + ∇Dᵀ(λ'−λ) − KL(λ'‖λ)/η.
      let lin = 0;
      let kl = 0;
      for (let i = 0; i < b.k; i++) {
        lin += cur.grad[i] * (cand[i] - lam[i]);
        if (cand[i] > 0) kl += cand[i] * Math.log(cand[i] / lam[i]);
      }
      if (next.value >= cur.value + lin - kl / eta - 1e-15 * (1 + Math.abs(cur.value))) {
        lam = cand;
        cur = next;
        eta *= 1.2;
        break;
      }
      eta /= 2;
    }
    best = Math.max(best, cur.value);
  }
  return best;
}

describe('categorical bundle entropy dual: closed forms', () => {
  test('one cut: y = softmax(−g), value h − logsumexp(−g), and it beats random simplex points', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rng.int(12);
      const scale = [1e-3, 1, 10, 100][trial % 4];
      const b = randomBundle(rng, 1, n, scale, scale);
      const r = solveCategoricalEntropyDual(b.G, b.h, 1, n);
      const z = Float64Array.from(b.G, (g) => -g);
      const l = lse(z);
      const value = b.h[0] - l;
      assert.deepEqual(Array.from(r.lambda), [1]);
      for (let j = 0; j < n; j++) assert.ok(Math.abs(r.y[j] - Math.exp(z[j] - l)) <= 1e-13);
      assert.ok(Math.abs(r.dualValue - value) <= 1e-12 * (1 + Math.abs(value) + scale));
      assert.ok(Math.abs(r.primalValue - value) <= 1e-12 * (1 + Math.abs(value) + scale));
      assert.equal(r.iterations, 0);
      assert.equal(r.continuationStages, 0);
      checkResult(b, r, `k=1 trial ${trial}`);
      for (let p = 0; p < 20; p++) assert.ok(primal(b, randomSimplexPoint(rng, n)) >= value - 1e-12 * (1 + Math.abs(value)));
    }
  });

  test('G = 0: y is the barycentre and the value is max h − log n', () => {
    const b: Bundle = { G: new Float64Array(4 * 5), h: new Float64Array([0.5, -1, 2, 2]), k: 4, n: 5 };
    const r = solveCategoricalEntropyDual(b.G, b.h, b.k, b.n);
    for (const v of r.y) assert.ok(Math.abs(v - 0.2) <= 1e-15);
    assert.ok(Math.abs(r.dualValue - (2 - Math.log(5))) <= 1e-14);
    assert.ok(r.lambda[0] <= 1e-14 && r.lambda[1] <= 1e-14);
    checkResult(b, r, 'G = 0');
  });

  test('n = 1: the simplex is a point, the value is max_i (g_i + h_i)', () => {
    const rng = new Rng(12);
    for (let trial = 0; trial < 50; trial++) {
      const k = 1 + rng.int(8);
      const b = randomBundle(rng, k, 1, 100, 1);
      const r = solveCategoricalEntropyDual(b.G, b.h, k, 1);
      let best = -Infinity;
      for (let i = 0; i < k; i++) best = Math.max(best, b.G[i] + b.h[i]);
      assert.equal(r.y[0], 1);
      assert.ok(Math.abs(r.dualValue - best) <= 1e-12 * (1 + Math.abs(best)));
      assert.ok(Math.abs(r.primalValue - best) <= 1e-12 * (1 + Math.abs(best)));
      assert.ok(r.converged);
    }
  });
});

describe('categorical bundle entropy dual: random bundles', () => {
  test('KKT, feasibility, strong duality and the reported quantities (k ≤ 25, n ≤ 40, scales 1e-6..1e4)', () => {
    const rng = new Rng(21);
    const iters: number[] = [];
    let worstR = 0;
    for (let trial = 0; trial < 600; trial++) {
      const k = 2 + rng.int(24);
      const n = 1 + rng.int(40);
      const scale = [1e-6, 1e-2, 1, 1, 3, 10, 100, 1e4][trial % 8];
      const b = randomBundle(rng, k, n, scale, scale);
      const r = solveCategoricalEntropyDual(b.G, b.h, k, n);
      // For scale 1e4, the gap is limited by the resolution of λ (ulp(λ)·s² in cut values), see the solver's notes.
      checkResult(b, r, `trial ${trial} (k=${k}, n=${n}, scale ${scale})`, scale >= 1e4 ? 1e-7 : 1e-9);
      assert.ok(Math.abs(categoricalKktResidual(b.G, b.h, k, n, r.lambda, r.kktScale) - r.kktResidual) <= 1e-15);
      iters.push(r.iterations);
      worstR = Math.max(worstR, r.kktResidual);
    }
    iters.sort((a, b) => a - b);
    assert.ok(iters[iters.length - 1] <= 60, `max iterations ${iters[iters.length - 1]}`);
    assert.ok(worstR <= 1e-10);
  });

  test('n = 3: matches brute force on the 2-simplex (nested grid + golden section on the primal)', () => {
    const rng = new Rng(31);
    for (let trial = 0; trial < 12; trial++) {
      const k = 2 + rng.int(6);
      const scale = [0.5, 1, 3, 8][trial % 4];
      const b = randomBundle(rng, k, 3, scale, scale);
      const r = solveCategoricalEntropyDual(b.G, b.h, k, 3);
      checkResult(b, r, `n=3 trial ${trial}`);
      const ref = bruteForcePrimal3(b);
      // Weak duality against the grid point, and agreement with the grid minimum.
      assert.ok(r.dualValue <= ref.value + 1e-12 * (1 + Math.abs(ref.value)), `trial ${trial}: dual ${r.dualValue} > grid ${ref.value}`);
      assert.ok(ref.value - r.dualValue <= 1e-8, `trial ${trial}: dual ${r.dualValue} vs grid ${ref.value}`);
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(ref.y[j] - r.y[j]) <= 1e-3, `trial ${trial}: y ${r.y} vs grid ${ref.y}`);
    }
  });

  test('larger n: matches a long entropic mirror-descent run on the dual', () => {
    const rng = new Rng(41);
    for (let trial = 0; trial < 8; trial++) {
      const k = 3 + rng.int(10);
      const n = 5 + rng.int(30);
      const b = randomBundle(rng, k, n, 2, 2);
      const r = solveCategoricalEntropyDual(b.G, b.h, k, n);
      checkResult(b, r, `md trial ${trial}`);
      const md = mirrorDescentDual(b, 4000);
      // The solver's dual value is at least as good as the reference's, and the reference gets close.
      assert.ok(r.dualValue >= md - 1e-12 * (1 + Math.abs(md)), `trial ${trial}: ${r.dualValue} < MD ${md}`);
      assert.ok(r.dualValue - md <= 1e-6, `trial ${trial}: MD ${md} far from ${r.dualValue}`);
    }
  });

  test('weak duality: every λ on the simplex bounds every y on the simplex', () => {
    const rng = new Rng(51);
    for (let trial = 0; trial < 100; trial++) {
      const k = 1 + rng.int(8);
      const n = 1 + rng.int(8);
      const b = randomBundle(rng, k, n, 3, 3);
      const r = solveCategoricalEntropyDual(b.G, b.h, k, n);
      for (let p = 0; p < 20; p++) {
        const lam = randomSimplexPoint(rng, k);
        const d = categoricalDualObjective(b.G, b.h, k, n, lam);
        assert.ok(Math.abs(-d - dualAt(b, lam).value) <= 1e-12 * (1 + Math.abs(d)), 'categoricalDualObjective');
        const y = randomSimplexPoint(rng, n);
        const pv = categoricalPrimalObjective(b.G, b.h, k, n, y);
        assert.ok(Math.abs(pv - primal(b, y)) <= 1e-12 * (1 + Math.abs(pv)), 'categoricalPrimalObjective');
        assert.ok(-d <= pv + 1e-12, `D(λ) ${-d} > P(y) ${pv}`);
        assert.ok(-d <= r.dualValue + 1e-12 * (1 + Math.abs(d)), 'the solver maximizes the dual');
        assert.ok(pv >= r.dualValue - 1e-12 * (1 + Math.abs(pv)), 'the dual value bounds the primal');
      }
    }
  });
});

describe('categorical bundle entropy dual: degenerate and extreme inputs', () => {
  test('duplicate cuts give the value of the deduplicated bundle', () => {
    const rng = new Rng(61);
    for (let trial = 0; trial < 40; trial++) {
      const k0 = 1 + rng.int(5);
      const n = 1 + rng.int(10);
      const base = randomBundle(rng, k0, n);
      const rep = 2 + rng.int(3);
      const k = k0 * rep;
      const G = new Float64Array(k * n);
      const h = new Float64Array(k);
      for (let i = 0; i < k; i++) {
        G.set(base.G.subarray((i % k0) * n, (i % k0 + 1) * n), i * n);
        h[i] = base.h[i % k0];
      }
      const r = solveCategoricalEntropyDual(G, h, k, n);
      const r0 = solveCategoricalEntropyDual(base.G, base.h, k0, n);
      checkResult({ G, h, k, n }, r, `dup trial ${trial}`);
      assert.ok(Math.abs(r.dualValue - r0.dualValue) <= 1e-10 * (1 + Math.abs(r0.dualValue)));
      for (let j = 0; j < n; j++) assert.ok(Math.abs(r.y[j] - r0.y[j]) <= 1e-6);
    }
  });

  test('rows shifted by constants (equivalent cuts on the simplex), k ≫ n, common offsets of 1e6', () => {
    const rng = new Rng(62);
    for (let trial = 0; trial < 40; trial++) {
      const k = 2 + rng.int(30);
      const n = 2 + rng.int(4);
      const b = randomBundle(rng, k, n);
      const shift = Float64Array.from({ length: k }, () => (trial % 2 === 0 ? 1e6 : 50) * rng.normal());
      const G2 = Float64Array.from(b.G, (g, idx) => g + shift[Math.floor(idx / n)]);
      const h2 = Float64Array.from(b.h, (v, i) => v - shift[i]);
      const r = solveCategoricalEntropyDual(b.G, b.h, k, n);
      const r2 = solveCategoricalEntropyDual(G2, h2, k, n);
      checkResult(b, r, `shift trial ${trial}`);
      assert.ok(r2.converged);
      // The shifted data carry rounding of the size of the shift: 1e6·ε ≈ 2e-10.
      assert.ok(Math.abs(r.dualValue - r2.dualValue) <= 1e-8, `trial ${trial}: ${r.dualValue} vs ${r2.dualValue}`);
      for (let j = 0; j < n; j++) assert.ok(Math.abs(r.y[j] - r2.y[j]) <= 1e-6);
    }
  });

  test('constant rows: the problem is max_i (c_i + h_i) − log n', () => {
    const k = 6;
    const n = 7;
    const c = [3, -1, 1e5, 0, 2, -1e5];
    const h = new Float64Array([1, 5, -1e5 + 2, 0, 1, 1e5 - 1]);
    const G = new Float64Array(k * n);
    for (let i = 0; i < k; i++) G.fill(c[i], i * n, (i + 1) * n);
    const r = solveCategoricalEntropyDual(G, h, k, n);
    assert.ok(Math.abs(r.dualValue - (4 - Math.log(n))) <= 1e-10);
    for (const v of r.y) assert.ok(Math.abs(v - 1 / n) <= 1e-15);
    assert.ok(r.converged);
  });

  test('large and tiny scales: no NaN, converged, certified bounds', () => {
    const rng = new Rng(63);
    for (const scale of [1e-12, 1e-8, 1e5, 1e6]) {
      for (let trial = 0; trial < 30; trial++) {
        const k = 2 + rng.int(15);
        const n = 1 + rng.int(20);
        const b = randomBundle(rng, k, n, scale, scale);
        const r = solveCategoricalEntropyDual(b.G, b.h, k, n);
        assert.ok(r.converged, `scale ${scale} trial ${trial}: r = ${r.kktResidual}`);
        assert.ok(Number.isFinite(r.dualValue) && Number.isFinite(r.primalValue));
        assert.ok(r.y.every((v) => v >= 0 && v <= 1) && r.lambda.every((v) => v >= 0));
        assert.ok(r.primalValue - r.dualValue >= -1e-12 * (1 + Math.abs(r.dualValue)),
          `scale ${scale} trial ${trial}: primal ${r.primalValue} < dual ${r.dualValue}`);
        // The gap is limited by the granularity of the cut values, ulp(λ)·s² (a step of λ by one ulp moves the
        // logits by ε·s, and the cut values by that times the Hessian scale s).
        const floor = 1e-15 * r.kktScale ** 2;
        assert.ok(r.dualityGap <= 1e-9 * (1 + Math.abs(r.primalValue)) + floor, `scale ${scale}: gap ${r.dualityGap}`);
        // Weak duality against random points.
        for (let p = 0; p < 5; p++) {
          const y = randomSimplexPoint(rng, n);
          assert.ok(r.dualValue <= primal(b, y) + 1e-12 * (1 + Math.abs(r.dualValue)));
        }
      }
    }
  });

  test('scale 1e8 (at the float64 resolution of λ): finite, feasible, a valid bound pair, r ≤ 1e-8', () => {
    const rng = new Rng(65);
    for (let trial = 0; trial < 30; trial++) {
      const k = 2 + rng.int(15);
      const n = 1 + rng.int(20);
      const b = randomBundle(rng, k, n, 1e8, 1e8);
      const r = solveCategoricalEntropyDual(b.G, b.h, k, n);
      assert.ok(Number.isFinite(r.dualValue) && Number.isFinite(r.primalValue) && Number.isFinite(r.kktResidual));
      assert.ok(r.y.every((v) => v >= 0 && v <= 1) && r.lambda.every((v) => v >= 0));
      assert.ok(r.primalValue - r.dualValue >= -1e-12 * Math.abs(r.dualValue), `trial ${trial}: primal < dual`);
      // The stopping test r ≤ 1e-10 is out of reach here (the cut values are resolved to ≈ ulp(λ)·s² ≈ 1); the solver
      // stops at its precision floor with the best iterate it found.
      assert.ok(r.kktResidual <= 1e-8, `trial ${trial}: r = ${r.kktResidual}`);
      assert.ok(r.iterations <= 60, `trial ${trial}: ${r.iterations} steps`);
      assert.ok(r.dualityGap <= 1e-7 * (1 + Math.abs(r.primalValue)), `trial ${trial}: gap ${r.dualityGap} value ${r.primalValue}`);
      for (let p = 0; p < 5; p++) {
        const y = randomSimplexPoint(rng, n);
        assert.ok(r.dualValue <= primal(b, y) + 1e-12 * (1 + Math.abs(r.dualValue)));
      }
    }
  });

  test('saturated softmax: logits differing by thousands give exact vertices without NaN', () => {
    const G = new Float64Array([0, 5000, 5000, 3000, 0, 4000]);
    const h = new Float64Array([0, -100]);
    const r = solveCategoricalEntropyDual(G, h, 2, 3);
    assert.ok(r.converged);
    assert.ok(r.y.every((v) => Number.isFinite(v)) && Number.isFinite(r.primalValue) && Number.isFinite(r.dualValue));
    assert.ok(r.primalValue - r.dualValue <= 1e-9 * (1 + Math.abs(r.primalValue)));
  });

  test('warm starts reach the same solution; maxIter = 0 still returns a valid bound pair', () => {
    const rng = new Rng(64);
    for (let trial = 0; trial < 40; trial++) {
      const k = 2 + rng.int(15);
      const n = 1 + rng.int(20);
      const scale = trial % 2 === 0 ? 1 : 1e3;
      const b = randomBundle(rng, k, n, scale, scale);
      const cold = solveCategoricalEntropyDual(b.G, b.h, k, n);
      const warm = solveCategoricalEntropyDual(b.G, b.h, k, n, { lambda0: Float64Array.from({ length: k }, () => rng.uniform() - 0.2) });
      assert.ok(warm.converged);
      assert.ok(Math.abs(warm.dualValue - cold.dualValue) <= 1e-9 * (1 + Math.abs(cold.dualValue) + scale * 1e-4));
      const hot = solveCategoricalEntropyDual(b.G, b.h, k, n, { lambda0: cold.lambda });
      assert.ok(hot.iterations <= 3, `restart from the solution took ${hot.iterations} steps`);
      const none = solveCategoricalEntropyDual(b.G, b.h, k, n, { maxIter: 0 });
      assert.equal(none.iterations, 0);
      assert.ok(none.primalValue >= none.dualValue && none.dualValue <= cold.dualValue + 1e-12 * (1 + Math.abs(cold.dualValue)));
    }
  });

  test('malformed input throws IcnnError', () => {
    const G = new Float64Array([1, 2, 3, 4]);
    const h = new Float64Array([0, 1]);
    assert.throws(() => solveCategoricalEntropyDual(G, h, 0, 2), IcnnError);
    assert.throws(() => solveCategoricalEntropyDual(G, h, 2, 0), IcnnError);
    assert.throws(() => solveCategoricalEntropyDual(G, h, 2, 3), IcnnError);
    assert.throws(() => solveCategoricalEntropyDual(G, new Float64Array([0]), 2, 2), IcnnError);
    assert.throws(() => solveCategoricalEntropyDual(new Float64Array([1, NaN, 3, 4]), h, 2, 2), IcnnError);
    assert.throws(() => solveCategoricalEntropyDual(G, new Float64Array([0, Infinity]), 2, 2), IcnnError);
    assert.throws(() => solveCategoricalEntropyDual(G, h, 2, 2, { lambda0: [1] }), IcnnError);
    assert.throws(() => solveCategoricalEntropyDual(G, h, 2, 2, { tol: -1 }), IcnnError);
    assert.throws(() => solveCategoricalEntropyDual(G, h, 2, 2, { maxIter: 1.5 }), IcnnError);
    assert.throws(() => categoricalKktResidual(G, h, 2, 2, [0.5, 0.5], 0), IcnnError);
  });
});

describe('categorical bundle entropy helpers', () => {
  test('logSumExp, softmax and entropy are stable', () => {
    assert.ok(Math.abs(logSumExp([1000, 1000]) - (1000 + Math.LN2)) <= 1e-12 * 1000);
    assert.ok(Math.abs(logSumExp([-1000, -1000, -1000]) - (-1000 + Math.log(3))) <= 1e-12 * 1000);
    assert.equal(logSumExp([]), -Infinity);
    const p = softmax([30, 0, -800]);
    assert.ok(Math.abs(p[0] - 1) <= 1e-13 && Math.abs(p[1] / Math.exp(-30) - 1) <= 1e-12 && p[2] === 0, `softmax ${p}`);
    assert.ok(Math.abs(categoricalEntropy([0.25, 0.25, 0.25, 0.25]) - Math.log(4)) <= 1e-15);
    assert.equal(categoricalEntropy([1, 0, 0]), 0);
    assert.ok(Number.isNaN(categoricalEntropy([1.5, -0.5])));
    assert.equal(categoricalKktScale(new Float64Array([1, 3, -1, 7, 7, 7]), 2, 3), 2);
    assert.equal(categoricalKktScale(new Float64Array([5, 5]), 1, 2), 1);
  });
});
