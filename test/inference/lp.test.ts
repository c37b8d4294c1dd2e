/**
 * Exact LP inference (../shared/icnn-paper.md §3.1): the LP's optimum is checked against dense grids (y-dim 1
 * and 2), random points and projected gradient descent (y-dim 5 to 50), for ReLU and leaky-ReLU FICNN and PICNN;
 * the extracted affine maps are checked against the model's own energy; unsupported models and bad inputs are refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConvPICNN, FICNN, FeedForward, IcnnError, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';
import { solveLp } from '../../src/inference/lp.js';
import { evaluateLpLayers, extractLpStructure } from '../../src/inference/lpStructure.js';

/**
 * Move a model away from its initialization, so that the minimizer is not trivially at 0: random biases and gates
 * (y-gates of both signs, some z-gates switched off by their ReLU) and, under 'clip', ~30 % of W^(z) set to 0
 * (as project() leaves them after training).
 */
function perturb(model: EnergyModel, seed: number): void {
  const rng = new Rng(seed);
  for (const p of model.parameters()) {
    const n = p.variable.size;
    let v: Float32Array | null = null;
    if (p.name.endsWith('.by')) v = rng.fillNormal(n, 0.5, 1);
    else if (p.name.endsWith('.bz')) v = rng.fillNormal(n, 0.3, 0.7);
    else if (/\.b$/.test(p.name)) v = rng.fillNormal(n, 0, 0.5);
    else if (p.role === 'convex' && model.positivity === 'clip') {
      v = Float32Array.from(p.variable.dataSync() as Float32Array);
      for (let i = 0; i < n; i++) if (rng.uniform() < 0.3) v[i] = 0;
    }
    if (v !== null) {
      const t = tf.tensor(v, p.variable.shape);
      p.variable.assign(t);
      t.dispose();
    }
  }
}

function randomX(model: EnergyModel, rows: number, seed: number): tf.Tensor2D | null {
  if (model.xDim === 0) return null;
  return tf.tensor2d(new Rng(seed).fillNormal(rows * model.xDim), [rows, model.xDim]);
}

function rowOf(x: tf.Tensor2D | null, r: number): tf.Tensor2D | null {
  return x === null ? null : tf.slice(x, [r, 0], [1, x.shape[1]]);
}

/** Energy and gradient norm of the model at every point of `points` [P × d] for one row of x, in chunks. */
function evaluatePoints(model: EnergyModel, xRow: tf.Tensor2D | null, points: Float32Array, d: number):
  { energy: Float32Array; gradNorm: Float32Array } {
  const count = points.length / d;
  const energy = new Float32Array(count);
  const gradNorm = new Float32Array(count);
  const chunk = 8192;
  for (let s = 0; s < count; s += chunk) {
    const m = Math.min(chunk, count - s);
    const [e, g] = tf.tidy(() => {
      const y = tf.tensor2d(points.subarray(s * d, (s + m) * d), [m, d]);
      const x = xRow === null ? null : tf.tile(xRow, [m, 1]);
      const r = model.energyAndGradY(x, y);
      return [r.energy, tf.norm(r.grad as tf.Tensor2D, 'euclidean', 1)];
    });
    energy.set(e.dataSync() as Float32Array, s);
    gradNorm.set(g.dataSync() as Float32Array, s);
    tf.dispose([e, g]);
  }
  return { energy, gradNorm };
}

interface GridCheck {
  ok: boolean;
  message: string;
}

/**
 * Compare an LP value with a dense grid over the box: it must be ≤ grid min + 1e-5 and ≥ grid min − slack, where
 * slack = (max |∇f| on the grid) · ||h/2|| bounds how far the grid's best point can be above the true minimum.
 */
