/**
 * The bundle entropy method through `argmin` (method 'bundle-entropy', ../shared/icnn-paper.md §3.4, Algorithm 2):
 * it minimizes the entropy-regularized objective F(y) = f(y) − w·H(s), s = (y − l)/(u − l), over a box.
 * - f linear in y: the closed form l + (u − l)∘σ(−(u − l)∘c/w), after one iteration, certified.
 * - Small random networks (y-dim 1, 2): within 1e-3 of an independent high-accuracy reference of min F (nested zoom
 *   searches on the model's energy) in ≤ 30 iterations, on the unit box, other boxes, and for several weights w.
 * - Certificates: the lower bound never exceeds the reference minimum (at every iteration budget).
 * - The active bundle (what argmin differentiation, §4.3, consumes) is consistent: λ on the simplex, every active cut
 *   tight at ŝ, ŝ = σ(−Gᵀλ/w), the cuts are first-order expansions of f at the stored points, which are iterates.
 * - Scaling: minimizing f − w·H gives the same ŷ as minimizing f/w − H (objective scaled by w).
 * The subproblem solver itself is tested in entropyDual/binaryDual.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FICNN, FeedForward, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import { argmin, type ArgminResult } from '../../src/inference/argmin.js';
import {
  entropyObjective, perturb, randomX, rowOf, scaleParameters, sigmoid, spyEvaluations, zoomMinimum,
} from '../helpers/inference.js';

const scaleOf = (v: number) => Math.max(1, Math.abs(v));

describe('f linear in y: the closed form σ(−c) in one iteration', () => {
  test('FeedForward (f = −g(x)ᵀy) on the unit box: ŷ = σ(g(x)), optimal after one iteration', async () => {
    const model = new FeedForward({ xDim: 4, yDim: 5, hidden: [8], seed: 1 });
    const x = randomX(model, 3, 2) as tf.Tensor2D;
    try {
      const g = tf.tidy(() => model.logits(x).arraySync() as number[][]);
      const one = await argmin(model, x, { method: 'bundle-entropy', iterations: 1 });
      const y = one.y.arraySync();
      for (let r = 0; r < 3; r++) {
        g[r].forEach((gi, i) => assert.ok(Math.abs(y[r][i] - sigmoid(gi)) <= 1e-6, `row ${r}: ŷ[${i}] = ${y[r][i]}, σ(g) = ${sigmoid(gi)}`));
        // One cut is exact for a linear f: the certificate closes the gap at once.
        assert.ok(Math.abs(one.gap![r]) <= 1e-6 * scaleOf(one.objective![r]), `row ${r}: gap ${one.gap![r]} after one iteration`);
        assert.equal(one.iterations[r], 1);
        assert.equal(one.bundles![r].k, 1);
        assert.deepEqual(Array.from(one.bundles![r].lambda), [1]);
      }
      // With the default budget the second evaluation repeats the cut, which ends the row: ŷ does not move.
      const full = await argmin(model, x, { method: 'bundle-entropy' });
      assert.deepEqual(Array.from(full.iterations), [2, 2, 2]);
      assert.deepEqual(full.y.arraySync(), y);
      tf.dispose([one.y, full.y]);
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  test('any box and entropy weight: ŷ = l + (u − l)∘σ(−(u − l)∘c/w)', async () => {
    const model = new FICNN({ xDim: 2, yDim: 4, hidden: [], seed: 3 });
    const c = (model.parameters().find((p) => p.name === 'layer0.Wv')!.variable.dataSync() as Float32Array).slice(2, 6);
    const x = randomX(model, 2, 4) as tf.Tensor2D;
    const lower = [-1, 0, 2, -3];
    const upper = [1, 0.5, 5, 3];
    try {
      for (const w of [0.1, 1, 5]) {
        const r = await argmin(model, x, { method: 'bundle-entropy', iterations: 1, entropyWeight: w, domain: { lower, upper } });
        const y = r.y.arraySync();
        const want = lower.map((l, i) => l + (upper[i] - l) * sigmoid(-((upper[i] - l) * c[i]) / w));
        for (let row = 0; row < 2; row++) {
          want.forEach((v, i) => assert.ok(Math.abs(y[row][i] - v) <= 1e-6 * scaleOf(v), `w ${w}, row ${row}: ŷ[${i}] = ${y[row][i]}, closed form ${v}`));
          assert.ok(Math.abs(r.gap![row]) <= 1e-6 * scaleOf(r.objective![row]), `w ${w}, row ${row}: gap ${r.gap![row]}`);
        }
        r.y.dispose();
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

/** H of the scaled point, the objective's entropy term. */
function entropyAt(y: ArrayLike<number>, lower: number[], upper: number[]): number {
  let h = 0;
  for (let i = 0; i < lower.length; i++) {
    const s = (y[i] - lower[i]) / (upper[i] - lower[i]);
    if (s > 0 && s < 1) h -= s * Math.log(s) + (1 - s) * Math.log(1 - s);
  }
  return h;
}

