/**
 * How a convex-path weight W^(z) is kept non-negative (Prop. 1, `../shared/icnn-paper.md` §1.4), said once for the
 * positive blocks (./blocks.ts) and the parameter store (./parameters.ts):
 * - 'clip'     (the paper): stored as is; after each optimizer step W ← max(W, 0).
 * - 'softplus' (reparametrization): stored V, the forward pass uses softplus(V) ≥ 0; nothing to project.
 * - 'none'     (the paper's nonconvex ablation): no constraint at all.
 */
import * as tf from '@tensorflow/tfjs-core';

/** How W^(z) ≥ 0 is kept (§1.4): 'clip' (the paper's projection), 'softplus' (reparametrized) or 'none' (nonconvex). */
export const POSITIVITY_MODES = ['clip', 'softplus', 'none'] as const;
/** One of `POSITIVITY_MODES`: the `positivity` option of the convex models. */
export type Positivity = (typeof POSITIVITY_MODES)[number];

/** Smallest weight stored under 'softplus' (softplus⁻¹ of 0 is −∞). */
const SOFTPLUS_FLOOR = 1e-4;

/**
 * The values to store for the desired (non-negative) weights W: softplus⁻¹(max(W, 1e-4)) under 'softplus' (W itself
 * above 20, where the two agree to float32 precision), W otherwise.
 */
export function storedPositiveValues(values: Float32Array, mode: Positivity): Float32Array {
  if (mode !== 'softplus') return values;
  const stored = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const w = Math.max(values[i], SOFTPLUS_FLOOR);
    stored[i] = w > 20 ? w : Math.log(Math.expm1(w));
  }
  return stored;
}

/** The weight the forward pass uses: softplus(V) under 'softplus' (a new tensor), else the variable itself. */
export function effectiveWeight(variable: tf.Variable, mode: Positivity): tf.Tensor {
  return mode === 'softplus' ? tf.softplus(variable) : variable;
}

/** Restores feasibility after an optimizer step (§1.4): W ← max(W, 0) under 'clip'; a no-op otherwise. */
export function projectPositive(variable: tf.Variable, mode: Positivity): void {
  if (mode !== 'clip') return;
  const clipped = tf.relu(variable);
  variable.assign(clipped);
  clipped.dispose();
}