function gridCheck(model: EnergyModel, xRow: tf.Tensor2D | null, lower: number[], upper: number[], lpValue: number): GridCheck {
  const d = lower.length;
  const per = d === 1 ? 401 : 201;
  const count = per ** d;
  const points = new Float32Array(count * d);
  const h = lower.map((lo, j) => (upper[j] - lo) / (per - 1));
  for (let p = 0; p < count; p++) {
    let rest = p;
    for (let j = 0; j < d; j++) {
      points[p * d + j] = lower[j] + (rest % per) * h[j];
      rest = Math.floor(rest / per);
    }
  }
  const { energy, gradNorm } = evaluatePoints(model, xRow, points, d);
  let gridMin = Infinity;
  let lipschitz = 0;
  for (let p = 0; p < count; p++) {
    gridMin = Math.min(gridMin, energy[p]);
    lipschitz = Math.max(lipschitz, gradNorm[p]);
  }
  const slack = lipschitz * Math.sqrt(h.reduce((a, hj) => a + (hj / 2) ** 2, 0));
  const message = `LP ${lpValue}, grid min ${gridMin}, slack ${slack.toExponential(3)} (max |∇f| ${lipschitz.toFixed(3)})`;
  const ok = lpValue <= gridMin + 1e-5 && lpValue >= gridMin - slack;
  return { ok, message };
}

/** The model's float32 energy at the LP's y must equal the LP value within 1e-4 relative. */
function assertEnergyMatches(model: EnergyModel, x: tf.Tensor2D | null, y: tf.Tensor2D, lp: Float64Array, what: string): void {
  const f = model.energy(x, y);
  const fv = f.dataSync();
  f.dispose();
  for (let r = 0; r < lp.length; r++) {
    const diff = Math.abs(fv[r] - lp[r]);
    assert.ok(diff <= 1e-4 * Math.max(1, Math.abs(lp[r])), `${what}, row ${r}: f(ŷ) = ${fv[r]} vs LP ${lp[r]} (diff ${diff})`);
  }
}

/** The affine maps evaluated in float64 at the LP's y give the LP value (up to HiGHS's 1e-7 feasibility tolerance). */
function assertStructureMatches(model: EnergyModel, x: tf.Tensor2D | null, y: tf.Tensor2D, lp: Float64Array, what: string): void {
  const s = extractLpStructure(model, x, lp.length);
  const yv = y.dataSync();
  const n = model.yDim;
  for (let r = 0; r < lp.length; r++) {
    const f64 = evaluateLpLayers(s.layers(r), s.leakySlope, s.strongConvexity, yv.subarray(r * n, (r + 1) * n));
    assert.ok(Math.abs(f64 - lp[r]) <= 1e-5 * Math.max(1, Math.abs(lp[r])), `${what}, row ${r}: float64 f(ŷ) = ${f64} vs LP ${lp[r]}`);
  }
}

function assertInBox(y: tf.Tensor2D, lower: number[], upper: number[]): void {
  const v = y.dataSync();
  const n = lower.length;
  for (let i = 0; i < v.length; i++) {
    const j = i % n;
    assert.ok(v[i] >= lower[j] && v[i] <= upper[j], `ŷ[${i}] = ${v[i]} outside [${lower[j]}, ${upper[j]}]`);
  }
}

interface Case {
  name: string;
  build: (seed: number) => EnergyModel;
  /** Box per coordinate (default [0, 1]). */
  box?: [number, number];
}

async function runGridCase(c: Case, seed: number): Promise<void> {
  const model = c.build(seed);
  perturb(model, 100 + seed);
  const rows = 2;
  const x = randomX(model, rows, 200 + seed);
  try {
    const n = model.yDim;
    const [lo, hi] = c.box ?? [0, 1];
    const lower = new Array<number>(n).fill(lo);
    const upper = new Array<number>(n).fill(hi);
    const r = await solveLp(model, x, { lower, upper, batch: x === null ? rows : undefined });
    assert.deepEqual(r.status, new Array(rows).fill('optimal'));
    assert.deepEqual(r.y.shape, [rows, n]);
    assertInBox(r.y, lower, upper);
    assertEnergyMatches(model, x, r.y, r.energy, `${c.name} seed ${seed}`);
    assertStructureMatches(model, x, r.y, r.energy, `${c.name} seed ${seed}`);
    for (let row = 0; row < rows; row++) {
      const xRow = rowOf(x, row);
      const g = gridCheck(model, xRow, lower, upper, r.energy[row]);
      xRow?.dispose();
      assert.ok(g.ok, `${c.name}, seed ${seed}, row ${row}: ${g.message}`);
    }
    r.y.dispose();
  } finally {
    x?.dispose();
    model.dispose();
  }
}

const SEEDS = [1, 2, 3];