/**
 * The active bundle of one row is what Proposition 3 needs: λ on the simplex (no pruned zeros), every active cut
 * tight at ŝ, ŝ = σ(−Gᵀλ/w), and each cut the first-order expansion of f at its point, which was an iterate.
 */
function checkBundle(model: EnergyModel, xRow: tf.Tensor2D | null, r: ArgminResult, row: number, lower: number[],
  upper: number[], w: number, evaluated: Float32Array[], what: string): void {
  const n = lower.length;
  const b = r.bundles![row];
  const width = lower.map((l, i) => upper[i] - l);
  const y = Array.from(r.y.dataSync().subarray(row * n, (row + 1) * n));
  const s = y.map((v, i) => (v - lower[i]) / width[i]);
  assert.ok(b.k >= 1, `${what}: empty bundle`);
  assert.equal(b.G.length, b.k * n);
  assert.equal(b.h.length, b.k);
  assert.equal(b.lambda.length, b.k);
  assert.equal(b.points.length, b.k * n);
  assert.ok(b.lambda.every((l) => l > 0), `${what}: λ = [${b.lambda}] has pruned entries`);
  assert.ok(Math.abs(b.lambda.reduce((a, l) => a + l, 0) - 1) <= 1e-12, `${what}: Σλ = ${b.lambda.reduce((a, l) => a + l, 0)}`);
  // Tight cuts: g_iᵀŝ + h_i = t for every active i (ŝ from the float32 ŷ: error ≈ 1e-7·Σ|g_i|).
  const values = Array.from({ length: b.k }, (_, i) => b.h[i] + s.reduce((a, sj, j) => a + b.G[i * n + j] * sj, 0));
  const t = Math.max(...values);
  values.forEach((v, i) => {
    const slack = 1e-6 * (1 + Math.abs(t) + b.G.subarray(i * n, (i + 1) * n).reduce((a, g) => a + Math.abs(g), 0));
    assert.ok(t - v <= slack, `${what}: active cut ${i} is ${t - v} below the bundle's maximum (λ_i = ${b.lambda[i]})`);
  });
  // Primal recovery: ŝ = σ(−Gᵀλ/w).
  for (let j = 0; j < n; j++) {
    let z = 0;
    for (let i = 0; i < b.k; i++) z += b.lambda[i] * b.G[i * n + j];
    assert.ok(Math.abs(sigmoid(-z / w) - s[j]) <= 1e-6, `${what}: ŝ[${j}] = ${s[j]}, σ(−Gᵀλ/w) = ${sigmoid(-z / w)}`);
  }
  // The certificate is the bundle model's minimum: lowerBound = max_i(g_iᵀŝ + h_i) − w·H(ŝ) (dual = primal).
  const modelValue = t - w * entropyAt(y, lower, upper);
  assert.ok(Math.abs(r.lowerBound![row] - modelValue) <= 1e-5 * scaleOf(modelValue), `${what}: lower bound ${r.lowerBound![row]}, bundle model at ŝ ${modelValue}`);
  // Cuts are first-order expansions of f at their points (in s), and the points were evaluated by the method.
  const points = b.points;
  const { energy, grad } = tf.tidy(() => {
    const yy = tf.tensor2d(Float32Array.from(points), [b.k, n]);
    const xx = xRow === null ? null : tf.tile(xRow, [b.k, 1]);
    const out = model.energyAndGradY(xx, yy);
    return { energy: out.energy.dataSync(), grad: out.grad.dataSync() };
  });
  for (let i = 0; i < b.k; i++) {
    const p = points.subarray(i * n, (i + 1) * n);
    assert.ok(evaluated.some((e) => e.every((v, j) => Math.abs(v - p[j]) <= 1e-6 * scaleOf(p[j]))), `${what}: point ${i} [${p}] was never evaluated`);
    assert.ok(Array.from(p).every((v, j) => v > lower[j] && v < upper[j]), `${what}: point ${i} [${p}] not strictly inside the box`);
    let gs = 0;
    for (let j = 0; j < n; j++) {
      const gj = width[j] * grad[i * n + j];
      assert.ok(Math.abs(b.G[i * n + j] - gj) <= 1e-5 * scaleOf(gj), `${what}: G[${i}][${j}] = ${b.G[i * n + j]}, (u−l)∂f = ${gj}`);
      gs += b.G[i * n + j] * ((p[j] - lower[j]) / width[j]);
    }
    assert.ok(Math.abs(b.h[i] - (energy[i] - gs)) <= 1e-5 * scaleOf(energy[i]), `${what}: h[${i}] = ${b.h[i]}, f − gᵀs = ${energy[i] - gs}`);
  }
}

