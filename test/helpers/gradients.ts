/**
 * Gradient-check helpers shared by the model gradient tests and the native-kernel gradient tests: energies and their
 * gradients as plain numbers, one-entry perturbations of a variable, and which entries to probe.
 */
import type { ZooEntry } from '../models/modelZoo.js';
import { tf, type EnergyModel } from './icnn.js';
import type { Rng } from '../../src/util/random.js';

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
}

export function build(entry: ZooEntry, seed = 9): EnergyModel {
  return entry.build({ activation: 'softplus', positivity: 'clip', seed });
}

/** Sum of energies as a JS number for the given weights (x, y fixed). */
export function totalEnergy(model: EnergyModel, x: tf.Tensor2D | null, y: tf.Tensor2D): number {
  return tf.tidy(() => tf.sum(model.energy(x, y)).dataSync()[0]);
}

/** ∇_y f · v summed over rows, as a JS number. */
export function gradDot(model: EnergyModel, x: tf.Tensor2D | null, y: tf.Tensor2D, v: tf.Tensor2D): number {
  return tf.tidy(() => tf.sum(tf.mul(model.gradY(x, y), v)).dataSync()[0]);
}

/** Perturb one entry of a variable by `delta`, evaluate `fn`, restore. */
export function withPerturbed(variable: tf.Variable, index: number, delta: number, fn: () => number): number {
  const original = variable.dataSync().slice();
  const changed = original.slice();
  changed[index] += delta;
  variable.assign(tf.tensor(changed, variable.shape));
  try {
    return fn();
  } finally {
    variable.assign(tf.tensor(original, variable.shape));
  }
}

/** Analytic ∇_θ of sum f, keyed by variable index. */
export function thetaGrads(model: EnergyModel, x: tf.Tensor2D | null, y: tf.Tensor2D): Float32Array[] {
  const vars = model.trainableVariables;
  const { grads, value } = tf.variableGrads(() => tf.sum(model.energyFromContext(model.context(x, { batch: y.shape[0] }), y)) as tf.Scalar, vars);
  const out = vars.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/** Analytic ∇_θ (∇_y f · v). */
export function secondOrderGrads(model: EnergyModel, x: tf.Tensor2D | null, y: tf.Tensor2D, v: tf.Tensor2D): Float32Array[] {
  const vars = model.trainableVariables;
  const { grads, value } = tf.variableGrads(() => {
    const ctx = model.context(x, { batch: y.shape[0] });
    const gy = tf.grad((yy: tf.Tensor) => tf.sum(model.energyFromContext(ctx, yy as tf.Tensor2D)))(y);
    return tf.sum(tf.mul(gy, v)) as tf.Scalar;
  }, vars);
  const out = vars.map((vv) => (grads[vv.name] ? grads[vv.name].dataSync() as Float32Array : new Float32Array(vv.size)));
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/** Entries to probe per variable: the largest-gradient entry plus a few random ones. */
export function probeIndices(g: Float32Array, rng: Rng, k: number): number[] {
  let best = 0;
  for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[best])) best = i;
  const idx = new Set([best]);
  while (idx.size < Math.min(k, g.length)) idx.add(rng.int(g.length));
  return [...idx];
}

/**
 * Central differences of `loss` (a JS number) against analytic gradients, on the largest-gradient entry and one
 * random entry of every variable; `gradientOf(v)` gives v's analytic gradient (zeros when it has none).
 */
export function finiteDifferencePairs(vars: readonly tf.Variable[], gradientOf: (v: tf.Variable) => Float32Array,
  loss: () => number, rng: Rng, h = 1e-3): { analytic: number[]; numeric: number[] } {
  const analytic: number[] = [];
  const numeric: number[] = [];
  for (const v of vars) {
    const g = gradientOf(v);
    for (const i of probeIndices(g, rng, 2)) {
      numeric.push((withPerturbed(v, i, h, loss) - withPerturbed(v, i, -h, loss)) / (2 * h));
      analytic.push(g[i]);
    }
  }
  return { analytic, numeric };
}
