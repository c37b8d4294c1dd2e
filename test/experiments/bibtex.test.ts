/**
 * The BibTeX experiment's pipeline (§5.2) in quick mode, on the real data (skipped without it, as
 * test/data/realData.test.ts): three models in worker threads, report.md, results.json with per-epoch test F1 in
 * range, a valid learning-curve PNG, and the same numbers again for the same seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../helpers/icnn.js';
import { getExperiment, writeReport } from '../../src/experiments/index.js';
import { readPngInfo } from '../../src/report/png.js';
import { BIBTEX_TEST_FILE, BIBTEX_TRAIN_FILE, BIBTEX_LABELS_FILE } from '../../src/data/sources.js';
import { SHARED_DATA_DIR, haveSharedData } from '../data/helpers.js';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../../src/backend/backend.js';
import { FeedForward } from '../../src/models/feedForward.js';
import { createObjective } from '../../src/learning/objectives/index.js';
import { ffPyLoss, LinearEnergySigmoid } from '../../src/experiments/bibtexTask.js';

interface Epoch { epoch: number; trainLoss: number; testExampleF1: number; testLabelMacroF1: number; testHammingAccuracy: number; trainExampleF1: number; seconds: number }
interface Run { model: string; epochs: Epoch[]; parameters: number; steps: number; seconds: number }

async function run(seed: number, models?: string[]) {
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'icnn-bibtex-'));
  const ctx = { outDir, quick: true, seed, dataDir: SHARED_DATA_DIR, models, log: () => undefined };
  const report = await getExperiment('bibtex').run(ctx);
  await writeReport(ctx, report);
  return { outDir, report };
}

test('reproduce bibtex --quick writes the report, per-epoch F1 and learning curves, deterministically', async (t) => {
  if (!haveSharedData(t, BIBTEX_TRAIN_FILE, BIBTEX_TEST_FILE, BIBTEX_LABELS_FILE)) return;
  const a = await run(5);
  const b = await run(5);
  try {
    const md = await fs.readFile(path.join(a.outDir, 'report.md'), 'utf8');
    for (const word of ['Feedforward net', 'PICNN, unrolled GD', 'PICNN, bundle entropy', 'SPEN', '0.396', '0.415', '0.422',
      'example-F1', 'label-macro F1', 'bibtex-curves.png', 'quick mode']) {
      assert.ok(md.includes(word), `report.md mentions ${word}`);
    }
    const results = JSON.parse(await fs.readFile(path.join(a.outDir, 'results.json'), 'utf8'));
    assert.deepEqual(results.data, { train: 192, test: 96, features: 1836, labels: 159 });
    assert.deepEqual(results.runs.map((r: Run) => r.model), ['ff', 'picnn-gd', 'picnn-bundle']);
    for (const r of results.runs as Run[]) {
      assert.equal(r.epochs.length, 2, `${r.model}: two epochs`);
      assert.equal(r.steps, 2 * 3, `${r.model}: 192 rows in batches of 64, two epochs`);
      assert.ok(r.parameters > 0 && r.seconds > 0);
      for (const e of r.epochs) {
        assert.ok(Number.isFinite(e.trainLoss) && e.trainLoss >= 0, `${r.model} epoch ${e.epoch}: train loss ${e.trainLoss}`);
        for (const k of ['testExampleF1', 'testLabelMacroF1', 'testHammingAccuracy', 'trainExampleF1'] as const) {
          assert.ok(Number.isFinite(e[k]) && e[k] >= 0 && e[k] <= 1, `${r.model} epoch ${e.epoch}: ${k} = ${e[k]}`);
        }
        assert.ok(e.seconds > 0);
      }
    }
    const png = readPngInfo(await fs.readFile(path.join(a.outDir, 'bibtex-curves.png')));
    assert.ok(png.width > 800 && png.height > 300, `figure ${png.width}×${png.height}`);
    const again = JSON.parse(await fs.readFile(path.join(b.outDir, 'results.json'), 'utf8'));
    const numbers = (rs: Run[]) => rs.map((r) => r.epochs.map((e) => [e.trainLoss, e.testExampleF1, e.testLabelMacroF1, e.trainExampleF1]));
    assert.deepEqual(numbers(again.runs), numbers(results.runs), 'same seed, same numbers');
  } finally {
    await fs.rm(a.outDir, { recursive: true, force: true });
    await fs.rm(b.outDir, { recursive: true, force: true });
  }
});

test('models picks a subset (in the experiment\'s order); unknown names and a subset of synthetic are refused', async (t) => {
  if (!haveSharedData(t, BIBTEX_TRAIN_FILE, BIBTEX_TEST_FILE, BIBTEX_LABELS_FILE)) return;
  const a = await run(5, ['picnn-gd', 'ff']);
  try {
    const results = JSON.parse(await fs.readFile(path.join(a.outDir, 'results.json'), 'utf8'));
    assert.deepEqual(results.runs.map((r: Run) => r.model), ['ff', 'picnn-gd']);
    const md = await fs.readFile(path.join(a.outDir, 'report.md'), 'utf8');
    assert.ok(!md.includes('PICNN, bundle entropy |'), 'the unselected model has no row');
  } finally {
    await fs.rm(a.outDir, { recursive: true, force: true });
  }
  const ctx = (models: string[]) => ({ outDir: os.tmpdir(), quick: true, seed: 0, dataDir: SHARED_DATA_DIR, models, log: () => undefined });
  await assert.rejects(getExperiment('bibtex').run(ctx(['ff', 'spen'])), /bibtex: unknown model "spen" \(expected some of: ff, picnn-gd, picnn-bundle\)/);
  await assert.rejects(getExperiment('olivetti').run(ctx(['bundle'])), /olivetti: unknown model "bundle" \(expected some of: bundle-entropy, gd, nonconvex\)/);
  await assert.rejects(getExperiment('synthetic').run(ctx(['FICNN'])), /synthetic: runs every model/);
});

test('the bibtex and olivetti experiments are registered', () => {
  assert.throws(() => getExperiment('nope'), /expected one of: .*bibtex.*olivetti/);
});

test('the baseline objective predicts σ(logits), as one bundle-entropy step, and its gradient is that of summed BCE', async () => {
  await ready();
  const net = new FeedForward({ xDim: 6, yDim: 4, hidden: [5], batchNorm: true, seed: 3 });
  const x = tf.randomUniform([8, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
  const y = tf.tensor2d([1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0], [8, 4]);
  const objective = new LinearEnergySigmoid();
  try {
    const ours = await objective.predict(net, x, 8);
    const bundle = await createObjective('argmin-bundle-entropy', { iterations: 1, loss: 'bce' }).predict(net, x, 8);
    const logits = net.logits(x);
    const sigma = tf.sigmoid(logits);
    const [a, b, c] = [await ours.data(), await bundle.data(), await sigma.data()];
    for (let i = 0; i < a.length; i++) {
      assert.ok(Math.abs(a[i] - c[i]) < 1e-6, `σ(logits)[${i}]: ${a[i]} vs ${c[i]}`);
      assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `one bundle-entropy step [${i}]: ${a[i]} vs ${b[i]}`);
    }
    // The step's gradient against tfjs's own sigmoid cross-entropy (summed over labels, mean over rows), batch norm in training mode.
    const { loss, grads } = await objective.step(net, { x, y });
    const ref = tf.variableGrads(() => tf.mul(tf.losses.sigmoidCrossEntropy(y, net.logits(x, { training: true }), undefined, 0, tf.Reduction.MEAN), 4) as tf.Scalar,
      net.trainableVariables);
    assert.ok(Math.abs(loss - (await ref.value.data())[0]) < 1e-4, `loss ${loss} vs ${(await ref.value.data())[0]}`);
    for (const v of net.trainableVariables) {
      const [g, r] = [await grads[v.name].data(), await ref.grads[v.name].data()];
      for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i] - r[i]) < 1e-4 * (1 + Math.abs(r[i])), `${v.name}[${i}]: ${g[i]} vs ${r[i]}`);
    }
    tf.dispose([ours, bundle, logits, sigma, ref.value, ...Object.values(grads), ...Object.values(ref.grads)]);
  } finally {
    tf.dispose([x, y]);
    net.dispose();
  }
});

test("ff.py's loss: −Σ [y log(σ + 1e-10) + (1 − y) log(1 − σ + 1e-10)] summed over the whole batch", async () => {
  await ready();
  const yHat = tf.tensor2d([0.9, 0.2, 0.5, 1, 0.7, 0], [2, 3]);
  const y = tf.tensor2d([1, 0, 1, 1, 0, 1], [2, 3]);
  // By hand: −[ln .9 + ln .8 + ln .5 + ln(1 + 1e-10) + ln .3 + ln(1e-10)].
  const expected = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.5) + Math.log(1 + 1e-10) + Math.log(0.3) + Math.log(1e-10));
  const loss = ffPyLoss(yHat, y);
  const v = (await loss.data())[0];
  assert.ok(Math.abs(v - expected) < 1e-4 * expected, `${v} vs ${expected}`);
  // Summed, not averaged: twice the batch, twice the loss.
  const twice = ffPyLoss(tf.concat([yHat, yHat]) as tf.Tensor2D, tf.concat([y, y]) as tf.Tensor2D);
  assert.ok(Math.abs((await twice.data())[0] - 2 * v) < 1e-3);
  tf.dispose([yHat, y, loss, twice]);
  // The objective with authorsLoss trains on it: its step loss is ffPyLoss of σ(logits) in training mode.
  const net = new FeedForward({ xDim: 6, yDim: 4, hidden: [5], batchNorm: true, seed: 3, init: 'fan-out-uniform' });
  const x = tf.randomUniform([8, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
  const t = tf.tensor2d(Array.from({ length: 32 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), [8, 4]);
  try {
    const { loss: stepLoss, grads } = await new LinearEnergySigmoid(true).step(net, { x, y: t });
    const ref = ffPyLoss(tf.sigmoid(net.logits(x, { training: true })) as tf.Tensor2D, t);
    assert.ok(Math.abs(stepLoss - (await ref.data())[0]) < 1e-3, `${stepLoss} vs ${(await ref.data())[0]}`);
    tf.dispose([ref, ...Object.values(grads)]);
  } finally {
    tf.dispose([x, t]);
    net.dispose();
  }
});

test("ff.py's init: weights and biases U(±1/√fan-out) (variance 1/(3·fan-out)); the default stays LeCun normal, zero biases", async () => {
  await ready();
  const net = new FeedForward({ xDim: 400, yDim: 159, hidden: [600], batchNorm: true, seed: 1, init: 'fan-out-uniform' });
  const lib = new FeedForward({ xDim: 400, yDim: 159, hidden: [600], batchNorm: true, seed: 1 });
  try {
    for (const [name, fanOut] of [['fc0.W', 600], ['fc0.b', 600], ['fc1.W', 159], ['fc1.b', 159]] as const) {
      const v = Array.from(net.parameters().find((p) => p.name === name)!.variable.dataSync());
      const limit = 1 / Math.sqrt(fanOut);
      assert.ok(v.every((w) => Math.abs(w) <= limit), `${name} within ±${limit}`);
      const mean = v.reduce((a, w) => a + w, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, w) => a + (w - mean) ** 2, 0) / v.length);
      const tol = v.length > 10000 ? 0.02 : 0.15;
      assert.ok(Math.abs(sd - limit / Math.sqrt(3)) < tol * limit / Math.sqrt(3), `${name}: sd ${sd} vs ${limit / Math.sqrt(3)}`);
      assert.ok(Math.abs(mean) < 0.1 * limit, `${name}: mean ${mean}`);
    }
    assert.ok(Array.from(lib.parameters().find((p) => p.name === 'fc0.b')!.variable.dataSync()).every((b) => b === 0));
    const copy = FeedForward.fromJSON(net.toJSON());
    assert.equal(copy.config.init, 'fan-out-uniform');
    copy.dispose();
    assert.throws(() => new FeedForward({ xDim: 2, yDim: 2, hidden: [], init: 'glorot' as never }), /FeedForward.*init/);
  } finally {
    net.dispose();
    lib.dispose();
  }
});