describe('LP optimum equals the grid minimum (ReLU)', () => {
  const cases: Case[] = [
    { name: 'FICNN y1', build: (seed) => new FICNN({ yDim: 1, hidden: [16, 16], seed }), box: [-2, 2] },
    { name: 'FICNN y2', build: (seed) => new FICNN({ yDim: 2, hidden: [16, 16], seed }), box: [-2, 2] },
    { name: 'FICNN x3 y1', build: (seed) => new FICNN({ xDim: 3, yDim: 1, hidden: [16, 12], seed }) },
    { name: 'FICNN x3 y2', build: (seed) => new FICNN({ xDim: 3, yDim: 2, hidden: [16, 12], seed }), box: [-1, 1.5] },
    { name: 'PICNN y1', build: (seed) => new PICNN({ xDim: 4, yDim: 1, hidden: [16, 16], seed }), box: [-2, 2] },
    { name: 'PICNN y2', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [16, 16], seed }) },
    { name: 'PICNN y2 batch norm, 3 layers', build: (seed) => new PICNN({ xDim: 5, yDim: 2, hidden: [12, 12, 8], batchNorm: true, seed }), box: [-2, 2] },
    { name: 'FICNN y2 positivity softplus', build: (seed) => new FICNN({ yDim: 2, hidden: [16, 16], positivity: 'softplus', seed }), box: [-2, 2] },
    { name: 'PICNN y2 positivity softplus', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [16, 16], positivity: 'softplus', seed }), box: [-2, 2] },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      for (const seed of SEEDS) await runGridCase(c, seed);
    });
  }
});

describe('LP optimum equals the grid minimum (leaky ReLU)', () => {
  const cases: Case[] = [
    { name: 'FICNN y1 slope 0.1', build: (seed) => new FICNN({ yDim: 1, hidden: [16, 16], activation: 'leaky-relu', leakySlope: 0.1, seed }), box: [-2, 2] },
    { name: 'FICNN x3 y2 slope 0.3', build: (seed) => new FICNN({ xDim: 3, yDim: 2, hidden: [16, 12], activation: 'leaky-relu', leakySlope: 0.3, seed }), box: [-2, 2] },
    { name: 'PICNN y1 slope 0.01', build: (seed) => new PICNN({ xDim: 4, yDim: 1, hidden: [16, 16], activation: 'leaky-relu', seed }) },
    { name: 'PICNN y2 slope 0.2', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [16, 16], activation: 'leaky-relu', leakySlope: 0.2, seed }), box: [-2, 2] },
    { name: 'PICNN y2 slope 1 (linear units)', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [8], activation: 'leaky-relu', leakySlope: 1, seed }), box: [-2, 2] },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      for (const seed of SEEDS) await runGridCase(c, seed);
    });
  }
});

describe('strongly convex energies: the QP optimum equals the grid minimum', () => {
  const cases: Case[] = [
    { name: 'FICNN y2, α = 2', build: (seed) => new FICNN({ yDim: 2, hidden: [16, 16], strongConvexity: 2, seed }), box: [-2, 2] },
    { name: 'PICNN y1 leaky, α = 0.5', build: (seed) => new PICNN({ xDim: 4, yDim: 1, hidden: [16, 16], activation: 'leaky-relu', leakySlope: 0.1, strongConvexity: 0.5, seed }), box: [-2, 2] },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      for (const seed of SEEDS) await runGridCase(c, seed);
    });
  }
});

test('the grid check can fail: it flags a value above the minimum and one far below it', async () => {
  const model = new FICNN({ yDim: 2, hidden: [16, 16], seed: 4 });
  perturb(model, 104);
  try {
    const r = await solveLp(model, null, { lower: -2, upper: 2 });
    const right = gridCheck(model, null, [-2, -2], [2, 2], r.energy[0]);
    assert.ok(right.ok, right.message);
    assert.equal(gridCheck(model, null, [-2, -2], [2, 2], r.energy[0] + 1e-2).ok, false);
    assert.equal(gridCheck(model, null, [-2, -2], [2, 2], r.energy[0] - 0.1).ok, false);
    r.y.dispose();
  } finally {
    model.dispose();
  }
});

