/**
 * Unrolled GD (§4.4) through a PICNN with a piecewise-linear activation (ReLU, leaky ReLU), with a hand-written
 * reverse pass in place of tfjs's tape.
 *
 * Why a reverse pass by hand is short here: with g′ a mask, ∇_y f is piecewise constant in y, so the Jacobian of a
 * step's gradient g_t = ∇_y f(y_t) in y_t is α·I almost everywhere (α the strong-convexity weight). The momentum
 * recurrence is then linear with scalar coefficients, and the adjoint of every g_t is a scalar multiple c_t of
 * λ = ∂L/∂y_N (`adjointScales`). What remains is Σ_t ∂/∂θ ⟨c_t λ, ∇_y f(y_t; θ)⟩ with the masks held fixed, which
 * is linear in the per-step backward signals of the z-path. It runs once over all T steps stacked as T·batch rows:
 * a dozen large matmuls instead of T taped passes of about 200 small kernels each (bench/training.ts).
 *
 * With ḡ_i = ∂f/∂s_i (ḡ_L = 1, ḡ_i = ((ḡ_{i+1} W^(z)ᵀ_{i+1}) ∘ zGate_i) ∘ D_i, D_i the mask) and μ = c_t λ, the
 * scalar φ = ⟨μ, ∇_y f⟩ = Σ_i ⟨ḡ_i, (μ ∘ yGate_i) W^(y)_i⟩ + α⟨μ, y⟩ has
 *   ∂φ/∂W^(y)_i = (μ ∘ yGate_i)ᵀ ḡ_i,                 ∂φ/∂yGate_i = μ ∘ (ḡ_i W^(y)ᵀ_i),
 *   τ_0 = (μ ∘ yGate_0) W^(y)_0,   e_{i−1} = τ_{i−1} ∘ D_{i−1},   h_{i−1} = e_{i−1} ∘ zGate_{i−1},
 *   ∂φ/∂zGate_{i−1} = e_{i−1} ∘ (ḡ_i W^(z)ᵀ_i),          ∂φ/∂W^(z)_i = h_{i−1}ᵀ ḡ_i,
 *   τ_i = (μ ∘ yGate_i) W^(y)_i + h_{i−1} W^(z)_i       (τ_i = ∂φ/∂ḡ_i, a forward tangent pass),
 * and no dependence on the u-terms W^(u) u + b (they move only the masks, a measure-zero event).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GatedPath } from '../models/gatedPath.js';
import type { UnrolledGdOptions } from './unrolledGd.js';

/**
 * The adjoint scales of unrolled momentum GD when ∂g_t/∂y_t = α·I: ∂L/∂g_t = perStep[t]·λ and ∂L/∂y_0 = start·λ for
 * λ = ∂L/∂y_N, from the reverse of  v_{t+1} = μ v_t − lr g_t,  y_{t+1} = y_t − μ v_t + (1+μ) v_{t+1}  (v_0 = 0).
 */
export function adjointScales(steps: number, learningRate: number, momentum: number, alpha: number): { perStep: Float64Array; start: number } {
  const perStep = new Float64Array(steps);
  let yBar = 1;
  let vBar = 0;
  for (let t = steps - 1; t >= 0; t--) {
    const vNext = vBar + (1 + momentum) * yBar; // all of ∂L/∂v_{t+1}
    const gBar = -learningRate * vNext;
    perStep[t] = gBar;
    vBar = momentum * (vNext - yBar);
    yBar += alpha * gBar;
  }
  return { perStep, start: yBar };
}

/** What the forward pass keeps per step for the reverse pass, per layer i < L. */
interface Trace {
  /** D_i, the activation's slope at s_i. */
  masks: tf.Tensor2D[][];
  /** ḡ_i. */
  signals: tf.Tensor2D[][];
  /** ḡ_i W^(y)ᵀ_i. */
  yBack: tf.Tensor2D[][];
  /** ḡ_i W^(z)ᵀ_i (i ≥ 1). */
  zBack: tf.Tensor2D[][];
}

