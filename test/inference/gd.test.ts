/**
 * Projected gradient descent inference (`argmin` method 'gd', ../shared/icnn-paper.md §3.2), every optimizer:
 * - the exact update rules ('normalized' steps D/(2√(t+1)) along ∇f/‖∇f‖, the paper's momentum update, Adam), read
 *   off the points the optimizer evaluates on a linear energy;
 * - convergence towards the exact optimum (`lp`) on random networks, with every iterate kept in the box / simplex;
 * - the simplex (checked against a grid on the 2-D segment and against `bundle` on the simplex);
 * - the unbounded domain with strongly convex energies (closed form; exact QP);
 * - scale invariance of the default step on a steep network (weights × 1000);
 * - `init` as a number, a row, nested rows and a tensor; the tolerance-based early stop;
 * - the entropy-regularized variant (Adam on f − w·H) and its ranking of iterates.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FICNN, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import { argmin, type ArgminOptions, type GdArgminOptions } from '../../src/inference/argmin.js';
import {
  entropyObjective, evaluatePoints, gridSimplex2, perturb, randomX, rowOf, scaleParameters, sigmoid, spyEvaluations,
} from '../helpers/inference.js';

const scaleOf = (v: number) => Math.max(1, Math.abs(v));

/** A linear energy f(x, y) = aᵀx + wᵀy + b (an FICNN without hidden layers, w optionally set); returns the model and w. */
function linearModel(xDim: number, yDim: number, seed: number, strongConvexity = 0, setW?: number[]): { model: FICNN; w: Float32Array } {
  const model = new FICNN({ xDim, yDim, hidden: [], strongConvexity, seed });
  const Wv = model.parameters().find((p) => p.name === 'layer0.Wv');
  assert.ok(Wv, 'the FICNN has a layer0.Wv');
  if (setW !== undefined) {
    const values = Float32Array.from(Wv.variable.dataSync());
    values.set(setW, xDim);
    const t = tf.tensor(values, Wv.variable.shape);
    Wv.variable.assign(t);
    t.dispose();
  }
  const w = (Wv.variable.dataSync() as Float32Array).slice(xDim, xDim + yDim);
  return { model, w };
}

/** The evaluated points of row `r` (one per batched evaluation). */
function pathOf(batches: Float32Array[], r: number, n: number): Float32Array[] {
  return batches.map((b) => b.slice(r * n, (r + 1) * n));
}