/** Projected gradient descent from the rows of `y0` (several starts per x row), keeping the best energy per start. */
function projectedGradientDescent(model: EnergyModel, x: tf.Tensor2D | null, y0: Float32Array, lower: number, upper: number, steps: number): Float32Array {
  const n = model.yDim;
  const count = y0.length / n;
  let y = tf.tensor2d(y0, [count, n]);
  const best = new Float32Array(count).fill(Infinity);
  for (let t = 0; t <= steps; t++) {
    const { energy, grad } = model.energyAndGradY(x, y, { checkFinite: false });
    const e = energy.dataSync();
    for (let i = 0; i < count; i++) best[i] = Math.min(best[i], e[i]);
    const step = 0.1 / Math.sqrt(t + 1);
    const next = tf.tidy(() => tf.clipByValue(tf.sub(y, tf.mul(grad, step)), lower, upper) as tf.Tensor2D);
    tf.dispose([energy, grad, y]);
    y = next;
  }
  y.dispose();
  return best;
}

describe('y-dim 5 to 50: the LP optimum is below random points and projected gradient descent', () => {
  const cases: Case[] = [
    { name: 'FICNN y5', build: (seed) => new FICNN({ yDim: 5, hidden: [32, 32], seed }), box: [-1, 1] },
    { name: 'FICNN x4 y20 leaky', build: (seed) => new FICNN({ xDim: 4, yDim: 20, hidden: [48, 32], activation: 'leaky-relu', leakySlope: 0.1, seed }) },
    { name: 'PICNN y10', build: (seed) => new PICNN({ xDim: 6, yDim: 10, hidden: [32, 32], seed }), box: [-1, 1] },
    { name: 'PICNN y50 batch norm', build: (seed) => new PICNN({ xDim: 8, yDim: 50, hidden: [64, 32], batchNorm: true, seed }) },
  ];
  const starts = 4;
  for (const c of cases) {
    test(c.name, async () => {
      for (const seed of [1, 2]) {
        const model = c.build(seed);
        perturb(model, 300 + seed);
        const x = randomX(model, 1, 400 + seed);
        try {
          const n = model.yDim;
          const [lo, hi] = c.box ?? [0, 1];
          const r = await solveLp(model, x, { lower: lo, upper: hi });
          assert.deepEqual(r.status, ['optimal']);
          const lp = r.energy[0];
          const tol = 1e-5 * Math.max(1, Math.abs(lp));
          assertEnergyMatches(model, x, r.y, r.energy, c.name);
          assertStructureMatches(model, x, r.y, r.energy, c.name);
          assertInBox(r.y, new Array(n).fill(lo), new Array(n).fill(hi));
          r.y.dispose();

          const rng = new Rng(500 + seed);
          const points = rng.fillUniform(2000 * n, lo, hi);
          const { energy } = evaluatePoints(model, x, points, n);
          const randomMin = energy.reduce((a, b) => Math.min(a, b), Infinity);
          assert.ok(lp <= randomMin + tol, `${c.name} seed ${seed}: LP ${lp} > min over 2000 random points ${randomMin}`);

          const xs = x === null ? null : tf.tile(x, [starts, 1]);
          const pgd = projectedGradientDescent(model, xs, rng.fillUniform(starts * n, lo, hi), lo, hi, 500);
          xs?.dispose();
          const pgdMin = pgd.reduce((a, b) => Math.min(a, b), Infinity);
          assert.ok(lp <= pgdMin + tol, `${c.name} seed ${seed}: LP ${lp} > best of projected gradient descent ${pgdMin}`);
          // Not vacuous: the LP's value is attained (f(ŷ) = LP above) and gradient descent gets near it.
          assert.ok(pgdMin - lp < 0.5 * (randomMin - lp) + tol, `${c.name}: PGD ${pgdMin} is far from LP ${lp} (random ${randomMin})`);
        } finally {
          x?.dispose();
          model.dispose();
        }
      }
    });
  }
});

