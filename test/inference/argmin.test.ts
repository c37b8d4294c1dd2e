/**
 * Inference ŷ = argmin_y f(x, y) through `argmin` (../shared/icnn-paper.md §3): the methods against each other and
 * against brute force.
 * - y-dim 1–2: a dense grid (401 points, 201×201) confirms the exact `lp` optimum (§3.1); `bundle` (§3.3) reaches it
 *   within 1e-4 with a certified lower bound; projected gradient descent (§3.2) approaches it.
 * - y-dim 5–50: `bundle` and `lp` agree within 1e-4, and every lower bound `bundle` reports (after 1, 3, 8 iterations
 *   and at convergence) is ≤ the true optimum.
 * - Batches: rows are independent problems. Refusals name what is wrong. No tensor is leaked.
 * gd's optimizers, domains and options are in gd.test.ts; bundle-entropy (§3.4) in bundleEntropy.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FICNN, FeedForward, IcnnError, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import { argmin, ARGMIN_METHODS, type ArgminOptions, type ArgminResult } from '../../src/inference/argmin.js';
import { gridBox, perturb, randomX, rowOf } from '../helpers/inference.js';

/** Tolerance for comparing a value with an optimum computed by another route, in float32 (relative to max(1, |v|)). */
const F32 = 1e-5;
const scaleOf = (v: number) => Math.max(1, Math.abs(v));

function assertInBox(y: tf.Tensor2D, lower: number, upper: number, what: string): void {
  for (const [i, v] of y.dataSync().entries()) assert.ok(v >= lower && v <= upper, `${what}: ŷ[${i}] = ${v} outside [${lower}, ${upper}]`);
}

/** The reported energy is f at the returned ŷ (the float32 model, evaluated again here). */
function assertEnergyAtY(model: EnergyModel, x: tf.Tensor2D | null, r: ArgminResult, what: string): void {
  const f = model.energy(x, r.y);
  const fv = f.dataSync();
  f.dispose();
  for (let i = 0; i < fv.length; i++) {
    assert.ok(Math.abs(fv[i] - r.energy[i]) <= 1e-6 * scaleOf(fv[i]), `${what} row ${i}: reported energy ${r.energy[i]}, f(ŷ) = ${fv[i]}`);
  }
}

/** f at the centre of the box, per row (gradient descent's starting point). */
function centreEnergy(model: EnergyModel, x: tf.Tensor2D | null, rows: number, lower: number, upper: number): Float32Array {
  return tf.tidy(() => model.energy(x, tf.fill([rows, model.yDim], (lower + upper) / 2) as tf.Tensor2D).dataSync() as Float32Array);
}

interface Case {
  name: string;
  build: (seed: number) => EnergyModel;
  box: [number, number];
}