describe('update rules, read off the evaluated points on a linear energy (unbounded domain)', () => {
  const n = 3;
  const steps = 6;
  const run = async (options: GdArgminOptions) => {
    const { model, w } = linearModel(0, n, 11);
    const spy = spyEvaluations(model);
    try {
      const r = await argmin(model, null, { ...options, domain: 'unbounded', iterations: steps, init: [0.1, -0.2, 0.3] });
      r.y.dispose();
      return { path: pathOf(spy.batches, 0, n), w, iterations: r.iterations[0] };
    } finally {
      spy.restore();
      model.dispose();
    }
  };
  const assertPath = (path: Float32Array[], expected: number[][], what: string) => {
    assert.equal(path.length, expected.length, `${what}: ${path.length} evaluations`);
    expected.forEach((e, t) => e.forEach((v, i) => assert.ok(Math.abs(path[t][i] - v) <= 1e-6 * scaleOf(v), `${what}, t = ${t}: y[${i}] = ${path[t][i]}, expected ${v}`)));
  };

  test("'normalized' (default): y ← y − D/(2√(t+1)) ∇f/‖∇f‖, D = 1 when unbounded", async () => {
    const { path, w, iterations } = await run({});
    const norm = Math.hypot(...w);
    const expected = [[0.1, -0.2, 0.3]];
    for (let t = 0; t < steps; t++) expected.push(expected[t].map((v, i) => v - (1 / (2 * Math.sqrt(t + 1))) * (w[i] / norm)));
    assertPath(path, expected, 'normalized');
    assert.equal(iterations, steps);
  });

  test("'momentum' (the paper's update): v ← μv − lr∇f, y ← y − μv_old + (1+μ)v", async () => {
    const lr = 0.05;
    const mu = 0.7;
    const decay = 0.5;
    const { path, w } = await run({ optimizer: 'momentum', learningRate: lr, momentum: mu, decay });
    const expected = [[0.1, -0.2, 0.3]];
    let v = [0, 0, 0];
    for (let t = 0; t < steps; t++) {
      const lrT = lr / (1 + decay * t);
      const vNew = v.map((vi, i) => mu * vi - lrT * w[i]);
      expected.push(expected[t].map((y, i) => y - mu * v[i] + (1 + mu) * vNew[i]));
      v = vNew;
    }
    assertPath(path, expected, 'momentum');
  });

  test("learningRate alone selects 'momentum' with μ = 0.9", async () => {
    const { path, w } = await run({ learningRate: 0.02 });
    // First step: v = −lr·w, y₁ = y₀ + 1.9·v.
    [0.1, -0.2, 0.3].forEach((y0, i) => assert.ok(Math.abs(path[1][i] - (y0 - 1.9 * 0.02 * w[i])) <= 1e-6));
  });

  test("'adam': with a constant gradient every step is lr·sign(∇f)", async () => {
    const lr = 0.03;
    const { path, w } = await run({ optimizer: 'adam', learningRate: lr });
    const expected = Array.from({ length: steps + 1 }, (_, t) => [0.1, -0.2, 0.3].map((y, i) => y - t * lr * Math.sign(w[i])));
    assertPath(path, expected, 'adam');
  });
});

/**
 * The guarantee of projected normalized subgradient steps y_{t+1} = P(y_t − η_t g_t/‖g_t‖): from
 * ‖y_{t+1} − y*‖² ≤ ‖y_t − y*‖² − 2η_t g_tᵀ(y_t − y*)/‖g_t‖ + η_t² and f(y_t) − f* ≤ g_tᵀ(y_t − y*),
 *   min_{t<T} f(y_t) − f* ≤ max_t ‖g_t‖ · (‖y_0 − y*‖² + Σ η_t²) / (2 Σ η_t).
 * `path` are the evaluated points of one row (y_0 … y_T), `gradNorms` ‖∇f‖ there.
 */
function normalizedBound(path: Float32Array[], gradNorms: Float32Array, yStar: number[], diameter: number): number {
  const T = path.length - 1;
  let sum = 0;
  let sumSq = 0;
  for (let t = 0; t < T; t++) {
    const eta = diameter / (2 * Math.sqrt(t + 1));
    sum += eta;
    sumSq += eta * eta;
  }
  const r2 = yStar.reduce((a, v, i) => a + (path[0][i] - v) ** 2, 0);
  const gMax = gradNorms.subarray(0, T).reduce((a, v) => Math.max(a, v), 0);
  return (gMax * (r2 + sumSq)) / (2 * sum);
}

