/**
 * The bundle entropy method on the probability simplex (src/inference/bundleEntropy.ts, simplex branch;
 * `../shared/icnn-paper.md` §3.4 "easily extensible" to the simplex, §4.2 one-hot outputs with a multivariate
 * entropy), through argmin(model, x, { method: 'bundle-entropy', domain: 'simplex' }).
 * Checked against: the closed form softmax(−c/w) for a linear energy (a FICNN without hidden layers); brute force
 * over the 2-simplex (a fine grid, then zoomed grids around its best point) of f − w·H for small random FICNN and
 * PICNN with yDim 3; the certificates (lowerBound ≤ reference ≤ objective); and the active bundle's contents.
 * Energies come from the model in float32, so agreement is to about 1e-5 relative.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FICNN, IcnnError, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import { argmin } from '../../src/inference/argmin.js';
import { Rng } from '../../src/util/random.js';

/** Move the biases away from their initialization so that the minimizer is not trivially the barycentre. */
function perturb(model: EnergyModel, seed: number): void {
  const rng = new Rng(seed);
  for (const p of model.parameters()) {
    const n = p.variable.size;
    let v: Float32Array | null = null;
    if (p.name.endsWith('.by')) v = rng.fillNormal(n, 0.5, 1);
    else if (p.name.endsWith('.bz')) v = rng.fillNormal(n, 0.3, 0.7);
    else if (/\.b$/.test(p.name)) v = rng.fillNormal(n, 0, 0.5);
    if (v !== null) {
      const t = tf.tensor(v, p.variable.shape);
      p.variable.assign(t);
      t.dispose();
    }
  }
}

/** f(x_row, y) for many points y of the 2-simplex [P × 3] (float32 model energies). */
function energies(model: EnergyModel, xRow: tf.Tensor2D | null, points: Float32Array): Float32Array {
  const count = points.length / 3;
  return tf.tidy(() => {
    const y = tf.tensor2d(points, [count, 3]);
    const x = xRow === null ? null : tf.tile(xRow, [count, 1]);
    return model.energy(x, y).dataSync() as Float32Array;
  });
}

function negEntropy(y0: number, y1: number, y2: number): number {
  let s = 0;
  for (const v of [y0, y1, y2]) if (v > 0) s += v * Math.log(v);
  return s;
}

/**
 * Brute-force min over the 2-simplex of f(y) − w·H(y): a grid of step 1/150, then 8 zoomed 41×41 grids around the
 * best point, each window a quarter of the previous one (the objective is convex, so the zoom follows its minimum).
 */
function bruteForce(model: EnergyModel, xRow: tf.Tensor2D | null, w: number): { value: number; y: number[] } {
  const N = 150;
  const pts: number[] = [];
  for (let i = 0; i <= N; i++) for (let j = 0; i + j <= N; j++) pts.push(i / N, j / N, (N - i - j) / N);
  let best = Infinity;
  let by = [1 / 3, 1 / 3, 1 / 3];
  const scan = (p: number[]) => {
    const e = energies(model, xRow, Float32Array.from(p));
    for (let q = 0; q < e.length; q++) {
      const [a, b, c] = [p[3 * q], p[3 * q + 1], p[3 * q + 2]];
      const v = e[q] + w * negEntropy(a, b, c);
      if (v < best) {
        best = v;
        by = [a, b, c];
      }
    }
  };
  scan(pts);
  let half = 2 / N;
  const M = 20;
  for (let level = 0; level < 8; level++) {
    const [c0, c1] = by;
    const p: number[] = [];
    for (let a = -M; a <= M; a++) {
      for (let b = -M; b <= M; b++) {
        const y0 = c0 + (a / M) * half;
        const y1 = c1 + (b / M) * half;
        const y2 = 1 - y0 - y1;
        if (y0 >= 0 && y1 >= 0 && y2 >= 0) p.push(y0, y1, y2);
      }
    }
    scan(p);
    half /= 4;
  }
  return { value: best, y: by };
}

function rowOf(x: tf.Tensor2D | null, r: number): tf.Tensor2D | null {
  return x === null ? null : tf.slice(x, [r, 0], [1, x.shape[1]]);
}

function checkOnSimplex(y: ArrayLike<number>, what: string): void {
  let s = 0;
  for (let j = 0; j < y.length; j++) {
    assert.ok(y[j] >= 0 && y[j] <= 1, `${what}: entry ${y[j]}`);
    s += y[j];
  }
  assert.ok(Math.abs(s - 1) <= 1e-6, `${what}: sums to ${s}`);
}