/** y_N of unrolled momentum GD from y0, differentiable in the path's tensors (call inside tf.variableGrads or a tidy). */
export function piecewiseLinearUnrolledGd(path: GatedPath, y0: tf.Tensor2D, o: UnrolledGdOptions): tf.Tensor2D {
  const layers = path.layers;
  const L = layers.length - 1;
  const yGates = layers.map((l) => l.yGate);
  const Wy = layers.map((l) => l.passthrough);
  const zGates = layers.slice(1).map((l) => l.zGate as tf.Tensor2D);
  const Wz = layers.slice(1).map((l) => l.convex as tf.Tensor2D);
  const inputs = [y0, ...yGates, ...Wy, ...zGates, ...Wz];
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { yN, trace } = forward(path, y0, o);
    // The inputs are saved too: tfjs disposes the forward pass's tensors (the context among them) before the backward.
    save([...inputs, ...[...trace.masks, ...trace.signals, ...trace.yBack, ...trace.zBack].flat()]);
    return {
      value: yN,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const at = (from: number, count: number) => saved.slice(from, from + count) as tf.Tensor2D[];
        const kept = { yGates: at(1, L + 1), Wy: at(L + 2, L + 1), zGates: at(2 * L + 3, L), Wz: at(3 * L + 3, L) };
        const T = o.steps;
        const lists = (count: number, from: number) => Array.from({ length: count }, (_, i) => at(from + i * T, T));
        const base = inputs.length;
        const trace: Trace = { masks: lists(L, base), signals: lists(L, base + L * T), yBack: lists(L, base + 2 * L * T), zBack: [[], ...lists(L - 1, base + 3 * L * T)] };
        return reverse(path.strongConvexity, dy as tf.Tensor2D, trace, o, kept);
      }),
    };
  });
  return run(...inputs) as tf.Tensor2D;
}

/** The T steps: per step the masks of s_0 … s_{L−1}, then ∇_y f by the backward signals; returns y_T and the trace. */
function forward(path: GatedPath, y0: tf.Tensor2D, o: UnrolledGdOptions): { yN: tf.Tensor2D; trace: Trace } {
  const { layers, negativeSlope, strongConvexity: alpha } = path;
  const L = layers.length - 1;
  const Y = y0.shape[1];
  const trace: Trace = { masks: [], signals: [], yBack: [], zBack: [] };
  for (let i = 0; i < L; i++) for (const list of Object.values(trace) as tf.Tensor2D[][][]) list.push([]);
  // Layer L has one output, so ḡ_L = 1 and its backward products are rows of constants.
  const lastYGrad = tf.mul(tf.reshape(layers[L].passthrough, [1, Y]), layers[L].yGate) as tf.Tensor2D;
  const lastZBack = L > 0 ? tf.reshape(layers[L].convex as tf.Tensor2D, [1, layers[L - 1].uTerm.shape[1]]) as tf.Tensor2D : null;
  const momentum = tf.scalar(o.momentum);
  const rate = tf.scalar(o.learningRate);
  const push = tf.scalar(1 + o.momentum);
  const a = tf.scalar(alpha);
  let y = y0;
  let v: tf.Tensor2D | null = null;
  for (let t = 0; t < o.steps; t++) {
    let z: tf.Tensor2D | null = null;
    for (let i = 0; i < L; i++) {
      const l = layers[i];
      let s = tf.add(tf.matMul(tf.mul(y, l.yGate) as tf.Tensor2D, l.passthrough), l.uTerm) as tf.Tensor2D;
      if (z !== null) s = tf.add(s, tf.matMul(tf.mul(z, l.zGate as tf.Tensor2D) as tf.Tensor2D, l.convex as tf.Tensor2D)) as tf.Tensor2D;
      const d = tf.step(s, negativeSlope) as tf.Tensor2D;
      trace.masks[i].push(d);
      if (i + 1 < L) z = tf.mul(s, d) as tf.Tensor2D; // z_{L−1} feeds only s_L, which the gradient does not need
    }
    let grad = alpha !== 0 ? (tf.add(lastYGrad, tf.mul(y, a)) as tf.Tensor2D) : lastYGrad;
    let zBack = lastZBack as tf.Tensor2D;
    for (let i = L - 1; i >= 0; i--) {
      const gs = tf.mul(tf.mul(zBack, layers[i + 1].zGate as tf.Tensor2D), trace.masks[i][t]) as tf.Tensor2D;
      trace.signals[i].push(gs);
      const yb = tf.matMul(gs, layers[i].passthrough, false, true) as tf.Tensor2D;
      trace.yBack[i].push(yb);
      grad = tf.add(grad, tf.mul(yb, layers[i].yGate)) as tf.Tensor2D;
      if (i > 0) {
        zBack = tf.matMul(gs, layers[i].convex as tf.Tensor2D, false, true) as tf.Tensor2D;
        trace.zBack[i].push(zBack);
      }
    }
    const vNew = (v === null ? tf.neg(tf.mul(grad, rate)) : tf.sub(tf.mul(v, momentum), tf.mul(grad, rate))) as tf.Tensor2D;
    y = tf.add(v === null ? y : tf.sub(y, tf.mul(v, momentum)), tf.mul(vNew, push)) as tf.Tensor2D;
    v = vNew;
  }
  return { yN: y, trace };
}