describe('y-dim 1 and 2: grid search confirms lp; bundle reaches it within 1e-4; gd approaches it', () => {
  const cases: Case[] = [
    { name: 'FICNN x3 y1', build: (seed) => new FICNN({ xDim: 3, yDim: 1, hidden: [32, 32], seed }), box: [-2, 2] },
    { name: 'FICNN x3 y2', build: (seed) => new FICNN({ xDim: 3, yDim: 2, hidden: [32, 32], seed }), box: [-2, 2] },
    { name: 'FICNN y2 (no x)', build: (seed) => new FICNN({ yDim: 2, hidden: [32, 32], seed }), box: [-1, 1.5] },
    { name: 'PICNN y1', build: (seed) => new PICNN({ xDim: 4, yDim: 1, hidden: [32, 32], seed }), box: [-1, 2] },
    { name: 'PICNN y2', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [32, 32], seed }), box: [0, 1] },
    { name: 'PICNN y2 leaky 0.1', build: (seed) => new PICNN({ xDim: 4, yDim: 2, hidden: [32, 32], activation: 'leaky-relu', leakySlope: 0.1, seed }), box: [-2, 2] },
  ];
  const gdIterations = 1000;
  for (const c of cases) {
    test(c.name, async () => {
      for (const seed of [1, 2]) {
        const model = c.build(seed);
        perturb(model, 100 + seed);
        const x = randomX(model, 2, 200 + seed);
        const rows = x === null ? 1 : 2;
        const [lo, hi] = c.box;
        const domain = { lower: lo, upper: hi };
        const what = `${c.name} seed ${seed}`;
        try {
          const lp = await argmin(model, x, { method: 'lp', domain });
          const bundle = await argmin(model, x, { method: 'bundle', domain });
          const gd = await argmin(model, x, { method: 'gd', domain, iterations: gdIterations });
          const centre = centreEnergy(model, x, rows, lo, hi);
          for (const r of [lp, bundle, gd]) {
            assert.deepEqual(r.y.shape, [rows, model.yDim]);
            assertInBox(r.y, lo, hi, `${what} ${r.method}`);
          }
          assertEnergyAtY(model, x, bundle, `${what} bundle`);
          assertEnergyAtY(model, x, gd, `${what} gd`);
          const n = model.yDim;
          for (let row = 0; row < rows; row++) {
            const opt = lp.energy[row];
            const tol = F32 * scaleOf(opt);
            const xRow = rowOf(x, row);
            const grid = gridBox(model, xRow, new Array(n).fill(lo), new Array(n).fill(hi), n === 1 ? 401 : 201);
            xRow?.dispose();
            const at = `${what} row ${row}`;
            // The grid confirms the LP optimum: no grid point is lower, and the LP is not below what the grid allows.
            assert.ok(opt <= grid.min + tol, `${at}: lp ${opt} > grid minimum ${grid.min} at [${grid.at}]`);
            assert.ok(opt >= grid.min - grid.slack - tol, `${at}: lp ${opt} < grid minimum ${grid.min} − slack ${grid.slack}`);
            // bundle: within 1e-4 of the optimum, with a valid certificate that closes the gap.
            assert.ok(Math.abs(bundle.energy[row] - opt) <= 1e-4, `${at}: bundle ${bundle.energy[row]} vs lp ${opt}`);
            const lb = bundle.lowerBound![row];
            assert.ok(lb <= opt + tol, `${at}: bundle lower bound ${lb} > optimum ${opt}`);
            assert.ok(bundle.gap![row] <= 1e-6 * scaleOf(bundle.energy[row]) + 1e-12, `${at}: bundle gap ${bundle.gap![row]} not closed`);
            assert.ok(bundle.iterations[row] < 100, `${at}: bundle used its whole budget`);
            // gd: never below the optimum, and most of the way from its starting point to it. (Projected subgradient
            // steps converge like L·D/√T, D the box diameter: slowly, but 1000 steps cover ≥ 95 % of the way.)
            const gap = gd.energy[row] - opt;
            const start = centre[row] - opt;
            assert.ok(gap >= -tol, `${at}: gd ${gd.energy[row]} below the optimum ${opt}`);
            assert.ok(gap <= 0.05 * start + tol, `${at}: gd after ${gdIterations} iterations is ${gap} above lp (start ${start} above)`);
          }
          tf.dispose([lp.y, bundle.y, gd.y]);
        } finally {
          x?.dispose();
          model.dispose();
        }
      }
    });
  }
});

