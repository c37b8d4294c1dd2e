/**
 * Direct functional fitting of energies (§4.1): minimize mean (f(x, y) − e)² over samples (x, y, e), e.g. fitting a
 * convex function to samples, or the TD targets of Q-learning.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyModel } from '../../models/energyModel.js';
import type { Batch, Objective, StepResult } from './objective.js';
import { fail } from '../../util/errors.js';

export class EnergyRegression implements Objective {
  readonly name = 'energy-regression';

  async step(model: EnergyModel, batch: Batch): Promise<StepResult> {
    if (!batch.target) fail("fit: objective 'energy-regression' needs data.target (the energy at each (x, y))");
    const target = batch.target;
    const { value, grads } = tf.variableGrads(() => {
      const ctx = model.context(batch.x, { training: true, batch: batch.y.shape[0] });
      const e = model.energyFromContext(ctx, batch.y);
      return tf.mean(tf.square(tf.sub(e, target))) as tf.Scalar;
    }, model.trainableVariables);
    const loss = (await value.data())[0];
    value.dispose();
    return { loss, grads };
  }

  async predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number, y?: tf.Tensor2D): Promise<tf.Tensor> {
    if (!y) fail("energy-regression predictions need the y at which to evaluate the energy");
    return tf.tidy(() => model.energyFromContext(model.context(x, { batch }), y));
  }
}
