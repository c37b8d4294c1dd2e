/**
 * First-order oracle over a batch: f(x_r, y_r) and ∇_y f(x_r, y_r) for every row r, on float64 arrays.
 * The x-only part of the network (the context, §1.2's u-path) is computed once per inference call.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeContext, type EnergyContext, type EnergyModel } from '../models/energyModel.js';

export class EnergyOracle {
  readonly batch: number;
  readonly n: number;
  /** Number of batched oracle calls so far (each evaluates every row once). */
  evaluations = 0;
  private readonly ctx: EnergyContext;

  /** `training`: the context in training mode (batch statistics in batch norm; see ArgminOptions.training). */
  constructor(readonly model: EnergyModel, x: tf.Tensor2D | null, batch: number, training = false) {
    this.batch = batch;
    this.n = model.yDim;
    this.ctx = model.context(x, { batch, training });
  }

  /** Energies [N] and gradients [N·n] (row-major) at the rows of y [N·n]. */
  evaluate(y: Float64Array): { energy: Float64Array; grad: Float64Array } {
    this.evaluations++;
    const [e, g] = tf.tidy(() => {
      const yt = tf.tensor2d(Float32Array.from(y), [this.batch, this.n]);
      const r = this.model.energyAndGradFromContext(this.ctx, yt);
      return [r.energy, r.grad];
    });
    const energy = Float64Array.from(e.dataSync());
    const grad = Float64Array.from(g.dataSync());
    tf.dispose([e, g]);
    return { energy, grad };
  }

  /** Energies only. */
  energy(y: Float64Array): Float64Array {
    const e = tf.tidy(() => this.model.energyFromContext(this.ctx, tf.tensor2d(Float32Array.from(y), [this.batch, this.n])));
    const out = Float64Array.from(e.dataSync());
    e.dispose();
    return out;
  }

  dispose(): void {
    disposeContext(this.ctx);
  }
}
