/**
 * The interface every training objective implements (§4): loss and θ-gradients on one minibatch, and the
 * predictions used for evaluation. The training loop (./../fit.ts) applies the gradients with Adam and projects.
 */
import * as v from 'valibot';
import { show } from '../../util/schema.js';
import type * as tf from '@tensorflow/tfjs-core';
import type { EnergyModel } from '../../models/energyModel.js';

/** One minibatch: inputs x, targets y and (energy regression) target energies. */
export interface Batch {
  /** [B, xDim], or null for a model without x. */
  x: tf.Tensor2D | null;
  /** Targets y* [B, yDim] (for energy regression: the points where the energy is known). */
  y: tf.Tensor2D;
  /** Energy targets [B] (energy regression only). */
  target?: tf.Tensor1D;
}

/** The loss of one minibatch and the θ-gradients of it. */
export interface StepResult {
  /** Mean loss over the batch. */
  loss: number;
  /** θ-gradients keyed by variable name (the caller disposes them). */
  grads: tf.NamedTensorMap;
}

/** A training objective (§4): loss and θ-gradients on a minibatch, and the predictions used for evaluation. */
export interface Objective {
  readonly name: string;
  /** Loss and gradients on one minibatch (batch norm in training mode where the objective allows it). */
  step(model: EnergyModel, batch: Batch): Promise<StepResult>;
  /** Predictions for evaluation: ŷ [B, yDim] for structured objectives, energies [B] for regression. */
  predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor>;
}

/** Per-row losses supported by the structured objectives. */
export type StructuredLoss = 'mse' | 'bce';

/** The `loss` option of the structured objectives. */
export const structuredLoss = v.picklist(['mse', 'bce'] as const satisfies readonly StructuredLoss[],
  (issue) => `must be 'mse' or 'bce', got ${show(issue.input)}`);
