/**
 * Learning through unrolled gradient descent (§4.4): ℓ(y_N, y*) after N momentum-GD steps from y0, differentiated
 * through every step. Defaults are the paper's BibTeX inference setting (§5.2: 30 steps, lr 0.1, momentum 0.3,
 * y0 = 0.5); predictions are y_N clipped to [0, 1].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyModel } from '../../models/energyModel.js';
import { structuredLoss, type Batch, type Objective, type StepResult, type StructuredLoss } from './objective.js';
import * as v from 'valibot';
import { POSITIVE, POSITIVE_INT } from '../../util/numbers.js';
import { num, optionsSchema } from '../../util/schema.js';
import { unrolledGd } from '../unrolledGd.js';
import { lossTensor } from '../losses.js';

export const UNROLLED_GD_OPTIONS = optionsSchema({
  steps: v.optional(num(POSITIVE_INT)),
  learningRate: v.optional(num(POSITIVE)),
  momentum: v.optional(num({ min: 0, max: 1, exclusiveMax: true })),
  /** Starting point: a number for every coordinate (default 0.5). */
  y0: v.optional(num({})),
  loss: v.optional(structuredLoss),
});
export type UnrolledGdObjectiveOptions = v.InferOutput<typeof UNROLLED_GD_OPTIONS>;

export class UnrolledGdObjective implements Objective {
  readonly name = 'unrolled-gd';
  readonly steps: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly y0: number;
  readonly loss: StructuredLoss;

  constructor(o: UnrolledGdObjectiveOptions = {}) {
    this.steps = o.steps ?? 30;
    this.learningRate = o.learningRate ?? 0.1;
    this.momentum = o.momentum ?? 0.3;
    this.y0 = o.y0 ?? 0.5;
    this.loss = o.loss ?? 'mse';
  }

  private run(model: EnergyModel, x: tf.Tensor2D | null, batch: number, training: boolean): tf.Tensor2D {
    const ctx = model.context(x, { training, batch });
    const y0 = tf.fill([batch, model.yDim], this.y0) as tf.Tensor2D;
    return unrolledGd(model, ctx, y0, { steps: this.steps, learningRate: this.learningRate, momentum: this.momentum });
  }

  async step(model: EnergyModel, batch: Batch): Promise<StepResult> {
    const rows = batch.y.shape[0];
    const { value, grads } = tf.variableGrads(() => {
      const yN = this.run(model, batch.x, rows, true);
      return lossTensor(this.loss, this.loss === 'bce' ? tf.clipByValue(yN, 0, 1) : yN, batch.y);
    }, model.trainableVariables);
    const loss = (await value.data())[0];
    value.dispose();
    return { loss, grads };
  }

  async predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor> {
    return tf.tidy(() => tf.clipByValue(this.run(model, x, batch, false), 0, 1));
  }
}
