/**
 * Learning by argmin differentiation through the bundle entropy solution (§4.3, Prop. 3): ŷ = bundle entropy
 * argmin of f − w·H on the box (default [0,1]^n, 10 iterations as the authors' multi-label script; 5 for Olivetti),
 * loss ℓ(ŷ, y*) (MSE or binary cross-entropy), and ∇_θ ℓ as the θ-gradient of the surrogate batch of §4.3.
 * Batch normalization: inference and the surrogate use the moving statistics (the same function on both
 * sides of the implicit derivative); one extra training-mode pass of the u-path per step updates them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyModel } from '../../models/energyModel.js';
import { disposeContext } from '../../models/energyModel.js';
import { structuredLoss, type Batch, type Objective, type StepResult, type StructuredLoss } from './objective.js';
import * as v from 'valibot';
import { POSITIVE, POSITIVE_INT } from '../../util/numbers.js';
import { num, optionsSchema } from '../../util/schema.js';
import { argmin } from '../../inference/argmin.js';
import { argminAdjoint, argminSurrogate, type SurrogateRow } from '../argminDifferentiation.js';
import { lossAndGradRow } from '../losses.js';

export const ARGMIN_BUNDLE_ENTROPY_OPTIONS = optionsSchema({
  iterations: v.optional(num(POSITIVE_INT)),
  loss: v.optional(structuredLoss),
  /** The box [lower, upper]^n of y (default [0, 1]). */
  lower: v.optional(num({})),
  upper: v.optional(num({})),
  entropyWeight: v.optional(num(POSITIVE)),
});
export type ArgminBundleEntropyOptions = v.InferOutput<typeof ARGMIN_BUNDLE_ENTROPY_OPTIONS>;

export class ArgminBundleEntropy implements Objective {
  readonly name = 'argmin-bundle-entropy';
  readonly iterations: number;
  readonly loss: StructuredLoss;
  readonly lower: number;
  readonly upper: number;
  readonly entropyWeight: number;

  constructor(o: ArgminBundleEntropyOptions = {}) {
    this.iterations = o.iterations ?? 10;
    this.loss = o.loss ?? 'mse';
    this.lower = o.lower ?? 0;
    this.upper = o.upper ?? 1;
    this.entropyWeight = o.entropyWeight ?? 1;
  }

  private solve(model: EnergyModel, x: tf.Tensor2D | null, batch: number) {
    return argmin(model, x, {
      method: 'bundle-entropy', iterations: this.iterations, domain: { lower: this.lower, upper: this.upper },
      entropyWeight: this.entropyWeight, batch, tolerance: 1e-6,
    });
  }

  async step(model: EnergyModel, batch: Batch): Promise<StepResult> {
    const rows = batch.y.shape[0];
    const n = model.yDim;
    // Update batch-norm moving statistics with this batch (a no-op for models without batch norm).
    disposeContext(model.context(batch.x, { training: true, batch: rows }));
    const r = await this.solve(model, batch.x, rows);
    const yHat = Float64Array.from(await r.y.data());
    r.y.dispose();
    const target = Float64Array.from(await batch.y.data());
    const lower = new Float64Array(n).fill(this.lower);
    const width = new Float64Array(n).fill(this.upper - this.lower);
    const surrogateRows: SurrogateRow[] = [];
    let loss = 0;
    r.bundles!.forEach((b, e) => {
      const yh = yHat.subarray(e * n, (e + 1) * n);
      const lg = lossAndGradRow(this.loss, yh, target.subarray(e * n, (e + 1) * n), rows);
      loss += lg.loss;
      const { c, v } = argminAdjoint(b, yh, lg.grad, lower, width, this.entropyWeight);
      for (let i = 0; i < b.k; i++) {
        surrogateRows.push({ example: e, point: b.points.subarray(i * n, (i + 1) * n), c: c[i], v: v.subarray(i * n, (i + 1) * n) });
      }
    });
    const { value, grads } = tf.variableGrads(() => argminSurrogate(model, batch.x, surrogateRows), model.trainableVariables);
    value.dispose();
    return { loss, grads };
  }

  async predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor> {
    return (await this.solve(model, x, batch)).y;
  }
}
