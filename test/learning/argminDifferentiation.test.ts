/**
 * Prop. 3: the θ-gradient of ℓ(ŷ(x; θ), y*), with ŷ the bundle entropy solution, equals central finite
 * differences of θ ↦ ℓ(ŷ(x; θ), y*), for several parameters of a small PICNN (cpu backend, bundle entropy run to
 * high accuracy, ŷ strictly inside the box). ReLU networks are piecewise linear, so near ŷ the energy is a max of
 * the affine pieces that the active cuts are, and the implicit derivative is exact.
 * For smooth (softplus) networks Prop. 3 differentiates the last subproblem with the cut points y^i held fixed
 * (the iterates' own dependence on θ is dropped, §4.3); the second test checks exactly that function: cuts
 * recomputed at the same points for perturbed θ, subproblem re-solved.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PICNN, setBackend, tf, type EnergyModel } from '../helpers/icnn.js';
import { argmin } from '../../src/inference/argmin.js';
import { argminAdjoint, argminSurrogate, type SurrogateRow } from '../../src/learning/argminDifferentiation.js';
import { Rng } from '../../src/util/random.js';
import { solveBundleEntropyDual } from '../../src/inference/entropyDual/binaryDual.js';
import type { ActiveBundle } from '../../src/inference/bundleEntropy.js';

const SOLVE = { method: 'bundle-entropy' as const, iterations: 200, tolerance: 1e-12 };

/** ℓ = ½||ŷ − y*||² summed over rows, with ŷ from bundle entropy. */
async function loss(model: EnergyModel, x: tf.Tensor2D, target: Float64Array, domain?: { lower: number; upper: number }): Promise<number> {
  const r = await argmin(model, x, { ...SOLVE, domain });
  const y = r.y.dataSync();
  r.y.dispose();
  let l = 0;
  for (let i = 0; i < y.length; i++) l += 0.5 * (y[i] - target[i]) ** 2;
  return l;
}