interface Case {
  name: string;
  build: (seed: number) => EnergyModel;
  lower: number[];
  upper: number[];
  w: number;
}

describe('small random networks: within 1e-3 of a high-accuracy reference of min f − w·H in ≤ 30 iterations', () => {
  const cases: Case[] = [
    { name: 'FICNN y1 (no x), unit box', build: (seed) => new FICNN({ yDim: 1, hidden: [32, 32], seed }), lower: [0], upper: [1], w: 1 },
    { name: 'PICNN y1, box [-1, 2]', build: (seed) => new PICNN({ xDim: 4, yDim: 1, hidden: [32, 32], seed }), lower: [-1], upper: [2], w: 1 },
    { name: 'FICNN x3 y2, unit box', build: (seed) => new FICNN({ xDim: 3, yDim: 2, hidden: [32, 32], seed }), lower: [0, 0], upper: [1, 1], w: 1 },
    { name: 'PICNN y2, unit box', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [32, 32], seed }), lower: [0, 0], upper: [1, 1], w: 1 },
    { name: 'PICNN y2, box [-2, 1]²', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [32, 32], seed }), lower: [-2, -2], upper: [1, 1], w: 1 },
    { name: 'FICNN x3 y2 leaky, box [-1, 1]×[0, 3], w = 0.5', build: (seed) => new FICNN({ xDim: 3, yDim: 2, hidden: [32, 32], activation: 'leaky-relu', leakySlope: 0.1, seed }), lower: [-1, 0], upper: [1, 3], w: 0.5 },
    { name: 'PICNN y2, w = 0.1', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [32, 32], seed }), lower: [0, 0], upper: [1, 1], w: 0.1 },
    { name: 'PICNN y2 softplus activation, w = 5', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [32, 32], activation: 'softplus', seed }), lower: [0, 0], upper: [1, 1], w: 5 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      for (const seed of [1, 2]) {
        const model = c.build(seed);
        perturb(model, 100 + seed);
        const x = randomX(model, 2, 200 + seed);
        const rows = x === null ? 1 : 2;
        const domain = { lower: c.lower, upper: c.upper };
        const options = { method: 'bundle-entropy' as const, domain, entropyWeight: c.w };
        const spy = spyEvaluations(model);
        try {
          const r = await argmin(model, x, options);
          spy.restore();
          const partial = [];
          for (const iterations of [1, 2, 5]) partial.push(await argmin(model, x, { ...options, iterations }));
          const n = c.lower.length;
          const y = r.y.dataSync();
          for (let row = 0; row < rows; row++) {
            const what = `${c.name}, seed ${seed}, row ${row}`;
            const xRow = rowOf(x, row);
            const ref = zoomMinimum(model, xRow, c.lower, c.upper, c.w);
            const yRow = y.subarray(row * n, (row + 1) * n);
            const F = entropyObjective(model, xRow, Float32Array.from(yRow), c.lower, c.upper, c.w)[0];
            const evaluated = spy.batches.map((b) => b.subarray(row * n, (row + 1) * n));
            checkBundle(model, xRow, r, row, c.lower, c.upper, c.w, evaluated, what);
            xRow?.dispose();
            const tol = 1e-5 * scaleOf(ref.value);
            assert.ok(r.iterations[row] <= 30, `${what}: ${r.iterations[row]} iterations`);
            assert.ok(Math.abs(r.objective![row] - ref.value) <= 1e-3, `${what}: objective ${r.objective![row]}, reference ${ref.value}`);
            assert.ok(Math.abs(F - r.objective![row]) <= 1e-6 * scaleOf(F), `${what}: reported objective ${r.objective![row]}, f − wH at ŷ ${F}`);
            assert.ok(Math.abs(r.energy[row] - (F + c.w * entropyAt(yRow, c.lower, c.upper))) <= 1e-6 * scaleOf(F), `${what}: energy is not f(ŷ)`);
            // Strong convexity of −wH (modulus 4w per coordinate of s) bounds the distance to the reference minimizer.
            const sDist = Math.hypot(...c.lower.map((l, i) => (yRow[i] - ref.y[i]) / (c.upper[i] - l)));
            const sBound = Math.sqrt((Math.max(0, r.objective![row] - ref.value) + 2 * tol) / (2 * c.w));
            assert.ok(sDist <= sBound, `${what}: ŷ [${yRow}] is ${sDist} (scaled) from the reference [${ref.y}], allowed ${sBound}`);
            assert.ok(Array.from(yRow).every((v, i) => v > c.lower[i] && v < c.upper[i]), `${what}: ŷ [${yRow}] not strictly inside`);
            // Certificates, at every budget: lowerBound ≤ min F ≤ objective.
            for (const p of [...partial, r]) {
              const lb = p.lowerBound![row];
              assert.ok(lb <= ref.value + tol, `${what}, ${p.iterations[row]} iterations: lower bound ${lb} > reference minimum ${ref.value}`);
              assert.ok(p.objective![row] >= ref.value - tol, `${what}, ${p.iterations[row]} iterations: objective ${p.objective![row]} < reference minimum ${ref.value}`);
            }
            assert.ok(r.gap![row] <= 1e-6 * scaleOf(r.objective![row]) || r.iterations[row] === 30, `${what}: stopped with gap ${r.gap![row]}`);
          }
          tf.dispose([r.y, ...partial.map((p) => p.y)]);
        } finally {
          spy.restore();
          x?.dispose();
          model.dispose();
        }
      }
    });
  }
});