describe('y-dim 5 to 50: bundle and lp agree within 1e-4 and every bundle lower bound is valid', () => {
  const cases: Case[] = [
    { name: 'FICNN x3 y5', build: (seed) => new FICNN({ xDim: 3, yDim: 5, hidden: [32, 32], seed }), box: [-1, 1] },
    { name: 'FICNN x4 y20 leaky', build: (seed) => new FICNN({ xDim: 4, yDim: 20, hidden: [32, 32], activation: 'leaky-relu', leakySlope: 0.1, seed }), box: [0, 1] },
    { name: 'PICNN y10', build: (seed) => new PICNN({ xDim: 6, yDim: 10, hidden: [32, 32], seed }), box: [-1, 1] },
    { name: 'PICNN y50 batch norm', build: (seed) => new PICNN({ xDim: 8, yDim: 50, hidden: [32, 32], batchNorm: true, seed }), box: [0, 1] },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      for (const seed of [1, 2]) {
        const model = c.build(seed);
        perturb(model, 300 + seed);
        const x = randomX(model, 2, 400 + seed) as tf.Tensor2D;
        const [lo, hi] = c.box;
        const domain = { lower: lo, upper: hi };
        try {
          const lp = await argmin(model, x, { method: 'lp', domain });
          const bundle = await argmin(model, x, { method: 'bundle', domain });
          assertInBox(bundle.y, lo, hi, c.name);
          assertEnergyAtY(model, x, bundle, c.name);
          const partial = [];
          for (const iterations of [1, 3, 8]) partial.push(await argmin(model, x, { method: 'bundle', domain, iterations }));
          const centre = centreEnergy(model, x, 2, lo, hi);
          for (let row = 0; row < 2; row++) {
            const opt = lp.energy[row];
            const tol = F32 * scaleOf(opt);
            const at = `${c.name} seed ${seed} row ${row}`;
            assert.ok(Math.abs(bundle.energy[row] - opt) <= 1e-4, `${at}: bundle ${bundle.energy[row]} vs lp ${opt}`);
            assert.ok(bundle.gap![row] <= 1e-6 * scaleOf(bundle.energy[row]) + 1e-12, `${at}: bundle gap ${bundle.gap![row]} not closed`);
            // Not vacuous: the optimum is well below the starting point.
            assert.ok(centre[row] - opt > 1e-2, `${at}: the centre is already optimal`);
            let previous = -Infinity;
            for (const r of [...partial, bundle]) {
              const lb = r.lowerBound![row];
              assert.ok(lb <= opt + tol, `${at}, ${r.iterations[row]} iterations: lower bound ${lb} > optimum ${opt}`);
              assert.ok(r.energy[row] >= opt - tol, `${at}, ${r.iterations[row]} iterations: energy ${r.energy[row]} < optimum ${opt}`);
              assert.ok(lb >= previous, `${at}: the lower bound went down from ${previous} to ${lb}`);
              previous = lb;
            }
          }
          tf.dispose([lp.y, bundle.y, ...partial.map((r) => r.y)]);
        } finally {
          x.dispose();
          model.dispose();
        }
      }
    });
  }
});

describe('batches: every row is solved as if alone', () => {
  const runs: [string, ArgminOptions][] = [
    ['gd (normalized)', { method: 'gd', iterations: 200 }],
    ['gd (momentum, early stop)', { method: 'gd', optimizer: 'momentum', learningRate: 0.01, iterations: 300, tolerance: 1e-5 }],
    ['bundle', { method: 'bundle' }],
    ['bundle-entropy', { method: 'bundle-entropy' }],
    ['lp', { method: 'lp' }],
  ];
  for (const [name, options] of runs) {
    test(name, async () => {
      const model = new PICNN({ xDim: 4, yDim: 3, hidden: [32, 32], seed: 7 });
      perturb(model, 8);
      const rows = 4;
      const x = randomX(model, rows, 9) as tf.Tensor2D;
      try {
        const all = await argmin(model, x, { ...options, domain: { lower: -1, upper: 1 } });
        const yAll = all.y.arraySync();
        for (let row = 0; row < rows; row++) {
          const xRow = rowOf(x, row) as tf.Tensor2D;
          const one = await argmin(model, xRow, { ...options, domain: { lower: -1, upper: 1 } });
          xRow.dispose();
          const yOne = one.y.arraySync()[0];
          assert.ok(Math.abs(one.energy[0] - all.energy[row]) <= 1e-5 * scaleOf(one.energy[0]), `row ${row}: alone ${one.energy[0]}, in the batch ${all.energy[row]}`);
          yOne.forEach((v, j) => assert.ok(Math.abs(v - yAll[row][j]) <= 1e-4, `row ${row}: ŷ alone [${yOne}], in the batch [${yAll[row]}]`));
          if (name !== 'lp') assert.equal(one.iterations[0], all.iterations[row], `row ${row}: iterations alone ${one.iterations[0]}, in the batch ${all.iterations[row]}`);
          one.y.dispose();
        }
        // Not vacuous: the rows are different problems.
        assert.ok(new Set(Array.from(all.energy, (e) => e.toFixed(4))).size === rows, `rows have equal energies ${all.energy}`);
        all.y.dispose();
      } finally {
        x.dispose();
        model.dispose();
      }
    });
  }
});

