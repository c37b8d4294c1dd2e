/**
 * fit's hooks (src/learning/fit.ts): an injected tf.Optimizer is the one used (and its state is checkpointed and
 * resumed bit for bit), tfjs-style callbacks fire in order with tfjs's logs and are awaited, a callback stops
 * training with `model.stopTraining` as in tfjs, and the progress sink gets its calls.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FICNN, tf, type EnergyModel } from '../helpers/icnn.js';
import { Adam } from '../../src/learning/adam.js';
import { fit, type Dataset, type FitCallbacks, type FitControl, type FitLogs } from '../../src/learning/fit.js';
import type { ProgressSink } from '../../src/learning/progress.js';
import { Rng } from '../../src/util/random.js';
import { tempDirFor } from '../helpers/tmp.js';

const Y = 3;

/** Energy regression data: y ~ U[-1, 1]^3 and E = ‖y‖². */
function bowl(rows: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const y = rng.fillUniform(rows * Y, -1, 1);
  const t = new Float32Array(rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < Y; j++) t[i] += y[i * Y + j] ** 2;
  return { x: null, y: tf.tensor2d(y, [rows, Y]), target: tf.tensor1d(t) };
}

function model(): EnergyModel {
  return new FICNN({ yDim: Y, hidden: [8, 8], seed: 4 });
}

function values(m: EnergyModel): number[] {
  return m.parameters().flatMap((p) => Array.from(p.variable.dataSync()));
}

function dispose(d: Dataset): void {
  tf.dispose([d.y, ...(d.target ? [d.target] : [])]);
}

const base = { objective: 'energy-regression' as const, epochs: 3, batchSize: 8, seed: 2 };

describe('an injected optimizer', () => {
  test('is the one used: SGD gives its own trajectory, the same as a second SGD run, and is not disposed', async () => {
    const data = bowl(32, 1);
    const runs: number[][] = [];
    for (const make of [() => undefined, () => tf.train.sgd(0.05), () => tf.train.sgd(0.05)]) {
      const m = model();
      const optimizer = make();
      await fit(m, data, { ...base, ...(optimizer ? { optimizer } : {}) });
      runs.push(values(m));
      m.dispose();
      if (optimizer) {
        // Still usable: fit did not dispose what it was given.
        assert.doesNotThrow(() => optimizer.getConfig());
        optimizer.dispose();
      }
    }
    assert.notDeepEqual(runs[1], runs[0], 'SGD and the default Adam must differ');
    assert.deepEqual(runs[2], runs[1], 'two SGD runs with the same seed must agree');
    dispose(data);
  });

  test('learningRate together with an optimizer, or something that is not one, is refused', async () => {
    const data = bowl(8, 1);
    const m = model();
    const sgd = tf.train.sgd(0.1);
    await assert.rejects(fit(m, data, { ...base, optimizer: sgd, learningRate: 0.1 }), /learningRate sets the default Adam/);
    await assert.rejects(fit(m, data, { ...base, optimizer: {} as tf.Optimizer }), /optimizer must be a tf\.Optimizer/);
    sgd.dispose();
    m.dispose();
    dispose(data);
  });

  test('momentum state is checkpointed: a resumed run ends as the uninterrupted one, bit for bit', async (t) => {
    const data = bowl(24, 3);
    const dir = tempDirFor(t);
    const whole = model();
    const o1 = tf.train.momentum(0.02, 0.9);
    await fit(whole, data, { ...base, epochs: 4, optimizer: o1 });
    const first = model();
    const o2 = tf.train.momentum(0.02, 0.9);
    await fit(first, data, { ...base, epochs: 2, optimizer: o2, checkpoint: { dir } });
    const resumed = model();
    const o3 = tf.train.momentum(0.02, 0.9);
    const h = await fit(resumed, data, { ...base, epochs: 4, optimizer: o3, resume: dir });
    assert.equal(h.resumedFrom?.epoch, 2);
    assert.deepEqual(values(resumed), values(whole));
    const adamRun = model();
    await assert.rejects(fit(adamRun, data, { ...base, epochs: 4, resume: dir }), /holds the state of a momentum optimizer, this run uses adam/);
    for (const o of [o1, o2, o3]) o.dispose();
    for (const m of [whole, first, resumed, adamRun]) m.dispose();
    dispose(data);
  });

  test("the library's Adam (TensorFlow 1's update, the RL agents') plugs in and resumes bit for bit, without leaking tensors", async (t) => {
    const data = bowl(24, 9);
    const dir = tempDirFor(t);
    const run = async (epochs: number, extra: Record<string, unknown>): Promise<EnergyModel> => {
      const m = model();
      const optimizer = new Adam(m.trainableVariables, 0.01, 1e-8);
      await fit(m, data, { ...base, epochs, optimizer, ...extra });
      optimizer.dispose();
      return m;
    };
    const whole = await run(4, {});
    const before = tf.memory().numTensors;
    const first = await run(2, { checkpoint: { dir } });
    first.dispose();
    assert.equal(tf.memory().numTensors, before, 'checkpointing the library Adam must not leak its moment copies');
    const resumed = await run(4, { resume: dir });
    assert.deepEqual(values(resumed), values(whole));
    const tfjsAdam = model();
    await assert.rejects(fit(tfjsAdam, data, { ...base, epochs: 4, resume: dir }), /holds the state of a adamtf1 optimizer, this run uses adam/);
    for (const m of [whole, resumed, tfjsAdam]) m.dispose();
    dispose(data);
  });
});

