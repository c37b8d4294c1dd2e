/** Small models of every kind for property tests (not a test file itself). */
import { ConvPICNN, FICNN, FeedForward, PICNN, tf, type EnergyModel, type Positivity, type ConvexActivation } from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';

export interface ZooEntry {
  name: string;
  build: (o?: { positivity?: Positivity; activation?: ConvexActivation; seed?: number; init?: 'abs' | 'principled' }) => EnergyModel;
}

export const SMALL_CONV = {
  xShape: [16, 8, 1],
  yShape: [16, 8, 1],
  conv: [{ filters: 6, kernel: 4, stride: 2 }, { filters: 6, kernel: 3, stride: 1 }],
  fcHidden: [12],
};

export const ZOO: ZooEntry[] = [
  { name: 'FICNN (y only)', build: (o = {}) => new FICNN({ yDim: 4, hidden: [16, 16], ...o }) },
  { name: 'FICNN (x, y)', build: (o = {}) => new FICNN({ xDim: 3, yDim: 2, hidden: [16, 16], ...o }) },
  { name: 'PICNN', build: (o = {}) => new PICNN({ xDim: 5, yDim: 4, hidden: [16, 16], batchNorm: true, ...o }) },
  { name: 'ConvPICNN', build: (o = {}) => new ConvPICNN({ ...SMALL_CONV, absScale: 0.5, ...o }) },
];

export const FEED_FORWARD: ZooEntry = {
  name: 'FeedForward (linear energy)',
  build: (o = {}) => new FeedForward({ xDim: 5, yDim: 4, hidden: [16], seed: o.seed ?? 0 }),
};

/** A random batch of x (null when the model takes no x) and y. */
export function randomInputs(model: EnergyModel, n: number, rng: Rng, scale = 1): { x: tf.Tensor2D | null; y: tf.Tensor2D } {
  const x = model.xDim === 0 ? null : tf.tensor2d(rng.fillNormal(n * model.xDim), [n, model.xDim]);
  const y = tf.tensor2d(rng.fillUniform(n * model.yDim, -scale, scale), [n, model.yDim]);
  return { x, y };
}

/**
 * Jensen's inequality on n random segments: f(x, t·a + (1-t)·b) ≤ t·f(x, a) + (1-t)·f(x, b) + tol, with tol
 * relative to the energies' magnitude (float32). Returns the number of violations and the worst excess.
 */
export function jensenViolations(model: EnergyModel, n: number, seed: number, { scale = 1, relTol = 1e-4 } = {}):
  { violations: number; worst: number } {
  const rng = new Rng(seed);
  const { x, y: a } = randomInputs(model, n, rng, scale);
  const b = tf.tensor2d(rng.fillUniform(n * model.yDim, -scale, scale), [n, model.yDim]);
  const t = tf.tensor2d(rng.fillUniform(n), [n, 1]);
  const [fa, fb, fm] = tf.tidy(() => {
    const mid = tf.add(tf.mul(t, a), tf.mul(tf.sub(1, t), b)) as tf.Tensor2D;
    return [model.energy(x, a), model.energy(x, b), model.energy(x, mid)];
  });
  const ea = fa.dataSync();
  const eb = fb.dataSync();
  const em = fm.dataSync();
  const tv = t.dataSync();
  let violations = 0;
  let worst = -Infinity;
  for (let i = 0; i < n; i++) {
    const rhs = tv[i] * ea[i] + (1 - tv[i]) * eb[i];
    const tol = relTol * (Math.abs(ea[i]) + Math.abs(eb[i]) + Math.abs(em[i])) + 1e-5;
    const excess = em[i] - rhs;
    if (excess > tol) violations++;
    worst = Math.max(worst, excess / (tol / relTol));
  }
  tf.dispose([a, b, t, fa, fb, fm]);
  x?.dispose();
  return { violations, worst };
}

/**
 * A few hundred Adam steps fitting f(x, y) to random targets, with `project()` after each step (§1.4), so that
 * weights move far from their initialization.
 */
export function trainOnRandomTargets(model: EnergyModel, steps: number, seed: number, learningRate = 1e-2): void {
  const rng = new Rng(seed);
  const n = 32;
  const { x, y } = randomInputs(model, n, rng);
  const target = tf.tensor1d(rng.fillNormal(n, 0, 3));
  const opt = tf.train.adam(learningRate);
  for (let s = 0; s < steps; s++) {
    opt.minimize(() => {
      const ctx = model.context(x, { training: true, batch: n });
      const e = model.energyFromContext(ctx, y);
      return tf.mean(tf.square(tf.sub(e, target))) as tf.Scalar;
    }, false, model.trainableVariables);
    model.project();
  }
  opt.dispose();
  tf.dispose([y, target]);
  x?.dispose();
}
