/**
 * Small building blocks of the baseline agents (DDPG, NAF): dense layers with the authors' initializations,
 * target-network copies, soft (Polyak) updates and L2 penalties. Every variable is created from a seeded
 * generator, so an agent's initial weights are a function of its seed.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/random.js';

/** A named variable of an agent (the names key checkpoints). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** How a dense layer's weights are drawn. */
export type DenseInit =
  /** U(±1/√fanIn) for W and b (DDPG's `fanin_init`, Lillicrap et al.). */
  | { kind: 'fanin' }
  /** U(±limit) for W and b (DDPG's output layers: 3e-3 for μ, 3e-4 for Q). */
  | { kind: 'uniform'; limit: number }
  /** Truncated normal N(0, std²) cut at 2 std for W, b = 0 (the authors' NAF, `initstd` 0.01). */
  | { kind: 'normal'; std: number };

/** A dense layer y = xW + b with the initializations of the authors' RL networks. */
export class Dense {
  readonly W: tf.Variable;
  readonly b: tf.Variable;

  constructor(readonly name: string, readonly inDim: number, readonly outDim: number, init: DenseInit, rng: Rng) {
    const n = inDim * outDim;
    let w: Float32Array;
    let b: Float32Array;
    if (init.kind === 'fanin') {
      const v = 1 / Math.sqrt(inDim);
      w = rng.fillUniform(n, -v, v);
      b = rng.fillUniform(outDim, -v, v);
    } else if (init.kind === 'uniform') {
      w = rng.fillUniform(n, -init.limit, init.limit);
      b = rng.fillUniform(outDim, -init.limit, init.limit);
    } else {
      w = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let z = rng.normal();
        while (Math.abs(z) > 2) z = rng.normal();
        w[i] = init.std * z;
      }
      b = new Float32Array(outDim);
    }
    this.W = makeVariable(tf.tensor2d(w, [inDim, outDim]), true);
    this.b = makeVariable(tf.tensor1d(b), true);
  }

  /** xW + b for a batch of rows x. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.W), this.b) as tf.Tensor2D;
  }

  get variables(): NamedVariable[] {
    return [{ name: `${this.name}.W`, variable: this.W }, { name: `${this.name}.b`, variable: this.b }];
  }
}

/** A two-hidden-layer ReLU network in → h1 → h2 → out (the shape of every baseline network of §5.4). */
export class Mlp {
  readonly layers: Dense[];

  constructor(readonly name: string, sizes: [number, number, number, number], hiddenInit: DenseInit, outInit: DenseInit, rng: Rng) {
    this.layers = [
      new Dense(`${name}.0`, sizes[0], sizes[1], hiddenInit, rng),
      new Dense(`${name}.1`, sizes[1], sizes[2], hiddenInit, rng),
      new Dense(`${name}.2`, sizes[2], sizes[3], outInit, rng),
    ];
  }

  /** The pre-activation output (linear last layer). */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const h1 = tf.relu(this.layers[0].apply(x)) as tf.Tensor2D;
    const h2 = tf.relu(this.layers[1].apply(h1)) as tf.Tensor2D;
    return this.layers[2].apply(h2);
  }

  get variables(): NamedVariable[] {
    return this.layers.flatMap((l) => l.variables);
  }
}

/** Fresh variables holding copies of `source` (target networks start equal to the online ones). */
export function cloneVariables(source: NamedVariable[], prefix: string): NamedVariable[] {
  return source.map((s) => ({ name: `${prefix}${s.name}`, variable: makeVariable(s.variable.clone(), false) }));
}

/** A variable holding `init`'s values; `init` is disposed. */
export function makeVariable(init: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/** θ' ← θ' − τ(θ' − θ) = (1 − τ)θ' + τθ for every pair (the authors' soft target update). */
export function softUpdate(target: readonly tf.Variable[], source: readonly tf.Variable[], tau: number): void {
  if (target.length !== source.length) throw new Error(`internal: softUpdate of ${target.length} targets from ${source.length} sources`);
  tf.tidy(() => {
    target.forEach((t, i) => {
      t.assign(tau === 1 ? source[i] : tf.sub(t, tf.mul(tf.sub(t, source[i]), tau)));
    });
  });
}

/** Σ ½‖θ‖² over the variables (TensorFlow's `l2_loss`), a scalar. */
export function l2Loss(vars: readonly tf.Variable[]): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.addN(vars.map((v) => tf.sum(tf.square(v)))), 0.5) as tf.Scalar);
}

export function disposeVariables(vars: readonly NamedVariable[]): void {
  for (const v of vars) v.variable.dispose();
}

/**
 * Adam as TensorFlow 1's `AdamOptimizer` (what the authors' code ran): m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
 * θ ← θ − lr·√(1 − β2^t)/(1 − β1^t) · m/(√v + ε). The moments live in JavaScript float32 arrays: one read of each
 * gradient and one write of each variable per step (tfjs's optimizer runs ~10 kernels per variable), and the
 * state (t, m, v) round-trips through checkpoints exactly.
 */
