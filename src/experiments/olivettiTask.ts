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
import * as tf from '@tensorflow/tfjs-core';
import { appendFileSync } from 'node:fs';
import { ConvPICNN, type ConvLayerSpec, type FirstFcGate } from '../models/convPicnn.js';
import { disposeContext, type EnergyModel } from '../models/energyModel.js';
import { fit } from '../learning/fit.js';
import { unrolledGd } from '../learning/unrolledGd.js';
import { lossAndGradRow, lossTensor } from '../learning/losses.js';
import { argmin } from '../inference/argmin.js';
import { argminAdjoint, argminSurrogate, type SurrogateRow } from '../learning/argminDifferentiation.js';
import type { Batch, Objective, StepResult } from '../learning/objectives/objective.js';
import { SeedRunLog } from './seedRuns.js';
import { fail } from '../util/errors.js';

export const OLIVETTI_METHODS = ['bundle-entropy', 'gd', 'nonconvex'] as const;
export type OlivettiMethod = (typeof OLIVETTI_METHODS)[number];

export const OLIVETTI_LABELS: Record<OlivettiMethod, string> = {
  'bundle-entropy': 'ICNN: bundle entropy',
  gd: 'ICNN: gradient descent',
  nonconvex: 'ICNN: nonconvex (GD)',
};

/**
 * One model and training setting of the Olivetti grid (`reproduce olivetti --seeds`). The main rows use the
 * authors' model (reproduction-audit.md, Olivetti #1-#4): gate biases 0, conv weights uniform scaling, FC weights
 * truncated normal 0.02, |W|/2 on W^(z), the FC gate of the first FC z-layer and, for bundle entropy, batch
 * statistics in the inner solve and the surrogate. Ablations change one of these.
 */
export interface OlivettiVariant {
  /** Run-directory name and row key. */
  id: string;
  method: OlivettiMethod;
  setting: string;
  /** 'authors': as above; 'library': LeCun normal everywhere, gate biases 1. */
  init: 'authors' | 'library';
  firstFcGate: FirstFcGate;
  /** Bundle entropy: batch statistics in the inner solve and surrogate (the authors'), else moving averages. */
  batchStatistics: boolean;
  /** Unrolled GD steps (the thesis text implies 5, the authors' script default is 30). */
  gdSteps: number;
  /**
   * Bundle-entropy iterations where they differ from the settings' (the paper's text: 5; the default of the
   * authors' `icnn_ebundle.py`, `--nBundleIter`, is 30).
   */
  bundleIterations?: number;
}

const AUTHORS: Omit<OlivettiVariant, 'id' | 'method' | 'setting' | 'gdSteps'> = { init: 'authors', firstFcGate: 'fc', batchStatistics: true };

export const OLIVETTI_VARIANTS: readonly OlivettiVariant[] = [
  { id: 'bundle-entropy', method: 'bundle-entropy', setting: "authors' model", ...AUTHORS, gdSteps: 5 },
  { id: 'gd-5', method: 'gd', setting: "authors' model, 5 GD steps", ...AUTHORS, gdSteps: 5 },
  { id: 'gd-30', method: 'gd', setting: "authors' model, 30 GD steps", ...AUTHORS, gdSteps: 30 },
  { id: 'nonconvex-5', method: 'nonconvex', setting: "authors' model, 5 GD steps", ...AUTHORS, gdSteps: 5 },
  { id: 'nonconvex-30', method: 'nonconvex', setting: "authors' model, 30 GD steps", ...AUTHORS, gdSteps: 30 },
  { id: 'bundle-entropy.library-init', method: 'bundle-entropy', setting: 'library init (LeCun normal, gate biases 1)', ...AUTHORS, init: 'library', gdSteps: 5 },
  { id: 'bundle-entropy.conv-gate', method: 'bundle-entropy', setting: '3×3 conv gate on the first FC layer', ...AUTHORS, firstFcGate: 'conv3x3', gdSteps: 5 },
  { id: 'bundle-entropy.moving-stats', method: 'bundle-entropy', setting: 'batch norm on moving statistics in training', ...AUTHORS, batchStatistics: false, gdSteps: 5 },
  { id: 'bundle-entropy-30', method: 'bundle-entropy', setting: "authors' model, 30 bundle iterations", ...AUTHORS, gdSteps: 5, bundleIterations: 30 },
  { id: 'gd-5.library-init', method: 'gd', setting: '5 GD steps, library init (LeCun normal, gate biases 1)', ...AUTHORS, init: 'library', gdSteps: 5 },
];

/** The variant of each method in single-seed runs (`reproduce olivetti` without --seeds). */
export const OLIVETTI_DEFAULT_VARIANT: Record<OlivettiMethod, string> = { 'bundle-entropy': 'bundle-entropy', gd: 'gd-5', nonconvex: 'nonconvex-5' };

export function olivettiVariant(id: string): OlivettiVariant {
  const v = OLIVETTI_VARIANTS.find((x) => x.id === id);
  if (!v) fail(`olivetti: unknown variant ${JSON.stringify(id)} (expected one of: ${OLIVETTI_VARIANTS.map((x) => x.id).join(', ')})`);
  return v;
}

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