describe('on random networks every optimizer approaches the lp optimum, every iterate inside the box', () => {
  const runs: [string, GdArgminOptions][] = [
    ["'normalized', 1000 iterations", { iterations: 1000 }],
    ["'momentum' lr 0.01, 300 iterations", { optimizer: 'momentum', learningRate: 0.01, iterations: 300 }],
    ["'adam' lr 0.05, decay 0.01, 300 iterations", { optimizer: 'adam', learningRate: 0.05, decay: 0.01, iterations: 300 }],
  ];
  for (const [name, options] of runs) {
    test(name, async () => {
      const model = new PICNN({ xDim: 4, yDim: 5, hidden: [32, 32], seed: 1 });
      perturb(model, 101);
      const x = randomX(model, 3, 8) as tf.Tensor2D;
      const lower = [-1, 0, 0, -0.5, 0];
      const upper = [1, 1, 2, 0.5, 1];
      const diameter = Math.hypot(...lower.map((l, i) => upper[i] - l));
      const domain = { lower, upper };
      const spy = spyEvaluations(model);
      try {
        const lp = await argmin(model, x, { method: 'lp', domain });
        const gd = await argmin(model, x, { ...options, domain });
        spy.restore();
        const centre = lower.map((l, i) => (l + upper[i]) / 2);
        const start = tf.tidy(() => model.energy(x, [centre, centre, centre]).dataSync());
        const yStar = lp.y.arraySync();
        for (let r = 0; r < 3; r++) {
          const gap = gd.energy[r] - lp.energy[r];
          const startGap = start[r] - lp.energy[r];
          const tol = 1e-5 * scaleOf(lp.energy[r]);
          assert.ok(startGap > 1, `row ${r}: the centre is nearly optimal (${startGap})`);
          assert.ok(gap >= -tol, `row ${r}: gd ${gd.energy[r]} below the optimum ${lp.energy[r]}`);
          assert.ok(gap <= 1e-2 * startGap, `row ${r}: gd is ${gap} above the optimum (start ${startGap} above)`);
          if (options.optimizer === undefined) {
            const path = pathOf(spy.batches, r, 5);
            const xRow = rowOf(x, r);
            const { gradNorm } = evaluatePoints(model, xRow, Float32Array.from(path.flatMap((p) => Array.from(p))), 5, true);
            xRow?.dispose();
            const bound = normalizedBound(path, gradNorm, yStar[r], diameter);
            assert.ok(gap <= bound + tol, `row ${r}: gap ${gap} exceeds the subgradient-method bound ${bound}`);
          }
        }
        // Every evaluated iterate is in the box; the first is the box centre (the default init).
        assert.equal(spy.batches.length, (options.iterations ?? 100) + 1);
        for (const [t, b] of spy.batches.entries()) {
          for (const [k, v] of b.entries()) {
            const i = k % 5;
            assert.ok(v >= lower[i] && v <= upper[i], `iterate ${t}: y[${i}] = ${v} outside [${lower[i]}, ${upper[i]}]`);
            if (t === 0) assert.equal(v, Math.fround(centre[i]));
          }
        }
        tf.dispose([lp.y, gd.y]);
      } finally {
        spy.restore();
        x.dispose();
        model.dispose();
      }
    });
  }
});

