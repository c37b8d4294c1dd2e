/**
 * Save, load and resume.
 *
 * - `model.save(dir)` writes the architecture and weights; `PICNN.load(dir)` gives back a model with the same
 *   energies.
 * - `fit` with `checkpoint: { dir }` writes a checkpoint after every epoch (model, Adam's moments, the shuffle's
 *   position); a later `fit` with `resume: dir` continues from it. On the cpu backend (the test oracle, chosen
 *   here) a run stopped halfway and resumed ends with exactly the parameters of an uninterrupted run.
 *
 *   npx tsx examples/save-load-resume.ts [--tiny]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PICNN, fit, makeMoons, setBackend, type FitOptions } from 'icnn';
import { runIfMain, type ExampleSize } from './shared.js';

/** The largest absolute difference between two models' parameters, variable by variable. */
function maxParameterDifference(a: PICNN, b: PICNN): number {
  const pb = new Map(b.parameters().map((p) => [p.name, p.variable]));
  let worst = 0;
  for (const p of a.parameters()) {
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(p.variable, pb.get(p.name)!))).dataSync()[0]);
    worst = Math.max(worst, d);
  }
  return worst;
}

export async function saveLoadResume(size: ExampleSize = 'full') {
  await setBackend('cpu');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'icnn-example-'));
  const moons = makeMoons({ n: size === 'tiny' ? 40 : 200, seed: 1 });
  const x = tf.tensor2d(moons.x, [moons.n, 2]);
  const y = tf.tensor2d(moons.y, [moons.n, 1]);
  const hidden = size === 'tiny' ? [16, 16] : [64, 64];
  const epochs = size === 'tiny' ? 4 : 40;
  const options: FitOptions = {
    objective: 'unrolled-gd', objectiveOptions: { steps: 10, learningRate: 0.05, momentum: 0.9, y0: 0.5, loss: 'mse' },
    epochs, batchSize: 16, learningRate: 0.01, seed: 3,
  };
  const models: PICNN[] = [];
  const make = (seed: number) => {
    const m = new PICNN({ xDim: 2, yDim: 1, hidden, absScale: 0.1, seed });
    models.push(m);
    return m;
  };
  try {
    const uninterrupted = make(1);
    await fit(uninterrupted, { x, y }, options);

    // Stop halfway, then resume into a freshly built model of the same configuration (a checkpoint refuses any other).
    const checkpoints = path.join(dir, 'checkpoints');
    await fit(make(1), { x, y }, { ...options, epochs: epochs / 2, checkpoint: { dir: checkpoints } });
    const resumed = make(1);
    const history = await fit(resumed, { x, y }, { ...options, checkpoint: { dir: checkpoints }, resume: checkpoints });

    // Save the trained model and load it back.
    await uninterrupted.save(path.join(dir, 'model'));
    const loaded = await PICNN.load(path.join(dir, 'model'));
    models.push(loaded);
    const energies = (m: PICNN) => tf.tidy(() => m.energy(x, y).dataSync());
    const [before, after] = [energies(uninterrupted), energies(loaded)];
    return {
      resumedFromEpoch: history.resumedFrom?.epoch ?? null,
      epochsAfterResume: history.epochs.length,
      /** 0 when the resumed run ends where the uninterrupted one does. */
      resumeVsUninterrupted: maxParameterDifference(uninterrupted, resumed),
      /** max |f_saved − f_loaded| over the training points. */
      saveLoadEnergyDifference: Math.max(...before.map((v, i) => Math.abs(v - after[i]))),
    };
  } finally {
    tf.dispose([x, y]);
    for (const m of models) m.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, saveLoadResume);