describe('tfjs-style callbacks', () => {
  test('fire in order with 0-based epochs and batches and tfjs logs, and async ones are awaited', async () => {
    const data = bowl(20, 5);
    const validation = bowl(10, 6);
    const events: string[] = [];
    const epochLogs: FitLogs[] = [];
    let pending = 0;
    const slow = async (): Promise<void> => {
      pending++;
      await new Promise((r) => setTimeout(r, 2));
      pending--;
    };
    const cb: FitCallbacks = {
      setParams: (p) => events.push(`params ${p.epochs} ${p.steps}`),
      setModel: () => events.push('model'),
      onTrainBegin: async () => { events.push('trainBegin'); await slow(); },
      onEpochBegin: (epoch) => { assert.equal(pending, 0); events.push(`epochBegin ${epoch}`); },
      onBatchEnd: async (batch, logs) => {
        assert.equal(pending, 0);
        assert.ok(Number.isFinite(logs?.loss) && logs?.size !== undefined);
        events.push(`batch ${batch}`);
        await slow();
      },
      onEpochEnd: (epoch, logs) => { events.push(`epochEnd ${epoch}`); epochLogs.push({ ...logs }); },
      onTrainEnd: (logs) => { events.push('trainEnd'); assert.equal(logs?.loss, epochLogs[1].loss); },
    };
    const m = model();
    const h = await fit(m, data, { ...base, epochs: 2, validation, callbacks: [cb], metrics: ['mse'] });
    assert.deepEqual(events, [
      'params 2 3', 'model', 'trainBegin',
      'epochBegin 0', 'batch 0', 'batch 1', 'batch 2', 'epochEnd 0',
      'epochBegin 1', 'batch 0', 'batch 1', 'batch 2', 'epochEnd 1', 'trainEnd',
    ]);
    assert.deepEqual(epochLogs, h.epochs.map((r) => ({ loss: r.trainLoss, val_mse: r.metrics.mse })));
    m.dispose();
    dispose(data);
    dispose(validation);
  });

  test('setting stopTraining stops as tfjs does: at the end of the current batch, and the run reports an early stop', async () => {
    const data = bowl(40, 7);
    let control: FitControl | null = null;
    const batches: number[] = [];
    const m = model();
    const h = await fit(m, data, {
      ...base, epochs: 5,
      callbacks: {
        setModel: (c) => { control = c; },
        onBatchEnd: (batch) => {
          batches.push(batch);
          if (batches.length === 7) control!.stopTraining = true;
        },
      },
    });
    assert.deepEqual(batches, [0, 1, 2, 3, 4, 0, 1]);
    assert.equal(h.stoppedEarly, true);
    assert.equal(h.steps, 7, 'five batches per epoch: the stop after the 7th batch ends the second epoch there');
    assert.equal(h.epochs.length, 2);
    assert.equal(h.epochs[1].examples, 16);
    m.dispose();
    dispose(data);
  });
});

describe('the progress sink', () => {
  test('gets a task per epoch, an advance per batch and the epoch lines', async () => {
    const data = bowl(16, 8);
    const calls: string[] = [];
    const sink: ProgressSink = {
      begin: (task) => calls.push(`begin ${task.label} ${task.total} ${task.done} ${task.fields.join(',')}`),
      advance: (done, v) => calls.push(`advance ${done} ${Number.isFinite(Number(v.loss))}`),
      end: () => calls.push('end'),
      line: (text) => calls.push(`line ${text.split('  ')[0]}`),
    };
    const m = model();
    await fit(m, data, { ...base, epochs: 2, progress: sink });
    assert.deepEqual(calls.slice(0, 5), ['begin epoch 1/2 2 0 loss', 'advance 1 true', 'advance 2 true', 'end', 'line epoch 1/2']);
    assert.equal(calls.filter((c) => c.startsWith('begin')).length, 2);
    m.dispose();
    dispose(data);
  });
});