describe('the simplex', () => {
  test('y-dim 2 (a segment): bundle matches the grid; gd matches bundle; every iterate on the simplex', async () => {
    for (const seed of [3, 4]) {
      const model = new PICNN({ xDim: 4, yDim: 2, hidden: [32, 32], seed });
      perturb(model, 100 + seed);
      const x = randomX(model, 2, 10 + seed) as tf.Tensor2D;
      const spy = spyEvaluations(model);
      try {
        const bundle = await argmin(model, x, { method: 'bundle', domain: 'simplex' });
        const gd = await argmin(model, x, { domain: 'simplex', iterations: 300 });
        spy.restore();
        for (const [t, b] of spy.batches.entries()) {
          for (let r = 0; r < 2; r++) {
            const [a, c] = [b[2 * r], b[2 * r + 1]];
            assert.ok(a >= 0 && c >= 0 && Math.abs(a + c - 1) <= 1e-6, `seed ${seed}, evaluation ${t}, row ${r}: (${a}, ${c}) is not on the simplex`);
          }
        }
        for (let r = 0; r < 2; r++) {
          const xRow = rowOf(x, r);
          const grid = gridSimplex2(model, xRow, 401);
          xRow?.dispose();
          const at = `seed ${seed} row ${r}`;
          const tol = 1e-5 * scaleOf(grid.min);
          assert.ok(bundle.energy[r] <= grid.min + tol, `${at}: bundle ${bundle.energy[r]} > grid minimum ${grid.min}`);
          assert.ok(bundle.lowerBound![r] >= grid.min - grid.slack - tol, `${at}: bundle bound ${bundle.lowerBound![r]} far below the grid ${grid.min}`);
          assert.ok(bundle.lowerBound![r] <= grid.min + tol, `${at}: bundle bound ${bundle.lowerBound![r]} > grid minimum ${grid.min}`);
          assert.ok(gd.energy[r] >= bundle.lowerBound![r] - tol, `${at}: gd ${gd.energy[r]} below the certified bound`);
          assert.ok(gd.energy[r] - bundle.energy[r] <= 1e-3, `${at}: gd ${gd.energy[r]} vs bundle ${bundle.energy[r]}`);
        }
        for (const r of [bundle, gd]) {
          const y = r.y.arraySync();
          for (const row of y) assert.ok(row.every((v) => v >= 0) && Math.abs(row[0] + row[1] - 1) <= 1e-6, `${r.method}: ŷ = [${row}]`);
        }
        tf.dispose([bundle.y, gd.y]);
      } finally {
        spy.restore();
        x.dispose();
        model.dispose();
      }
    }
  });

  test('y-dim 10: normalized and momentum gd reach the bundle optimum, iterates on the simplex', async () => {
    const model = new PICNN({ xDim: 4, yDim: 10, hidden: [32, 32], seed: 3 });
    perturb(model, 103);
    const x = randomX(model, 2, 10) as tf.Tensor2D;
    try {
      const bundle = await argmin(model, x, { method: 'bundle', domain: 'simplex' });
      for (const options of [{}, { optimizer: 'momentum', learningRate: 0.01 }] as GdArgminOptions[]) {
        const spy = spyEvaluations(model);
        const gd = await argmin(model, x, { ...options, domain: 'simplex', iterations: 1000 });
        spy.restore();
        for (const b of spy.batches) {
          for (let r = 0; r < 2; r++) {
            const row = b.subarray(r * 10, r * 10 + 10);
            assert.ok(row.every((v) => v >= 0) && Math.abs(row.reduce((a, v) => a + v, 0) - 1) <= 1e-5, `iterate [${row}] is not on the simplex`);
          }
        }
        for (let r = 0; r < 2; r++) {
          const tol = 1e-5 * scaleOf(bundle.energy[r]);
          assert.ok(gd.energy[r] >= bundle.lowerBound![r] - tol, `row ${r}: gd ${gd.energy[r]} below the bound ${bundle.lowerBound![r]}`);
          assert.ok(gd.energy[r] - bundle.energy[r] <= 1e-4, `${JSON.stringify(options)} row ${r}: gd ${gd.energy[r]} vs bundle ${bundle.energy[r]}`);
        }
        gd.y.dispose();
      }
      bundle.y.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

describe("the 'unbounded' domain with strongly convex energies", () => {
  test('linear + (α/2)‖y‖²: every optimizer finds the closed form −w/α, outside the unit box', async () => {
    const alpha = 0.4;
    const { model, w } = linearModel(3, 4, 4, alpha);
    const x = randomX(model, 2, 11) as tf.Tensor2D;
    try {
      const yStar = Array.from(w, (v) => -v / alpha);
      assert.ok(yStar.some((v) => Math.abs(v) > 1), `not vacuous: y* = [${yStar}] should leave the unit box`);
      const fStar = tf.tidy(() => model.energy(x, [yStar, yStar]).dataSync());
      for (const options of [{}, { optimizer: 'momentum', learningRate: 0.05 }, { optimizer: 'adam', learningRate: 0.05 }] as GdArgminOptions[]) {
        const r = await argmin(model, x, { ...options, domain: 'unbounded', iterations: 1000 });
        const y = r.y.arraySync();
        for (let row = 0; row < 2; row++) {
          const dist = Math.hypot(...y[row].map((v, i) => v - yStar[i]));
          assert.ok(dist <= 1e-3, `${JSON.stringify(options)} row ${row}: ŷ = [${y[row]}], y* = [${yStar}]`);
          assert.ok(r.energy[row] - fStar[row] <= 1e-5 * scaleOf(fStar[row]), `${JSON.stringify(options)} row ${row}: f(ŷ) ${r.energy[row]} vs f* ${fStar[row]}`);
        }
        r.y.dispose();
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  test('a ReLU network + (α/2)‖y‖²: gd approaches the exact QP optimum (box [-20, 20] inactive)', async () => {
    const model = new FICNN({ xDim: 3, yDim: 4, hidden: [32, 32], strongConvexity: 1, seed: 2 });
    perturb(model, 7);
    const x = randomX(model, 2, 13) as tf.Tensor2D;
    try {
      const qp = await argmin(model, x, { method: 'lp', domain: { lower: -20, upper: 20 } });
      assert.ok(qp.y.dataSync().every((v) => Math.abs(v) < 19), 'the QP optimum is inside the box, so it is the unconstrained one');
      const start = tf.tidy(() => model.energy(x, tf.zeros([2, 4]) as tf.Tensor2D).dataSync());
      const gd = await argmin(model, x, { domain: 'unbounded', iterations: 1000 });
      for (let r = 0; r < 2; r++) {
        const gap = gd.energy[r] - qp.energy[r];
        assert.ok(gap >= -1e-5 * scaleOf(qp.energy[r]), `row ${r}: gd ${gd.energy[r]} below the optimum ${qp.energy[r]}`);
        assert.ok(gap <= 0.05 * (start[r] - qp.energy[r]) && gap <= 1e-2, `row ${r}: gd ${gap} above the optimum (start ${start[r] - qp.energy[r]} above)`);
      }
      tf.dispose([qp.y, gd.y]);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

test('a steep network (last layer × 1000): the default normalized step is scale-free and still converges', async () => {
  for (const seed of [2, 3]) {
    const model = new PICNN({ xDim: 4, yDim: 3, hidden: [32, 32], seed });
    perturb(model, 100 + seed);
    const x = randomX(model, 2, 9 + seed) as tf.Tensor2D;
    try {
      const lp = await argmin(model, x, { method: 'lp' });
      const gd = await argmin(model, x, { iterations: 300 });
      assert.equal(scaleParameters(model, /^z2\.(Wz|Wy|Wu|b)$/, 1000), 4);
      const lpSteep = await argmin(model, x, { method: 'lp' });
      const gdSteep = await argmin(model, x, { iterations: 300 });
      const y = gd.y.arraySync();
      const ySteep = gdSteep.y.arraySync();
      for (let r = 0; r < 2; r++) {
        assert.ok(Math.abs(lpSteep.energy[r] / 1000 - lp.energy[r]) <= 1e-5 * scaleOf(lp.energy[r]), 'f is scaled by 1000');
        const gap = gd.energy[r] - lp.energy[r];
        const gapSteep = (gdSteep.energy[r] - lpSteep.energy[r]) / 1000;
        assert.ok(gapSteep <= 1e-3 * scaleOf(lp.energy[r]), `seed ${seed} row ${r}: steep gap ${gapSteep} (per unit scale)`);
        assert.ok(Math.abs(gapSteep - gap) <= 1e-5 * scaleOf(lp.energy[r]), `seed ${seed} row ${r}: relative gaps ${gapSteep} (steep) vs ${gap}`);
        y[r].forEach((v, i) => assert.ok(Math.abs(v - ySteep[r][i]) <= 1e-4, `seed ${seed} row ${r}: ŷ [${y[r]}] vs steep [${ySteep[r]}]`));
      }
      tf.dispose([lp.y, gd.y, lpSteep.y, gdSteep.y]);
    } finally {
      x.dispose();
      model.dispose();
    }
  }
});

describe('init', () => {
  const n = 3;
  const firstPoints = async (model: EnergyModel, x: tf.Tensor2D, options: ArgminOptions): Promise<number[][]> => {
    const spy = spyEvaluations(model);
    try {
      const r = await argmin(model, x, { iterations: 2, ...options });
      r.y.dispose();
      const first = spy.batches[0];
      return Array.from({ length: x.shape[0] }, (_, i) => Array.from(first.subarray(i * n, (i + 1) * n)));
    } finally {
      spy.restore();
    }
  };
  const close = (a: number[][], b: number[][], what: string) =>
    a.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) <= 1e-6, `${what}: row ${i} [${row}] vs [${b[i]}]`)));

  test('a number, a row, nested rows and a tensor start every method where asked (projected onto the domain)', async () => {
    const model = new PICNN({ xDim: 2, yDim: n, hidden: [8], seed: 5 });
    const x = randomX(model, 2, 6) as tf.Tensor2D;
    const rows = [[0.2, 0.9, 0.4], [0.7, 0.1, 0.3]];
    const tensor = tf.tensor2d(rows);
    try {
      for (const method of ['gd', 'bundle', 'bundle-entropy'] as const) {
        close(await firstPoints(model, x, { method }), [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], `${method}, default (centre)`);
        close(await firstPoints(model, x, { method, init: 0.25 }), [[0.25, 0.25, 0.25], [0.25, 0.25, 0.25]], `${method}, number`);
        close(await firstPoints(model, x, { method, init: [0.1, 0.6, 0.8] }), [[0.1, 0.6, 0.8], [0.1, 0.6, 0.8]], `${method}, one row`);
        close(await firstPoints(model, x, { method, init: rows }), rows, `${method}, nested rows`);
        close(await firstPoints(model, x, { method, init: tensor }), rows, `${method}, tensor`);
      }
      assert.equal(tensor.isDisposed, false);
      // Outside the domain: projected.
      close(await firstPoints(model, x, { init: [-1, 0.5, 3] }), [[0, 0.5, 1], [0, 0.5, 1]], 'gd, box projection');
      close(await firstPoints(model, x, { init: [2, 0, 0], domain: 'simplex' }), [[1, 0, 0], [1, 0, 0]], 'gd, simplex projection');
      close(await firstPoints(model, x, { domain: 'simplex' }), [[1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]], 'gd, simplex barycentre');
      close(await firstPoints(model, x, { method: 'bundle', init: [0.6, 0.6, 0.6], domain: 'simplex' }), [[1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]], 'bundle, simplex projection');
      close(await firstPoints(model, x, { init: [5, -7, 0.5], domain: 'unbounded' }), [[5, -7, 0.5], [5, -7, 0.5]], 'gd, unbounded');
      // bundle-entropy starts strictly inside the box: the entropy's gradient is infinite on its boundary.
      const be = await firstPoints(model, x, { method: 'bundle-entropy', init: [0, 1, 0.5] });
      for (const row of be) assert.ok(row[0] > 0 && row[0] < 1e-5 && row[1] < 1 && row[1] > 1 - 1e-5 && row[2] === 0.5, `bundle-entropy start [${row}]`);
    } finally {
      tensor.dispose();
      x.dispose();
      model.dispose();
    }
  });

  test('starting at the optimum, gd keeps it (the best iterate is returned)', async () => {
    const model = new PICNN({ xDim: 4, yDim: 4, hidden: [32, 32], seed: 6 });
    perturb(model, 106);
    const x = randomX(model, 2, 7) as tf.Tensor2D;
    try {
      const lp = await argmin(model, x, { method: 'lp' });
      const gd = await argmin(model, x, { init: lp.y, iterations: 20 });
      for (let r = 0; r < 2; r++) assert.ok(gd.energy[r] <= lp.energy[r] + 1e-5 * scaleOf(lp.energy[r]), `row ${r}: ${gd.energy[r]} vs ${lp.energy[r]}`);
      tf.dispose([lp.y, gd.y]);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

describe('tolerance: early stop per row', () => {
  test('without a tolerance gd runs its whole budget', async () => {
    const model = new PICNN({ xDim: 4, yDim: 3, hidden: [16], seed: 8 });
    const x = randomX(model, 2, 9) as tf.Tensor2D;
    try {
      const r = await argmin(model, x, { optimizer: 'momentum', learningRate: 0.01, iterations: 50 });
      assert.deepEqual(Array.from(r.iterations), [50, 50]);
      assert.equal(r.evaluations, 51, 'the last evaluation scores the final iterate');
      r.y.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  test('each row stops right after its first step shorter than tolerance·D (max norm), the others go on', async () => {
    const model = new PICNN({ xDim: 4, yDim: 5, hidden: [32, 32], seed: 1 });
    perturb(model, 101);
    const x = randomX(model, 3, 8) as tf.Tensor2D;
    const tolerance = 1e-5;
    const diameter = Math.sqrt(5);
    const spy = spyEvaluations(model);
    try {
      const r = await argmin(model, x, { optimizer: 'adam', learningRate: 0.05, decay: 0.01, iterations: 2000, tolerance });
      spy.restore();
      const iterations = Array.from(r.iterations);
      assert.ok(iterations.every((k) => k < 2000), `iterations ${iterations}: no early stop`);
      assert.ok(new Set(iterations).size > 1, `iterations ${iterations}: rows should stop at different times`);
      // Evaluations go on while a row is active (the stopping step of the last row is not evaluated).
      assert.equal(spy.batches.length, Math.max(...iterations));
      for (let row = 0; row < 3; row++) {
        const k = iterations[row];
        if (k === Math.max(...iterations)) continue; // its last point is not evaluated
        const path = pathOf(spy.batches, row, 5);
        const move = (t: number) => Math.max(...Array.from(path[t], (v, i) => Math.abs(v - path[t - 1][i])));
        // Stopped at step k: y_k moved less than tolerance·D; no earlier step did (float32 copies: 1e-7 slack).
        assert.ok(move(k) < tolerance * diameter + 1e-7, `row ${row}: last move ${move(k)}`);
        for (let t = 1; t < k; t++) assert.ok(move(t) >= tolerance * diameter - 1e-7, `row ${row}: step ${t} moved ${move(t)} but the row went on`);
        // A stopped row stays put.
        for (let t = k + 1; t < path.length; t++) assert.deepEqual(path[t], path[k]);
      }
      r.y.dispose();
    } finally {
      spy.restore();
      x.dispose();
      model.dispose();
    }
  });

  test('on a smooth strongly convex energy momentum stops early at the closed-form optimum', async () => {
    const alpha = 1;
    const { model, w } = linearModel(0, 4, 4, alpha);
    try {
      const r = await argmin(model, null, { optimizer: 'momentum', learningRate: 0.05, domain: 'unbounded', iterations: 5000, tolerance: 1e-7 });
      assert.ok(r.iterations[0] < 5000, `iterations ${r.iterations[0]}`);
      // The best iterate is picked by its float32 energy, which resolves ‖y − y*‖ only to about √(2ε|f*|/α) ≈ 3e-4.
      const yStar = Array.from(w, (v) => -v / alpha);
      const fStar = tf.tidy(() => model.energy(null, [yStar]).dataSync()[0]);
      assert.ok(r.energy[0] - fStar <= 1e-6 * scaleOf(fStar), `f(ŷ) = ${r.energy[0]}, f* = ${fStar}`);
      r.y.arraySync()[0].forEach((v, i) => assert.ok(Math.abs(v - yStar[i]) <= 1e-3, `y[${i}] = ${v}, closed form ${yStar[i]}`));
      r.y.dispose();
    } finally {
      model.dispose();
    }
  });

  test('normalized steps stop when the projection pins the iterate to a corner', async () => {
    const { model } = linearModel(0, 4, 12, 0, [1, -2, 0.5, -1]);
    try {
      const r = await argmin(model, null, { batch: 2, iterations: 1000, tolerance: 1e-6 });
      // Coordinate 3 (|w|/‖w‖ = 0.2) needs Σ η_t ≥ 2.5 to travel 0.5, with η_t = 1/√(t+1): 4 steps; the 5th moves 0.
      assert.deepEqual(Array.from(r.iterations), [5, 5]);
      assert.deepEqual(r.y.arraySync()[0], [0, 1, 0, 1]);
      r.y.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe("entropy-regularized gd (Adam on f − w·H, the authors' RL inner loop)", () => {
  test('linear f: converges to the closed form l + (u−l)·σ(−(u−l)∘c/w)', async () => {
    const { model, w: c } = linearModel(2, 3, 13);
    const x = randomX(model, 1, 14) as tf.Tensor2D;
    const lower = [-1, 0, 2];
    const upper = [1, 0.5, 5];
    const weight = 0.7;
    try {
      const r = await argmin(model, x, { optimizer: 'adam', learningRate: 0.02, entropyWeight: weight, iterations: 2000, domain: { lower, upper } });
      const y = r.y.arraySync()[0];
      lower.forEach((l, i) => {
        const width = upper[i] - l;
        const want = l + width * sigmoid(-(width * c[i]) / weight);
        assert.ok(Math.abs(y[i] - want) <= 1e-3 * width, `y[${i}] = ${y[i]}, closed form ${want}`);
      });
      r.y.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  test('the returned iterate is the best one for f − w·H (not for f), and `objective` reports it', async () => {
    const model = new PICNN({ xDim: 4, yDim: 2, hidden: [32, 32], seed: 3 });
    perturb(model, 10);
    const x = randomX(model, 2, 16) as tf.Tensor2D;
    const weight = 0.5;
    const spy = spyEvaluations(model);
    try {
      const r = await argmin(model, x, { optimizer: 'adam', learningRate: 0.05, entropyWeight: weight, iterations: 200 });
      spy.restore();
      assert.ok(r.objective, 'gd with entropyWeight reports its objective');
      const y = r.y.dataSync() as Float32Array;
      for (let row = 0; row < 2; row++) {
        const xRow = rowOf(x, row);
        const points = Float32Array.from(spy.batches.flatMap((b) => Array.from(b.subarray(row * 2, row * 2 + 2))));
        const F = entropyObjective(model, xRow, points, [0, 0], [1, 1], weight);
        const atY = entropyObjective(model, xRow, y.subarray(row * 2, row * 2 + 2), [0, 0], [1, 1], weight)[0];
        xRow?.dispose();
        const best = Math.min(...F);
        assert.ok(Math.abs(r.objective[row] - atY) <= 1e-6 * scaleOf(atY), `row ${row}: objective ${r.objective[row]} vs f − wH at ŷ ${atY}`);
        assert.ok(r.objective[row] <= best + 1e-6 * scaleOf(best), `row ${row}: returned ${r.objective[row]}, best iterate ${best}`);
        // Not vacuous: some iterate has a lower f than ŷ (ranking by f would have returned another point).
        const fAtIterates = F.map((v, t) => v + weight * (entropyH(points[2 * t]) + entropyH(points[2 * t + 1])));
        assert.ok(Math.min(...fAtIterates) < r.energy[row] - 1e-4, `row ${row}: ŷ also minimizes f over the iterates`);
      }
      r.y.dispose();
      const plain = await argmin(model, x, { optimizer: 'adam', iterations: 5 });
      assert.equal(plain.objective, undefined, 'no objective without entropyWeight');
      plain.y.dispose();
    } finally {
      spy.restore();
      x.dispose();
      model.dispose();
    }
  });
});

function entropyH(s: number): number {
  return s <= 0 || s >= 1 ? 0 : -(s * Math.log(s) + (1 - s) * Math.log(1 - s));
}
