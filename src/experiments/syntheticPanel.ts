/**
 * One panel of the synthetic experiment (§5.1): train one model on one dataset and predict over the plane.
 * Runs in a worker thread (see ./parallel.ts); `runTask` is its entry point.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FICNN } from '../models/ficnn.js';
import { PICNN } from '../models/picnn.js';
import { FeedForward } from '../models/feedForward.js';
import type { EnergyModel } from '../models/energyModel.js';
import { makeSynthetic, type SyntheticName } from '../data/synthetic.js';
import { fit } from '../learning/fit.js';
import { createObjective, type ObjectiveName } from '../learning/objectives/index.js';
import type { Objective } from '../learning/objectives/objective.js';

export const DATASETS: SyntheticName[] = ['moons', 'circles', 'linear'];
export const MODELS = ['FICNN', 'PICNN', 'FeedForward'] as const;
export type ModelName = (typeof MODELS)[number];

export interface Panel {
  dataset: SyntheticName;
  model: ModelName;
  trainAccuracy: number;
  heldOutAccuracy: number;
  finalLoss: number;
  seconds: number;
  grid: { x0: number; x1: number; p: number }[];
  /** Width and height of a grid cell. */
  cell: [number, number];
  points: { x0: number; x1: number; label: number }[];
}

/** The paper's settings (run.sh: 200 epochs), or tiny ones for --quick; `epochs` overrides. */
export function settings(quick: boolean, epochs?: number) {
  const s = quick
    ? { n: 40, heldOut: 200, hidden: [32, 32], epochs: 8, grid: 16 }
    : { n: 100, heldOut: 1000, hidden: [200, 200], epochs: 200, grid: 40 };
  return epochs === undefined ? s : { ...s, epochs };
}

export function buildModel(name: ModelName, hidden: number[], seed: number): EnergyModel {
  if (name === 'FICNN') return new FICNN({ xDim: 2, yDim: 1, hidden, absScale: 0.1, seed });
  if (name === 'PICNN') return new PICNN({ xDim: 2, yDim: 1, hidden, absScale: 0.1, seed });
  return new FeedForward({ xDim: 2, yDim: 1, hidden, seed });
}

export function objectiveFor(name: ModelName): { objective: ObjectiveName; objectiveOptions: Record<string, unknown> } {
  if (name === 'FeedForward') return { objective: 'argmin-bundle-entropy', objectiveOptions: { iterations: 1, loss: 'bce' } };
  return { objective: 'unrolled-gd', objectiveOptions: { steps: 30, learningRate: 0.01, momentum: 0.9, y0: 0.5, loss: 'mse' } };
}

async function predict(objective: Objective, model: EnergyModel, x: Float32Array, n: number): Promise<Float32Array> {
  const xt = tf.tensor2d(x, [n, 2]);
  const p = await objective.predict(model, xt, n);
  const out = Float32Array.from(await p.data(), (v) => Math.min(1, Math.max(0, v)));
  tf.dispose([xt, p]);
  return out;
}

function accuracy(p: Float32Array, y: Float32Array): number {
  let hits = 0;
  for (let i = 0; i < y.length; i++) if ((p[i] >= 0.5 ? 1 : 0) === y[i]) hits++;
  return hits / y.length;
}

export interface PanelTask {
  dataset: SyntheticName;
  model: ModelName;
  seed: number;
  quick: boolean;
  epochs?: number;
}

export async function runTask({ dataset, model, seed, quick, epochs }: PanelTask): Promise<Panel> {
  const s = settings(quick, epochs);
  // One sample, split: the first n points train, the rest are held out (a generator with another seed would be
  // another problem for 'linear', whose class means and linear map are random).
  const all = makeSynthetic(dataset, { n: s.n + s.heldOut, seed });
  const data = { n: s.n, x: all.x.slice(0, 2 * s.n), y: all.y.slice(0, s.n) };
  const fresh = { n: s.heldOut, x: all.x.slice(2 * s.n), y: all.y.slice(s.n) };
  const net = buildModel(model, s.hidden, seed + 1);
  const { objective, objectiveOptions } = objectiveFor(model);
  const x = tf.tensor2d(data.x, [data.n, 2]);
  const y = tf.tensor2d(data.y, [data.n, 1]);
  const t0 = Date.now();
  try {
    const history = await fit(net, { x, y }, {
      objective, objectiveOptions, epochs: s.epochs, batchSize: data.n, learningRate: 1e-3, seed,
    });
    const obj = createObjective(objective, objectiveOptions);
    const trainAccuracy = accuracy(await predict(obj, net, data.x, data.n), data.y);
    const heldOutAccuracy = accuracy(await predict(obj, net, fresh.x, fresh.n), fresh.y);
    // Prediction over the plane (the paper's contour), on a grid around the data.
    let lo0 = Infinity, hi0 = -Infinity, lo1 = Infinity, hi1 = -Infinity;
    for (let i = 0; i < data.n; i++) {
      lo0 = Math.min(lo0, data.x[2 * i]); hi0 = Math.max(hi0, data.x[2 * i]);
      lo1 = Math.min(lo1, data.x[2 * i + 1]); hi1 = Math.max(hi1, data.x[2 * i + 1]);
    }
    const m0 = 0.15 * (hi0 - lo0), m1 = 0.15 * (hi1 - lo1);
    const g = s.grid;
    const gx = new Float32Array(g * g * 2);
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        gx[2 * (i * g + j)] = lo0 - m0 + ((hi0 - lo0 + 2 * m0) * (j + 0.5)) / g;
        gx[2 * (i * g + j) + 1] = lo1 - m1 + ((hi1 - lo1 + 2 * m1) * (i + 0.5)) / g;
      }
    }
    const gp = await predict(obj, net, gx, g * g);
    return {
      dataset, model, trainAccuracy, heldOutAccuracy,
      finalLoss: history.epochs[history.epochs.length - 1].trainLoss,
      seconds: (Date.now() - t0) / 1000,
      grid: Array.from(gp, (p, k) => ({ x0: gx[2 * k], x1: gx[2 * k + 1], p })),
      cell: [(hi0 - lo0 + 2 * m0) / g, (hi1 - lo1 + 2 * m1) / g],
      points: Array.from(data.y, (label, k) => ({ x0: data.x[2 * k], x1: data.x[2 * k + 1], label })),
    };
  } finally {
    tf.dispose([x, y]);
    net.dispose();
  }
}