describe('bundle entropy on the simplex: linear energies (closed form)', () => {
  test('f(y) = cᵀy + b gives ŷ = softmax(−c/w) and objective b − w·logsumexp(−c/w), certified', async () => {
    for (const [seed, yDim, w] of [[1, 3, 1], [2, 5, 1], [3, 8, 0.25], [4, 4, 3]] as const) {
      const model = new FICNN({ yDim, hidden: [], seed });
      try {
        // c = ∇_y f (constant), b = f(0).
        const { energy, grad } = model.energyAndGradY(null, tf.zeros([1, yDim]) as tf.Tensor2D);
        const b = energy.dataSync()[0];
        const c = Array.from(grad.dataSync());
        tf.dispose([energy, grad]);
        const z = c.map((v) => -v / w);
        const m = Math.max(...z);
        const l = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
        const soft = z.map((v) => Math.exp(v - l));
        const res = await argmin(model, null, { method: 'bundle-entropy', domain: 'simplex', entropyWeight: w });
        const y = res.y.dataSync();
        res.y.dispose();
        for (let j = 0; j < yDim; j++) assert.ok(Math.abs(y[j] - soft[j]) <= 1e-6, `seed ${seed}: y ${Array.from(y)} vs ${soft}`);
        const value = b - w * l;
        assert.ok(res.objective !== undefined && res.lowerBound !== undefined && res.gap !== undefined);
        assert.ok(Math.abs(res.objective[0] - value) <= 1e-5 * (1 + Math.abs(value)), `objective ${res.objective[0]} vs ${value}`);
        assert.ok(res.lowerBound[0] <= value + 1e-5 * (1 + Math.abs(value)), `lowerBound ${res.lowerBound[0]} vs ${value}`);
        assert.ok(res.gap[0] <= 1e-5 * (1 + Math.abs(value)), `gap ${res.gap[0]}`);
        // One cut is exact; the second evaluation repeats it and the row stops.
        assert.ok(res.iterations[0] <= 2, `iterations ${res.iterations[0]}`);
        const bundle = res.bundles?.[0];
        assert.ok(bundle !== undefined && bundle.k === 1);
        for (let j = 0; j < yDim; j++) assert.ok(Math.abs(bundle.G[j] - c[j]) <= 1e-6 * (1 + Math.abs(c[j])), 'G is the unscaled gradient');
      } finally {
        model.dispose();
      }
    }
  });

  test('the start (a vertex, an off-simplex point, a batch of inits) does not change the answer', async () => {
    const model = new FICNN({ yDim: 3, hidden: [], seed: 7 });
    try {
      const ref = await argmin(model, null, { method: 'bundle-entropy', domain: 'simplex' });
      const yRef = ref.y.dataSync();
      ref.y.dispose();
      for (const init of [[1, 0, 0], [5, -3, 0.5], 0.2, [[0, 0, 1], [0.3, 0.3, 0.4]]] as const) {
        const batch = Array.isArray(init) && Array.isArray(init[0]) ? 2 : 1;
        const res = await argmin(model, null, {
          method: 'bundle-entropy', domain: 'simplex', init: init as number | number[] | number[][], batch,
        });
        const y = res.y.dataSync();
        res.y.dispose();
        for (let r = 0; r < batch; r++) {
          for (let j = 0; j < 3; j++) assert.ok(Math.abs(y[r * 3 + j] - yRef[j]) <= 1e-6, `init ${JSON.stringify(init)}`);
        }
      }
    } finally {
      model.dispose();
    }
  });
});