export class Adam {
  private t = 0;
  /** The moments of all variables back to back (for `step`), and per-variable views of them. */
  private readonly mFlat: Float32Array;
  private readonly vFlat: Float32Array;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(readonly variables: readonly tf.Variable[], readonly learningRate: number, readonly epsilon: number,
    readonly beta1 = 0.9, readonly beta2 = 0.999) {
    const total = variables.reduce((n, x) => n + x.size, 0);
    this.mFlat = new Float32Array(total);
    this.vFlat = new Float32Array(total);
    let off = 0;
    this.m = [];
    this.v = [];
    for (const x of variables) {
      this.m.push(this.mFlat.subarray(off, off + x.size));
      this.v.push(this.vFlat.subarray(off, off + x.size));
      off += x.size;
    }
  }

  /** Steps taken. */
  get iterations(): number {
    return this.t;
  }

  /** One step with `grads[i]` the gradient of `variables[i]` (the gradients are not disposed). */
  apply(grads: readonly tf.Tensor[]): void {
    if (grads.length !== this.variables.length) throw new Error(`internal: Adam got ${grads.length} gradients for ${this.variables.length} variables`);
    this.t++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const lrT = (this.learningRate * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    this.variables.forEach((variable, i) => {
      const g = grads[i].dataSync() as Float32Array;
      const p = Float32Array.from(variable.dataSync() as Float32Array);
      const m = this.m[i];
      const v = this.v[i];
      for (let k = 0; k < p.length; k++) {
        const gk = g[k];
        m[k] = b1 * m[k] + (1 - b1) * gk;
        v[k] = b2 * v[k] + (1 - b2) * gk * gk;
        p[k] -= (lrT * m[k]) / (Math.sqrt(v[k]) + eps);
      }
      const next = tf.tensor(p, variable.shape, 'float32');
      variable.assign(next);
      next.dispose();
    });
  }

  /**
   * One step on flat arrays: `params` (all variables back to back, in order) is updated in place from `grad` (same
   * layout); the variables themselves are not touched (see ./flatParams.ts, which uploads them).
   */
  step(grad: Float32Array, params: Float32Array): void {
    if (grad.length !== this.mFlat.length || params.length !== this.mFlat.length) throw new Error(`internal: Adam.step on ${grad.length} values, expected ${this.mFlat.length}`);
    this.t++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const lrT = (this.learningRate * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    const m = this.mFlat;
    const v = this.vFlat;
    for (let k = 0; k < params.length; k++) {
      const gk = grad[k];
      m[k] = b1 * m[k] + (1 - b1) * gk;
      v[k] = b2 * v[k] + (1 - b2) * gk * gk;
      params[k] -= (lrT * m[k]) / (Math.sqrt(v[k]) + eps);
    }
  }

  /** (t, m, v) for checkpoints. */
  getState(): { t: number; m: Float32Array[]; v: Float32Array[] } {
    return { t: this.t, m: this.m.map((a) => a.slice()), v: this.v.map((a) => a.slice()) };
  }

  setState(s: { t: number; m: Float32Array[]; v: Float32Array[] }): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length || s.m.some((a, i) => a.length !== this.m[i].length) ||
      s.v.some((a, i) => a.length !== this.v[i].length)) {
      throw new Error('internal: Adam state of another shape');
    }
    this.t = s.t;
    s.m.forEach((a, i) => this.m[i].set(a));
    s.v.forEach((a, i) => this.v[i].set(a));
  }
}

/**
 * One Adam step over `vars` on the regression loss mean((q − y)²) + l2·Σ½‖θ‖² with θ the `penalized` variables
 * (default: all of `vars`; `q` is evaluated inside the gradient tape; `y` is a constant). Returns the TD loss
 * (without the L2 term) and the mean of q.
 */
export function regressionStep(opt: Adam, vars: tf.Variable[], l2: number, q: () => tf.Tensor1D, y: tf.Tensor1D,
  penalized: tf.Variable[] = vars): { loss: number; q: number } {
  let td!: tf.Scalar;
  let meanQ!: tf.Scalar;
  const g = tf.variableGrads(() => {
    const qv = q();
    td = tf.keep(tf.mean(tf.square(tf.sub(qv, y))));
    meanQ = tf.keep(tf.mean(qv));
    return (l2 > 0 ? tf.add(td, tf.mul(l2, l2Loss(penalized))) : td) as tf.Scalar;
  }, vars);
  opt.apply(vars.map((v) => g.grads[v.name]));
  tf.dispose([...Object.values(g.grads), ...(g.value === td ? [] : [g.value])]);
  const out = { loss: td.dataSync()[0], q: meanQ.dataSync()[0] };
  tf.dispose([td, meanQ]);
  return out;
}

/** mean((q − y)²) of one batch's tensors, read back as a number (no gradient). */
export function meanSquaredTd(q: () => tf.Tensor1D, y: () => tf.Tensor1D): number {
  const loss = tf.tidy(() => tf.mean(tf.square(tf.sub(q(), y()))));
  const v = loss.dataSync()[0];
  loss.dispose();
  return v;
}