/** ∂L/∂(y0, yGate_i, W^(y)_i, zGate_i, W^(z)_i) from λ = dy, all T steps at once (the module comment's formulas). */
function reverse(
  alpha: number, dy: tf.Tensor2D, trace: Trace, o: UnrolledGdOptions,
  t: { yGates: tf.Tensor2D[]; Wy: tf.Tensor2D[]; zGates: tf.Tensor2D[]; Wz: tf.Tensor2D[] },
): tf.Tensor[] {
  const L = t.Wy.length - 1;
  const T = o.steps;
  const [B, Y] = dy.shape;
  const { perStep, start } = adjointScales(T, o.learningRate, o.momentum, alpha);
  // μ_t = c_t λ for every step, [T, B, Y].
  const mu = tf.mul(tf.tensor3d(Float32Array.from(perStep), [T, 1, 1]), tf.reshape(dy, [1, B, Y])) as tf.Tensor3D;
  const stack = (list: tf.Tensor2D[]) => tf.concat(list, 0) as tf.Tensor2D;
  const signals = trace.signals.map(stack);
  const dYGate: tf.Tensor[] = [];
  const dWy: tf.Tensor[] = [];
  const tangents: tf.Tensor2D[] = [];
  for (let i = 0; i <= L; i++) {
    const A3 = tf.mul(mu, tf.reshape(t.yGates[i], [1, B, Y]));
    const A = tf.reshape(A3, [T * B, Y]) as tf.Tensor2D;
    if (i < L) {
      tangents.push(tf.matMul(A, t.Wy[i]));
      dWy.push(tf.matMul(A, signals[i], true, false));
      dYGate.push(tf.sum(tf.mul(mu, tf.reshape(stack(trace.yBack[i]), [T, B, Y])), 0));
    } else {
      dWy.push(tf.reshape(tf.sum(A, 0), [Y, 1]));
      dYGate.push(tf.mul(tf.sum(mu, 0), tf.reshape(t.Wy[L], [1, Y])));
    }
  }
  const dZGate: tf.Tensor[] = [];
  const dWz: tf.Tensor[] = [];
  let tau = tangents[0];
  for (let i = 1; i <= L; i++) {
    const m = t.zGates[i - 1].shape[1];
    const e3 = tf.reshape(tf.mul(tau, stack(trace.masks[i - 1])), [T, B, m]);
    const back = i < L ? tf.reshape(stack(trace.zBack[i]), [T, B, m]) : tf.reshape(t.Wz[L - 1], [1, 1, m]);
    dZGate.push(tf.sum(tf.mul(e3, back), 0));
    const h = tf.reshape(tf.mul(e3, tf.reshape(t.zGates[i - 1], [1, B, m])), [T * B, m]) as tf.Tensor2D;
    if (i < L) {
      dWz.push(tf.matMul(h, signals[i], true, false));
      tau = tf.add(tangents[i], tf.matMul(h, t.Wz[i - 1])) as tf.Tensor2D;
    } else {
      dWz.push(tf.reshape(tf.sum(h, 0), [m, 1]));
    }
  }
  return [tf.mul(dy, start), ...dYGate, ...dWy, ...dZGate, ...dWz];
}
