/**
 * One method of the Olivetti face-completion experiment (§5.3): train a convolutional PICNN to predict the left
 * half of a face from its mirrored right half, and record the test MSE (0–255 scale) after every epoch and the
 * final test completions. Runs in a worker thread (see ./parallel.ts); `runTask` is its entry point.
 *
 * Both inference procedures start from the mean training left half (the authors' `meanY`, per pixel). The
 * library's objectives take a scalar start (unrolled GD) or the domain centre (bundle entropy), so the two
 * objectives here are thin variants of them built from the same library parts (unrolledGd, argmin,
 * argminAdjoint, argminSurrogate).
 */
import * as tf from '@tensorflow/tfjs';
import { appendFileSync } from 'node:fs';
import { ConvPICNN, type ConvLayerSpec } from '../models/convPicnn.js';
import { disposeContext, type EnergyModel } from '../models/energyModel.js';
import { fit } from '../learning/fit.js';
import { unrolledGd } from '../learning/unrolledGd.js';
import { lossAndGradRow, lossTensor } from '../learning/losses.js';
import { argmin } from '../inference/argmin.js';
import { argminAdjoint, argminSurrogate, type SurrogateRow } from '../learning/argminDifferentiation.js';
import type { Batch, Objective, StepResult } from '../learning/objectives/objective.js';

export const OLIVETTI_METHODS = ['bundle-entropy', 'gd', 'nonconvex'] as const;
export type OlivettiMethod = (typeof OLIVETTI_METHODS)[number];

export const OLIVETTI_LABELS: Record<OlivettiMethod, string> = {
  'bundle-entropy': 'ICNN: bundle entropy',
  gd: 'ICNN: gradient descent',
  nonconvex: 'ICNN: nonconvex (GD)',
};

export interface OlivettiSettings {
  quick: boolean;
  /** Images used of each split (350 / 50 in full mode). */
  nTrain: number;
  nTest: number;
  /** null: the DQN layers (32@8×8/4, 64@4×4/2, 64@3×3/1) and FC [512]. */
  conv: ConvLayerSpec[] | null;
  fcHidden: number[];
  absScale: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  gd: { steps: number; learningRate: number; momentum: number };
  bundleIterations: number;
}

/**
 * The authors' settings (50 epochs, batch 70, Adam 1e-3, |W|/2 init; bundle entropy 5 iterations; GD lr 0.01,
 * momentum 0.9, 5 steps, the number the paper implies), or tiny ones for --quick; `epochs` overrides.
 */
export function olivettiSettings(quick: boolean, epochs?: number): OlivettiSettings {
  const s: OlivettiSettings = quick
    ? {
      quick, nTrain: 40, nTest: 10, conv: [{ filters: 8, kernel: 8, stride: 4 }, { filters: 16, kernel: 4, stride: 2 }], fcHidden: [32],
      absScale: 0.5, epochs: 2, batchSize: 20, learningRate: 1e-3, gd: { steps: 5, learningRate: 0.01, momentum: 0.9 }, bundleIterations: 5,
    }
    : {
      quick, nTrain: 350, nTest: 50, conv: null, fcHidden: [512],
      absScale: 0.5, epochs: 50, batchSize: 70, learningRate: 1e-3, gd: { steps: 5, learningRate: 0.01, momentum: 0.9 }, bundleIterations: 5,
    };
  return epochs === undefined ? s : { ...s, epochs };
}

/** 0–255-scale MSE from a [0, 1]-scale one. */
export const TO_255 = 255 * 255;

/** Unrolled momentum GD (§4.4) from a fixed start row (the mean training target), MSE on y_N; ŷ = y_N unclipped. */
class UnrolledGdFromRow implements Objective {
  readonly name = 'unrolled-gd';
  constructor(private readonly start: tf.Tensor2D, private readonly o: OlivettiSettings['gd']) {}

  private run(model: EnergyModel, x: tf.Tensor2D | null, batch: number, training: boolean): tf.Tensor2D {
    const ctx = model.context(x, { training, batch });
    return unrolledGd(model, ctx, tf.tile(this.start, [batch, 1]) as tf.Tensor2D, this.o);
  }

  async step(model: EnergyModel, batch: Batch): Promise<StepResult> {
    const rows = batch.y.shape[0];
    const { value, grads } = tf.variableGrads(() => lossTensor('mse', this.run(model, batch.x, rows, true), batch.y), model.trainableVariables);
    const loss = (await value.data())[0];
    value.dispose();
    return { loss, grads };
  }

  async predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor> {
    return tf.tidy(() => this.run(model, x, batch, false));
  }
}

/** Argmin differentiation through bundle entropy (§4.3) on [0, 1]^n from a fixed start row, MSE loss. */
class BundleEntropyFromRow implements Objective {
  readonly name = 'argmin-bundle-entropy';
  private readonly init: number[];
  constructor(start: Float32Array, private readonly iterations: number) {
    this.init = Array.from(start);
  }

  private solve(model: EnergyModel, x: tf.Tensor2D | null, batch: number) {
    return argmin(model, x, { method: 'bundle-entropy', iterations: this.iterations, domain: { lower: 0, upper: 1 }, init: this.init, batch, tolerance: 1e-6 });
  }