describe('extracted affine maps reproduce the model', () => {
  const models: [string, () => EnergyModel][] = [
    ['FICNN', () => new FICNN({ yDim: 3, hidden: [8, 8], seed: 1 })],
    ['FICNN with x, leaky', () => new FICNN({ xDim: 2, yDim: 3, hidden: [8, 8], activation: 'leaky-relu', leakySlope: 0.2, seed: 1 })],
    ['PICNN, batch norm, softplus positivity', () => new PICNN({ xDim: 4, yDim: 3, hidden: [8, 8, 4], batchNorm: true, positivity: 'softplus', seed: 1 })],
    ['PICNN, strong convexity', () => new PICNN({ xDim: 4, yDim: 3, hidden: [8], strongConvexity: 0.7, seed: 1 })],
    ['FeedForward linear', () => new FeedForward({ xDim: 4, yDim: 3, hidden: [8], seed: 1 })],
  ];
  for (const [name, build] of models) {
    test(name, () => {
      const model = build();
      perturb(model, 7);
      const rows = 5;
      const x = randomX(model, rows, 8);
      const y = tf.tensor2d(new Rng(9).fillUniform(rows * 3, -2, 2), [rows, 3]);
      try {
        const s = extractLpStructure(model, x, rows);
        const f = model.energy(x, y);
        const fv = f.dataSync();
        const yv = y.dataSync();
        f.dispose();
        for (let r = 0; r < rows; r++) {
          const f64 = evaluateLpLayers(s.layers(r), s.leakySlope, s.strongConvexity, yv.subarray(r * 3, r * 3 + 3));
          assert.ok(Math.abs(f64 - fv[r]) <= 1e-5 * Math.max(1, Math.abs(f64)), `row ${r}: ${f64} vs model ${fv[r]}`);
        }
      } finally {
        tf.dispose([x, y].filter((t): t is tf.Tensor2D => t !== null));
        model.dispose();
      }
    });
  }
});

test('FeedForward (linear energy): the LP picks the box corner given by the sign of the logits', async () => {
  const model = new FeedForward({ xDim: 4, yDim: 6, hidden: [8], seed: 2 });
  const x = randomX(model, 3, 10) as tf.Tensor2D;
  try {
    const lower = [-1, 0, 0, -2, 0.5, 0];
    const upper = [1, 1, 2, -1, 3, 0.25];
    const r = await solveLp(model, x, { lower, upper });
    const g = model.logits(x);
    const gv = g.dataSync();
    g.dispose();
    const yv = r.y.dataSync();
    for (let row = 0; row < 3; row++) {
      let best = 0;
      for (let j = 0; j < 6; j++) {
        const logit = gv[row * 6 + j];
        const want = logit > 0 ? upper[j] : lower[j];
        best += -logit * want;
        if (Math.abs(logit) > 1e-6) assert.equal(yv[row * 6 + j], want, `row ${row}, y[${j}] with logit ${logit}`);
      }
      assert.ok(Math.abs(r.energy[row] - best) <= 1e-5 * Math.max(1, Math.abs(best)), `row ${row}: LP ${r.energy[row]} vs ${best}`);
    }
    r.y.dispose();
  } finally {
    x.dispose();
    model.dispose();
  }
});

test('a model without x: options.batch rows, all the same problem', async () => {
  const model = new FICNN({ yDim: 2, hidden: [8], seed: 5 });
  perturb(model, 11);
  try {
    const r = await solveLp(model, null, { batch: 3, lower: [-1, -2], upper: [1, 0.5] });
    assert.deepEqual(r.y.shape, [3, 2]);
    assert.deepEqual(r.status, ['optimal', 'optimal', 'optimal']);
    const yv = r.y.arraySync();
    assert.deepEqual(yv[1], yv[0]);
    assert.deepEqual(yv[2], yv[0]);
    assert.equal(r.energy[2], r.energy[0]);
    assertInBox(r.y, [-1, -2], [1, 0.5]);
    r.y.dispose();
  } finally {
    model.dispose();
  }
});

test('solveLp leaks no tensors', async () => {
  const model = new PICNN({ xDim: 3, yDim: 2, hidden: [8, 8], batchNorm: true, positivity: 'softplus', seed: 1 });
  const x = tf.tensor2d(new Rng(1).fillNormal(6), [2, 3]);
  try {
    const before = tf.memory().numTensors;
    const r = await solveLp(model, x);
    assert.equal(tf.memory().numTensors, before + 1, 'only the returned y is new');
    r.y.dispose();
    await assert.rejects(solveLp(model, [[1, 2, NaN]]), IcnnError);
    assert.equal(tf.memory().numTensors, before, 'a refused call leaves nothing behind');
  } finally {
    x.dispose();
    model.dispose();
  }
});

