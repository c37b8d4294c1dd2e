/**
 * Named parameters of a model, and the non-negativity of the convex-path weights W^(z) (Prop. 1, §1.4).
 *
 * Positivity modes for 'convex' parameters:
 * - 'clip'     (the paper): stored as is; `project()` sets W ← max(W, 0) after each optimizer step.
 * - 'softplus' (reparametrization): stored V, the forward pass uses softplus(V) ≥ 0; nothing to project.
 * - 'none'     (the paper's nonconvex ablation): no constraint at all.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * How W^(z) ≥ 0 is kept (§1.1): 'clip' after every step (the paper), 'softplus' reparametrization, or 'none' (an ablation).
 */
export const POSITIVITY_MODES = ['clip', 'softplus', 'none'] as const;
/** One of `POSITIVITY_MODES`. */
export type Positivity = (typeof POSITIVITY_MODES)[number];

/** 'free': unconstrained; 'convex': a W^(z) that must stay non-negative; 'state': non-trainable (batch-norm statistics). */
export type ParameterRole = 'free' | 'convex' | 'state';

export interface Parameter {
  name: string;
  role: ParameterRole;
  variable: tf.Variable;
}

export class ParameterStore {
  private readonly params = new Map<string, Parameter>();

  constructor(readonly positivity: Positivity) {}

  /**
   * Add a parameter. For convex parameters `values` is the desired (non-negative) weight W; under 'softplus'
   * the stored variable is softplus⁻¹(W).
   */
  add(name: string, role: ParameterRole, shape: number[], values: Float32Array): tf.Variable {
    if (this.params.has(name)) throw new Error(`internal: parameter '${name}' defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`internal: parameter '${name}' needs ${size} values, got ${values.length}`);
    let stored = values;
    if (role === 'convex' && this.positivity === 'softplus') {
      stored = new Float32Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const w = Math.max(values[i], 1e-4);
        stored[i] = w > 20 ? w : Math.log(Math.expm1(w));
      }
    }
    const init = tf.tensor(stored, shape, 'float32');
    const variable = tf.variable(init, role !== 'state');
    init.dispose();
    this.params.set(name, { name, role, variable });
    return variable;
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  /** The stored variable (for convex params under 'softplus', the pre-activation V). */
  variable(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw new Error(`internal: unknown parameter '${name}'`);
    return p.variable;
  }

  /** The value the forward pass uses: softplus(V) for convex params under 'softplus', else the variable. */
  value(name: string): tf.Tensor {
    const p = this.params.get(name);
    if (!p) throw new Error(`internal: unknown parameter '${name}'`);
    if (p.role === 'convex' && this.positivity === 'softplus') return tf.softplus(p.variable);
    return p.variable;
  }

  list(): Parameter[] {
    return [...this.params.values()];
  }

  trainable(): tf.Variable[] {
    return this.list().filter((p) => p.role !== 'state').map((p) => p.variable);
  }

  /** Restore feasibility after an optimizer step (§1.4): W^(z) ← max(W^(z), 0) under 'clip'. */
  project(): void {
    if (this.positivity !== 'clip') return;
    for (const p of this.params.values()) {
      if (p.role !== 'convex') continue;
      const clipped = tf.relu(p.variable);
      p.variable.assign(clipped);
      clipped.dispose();
    }
  }

  /** Smallest effective convex-path weight (≥ 0 whenever the model is convex); +Infinity if there are none. */
  minConvexWeight(): number {
    let m = Infinity;
    for (const p of this.params.values()) {
      if (p.role !== 'convex') continue;
      const v = tf.tidy(() => tf.min(this.value(p.name)));
      m = Math.min(m, v.dataSync()[0]);
      v.dispose();
    }
    return m;
  }

  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
  }
}