/**
 * Argmin differentiation through bundle entropy (§4.3) on [0, 1]^n from a fixed start row, MSE loss.
 * `batchStatistics`: batch norm on the batch's statistics in the inner solve and on the surrogate rows' in the
 * Prop. 3 surrogate, as the authors' training under tflearn.is_training(True); else on the moving averages (updated
 * from the batch first), one function on both sides of the implicit derivative. Prediction uses the moving averages.
 */
export class BundleEntropyFromRow implements Objective {
  readonly name = 'argmin-bundle-entropy';
  private readonly init: number[];
  constructor(start: Float32Array, readonly iterations: number, private readonly batchStatistics = false) {
    this.init = Array.from(start);
  }

  private solve(model: EnergyModel, x: tf.Tensor2D | null, batch: number, training: boolean) {
    return argmin(model, x, {
      method: 'bundle-entropy', iterations: this.iterations, domain: { lower: 0, upper: 1 }, init: this.init, batch, tolerance: 1e-6, training,
    });
  }

  async step(model: EnergyModel, batch: Batch): Promise<StepResult> {
    const rows = batch.y.shape[0];
    const n = model.yDim;
    const training = this.batchStatistics;
    // Moving statistics: update them from this batch first; inference and the surrogate then use them.
    if (!training) disposeContext(model.context(batch.x, { training: true, batch: rows }));
    const r = await this.solve(model, batch.x, rows, training);
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
    const { value, grads } = tf.variableGrads(() => argminSurrogate(model, batch.x, surrogate, { training }), model.trainableVariables);
    value.dispose();
    return { loss, grads };
  }

  async predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor> {
    return (await this.solve(model, x, batch, false)).y;
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
  /** An OLIVETTI_VARIANTS id. */
  variant: string;
  seed: number;
  settings: OlivettiSettings;
  itemShape: [number, number, number];
  train: CompletionArrays;
  test: CompletionArrays;
  /** Mean training left half, one row (the start of inference). */
  meanY: Float32Array;
  /** Append one line per epoch to this file (long runs; see bibtexTask.ts). */
  progressFile: string | null;
  /** A seeded run's directory (./seedRuns.ts): record every epoch there and resume from its checkpoints. */
  runDir?: string;
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
  variant: string;
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

/** The convolutional PICNN of a variant (the authors' init: see OlivettiVariant). */
export function olivettiModel(v: OlivettiVariant, s: OlivettiSettings, itemShape: number[], seed: number): ConvPICNN {
  const authors = v.init === 'authors';
  return new ConvPICNN({
    xShape: itemShape, yShape: itemShape, ...(s.conv ? { conv: s.conv } : {}), fcHidden: s.fcHidden, batchNorm: true,
    absScale: s.absScale, positivity: v.method === 'nonconvex' ? 'none' : 'clip', seed, firstFcGate: v.firstFcGate,
    ...(authors ? { gateBias: 0, convInit: 'uniform-scaling', fcInit: 'truncated-normal' } as const : {}),
  });
}

/** The training objective of a variant, both inference procedures starting from `meanY`. */
export function olivettiObjective(v: OlivettiVariant, s: OlivettiSettings, meanY: Float32Array, start: tf.Tensor2D): Objective {
  return v.method === 'bundle-entropy'
    ? new BundleEntropyFromRow(meanY, v.bundleIterations ?? s.bundleIterations, v.batchStatistics)
    : new UnrolledGdFromRow(start, { ...s.gd, steps: v.gdSteps });
}

export async function runTask(task: OlivettiTask): Promise<OlivettiRun> {
  const s = task.settings;
  const v = olivettiVariant(task.variant);
  const dim = task.itemShape[0] * task.itemShape[1] * task.itemShape[2];
  const net = olivettiModel(v, s, task.itemShape, task.seed + 1);
  const start = tf.tensor2d(task.meanY, [1, dim]);
  const objective = olivettiObjective(v, s, task.meanY, start);
  const log = task.runDir === undefined ? null : await SeedRunLog.open(task.runDir, {
    experiment: 'olivetti', variant: v.id, method: v.method, setting: v.setting, seed: task.seed, quick: s.quick, epochs: s.epochs,
  }, { parameters: net.numParameters, settings: s, variantSettings: v });
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
      validation: { x: xTest, y: yTest }, evalBatchSize: 50, ...(log ? log.fitOptions : {}),
      onEpochEnd: async (info) => {
        ends.push(Date.now());
        await log?.epochEnd(info, { testMse: info.metrics.mse * TO_255, trainMse: info.trainLoss * TO_255 });
        if (task.progressFile !== null) {
          appendFileSync(task.progressFile, `olivetti: ${v.id}${log ? ` seed ${task.seed}` : ''} epoch ${info.epoch}: train MSE ${(info.trainLoss * TO_255).toFixed(1)}, ` +
            `test MSE ${(info.metrics.mse * TO_255).toFixed(1)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
        }
      },
    });
    const out = await objective.predict(net, xTest, task.test.n);
    const raw = Float32Array.from(await out.data());
    out.dispose();
    await log?.complete({ steps: history.steps, testMseClipped: mse255(raw, task.test.y, true) });
    return {
      method: v.method, variant: v.id,
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
