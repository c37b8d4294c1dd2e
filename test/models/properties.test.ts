/**
 * Structural properties of the models: Prop. 2 (a PICNN represents any FICNN), the strongly convex term,
 * the principled initialization's distribution, projection, and the softplus reparametrization.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConvPICNN, FICNN, PICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';
import { ZOO, randomInputs } from './modelZoo.js';

function variable(model: EnergyModel, name: string): tf.Variable {
  const p = model.parameters().find((q) => q.name === name);
  if (!p) throw new Error(`no parameter ${name}`);
  return p.variable;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('Prop. 2: a PICNN with a zero x-path and unit gates is an FICNN', () => {
  test('energies coincide for every x', () => {
    const ficnn = new FICNN({ yDim: 3, hidden: [8, 8], seed: 1 });
    const picnn = new PICNN({ xDim: 4, yDim: 3, hidden: [8, 8], seed: 2 });
    for (const p of picnn.parameters()) {
      const name = p.name;
      const layer = /^z(\d)\./.exec(name);
      if (name.endsWith('.bz') || name.endsWith('.by')) p.variable.assign(tf.onesLike(p.variable));
      else if (!layer) p.variable.assign(tf.zerosLike(p.variable)); // u-path
      else {
        const i = layer[1];
        const field = name.slice(name.indexOf('.') + 1);
        const source = { Wz: `layer${i}.Wz`, Wy: `layer${i}.Wv`, b: `layer${i}.b` }[field];
        p.variable.assign(source ? variable(ficnn, source) : tf.zerosLike(p.variable));
      }
    }
    const rng = new Rng(3);
    const x = tf.tensor2d(rng.fillNormal(20 * 4, 0, 3), [20, 4]);
    const y = tf.tensor2d(rng.fillUniform(20 * 3, -2, 2), [20, 3]);
    const diff = maxAbsDiff(picnn.energy(x, y), ficnn.energy(null, y));
    assert.ok(diff < 1e-4, `max difference ${diff}`);
    // And a non-trivial x-path changes the energy, so the equality above is not vacuous.
    variable(picnn, 'z0.Wu').assign(tf.onesLike(variable(picnn, 'z0.Wu')));
    const changed = maxAbsDiff(picnn.energy(x, y), ficnn.energy(null, y));
    assert.ok(changed > 1e-2, `difference after changing the x-path: ${changed}`);
    ficnn.dispose();
    picnn.dispose();
  });
});

describe('strongly convex term (α/2)·||y||²', () => {
  for (const entry of ZOO) {
    test(`${entry.name}: energy and gradient shift by (α/2)||y||² and αy`, () => {
      const alpha = 0.7;
      const base = entry.build({ seed: 5 });
      const config = { ...base.config, strongConvexity: alpha };
      const strong = new (base.constructor as new (c: unknown) => EnergyModel)(config);
      const rng = new Rng(6);
      const { x, y } = randomInputs(base, 6, rng, 2);
      const expected = tf.tidy(() => tf.add(base.energy(x, y), tf.mul(tf.sum(tf.square(y), 1), alpha / 2)));
      const e = strong.energy(x, y);
      assert.ok(maxAbsDiff(e, expected) < 1e-3 * (1 + tf.max(tf.abs(expected)).dataSync()[0]));
      const g = tf.tidy(() => tf.sub(strong.gradY(x, y), base.gradY(x, y)));
      assert.ok(maxAbsDiff(g, tf.mul(y, alpha)) < 1e-3);
      base.dispose();
      strong.dispose();
    });
  }
});

describe('principled initialization (Hoedt & Klambauer 2023)', () => {
  test('W^(z) is log-normal with the target mean and variance, and the bias is shifted', () => {
    const width = 400;
    const model = new FICNN({ yDim: 2, hidden: [width, width], init: 'principled', seed: 8 });
    const w = variable(model, 'layer1.Wz').dataSync();
    // Targets for fan-in n, correlation ρ = 0.5, relu: E[w]² = ρ / f_c(n), Var[w] = 2(1-ρ)/n; a log-normal with
    // these moments has log w ~ N(μ, σ²), σ² = log(1 + Var/E²), μ = log E - σ²/2. Checked in log space, where
    // the sample moments are precise (the log-normal itself is too heavy-tailed for tight moment checks).
    const rho = 0.5;
    const mix = Math.sqrt(1 - rho * rho) + rho * Math.acos(-rho);
    const fc = (width * (Math.PI - width + (width - 1) * mix)) / (2 * Math.PI);
    const meanSq = rho / fc;
    const targetVar = (2 * (1 - rho)) / width;
    const sigma2 = Math.log(1 + targetVar / meanSq);
    const mu = 0.5 * Math.log(meanSq) - sigma2 / 2;
    assert.ok(w.every((v) => v > 0), 'log-normal weights are positive');
    let m = 0;
    for (const v of w) m += Math.log(v);
    m /= w.length;
    let s2 = 0;
    for (const v of w) s2 += (Math.log(v) - m) ** 2;
    s2 /= w.length;
    const se = Math.sqrt(sigma2 / w.length);
    assert.ok(Math.abs(m - mu) < 5 * se, `mean of log w ${m} vs μ ${mu}`);
    assert.ok(Math.abs(s2 / sigma2 - 1) < 0.02, `variance of log w ${s2} vs σ² ${sigma2}`);
    const b = variable(model, 'layer1.b').dataSync();
    const shift = width * Math.sqrt(meanSq / (2 * Math.PI));
    assert.ok(b.every((v) => Math.abs(v + shift) < 1e-5), `bias ${b[0]} vs -${shift}`);
    model.dispose();
  });
});

describe("the authors' initialization: truncated-normal weights (weightStd) and the gate biases (gateBias)", () => {
  test('weightStd 0.02: free weights within ±0.04 with the truncated std, W^(z) ≥ 0, gate biases as asked; save/load keeps both', async () => {
    const model = new PICNN({ xDim: 40, yDim: 12, hidden: [64, 16], weightStd: 0.02, gateBias: 0, seed: 4 });
    try {
      const free: number[] = [];
      for (const p of model.parameters()) {
        const v = Array.from(p.variable.dataSync());
        if (/\.(bz|by)$/.test(p.name)) assert.ok(v.every((b) => b === 0), `${p.name} starts at gateBias 0`);
        if (!/\.W/.test(p.name)) continue;
        assert.ok(v.every((w) => Math.abs(w) <= 0.04 + 1e-7), `${p.name} is truncated at 2 std`);
        if (p.role === 'convex') assert.ok(v.every((w) => w >= 0), `${p.name} ≥ 0`);
        else free.push(...v);
      }
      const mean = free.reduce((a, b) => a + b, 0) / free.length;
      const std = Math.sqrt(free.reduce((a, b) => a + (b - mean) ** 2, 0) / free.length);
      // A standard normal truncated at ±2 has std 0.8796.
      assert.ok(Math.abs(std - 0.02 * 0.8796) < 0.0005, `std ${std}`);
      assert.ok(Math.abs(mean) < 0.0005, `mean ${mean}`);
      const fresh = new PICNN({ xDim: 40, yDim: 12, hidden: [64, 16], seed: 4 });
      const by = fresh.parameters().find((p) => p.name === 'z0.by')!.variable.dataSync();
      assert.ok(Array.from(by).every((b) => b === 1), 'the default gate bias is 1');
      const lecun = fresh.parameters().find((p) => p.name === 'u0.W')!.variable.dataSync();
      assert.ok(Math.max(...Array.from(lecun, Math.abs)) > 0.04, 'the default is LeCun normal (std 1/√40), not the truncated 0.02');
      fresh.dispose();
      const copy = PICNN.fromJSON(model.toJSON());
      const { x, y } = randomInputs(model, 5, new Rng(3));
      assert.equal(copy.config.weightStd, 0.02);
      assert.equal(copy.config.gateBias, 0);
      assert.equal(maxAbsDiff(copy.energy(x, y), model.energy(x, y)), 0);
      copy.dispose();
      tf.dispose([x as tf.Tensor2D, y]);
    } finally {
      model.dispose();
    }
  });

  test('ConvPICNN gateBias sets every gate bias (default 1); bad values refused', () => {
    const shape = { xShape: [16, 8, 1], yShape: [16, 8, 1], conv: [{ filters: 4, kernel: 4, stride: 2 }], fcHidden: [8] };
    const zero = new ConvPICNN({ ...shape, gateBias: 0, seed: 1 });
    const dflt = new ConvPICNN({ ...shape, seed: 1 });
    const gates = (m: EnergyModel) => m.parameters().filter((p) => /\.(bz|by)$/.test(p.name));
    assert.ok(gates(zero).length >= 3, 'conv and FC gates');
    assert.ok(gates(zero).every((p) => Array.from(p.variable.dataSync()).every((v) => v === 0)));
    assert.ok(gates(dflt).every((p) => Array.from(p.variable.dataSync()).every((v) => v === 1)));
    const copy = ConvPICNN.fromJSON(zero.toJSON());
    assert.equal(copy.config.gateBias, 0);
    copy.dispose();
    assert.throws(() => new ConvPICNN({ ...shape, gateBias: Number.NaN }), /ConvPICNN.*gateBias/);
    zero.dispose();
    dflt.dispose();
  });

  test('bad weightStd or gateBias values are refused, naming the option', () => {
    assert.throws(() => new PICNN({ xDim: 2, yDim: 2, hidden: [4], weightStd: -1 }), /weightStd/);
    assert.throws(() => new PICNN({ xDim: 2, yDim: 2, hidden: [4], weightStd: Number.NaN }), /weightStd/);
    assert.throws(() => new PICNN({ xDim: 2, yDim: 2, hidden: [4], gateBias: Number.POSITIVE_INFINITY }), /gateBias/);
  });
});

describe('PICNN batch norm placement', () => {
  test('batch norm follows each activated u-layer, not the last (linear) one, as the authors\' ReLU-then-BN', () => {
    const m = new PICNN({ xDim: 3, yDim: 2, hidden: [8, 6, 5], batchNorm: true, seed: 1 });
    const layers = [...new Set(m.parameters().filter((p) => p.name.includes('.bn.')).map((p) => p.name.split('.')[0]))];
    assert.deepEqual(layers, ['u0', 'u1']);
    m.dispose();
  });
});

describe('projection and reparametrization', () => {
  test("'clip': project() restores W^(z) ≥ 0 after a step makes it negative", () => {
    const model = new PICNN({ xDim: 3, yDim: 2, hidden: [6], seed: 1 });
    const wz = variable(model, 'z1.Wz');
    wz.assign(tf.sub(wz, 10));
    assert.ok(model.minConvexWeight() < 0);
    model.project();
    assert.equal(model.minConvexWeight(), 0);
    const free = variable(model, 'z0.Wy');
    const before = free.dataSync().slice();
    model.project();
    assert.deepEqual(free.dataSync(), before, 'free weights are not projected');
    model.dispose();
  });
  test("'softplus': effective W^(z) stays positive whatever the stored values, and init matches |W|", () => {
    const clip = new FICNN({ yDim: 2, hidden: [6, 6], positivity: 'clip', seed: 4 });
    const soft = new FICNN({ yDim: 2, hidden: [6, 6], positivity: 'softplus', seed: 4 });
    const y = tf.randomUniform([10, 2], -1, 1, 'float32', 9) as tf.Tensor2D;
    assert.ok(maxAbsDiff(clip.energy(null, y), soft.energy(null, y)) < 1e-3, 'same initial function');
    const v = variable(soft, 'layer1.Wz');
    v.assign(tf.fill(v.shape, -50));
    assert.ok(soft.minConvexWeight() > 0);
    soft.project(); // a no-op
    assert.ok(tf.min(v).dataSync()[0] === -50);
    clip.dispose();
    soft.dispose();
  });
  test("'none': the ablation draws signed W^(z) and never projects", () => {
    const model = new FICNN({ yDim: 2, hidden: [16, 16], positivity: 'none', seed: 4 });
    assert.equal(model.isConvex, false);
    assert.ok(model.minConvexWeight() < 0);
    const before = model.minConvexWeight();
    model.project();
    assert.equal(model.minConvexWeight(), before);
    model.dispose();
  });
  test('the same seed gives the same weights; another seed differs', () => {
    const a = new PICNN({ xDim: 3, yDim: 2, hidden: [6], seed: 1 });
    const b = new PICNN({ xDim: 3, yDim: 2, hidden: [6], seed: 1 });
    const c = new PICNN({ xDim: 3, yDim: 2, hidden: [6], seed: 2 });
    const wa = variable(a, 'z1.Wz').dataSync();
    assert.deepEqual(variable(b, 'z1.Wz').dataSync(), wa);
    assert.notDeepEqual(variable(c, 'z1.Wz').dataSync(), wa);
    [a, b, c].forEach((m) => m.dispose());
  });
  test('summary names the architecture and the parameter count', () => {
    const model = new PICNN({ xDim: 1836, yDim: 159, hidden: [600, 159], batchNorm: true });
    const s = model.summary();
    assert.match(s, /PICNN/);
    assert.match(s, /convex in y: yes/);
    assert.match(s, /1836 → 600 → 159/);
    assert.match(s, new RegExp(model.numParameters.toLocaleString('en-US')));
    model.dispose();
  });
});