  async step(model: EnergyModel, batch: Batch): Promise<StepResult> {
    const rows = batch.y.shape[0];
    const n = model.yDim;
    // Batch-norm moving statistics from this batch; inference and the surrogate use them (as the library objective).
    disposeContext(model.context(batch.x, { training: true, batch: rows }));
    const r = await this.solve(model, batch.x, rows);
    const yHat = Float64Array.from(await r.y.data());
    r.y.dispose();
    const target = Float64Array.from(await batch.y.data());
    const lower = new Float64Array(n);
    const width = new Float64Array(n).fill(1);
    const surrogate: SurrogateRow[] = [];
    let loss = 0;
    r.bundles!.forEach((b, e) => {
      const yh = yHat.subarray(e * n, (e + 1) * n);
      const lg = lossAndGradRow('mse', yh, target.subarray(e * n, (e + 1) * n), rows);
      loss += lg.loss;
      const { c, v } = argminAdjoint(b, yh, lg.grad, lower, width, 1);
      for (let i = 0; i < b.k; i++) surrogate.push({ example: e, point: b.points.subarray(i * n, (i + 1) * n), c: c[i], v: v.subarray(i * n, (i + 1) * n) });
    });
    const { value, grads } = tf.variableGrads(() => argminSurrogate(model, batch.x, surrogate), model.trainableVariables);
    value.dispose();
    return { loss, grads };
  }

  async predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor> {
    return (await this.solve(model, x, batch)).y;
  }
}

export interface CompletionArrays {
  /** n × 64 × 32 (mirrored right halves). */
  x: Float32Array;
  /** n × 64 × 32 (left halves). */
  y: Float32Array;
  n: number;
}

export interface OlivettiTask {
  method: OlivettiMethod;
  seed: number;
  settings: OlivettiSettings;
  itemShape: [number, number, number];
  train: CompletionArrays;
  test: CompletionArrays;
  /** Mean training left half, one row (the start of inference). */
  meanY: Float32Array;
  /** Append one line per epoch to this file (long runs; see bibtexTask.ts). */
  progressFile: string | null;
}

export interface OlivettiEpoch {
  epoch: number;
  /** Training MSE of the epoch's batches, 0–255 scale. */
  trainMse: number;
  /** Test MSE, 0–255 scale, of ŷ as the method returns it (GD: unclipped y_N, as the authors' code). */
  testMse: number;
  seconds: number;
}

export interface OlivettiRun {
  method: OlivettiMethod;
  epochs: OlivettiEpoch[];
  /** Final test MSE (0–255 scale) of ŷ as returned, and of ŷ clipped to [0, 1]. */
  testMse: number;
  testMseClipped: number;
  /** Final test completions, n × 64 × 32, clipped to [0, 1]. */
  predictions: Float32Array;
  parameters: number;
  steps: number;
  seconds: number;
  isConvex: boolean;
}

export function mse255(pred: ArrayLike<number>, truth: ArrayLike<number>, clip = false): number {
  let s = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = clip ? Math.min(1, Math.max(0, pred[i])) : pred[i];
    s += (255 * (p - truth[i])) ** 2;
  }
  return s / truth.length;
}

export async function runTask(task: OlivettiTask): Promise<OlivettiRun> {
  const s = task.settings;
  const dim = task.itemShape[0] * task.itemShape[1] * task.itemShape[2];
  const net = new ConvPICNN({
    xShape: task.itemShape, yShape: task.itemShape, ...(s.conv ? { conv: s.conv } : {}), fcHidden: s.fcHidden, batchNorm: true,
    absScale: s.absScale, positivity: task.method === 'nonconvex' ? 'none' : 'clip', seed: task.seed + 1,
  });
  const start = tf.tensor2d(task.meanY, [1, dim]);
  const objective: Objective = task.method === 'bundle-entropy'
    ? new BundleEntropyFromRow(task.meanY, s.bundleIterations)
    : new UnrolledGdFromRow(start, s.gd);
  const x = tf.tensor2d(task.train.x, [task.train.n, dim]);
  const y = tf.tensor2d(task.train.y, [task.train.n, dim]);
  const xTest = tf.tensor2d(task.test.x, [task.test.n, dim]);
  const yTest = tf.tensor2d(task.test.y, [task.test.n, dim]);
  const t0 = Date.now();
  const ends: number[] = [];
  try {
    const history = await fit(net, { x, y }, {
      objective, epochs: s.epochs, batchSize: s.batchSize, learningRate: s.learningRate, seed: task.seed,
      // All multi-label metrics are computed (cheap); only 'mse' is used. metrics: ['mse'] alone is refused by fit,
      // whose default watched metric (exampleF1 with validation data) must be among those computed.
      validation: { x: xTest, y: yTest }, evalBatchSize: 50,
      onEpochEnd: (info) => {
        ends.push(Date.now());
        if (task.progressFile !== null) {
          appendFileSync(task.progressFile, `olivetti: ${task.method} epoch ${info.epoch}: train MSE ${(info.trainLoss * TO_255).toFixed(1)}, ` +
            `test MSE ${(info.metrics.mse * TO_255).toFixed(1)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
        }
      },
    });
    const out = await objective.predict(net, xTest, task.test.n);
    const raw = Float32Array.from(await out.data());
    out.dispose();
    return {
      method: task.method,
      epochs: history.epochs.map((r, i) => ({
        epoch: r.epoch, trainMse: r.trainLoss * TO_255, testMse: r.metrics.mse * TO_255,
        seconds: (ends[i] - (i === 0 ? t0 : ends[i - 1])) / 1000,
      })),
      testMse: mse255(raw, task.test.y),
      testMseClipped: mse255(raw, task.test.y, true),
      predictions: raw.map((v) => Math.min(1, Math.max(0, v))),
      parameters: net.numParameters, steps: history.steps, seconds: (Date.now() - t0) / 1000, isConvex: net.isConvex,
    };
  } finally {
    tf.dispose([start, x, y, xTest, yTest]);
    net.dispose();
  }
}