test('y-dim 10: the active bundle stays consistent and the certificate closes', async () => {
  const model = new PICNN({ xDim: 4, yDim: 10, hidden: [32, 32], seed: 4 });
  perturb(model, 104);
  const x = randomX(model, 3, 5) as tf.Tensor2D;
  const lower = new Array(10).fill(-1);
  const upper = new Array(10).fill(1);
  const spy = spyEvaluations(model);
  try {
    const r = await argmin(model, x, { method: 'bundle-entropy', domain: { lower: -1, upper: 1 } });
    spy.restore();
    for (let row = 0; row < 3; row++) {
      const xRow = rowOf(x, row);
      checkBundle(model, xRow, r, row, lower, upper, 1, spy.batches.map((b) => b.subarray(row * 10, row * 10 + 10)), `row ${row}`);
      xRow?.dispose();
      assert.ok(r.gap![row] <= 1e-6 * scaleOf(r.objective![row]), `row ${row}: gap ${r.gap![row]} after ${r.iterations[row]} iterations`);
      assert.ok(r.bundles![row].k > 1, 'not vacuous: several active cuts');
    }
    r.y.dispose();
  } finally {
    spy.restore();
    x.dispose();
    model.dispose();
  }
});

test('entropy weight: argmin of f − w·H equals argmin of f/w − H, with the objective scaled by w', async () => {
  for (const w of [0.2, 3]) {
    const model = new PICNN({ xDim: 4, yDim: 3, hidden: [32, 32], seed: 5 });
    perturb(model, 105);
    const x = randomX(model, 2, 6) as tf.Tensor2D;
    try {
      const weighted = await argmin(model, x, { method: 'bundle-entropy', entropyWeight: w });
      const plain = await argmin(model, x, { method: 'bundle-entropy' });
      assert.equal(scaleParameters(model, /^z2\.(Wz|Wy|Wu|b)$/, 1 / w), 4); // the last layer is linear: f ← f/w
      const scaled = await argmin(model, x, { method: 'bundle-entropy' });
      const a = weighted.y.arraySync();
      const b = scaled.y.arraySync();
      const p = plain.y.arraySync();
      for (let r = 0; r < 2; r++) {
        a[r].forEach((v, i) => assert.ok(Math.abs(v - b[r][i]) <= 1e-3, `w ${w}, row ${r}: ŷ [${a[r]}] vs [${b[r]}] for f/w`));
        assert.ok(Math.abs(weighted.objective![r] - w * scaled.objective![r]) <= 1e-5 * scaleOf(weighted.objective![r]), `w ${w}, row ${r}: objective ${weighted.objective![r]} vs w·${scaled.objective![r]}`);
        // Not vacuous: the weight changes the answer.
        assert.ok(a[r].some((v, i) => Math.abs(v - p[r][i]) > 1e-2), `w ${w}, row ${r}: ŷ does not depend on w`);
      }
      tf.dispose([weighted.y, plain.y, scaled.y]);
    } finally {
      x.dispose();
      model.dispose();
    }
  }
});