async function prop3Gradient(model: EnergyModel, x: tf.Tensor2D, target: Float64Array, domain?: { lower: number; upper: number }):
  Promise<Map<string, Float32Array>> {
  const r = await argmin(model, x, { ...SOLVE, domain });
  const n = model.yDim;
  const yHat = Float64Array.from(r.y.dataSync());
  r.y.dispose();
  const lower = new Float64Array(n).fill(domain?.lower ?? 0);
  const width = new Float64Array(n).fill((domain?.upper ?? 1) - (domain?.lower ?? 0));
  const rows: SurrogateRow[] = [];
  r.bundles!.forEach((b, e) => {
    const yh = yHat.subarray(e * n, (e + 1) * n);
    for (let j = 0; j < n; j++) assert.ok(yh[j] > lower[j] + 1e-4 && yh[j] < lower[j] + width[j] - 1e-4, 'ŷ strictly inside the box');
    const gradLoss = Float64Array.from(yh, (v, j) => v - target[e * n + j]);
    const { c, v } = argminAdjoint(b, yh, gradLoss, lower, width);
    for (let i = 0; i < b.k; i++) {
      rows.push({ example: e, point: b.points.subarray(i * n, (i + 1) * n), c: c[i], v: v.subarray(i * n, (i + 1) * n) });
    }
  });
  const { grads, value } = tf.variableGrads(() => argminSurrogate(model, x, rows), model.trainableVariables);
  const out = new Map<string, Float32Array>();
  const names = model.parameters().filter((p) => p.role !== 'state');
  names.forEach((p) => out.set(p.name, grads[p.variable.name] ? grads[p.variable.name].dataSync() as Float32Array : new Float32Array(p.variable.size)));
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/** ℓ of the subproblem solution over cuts recomputed at fixed points (box [lo, hi]). */
function fixedPointLoss(model: EnergyModel, x: tf.Tensor2D, target: Float64Array, bundles: ActiveBundle[], lo: number, hi: number): number {
  const n = model.yDim;
  let l = 0;
  bundles.forEach((b, e) => {
    const xe = tf.slice(x, [e, 0], [1, model.xDim]);
    const xr = tf.tile(xe, [b.k, 1]) as tf.Tensor2D;
    const pts = tf.tensor2d(Float32Array.from(b.points), [b.k, n]);
    const { energy, grad } = model.energyAndGradY(xr, pts);
    const f = energy.dataSync();
    const g = grad.dataSync();
    const G = new Float64Array(b.k * n);
    const h = new Float64Array(b.k);
    for (let i = 0; i < b.k; i++) {
      let gs = 0;
      for (let j = 0; j < n; j++) {
        G[i * n + j] = (hi - lo) * g[i * n + j];
        gs += G[i * n + j] * (b.points[i * n + j] - lo) / (hi - lo);
      }
      h[i] = f[i] - gs;
    }
    const sol = solveBundleEntropyDual(G, h, b.k, n, { tol: 1e-13, maxIter: 500 });
    for (let j = 0; j < n; j++) l += 0.5 * (lo + (hi - lo) * sol.y[j] - target[e * n + j]) ** 2;
    tf.dispose([xe, xr, pts, energy, grad]);
  });
  return l;
}

async function checkAgainstFiniteDifferences(model: EnergyModel, seed: number, domain?: { lower: number; upper: number },
  fixedPoints = false): Promise<void> {
  const rng = new Rng(seed);
  const n = model.yDim;
  const x = tf.tensor2d(rng.fillNormal(2 * model.xDim), [2, model.xDim]);
  const lo = domain?.lower ?? 0;
  const hi = domain?.upper ?? 1;
  const target = Float64Array.from(rng.fillUniform(2 * n, lo, hi));
  const analytic = await prop3Gradient(model, x, target, domain);
  const solved = await argmin(model, x, { ...SOLVE, domain });
  solved.y.dispose();
  const evaluate = fixedPoints
    ? async () => fixedPointLoss(model, x, target, solved.bundles!, lo, hi)
    : async () => loss(model, x, target, domain);
  // A small step: θ ↦ ŷ is piecewise smooth (ReLU regions, active-set changes), and a step of 1e-3 already crosses
  // region boundaries for some parameters; float32 rounding in ŷ (~1e-7) stays far below h·|∇ℓ| at 1e-4.
  const h = 1e-4;
  const a: number[] = [];
  const fd: number[] = [];
  for (const p of model.parameters()) {
    if (p.role === 'state') continue;
    const g = analytic.get(p.name)!;
    let best = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[best])) best = i;
    for (const i of [best, rng.int(g.length)]) {
      const orig = p.variable.dataSync().slice();
      const at = async (d: number) => {
        const w = orig.slice();
        w[i] += d;
        p.variable.assign(tf.tensor(w, p.variable.shape));
        return evaluate();
      };
      const plus = await at(h);
      const minus = await at(-h);
      p.variable.assign(tf.tensor(orig, p.variable.shape));
      a.push(g[i]);
      fd.push((plus - minus) / (2 * h));
    }
  }
  let num = 0;
  let den = 0;
  a.forEach((v, i) => {
    num += (v - fd[i]) ** 2;
    den += fd[i] ** 2;
  });
  const rel = Math.sqrt(num / den);
  assert.ok(den > 1e-8, 'the loss depends on θ');
  assert.ok(rel <= 1e-2, `relative error ${rel} over ${a.length} entries; analytic ${a.slice(0, 6).map((v) => v.toFixed(5))}, fd ${fd.slice(0, 6).map((v) => v.toFixed(5))}`);
  x.dispose();
}

describe('Prop. 3 argmin gradient against finite differences (cpu)', () => {
  before(async () => {
    await setBackend('cpu');
  });
  after(async () => {
    await setBackend('wasm');
  });
  test('ReLU PICNN, unit box', async () => {
    const model = new PICNN({ xDim: 3, yDim: 4, hidden: [12, 12], seed: 3, absScale: 0.3 });
    await checkAgainstFiniteDifferences(model, 1);
    model.dispose();
  });
  test('softplus PICNN, box [-1, 2], cut points held fixed', async () => {
    const model = new PICNN({ xDim: 3, yDim: 3, hidden: [12, 12], activation: 'softplus', seed: 4, absScale: 0.3 });
    await checkAgainstFiniteDifferences(model, 2, { lower: -1, upper: 2 }, true);
    model.dispose();
  });
});
