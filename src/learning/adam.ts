/**
 * The library's Adam for variables, as TensorFlow 1's `AdamOptimizer` computes it (what the authors' code ran):
 * m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², θ ← θ − lr·√(1 − β2^t)/(1 − β1^t) · m/(√v + ε).
 * The moments live in JavaScript float32 arrays: one read of each gradient and one write of each variable per step
 * (tfjs's optimizer runs ~10 kernels per variable), and the state (t, m, v) round-trips through checkpoints exactly.
 *
 * The RL agents train with it (../rl/agents/); it is also a tf.Optimizer, so `fit` takes it as `optimizer`
 * (checkpoints store its state through getWeights/setWeights). fit's default stays tfjs's Adam (ε inside the
 * bias correction), which its checkpoints and seeded results were made with.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../util/errors.js';
import { nativeFlatAdam } from '../backend/nativeFlatAdam.js';

type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * Adam as TensorFlow 1 computes it (ε outside the bias correction), with its moments in float32 arrays; a
 * tf.Optimizer over a fixed list of variables, so `fit` accepts it as `optimizer` and checkpoints its state.
 */
export class Adam extends tf.Optimizer {
  /** tfjs's class name; checkpoints record the optimizer as its lower case ('adamtf1'). */
  static className = 'AdamTF1';

  private t = 0;
  /** The moments of all variables back to back (for `step`), and per-variable views of them. */
  private readonly mFlat: Float32Array;
  private readonly vFlat: Float32Array;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(readonly variables: readonly tf.Variable[], readonly learningRate: number, readonly epsilon: number,
    readonly beta1 = 0.9, readonly beta2 = 0.999) {
    super();
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
  override get iterations(): number {
    return this.t;
  }

  /** One step with `grads[i]` the gradient of `variables[i]` (the gradients are not disposed). */
  apply(grads: readonly tf.Tensor[]): void {
    if (grads.length !== this.variables.length) throw new Error(`internal: Adam got ${grads.length} gradients for ${this.variables.length} variables`);
    const g = new Float32Array(this.mFlat.length);
    const p = new Float32Array(this.mFlat.length);
    let off = 0;
    this.variables.forEach((variable, i) => {
      g.set(grads[i].dataSync() as Float32Array, off);
      p.set(variable.dataSync() as Float32Array, off);
      off += variable.size;
    });
    this.step(g, p);
    off = 0;
    for (const variable of this.variables) {
      const next = tf.tensor(p.subarray(off, off + variable.size), variable.shape, 'float32');
      variable.assign(next);
      next.dispose();
      off += variable.size;
    }
  }

  /**
   * One step on flat arrays: `params` (all variables back to back, in order) is updated in place from `grad` (same
   * layout); the variables themselves are not touched (see ../rl/agents/flatParams.ts, which uploads them).
   */
  step(grad: Float32Array, params: Float32Array): void {
    if (grad.length !== this.mFlat.length || params.length !== this.mFlat.length) throw new Error(`internal: Adam.step on ${grad.length} values, expected ${this.mFlat.length}`);
    this.t++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const lrT = (this.learningRate * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    const m = this.mFlat;
    const v = this.vFlat;
    // The addon's pass where it runs (../backend/nativeFlatAdam.ts): the same floats as the loop below.
    const native = nativeFlatAdam();
    if (native !== null) {
      native(m, v, params, grad, lrT, b1, 1 - b1, b2, 1 - b2, eps);
      return;
    }
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

  /** Restore (t, m, v) as `getState` returned it; the moments must have this optimizer's shapes. */
  setState(s: { t: number; m: Float32Array[]; v: Float32Array[] }): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length || s.m.some((a, i) => a.length !== this.m[i].length) ||
      s.v.some((a, i) => a.length !== this.v[i].length)) {
      throw new Error('internal: Adam state of another shape');
    }
    this.t = s.t;
    s.m.forEach((a, i) => this.m[i].set(a));
    s.v.forEach((a, i) => this.v[i].set(a));
  }

  // ---- tf.Optimizer: fit's interface -------------------------------------------------------------------------

  /** Gradients by position (as fit passes them) or by variable name. */
  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const byName = Array.isArray(variableGradients) ? null : variableGradients;
    const list = Array.isArray(variableGradients) ? variableGradients.map((g) => g.tensor) : this.variables.map((v) => byName![v.name]);
    if (list.some((g) => g === undefined)) fail('Adam: a gradient is missing for one of the variables it was built over');
    this.apply(list);
  }

  /** The state as tensors for checkpoints: the step count `iter`, then m and v per variable (`<name>/m`, `<name>/v`). */
  override async getWeights(): Promise<NamedTensor[]> {
    const moments = (arrays: Float32Array[], suffix: string) =>
      arrays.map((a, i) => ({ name: `${this.variables[i].name}/${suffix}`, tensor: tf.tensor(a, this.variables[i].shape, 'float32') }));
    return [{ name: 'iter', tensor: tf.scalar(this.t, 'int32') }, ...moments(this.m, 'm'), ...moments(this.v, 'v')];
  }

  /** Restore what `getWeights` returned (the step count first, then every m, then every v, in variable order). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const [iter, ...slots] = weightValues;
    const n = this.variables.length;
    if (iter === undefined || slots.length !== 2 * n) fail(`Adam: setWeights needs the step count and ${2 * n} moments, got ${weightValues.length} tensors`);
    const read = (k: number) => slots[k].tensor.dataSync() as Float32Array;
    this.setState({ t: iter.tensor.dataSync()[0], m: this.m.map((_, i) => read(i)), v: this.v.map((_, i) => read(n + i)) });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, epsilon: this.epsilon, beta1: this.beta1, beta2: this.beta2 };
  }
}