describe('refusals', () => {
  const x = (rows: number, cols: number) => tf.tensor2d(new Rng(3).fillNormal(rows * cols), [rows, cols]);
  const refuses = async (build: () => EnergyModel, input: () => tf.Tensor2D | null, options: object, pattern: RegExp) => {
    const model = build();
    const xi = input();
    try {
      await assert.rejects(solveLp(model, xi, options), (e: unknown) => {
        assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${String(e)}`);
        assert.match(e.message, pattern);
        return true;
      });
    } finally {
      xi?.dispose();
      model.dispose();
    }
  };
  const picnn = (o: object = {}) => () => new PICNN({ xDim: 3, yDim: 2, hidden: [8], ...o });

  test('softplus activation (not piecewise linear)', async () => {
    await refuses(picnn({ activation: 'softplus' }), () => x(2, 3), {}, /activation 'softplus' is not piecewise linear/);
    await refuses(() => new FICNN({ yDim: 2, hidden: [8], activation: 'softplus' }), () => null, {}, /not piecewise linear/);
  });
  test("positivity 'none' (the LP would only be a relaxation)", async () => {
    await refuses(picnn({ positivity: 'none' }), () => x(2, 3), {}, /positivity 'none'.*relaxation/);
    await refuses(() => new FICNN({ yDim: 2, hidden: [8, 8], positivity: 'none' }), () => null, {}, /positivity 'none'/);
  });
  test("negative W^(z) under 'clip' (not projected)", async () => {
    await refuses(() => {
      const m = new FICNN({ yDim: 2, hidden: [8, 8] });
      const w = m.parameters().find((p) => p.name === 'layer1.Wz')!.variable;
      w.assign(tf.neg(w));
      return m;
    }, () => null, {}, /layer1\.Wz.*negative entries.*project\(\)/);
  });
  test('wrong x shape, missing x, x for a model without x', async () => {
    await refuses(picnn(), () => x(2, 4), {}, /x must have shape \[N, 3\], got \[2, 4\]/);
    await refuses(picnn(), () => null, {}, /x is required/);
    await refuses(() => new FICNN({ yDim: 2, hidden: [8] }), () => x(2, 3), {}, /takes no x/);
    await refuses(picnn(), () => x(2, 3), { batch: 5 }, /disagrees with the 2 rows of x/);
  });
  test('NaN or Infinity in x', async () => {
    await refuses(picnn(), () => tf.tensor2d([[0, NaN, 1], [0, 0, 0]]), {}, /x contains NaN at row 0, column 1/);
    await refuses(picnn(), () => tf.tensor2d([[0, 0, 1], [0, Infinity, 0]]), {}, /x contains Infinity at row 1/);
  });
  test('bad boxes', async () => {
    await refuses(picnn(), () => x(1, 3), { lower: 1, upper: 1 }, /lower < upper.*lower\[0\] = 1 ≥ upper\[0\] = 1/);
    await refuses(picnn(), () => x(1, 3), { lower: [0, 2], upper: [1, 1] }, /lower\[1\] = 2 ≥ upper\[1\] = 1/);
    await refuses(picnn(), () => x(1, 3), { lower: [0, 0, 0] }, /lower must have one entry per coordinate of y \(2\), got 3/);
    await refuses(picnn(), () => x(1, 3), { upper: Infinity }, /upper\[0\] must be a finite number/);
    await refuses(picnn(), () => x(1, 3), { lower: [0, NaN] }, /lower\[1\] must be a finite number/);
  });
  test('bad options', async () => {
    await refuses(picnn(), () => x(1, 3), { lowr: 0 }, /unknown option 'lowr'/);
    await refuses(() => new FICNN({ yDim: 2, hidden: [8] }), () => null, { batch: 0 }, /batch must be a positive integer/);
    await refuses(picnn(), () => x(1, 3), { checkTolerance: -1 }, /checkTolerance/);
  });
  test('ConvPICNN and the nonconvex FeedForward', async () => {
    await refuses(() => new ConvPICNN({ xShape: [8, 8, 1], yShape: [8, 8, 1], conv: [{ filters: 2, kernel: 3, stride: 1 }], fcHidden: [4] }),
      () => x(1, 64), {}, /supports FICNN and PICNN.*not ConvPICNN/);
    await refuses(() => new FeedForward({ xDim: 3, yDim: 2, hidden: [4], energy: 'joint' }), () => x(1, 3), {}, /'joint' is not convex/);
  });
  test('a disposed model', async () => {
    await refuses(() => {
      const m = new FICNN({ yDim: 2, hidden: [8] });
      m.dispose();
      return m;
    }, () => null, {}, /disposed/);
  });
});