test('an FICNN without x solves options.batch copies of its one problem', async () => {
  const model = new FICNN({ yDim: 3, hidden: [16, 16], seed: 3 });
  perturb(model, 4);
  try {
    const lp = await argmin(model, null, { method: 'lp', domain: { lower: -1, upper: 1 } });
    assert.deepEqual(lp.y.shape, [1, 3], 'default batch 1');
    for (const method of ARGMIN_METHODS) {
      const r = await argmin(model, null, { method, batch: 3, domain: { lower: -1, upper: 1 } });
      assert.deepEqual(r.y.shape, [3, 3], method);
      const y = r.y.arraySync();
      assert.deepEqual(y[1], y[0], method);
      assert.deepEqual(y[2], y[0], method);
      assert.equal(r.energy.length, 3);
      if (method === 'bundle' || method === 'lp') assert.ok(Math.abs(r.energy[2] - lp.energy[0]) <= 1e-4, `${method}: ${r.energy[2]} vs lp ${lp.energy[0]}`);
      r.y.dispose();
    }
    lp.y.dispose();
  } finally {
    model.dispose();
  }
});

describe('refusals', () => {
  const picnn = () => new PICNN({ xDim: 2, yDim: 2, hidden: [8], seed: 1 });
  const ficnn = () => new FICNN({ yDim: 2, hidden: [8], seed: 1 });
  const x1 = [[0.5, -1]];
  const cases: [string, () => EnergyModel, unknown, ArgminOptions, RegExp][] = [
    ['unknown method', picnn, x1, { method: 'newton' as never }, /unknown method "newton" \(expected one of: gd, bundle, bundle-entropy, lp\)/],
    ['unknown option', picnn, x1, { iteration: 5 } as never, /unknown option 'iteration'/],
    ["'bundle' on 'unbounded'", picnn, x1, { method: 'bundle', domain: 'unbounded' }, /'bundle' needs a bounded domain/],
    ["'bundle-entropy' on 'unbounded'", picnn, x1, { method: 'bundle-entropy', domain: 'unbounded' }, /'bundle-entropy' needs a box domain or the simplex \(got 'unbounded'\)/],
    ["'lp' on a softplus network", () => new FICNN({ yDim: 2, hidden: [8], activation: 'softplus' }), null, { method: 'lp' }, /softplus' is not piecewise linear/],
    ["'lp' on 'simplex'", picnn, x1, { method: 'lp', domain: 'simplex' }, /'lp' needs a box domain, got 'simplex'/],
    ["'lp' on 'unbounded'", picnn, x1, { method: 'lp', domain: 'unbounded' }, /'lp' needs a box domain, got 'unbounded'/],
    ['nonconvex model with bundle', () => new FICNN({ yDim: 2, hidden: [8], positivity: 'none' }), null, { method: 'bundle' }, /needs an energy convex in y.*positivity 'none'/],
    ['nonconvex model with bundle-entropy', () => new FeedForward({ xDim: 2, yDim: 2, hidden: [8], energy: 'joint' }), x1, { method: 'bundle-entropy' }, /needs an energy convex in y/],
    ['lower ≥ upper', picnn, x1, { domain: { lower: [0, 1], upper: [1, 1] } }, /lower must be < upper.*at 1/],
    ['bounds of the wrong length', picnn, x1, { domain: { lower: [0, 0, 0], upper: 1 } }, /domain.lower must be a number or an array of 2 numbers/],
    ['NaN bound', picnn, x1, { domain: { lower: 0, upper: NaN } }, /domain.upper must be finite, got NaN/],
    ['unknown domain', picnn, x1, { domain: 'box' as never }, /unknown domain "box"/],
    ['unknown domain key', picnn, x1, { domain: { lower: 0, upper: 1, lo: 0 } as never }, /unknown option 'lo'/],
    ['x of the wrong width', picnn, [[1, 2, 3]], {}, /x must have shape \[N, 2\], got \[1, 3\]/],
    ['NaN in x', picnn, [[1, NaN]], { method: 'bundle' }, /x contains NaN at row 0, column 1/],
    ['Infinity in x (lp)', picnn, [[Infinity, 1]], { method: 'lp' }, /x contains Infinity at row 0, column 0/],
    ['no x for a PICNN', picnn, null, {}, /x is required for this PICNN/],
    ['x for an FICNN without x', ficnn, x1, {}, /takes no x; pass null and options.batch/],
    ['batch that disagrees with x', picnn, x1, { batch: 2 }, /options.batch \(2\) disagrees with the 1 rows of x/],
    ['batch 0', ficnn, null, { batch: 0 }, /batch must be a positive integer, got 0/],
    ['batch 1.5', ficnn, null, { batch: 1.5 }, /batch must be a positive integer, got 1.5/],
    ['iterations 0', picnn, x1, { iterations: 0 }, /iterations must be a positive integer, got 0/],
    ['negative tolerance', picnn, x1, { method: 'bundle', tolerance: -1e-3 }, /tolerance must be a finite number ≥ 0, got -0.001/],
    ['NaN tolerance', picnn, x1, { tolerance: NaN }, /tolerance must be a finite number ≥ 0, got NaN/],
    ['init row of the wrong length', picnn, x1, { init: [0.5, 0.5, 0.5] }, /init must have 2 entries \(one row\), got 3/],
    ['init with the wrong number of rows', picnn, x1, { init: [[0.5, 0.5], [0.5, 0.5]] }, /init must have 1 rows \(one per row of the batch\), got 2/],
    ['init of the wrong width', picnn, [[1, 2], [3, 4]], { init: [[0.5], [0.5]] }, /init must have shape \[N, 2\], got \[2, 1\]/],
    ['NaN in init', picnn, x1, { init: [0.5, NaN] }, /init\[1\] must be a finite number, got NaN/],
    ['Infinity as init', picnn, x1, { init: Infinity }, /init must be finite, got Infinity/],
    // JavaScript callers (TypeScript refuses these at compile time; see 'options by method' below).
    ['gd option with bundle', picnn, x1, { method: 'bundle', learningRate: 0.1 } as never, /option 'learningRate' applies to method 'gd' only, not 'bundle'/],
    ['entropyWeight with lp', picnn, x1, { method: 'lp', entropyWeight: 1 } as never, /option 'entropyWeight' applies to .*not 'lp'/],
    ['entropyWeight ≤ 0 for bundle-entropy', picnn, x1, { method: 'bundle-entropy', entropyWeight: 0 }, /entropyWeight must be a finite number > 0 for 'bundle-entropy', got 0/],
    ['infinite entropyWeight', picnn, x1, { method: 'bundle-entropy', entropyWeight: Infinity }, /entropyWeight must be a finite number > 0/],
    ['unknown optimizer', picnn, x1, { optimizer: 'sgd' as never }, /argmin: optimizer must be one of 'normalized', 'momentum', 'adam', got "sgd"/],
    ['negative learning rate', picnn, x1, { optimizer: 'adam', learningRate: -0.1 }, /learningRate must be a finite number > 0, got -0.1/],
    ['momentum ≥ 1', picnn, x1, { optimizer: 'momentum', momentum: 1 }, /argmin: momentum must be a finite number in \[0, 1\), got 1/],
    ['learning rate for the normalized optimizer', picnn, x1, { optimizer: 'normalized', learningRate: 0.1 }, /'normalized' takes no learningRate/],
    ['entropyWeight for momentum', picnn, x1, { optimizer: 'momentum', entropyWeight: 1 }, /entropyWeight needs optimizer 'adam' on a box domain/],
  ];
  for (const [name, build, x, options, pattern] of cases) {
    test(name, async () => {
      const model = build();
      try {
        const before = tf.memory().numTensors;
        await assert.rejects(argmin(model, x as number[][] | null, options), (e: Error) => {
          assert.ok(e instanceof IcnnError, `${name}: ${e.name}: ${e.message}`);
          assert.match(e.message, pattern);
          return true;
        });
        assert.equal(tf.memory().numTensors, before, `${name}: a refused call leaves no tensor behind`);
      } finally {
        model.dispose();
      }
    });
  }

  test('a disposed model and a non-model', async () => {
    const model = ficnn();
    model.dispose();
    await assert.rejects(argmin(model, null), /argmin: the FICNN has been disposed/);
    await assert.rejects(argmin({} as EnergyModel, null), /argmin: model must be an EnergyModel/);
  });
});

describe('options by method', () => {
  /** The parameter type of argmin, so that the lines below are checked as a call's options would be. */
  const typed = (o: ArgminOptions): ArgminOptions => o;
  const refused: [string, unknown, RegExp][] = [
    // @ts-expect-error learningRate belongs to gd: a compile error on a bundle call.
    ['gd option with bundle', typed({ method: 'bundle', learningRate: 0.1 }), /^argmin: option 'learningRate' applies to method 'gd' only, not 'bundle'$/],
    // @ts-expect-error momentum belongs to gd.
    ['gd option with bundle-entropy', typed({ method: 'bundle-entropy', momentum: 0.5 }), /^argmin: option 'momentum' applies to method 'gd' only, not 'bundle-entropy'$/],
    // @ts-expect-error entropyWeight belongs to gd and bundle-entropy, not lp.
    ['entropyWeight with lp', typed({ method: 'lp', entropyWeight: 1 }), /^argmin: option 'entropyWeight' applies to methods 'gd' and 'bundle-entropy', not 'lp'$/],
    // @ts-expect-error a key no method knows.
    ['unknown key', typed({ method: 'bundle', iteration: 5 }), /^argmin: unknown option 'iteration' \(expected one of: method, domain, iterations, tolerance, init, batch, training\)$/],
    // @ts-expect-error a number where a boolean belongs.
    ['wrong type', typed({ method: 'lp', training: 1 }), /^argmin: training must be a boolean, got 1$/],
    ['bad value of a shared option', typed({ method: 'bundle', iterations: 2.5 }), /^argmin: iterations must be a positive integer, got 2.5 \(not an integer\)$/],
    ['bad value of a gd option', typed({ decay: -1 }), /^argmin: decay must be a finite number ≥ 0, got -1 \(out of range\)$/],
    ['beyond float32', typed({ method: 'gd', learningRate: 1e39 }), /^argmin: learningRate must be a finite number > 0, got 1e\+39 \(beyond the float32 range/],
    ['options not an object', [1, 2], /^argmin: options must be an object, got an array$/],
  ];
  for (const [name, options, pattern] of refused) {
    test(`refused at run time: ${name}`, async () => {
      const model = new PICNN({ xDim: 2, yDim: 2, hidden: [8], seed: 1 });
      try {
        await assert.rejects(argmin(model, [[0.5, -1]], options as ArgminOptions), (e: Error) => {
          assert.ok(e instanceof IcnnError, `${name}: ${e.name}: ${e.message}`);
          assert.match(e.message, pattern);
          return true;
        });
      } finally {
        model.dispose();
      }
    });
  }

  test('each method takes its own options', async () => {
    const model = new PICNN({ xDim: 2, yDim: 2, hidden: [8], seed: 1 });
    const accepted: ArgminOptions[] = [
      { optimizer: 'adam', learningRate: 0.05, decay: 0.1, entropyWeight: 0.01, iterations: 3 },
      { method: 'gd', optimizer: 'momentum', momentum: 0.5, learningRate: 0.01, iterations: 3 },
      { method: 'bundle', iterations: 3, tolerance: 0, training: false },
      { method: 'bundle-entropy', entropyWeight: 0.5, iterations: 3, domain: 'simplex' },
      { method: 'lp', domain: { lower: -1, upper: 1 } },
    ];
    try {
      for (const options of accepted) {
        const r = await argmin(model, [[0.5, -1]], options);
        assert.equal(r.method, options.method ?? 'gd');
        assert.ok(Number.isFinite(r.energy[0]), `${JSON.stringify(options)}: energy ${r.energy[0]}`);
        r.y.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

describe('no tensor leaks', () => {
  for (const method of ARGMIN_METHODS) {
    test(method, async () => {
      const model = new PICNN({ xDim: 3, yDim: 2, hidden: [8, 8], batchNorm: true, seed: 1 });
      perturb(model, 2);
      const x = randomX(model, 3, 3) as tf.Tensor2D;
      const init = tf.fill([3, 2], 0.25);
      try {
        const before = tf.memory().numTensors;
        // x as a tensor and as nested arrays (converted inside), init as a tensor and as nested arrays.
        for (const [xi, initi] of [[x, init], [x.arraySync(), init.arraySync()], [x, undefined]] as const) {
          const options: ArgminOptions = { method, iterations: 5 };
          if (method !== 'lp' && initi !== undefined) options.init = initi as tf.Tensor | number[][];
          const r = await argmin(model, xi, options);
          assert.equal(tf.memory().numTensors, before + 1, `${method}: only the returned y is new`);
          r.y.dispose();
          assert.equal(tf.memory().numTensors, before);
        }
        assert.equal(init.isDisposed, false, 'the caller\'s init is not disposed');
        assert.equal(x.isDisposed, false, 'the caller\'s x is not disposed');
      } finally {
        tf.dispose([x, init]);
        model.dispose();
      }
    });
  }
});