describe('bundle entropy on the simplex: small random ICNNs against brute force over the 2-simplex', () => {
  const cases: { name: string; build: (seed: number) => EnergyModel; w: number; xDim: number }[] = [
    { name: 'FICNN relu', build: (seed) => new FICNN({ yDim: 3, hidden: [12, 12], seed }), w: 1, xDim: 0 },
    { name: 'FICNN softplus w=0.3', build: (seed) => new FICNN({ yDim: 3, hidden: [10, 8], activation: 'softplus', seed }), w: 0.3, xDim: 0 },
    { name: 'FICNN x2 relu w=0.1', build: (seed) => new FICNN({ xDim: 2, yDim: 3, hidden: [12, 10], seed }), w: 0.1, xDim: 2 },
    { name: 'PICNN x3 relu', build: (seed) => new PICNN({ xDim: 3, yDim: 3, hidden: [12, 10], seed }), w: 1, xDim: 3 },
    { name: 'PICNN x2 softplus w=0.2', build: (seed) => new PICNN({ xDim: 2, yDim: 3, hidden: [10, 8], activation: 'softplus', seed }), w: 0.2, xDim: 2 },
  ];
  for (const c of cases) {
    test(`${c.name}: within 1e-3 of the grid minimum in ≤ 30 iterations; lowerBound ≤ reference`, async () => {
      for (const seed of [1, 2]) {
        const model = c.build(seed);
        perturb(model, 100 + seed);
        const rows = c.xDim === 0 ? 1 : 2;
        const x = c.xDim === 0 ? null : tf.tensor2d(new Rng(200 + seed).fillNormal(rows * c.xDim), [rows, c.xDim]);
        try {
          const res = await argmin(model, x, { method: 'bundle-entropy', domain: 'simplex', entropyWeight: c.w, iterations: 30 });
          const y = res.y.dataSync();
          res.y.dispose();
          assert.ok(res.objective !== undefined && res.lowerBound !== undefined && res.bundles !== undefined);
          for (let r = 0; r < rows; r++) {
            const what = `${c.name} seed ${seed} row ${r}`;
            const xr = rowOf(x, r);
            const ref = bruteForce(model, xr, c.w);
            xr?.dispose();
            const yr = Array.from(y.subarray(r * 3, r * 3 + 3));
            checkOnSimplex(yr, what);
            const obj = res.objective[r];
            const lb = res.lowerBound[r];
            const slack = 2e-5 * (1 + Math.abs(ref.value)); // float32 energies
            assert.ok(res.iterations[r] <= 30, `${what}: ${res.iterations[r]} iterations`);
            assert.ok(Math.abs(obj - ref.value) <= 1e-3, `${what}: objective ${obj} vs grid ${ref.value}`);
            assert.ok(obj >= ref.value - slack, `${what}: objective ${obj} below the grid minimum ${ref.value}`);
            assert.ok(lb <= ref.value + slack, `${what}: lowerBound ${lb} above the grid minimum ${ref.value}`);
            assert.ok(lb <= obj + slack, `${what}: lowerBound ${lb} > objective ${obj}`);
            for (let j = 0; j < 3; j++) assert.ok(Math.abs(yr[j] - ref.y[j]) <= 5e-3, `${what}: y ${yr} vs grid ${ref.y}`);
            // The active bundle: λ on the simplex, points on the simplex, h_i = f(y^i) − g_iᵀy^i with G unscaled.
            const b = res.bundles[r];
            assert.ok(b.k >= 1 && b.lambda.length === b.k && b.G.length === b.k * 3 && b.points.length === b.k * 3);
            checkOnSimplex(b.lambda, `${what} λ`);
            for (let i = 0; i < b.k; i++) {
              const pt = b.points.subarray(i * 3, i * 3 + 3);
              checkOnSimplex(pt, `${what} point ${i}`);
              const xi = rowOf(x, r);
              const { energy, grad } = model.energyAndGradY(xi, tf.tensor2d(Float32Array.from(pt), [1, 3]));
              const e = energy.dataSync()[0];
              const g = grad.dataSync();
              tf.dispose([energy, grad]);
              xi?.dispose();
              let gy = 0;
              for (let j = 0; j < 3; j++) {
                assert.ok(Math.abs(b.G[i * 3 + j] - g[j]) <= 1e-5 * (1 + Math.abs(g[j])), `${what}: G row ${i}`);
                gy += b.G[i * 3 + j] * pt[j];
              }
              assert.ok(Math.abs(b.h[i] - (e - gy)) <= 1e-5 * (1 + Math.abs(e)), `${what}: h[${i}]`);
            }
          }
        } finally {
          x?.dispose();
          model.dispose();
        }
      }
    });
  }
});

describe('bundle entropy on the simplex: edge cases', () => {
  test('yDim = 1: the simplex is the point {1}', async () => {
    const model = new FICNN({ yDim: 1, hidden: [6], seed: 3 });
    try {
      const res = await argmin(model, null, { method: 'bundle-entropy', domain: 'simplex' });
      const y = res.y.dataSync();
      res.y.dispose();
      assert.equal(y[0], 1);
      const e = model.energy(null, tf.ones([1, 1]) as tf.Tensor2D);
      const f1 = e.dataSync()[0];
      e.dispose();
      assert.ok(res.objective !== undefined && res.lowerBound !== undefined);
      assert.ok(Math.abs(res.objective[0] - f1) <= 1e-5 * (1 + Math.abs(f1)));
      assert.ok(Math.abs(res.lowerBound[0] - f1) <= 1e-5 * (1 + Math.abs(f1)));
    } finally {
      model.dispose();
    }
  });

  test('larger yDim (10 classes): converges with a small certified gap', async () => {
    const model = new PICNN({ xDim: 4, yDim: 10, hidden: [16, 16], activation: 'softplus', seed: 9 });
    perturb(model, 9);
    const x = tf.tensor2d(new Rng(9).fillNormal(3 * 4), [3, 4]);
    try {
      const res = await argmin(model, x, { method: 'bundle-entropy', domain: 'simplex', entropyWeight: 0.5, iterations: 30 });
      const y = res.y.dataSync();
      res.y.dispose();
      assert.ok(res.gap !== undefined && res.objective !== undefined);
      for (let r = 0; r < 3; r++) {
        checkOnSimplex(y.subarray(r * 10, r * 10 + 10), `row ${r}`);
        assert.ok(res.gap[r] <= 1e-3 * (1 + Math.abs(res.objective[r])), `row ${r}: gap ${res.gap[r]}`);
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  test('the unbounded domain is still refused', async () => {
    const model = new FICNN({ yDim: 3, hidden: [4], seed: 1 });
    try {
      await assert.rejects(argmin(model, null, { method: 'bundle-entropy', domain: 'unbounded' }), IcnnError);
    } finally {
      model.dispose();
    }
  });
});
