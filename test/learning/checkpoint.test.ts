/**
 * Checkpoints (src/learning/checkpoint.ts) and resuming (fit's `resume`), on the cpu backend (exact kernels):
 * a run interrupted after an epoch, or in the middle of one, and resumed from its checkpoint ends with the same
 * parameters, bit for bit, as an uninterrupted run; a process killed while writing checkpoints of a big model
 * leaves the previous checkpoint loadable and resumable; damaged checkpoints and mismatched runs are refused.
 *
 * Run with ICNN_CHECKPOINT_CHILD=DIR, this file is the child of the kill test instead: it trains a big PICNN with
 * a checkpoint after every step, printing `step K` when step K is done (its checkpoint write starts right after)
 * and `saved K` when that checkpoint is complete.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { IcnnError, PICNN, setBackend, tf, type EnergyModel } from '../helpers/icnn.js';
import { fit, type Dataset, type TrainingState } from '../../src/learning/fit.js';
import { latestCheckpoint, readCheckpoint } from '../../src/learning/checkpoint.js';
import { Rng } from '../../src/util/random.js';
import { tempDirFor } from '../helpers/tmp.js';

const CHILD_DIR = process.env.ICNN_CHECKPOINT_CHILD;

/** The kill test's model: about 0.9 M parameters (3.6 MB of weights, 7 MB of Adam state per checkpoint). */
const bigModel = () => new PICNN({ xDim: 1000, yDim: 50, hidden: [600, 100], seed: 3 });

function bigData(): Dataset {
  const rng = new Rng(8);
  return {
    x: tf.tensor2d(rng.fillNormal(8 * 1000), [8, 1000]),
    y: tf.tensor2d(rng.fillUniform(8 * 50), [8, 50]),
    target: tf.tensor1d(rng.fillNormal(8)),
  };
}

if (CHILD_DIR) {
  const model = bigModel();
  await fit(model, bigData(), {
    objective: 'energy-regression', epochs: 100000, batchSize: 4, learningRate: 1e-4, seed: 1,
    checkpoint: { dir: CHILD_DIR, everySteps: 1, keep: 2 },
    onStep: ({ step }) => {
      process.stdout.write(`step ${step}\n`);
    },
    onCheckpoint: ({ step }) => {
      process.stdout.write(`saved ${step}\n`);
    },
  });
} else {
  defineTests();
}

function params(model: EnergyModel): Map<string, Float32Array> {
  return new Map(model.parameters().map((p) => [p.name, p.variable.dataSync() as Float32Array]));
}

function assertBitwiseEqual(a: EnergyModel, b: EnergyModel, what: string): void {
  const pb = params(b);
  for (const [name, va] of params(a)) {
    const vb = pb.get(name)!;
    assert.equal(va.length, vb.length);
    for (let i = 0; i < va.length; i++) {
      if (!Object.is(va[i], vb[i])) assert.fail(`${what}: parameter ${name}[${i}] differs: ${va[i]} vs ${vb[i]}`);
    }
  }
}

function differs(a: EnergyModel, b: EnergyModel): boolean {
  const pb = params(b);
  for (const [name, va] of params(a)) {
    const vb = pb.get(name)!;
    for (let i = 0; i < va.length; i++) if (!Object.is(va[i], vb[i])) return true;
  }
  return false;
}

function defineTests(): void {
  before(async () => {
    await setBackend('cpu');
  });

  const X = 6;
  const Y = 4;
  const small = () => new PICNN({ xDim: X, yDim: Y, hidden: [12, 8], batchNorm: true, seed: 5 });
  const smallData = (): Dataset => {
    const rng = new Rng(21);
    return { x: tf.tensor2d(rng.fillNormal(40 * X), [40, X]), y: tf.tensor2d(rng.fillUniform(40 * Y).map(Math.round), [40, Y]) };
  };
  const validation = (): Dataset => {
    const rng = new Rng(22);
    return { x: tf.tensor2d(rng.fillNormal(12 * X), [12, X]), y: tf.tensor2d(rng.fillUniform(12 * Y).map(Math.round), [12, Y]) };
  };
  // 40 rows in batches of 8: 5 steps per epoch.
  const base = { objective: 'unrolled-gd' as const, objectiveOptions: { steps: 5 }, batchSize: 8, learningRate: 1e-2, seed: 7 };

  describe('resuming gives the parameters of an uninterrupted run (cpu backend, bitwise)', () => {
    test('2 epochs straight = 1 epoch, checkpoint, resume for epoch 2 = resume from a mid-epoch checkpoint', async (t) => {
      const data = smallData();
      const val = validation();
      const straight = small();
      const first = small();
      const resumed = small();
      const midResumed = small();
      const naive = small();
      const dir = tempDirFor(t, 'icnn-ckpt-');
      try {
        const h0 = await fit(straight, data, { ...base, epochs: 2, validation: val });
        // Epoch 1 with checkpoints at step 3 (mid-epoch) and at the end of the epoch (step 5).
        const h1 = await fit(first, data, { ...base, epochs: 1, validation: val, checkpoint: { dir, everySteps: 3, keep: 5 } });
        assert.equal(h1.steps, 5);
        const names = readdirSync(dir).filter((n) => n.startsWith('ckpt-')).sort();
        assert.deepEqual(names, ['ckpt-00000003', 'ckpt-00000005']);
        assert.equal(readFileSync(path.join(dir, 'LATEST'), 'utf8').trim(), 'ckpt-00000005');

        const h2 = await fit(resumed, data, { ...base, epochs: 2, validation: val, resume: dir });
        assertBitwiseEqual(straight, resumed, 'resumed after epoch 1');
        assert.deepEqual(h2.resumedFrom, { dir: path.join(dir, 'ckpt-00000005'), step: 5, epoch: 1 });
        assert.equal(h2.steps, 10);
        assert.deepEqual(h2.epochs.map((e) => [e.trainLoss, e.metrics]), h0.epochs.map((e) => [e.trainLoss, e.metrics]));

        const h3 = await fit(midResumed, data, { ...base, epochs: 2, validation: val, resume: path.join(dir, 'ckpt-00000003') });
        assertBitwiseEqual(straight, midResumed, 'resumed at step 3 of epoch 1');
        assert.deepEqual(h3.epochs.map((e) => e.trainLoss), h0.epochs.map((e) => e.trainLoss));

        // Control: the same weights without the optimizer state and counters do not reproduce the run, so the
        // equality above depends on what the checkpoint restores.
        const { loadModel } = await import('../../src/models/modelFiles.js');
        const w = await loadModel(path.join(dir, 'ckpt-00000005', 'model'));
        naive.parameters().forEach((p) => p.variable.assign(w.parameters().find((q) => q.name === p.name)!.variable));
        w.dispose();
        await fit(naive, data, { ...base, epochs: 1, seed: 7 });
        assert.ok(differs(straight, naive), 'a fresh Adam from the checkpoint weights should not match');
      } finally {
        for (const m of [straight, first, resumed, midResumed, naive]) m.dispose();
        for (const d of [data, val]) tf.dispose([d.x!, d.y]);
      }
    });

    test('the checkpoint records the optimizer state, counters, shuffle position and best metric; keep limits the count', async (t) => {
      const data = smallData();
      const model = small();
      const dir = tempDirFor(t, 'icnn-ckpt-');
      const written: number[] = [];
      try {
        await fit(model, data, {
          ...base, epochs: 2, checkpoint: { dir, everySteps: 2, keep: 1 }, onCheckpoint: ({ step }) => {
            written.push(step);
          },
        });
        // Every 2 steps except where an epoch ends (the epoch's own checkpoint follows): 2, 4, 5, 6, 8, 10.
        assert.deepEqual(written, [2, 4, 5, 6, 8, 10]);
        assert.deepEqual(readdirSync(dir).sort(), ['LATEST', 'ckpt-00000010']);
        const ckpt = await readCheckpoint<TrainingState>(dir);
        const s = ckpt.document.training;
        assert.equal(s.step, 10);
        assert.equal(s.epoch, 2);
        assert.equal(s.batchInEpoch, 0);
        assert.equal(s.seed, 7);
        assert.equal(s.history.length, 2);
        assert.equal(s.best?.metric, 'trainLoss');
        const o = ckpt.document.optimizer;
        assert.equal(o.iterations, 10);
        assert.equal(o.slots.length, 2 * model.trainableVariables.length);
        assert.ok(o.accBeta1 !== null && Math.abs(o.accBeta1 - 0.9 ** 11) < 1e-6, `β₁^(t+1) = ${o.accBeta1}`);
        assert.equal(await latestCheckpoint(dir), path.join(dir, 'ckpt-00000010'));
      } finally {
        model.dispose();
        tf.dispose([data.x!, data.y]);
      }
    });

    test('a mismatched run or model is refused; damaged checkpoints are refused with the reason', async (t) => {
      const data = smallData();
      const model = small();
      const dir = tempDirFor(t, 'icnn-ckpt-');
      try {
        await fit(model, data, { ...base, epochs: 1, checkpoint: { dir } });
        const fresh = small();
        await assert.rejects(fit(fresh, data, { ...base, seed: 8, epochs: 2, resume: dir }), /trained with seed 7, this run has 8/);
        await assert.rejects(fit(fresh, data, { ...base, batchSize: 4, epochs: 2, resume: dir }), /trained with batchSize 8, this run has 4/);
        const other = new PICNN({ xDim: X, yDim: Y, hidden: [12, 9], batchNorm: true, seed: 5 });
        await assert.rejects(fit(other, data, { ...base, epochs: 2, resume: dir }), /holds a PICNN .* but the model to train is a PICNN/);
        other.dispose();
        await assert.rejects(fit(fresh, data, { ...base, epochs: 2, resume: path.join(dir, 'nope') }), (e: unknown) => {
          assert.ok(e instanceof IcnnError);
          assert.match((e as Error).message, /no such directory/);
          return true;
        });
        const empty = path.join(dir, 'empty');
        mkdirSync(empty);
        await assert.rejects(readCheckpoint(empty), /no checkpoint there/);

        const ckpt = (await latestCheckpoint(dir))!;
        const bin = path.join(ckpt, 'optimizer.bin');
        const bytes = readFileSync(bin);
        bytes[100] ^= 0xff;
        writeFileSync(bin, bytes);
        await assert.rejects(readCheckpoint(dir), /optimizer\.bin is corrupted \(sha256 mismatch\)/);
        writeFileSync(bin, bytes.subarray(0, 64));
        await assert.rejects(readCheckpoint(dir), /optimizer\.bin has 64 bytes, the manifest says/);
        writeFileSync(path.join(dir, 'LATEST'), 'ckpt-99999999\n');
        await assert.rejects(readCheckpoint(dir), /cannot read state\.json/);
        fresh.dispose();
      } finally {
        model.dispose();
        tf.dispose([data.x!, data.y]);
      }
    });
    test('early stopping across a resume: the same options stay stopped; without early stopping training continues', async (t) => {
      const data = smallData();
      const model = small();
      const dir = tempDirFor(t, 'icnn-ckpt-');
      const stop = { patience: 2, metric: 'trainLoss', mode: 'max' as const };
      try {
        const h = await fit(model, data, { ...base, epochs: 6, earlyStopping: stop, checkpoint: { dir } });
        assert.equal(h.stoppedEarly, true);
        assert.equal(h.epochs.length, 3);
        const again = await fit(model, data, { ...base, epochs: 6, earlyStopping: stop, resume: dir });
        assert.equal(again.stoppedEarly, true);
        assert.equal(again.steps, 15, 'nothing more to do');
        const more = await fit(model, data, { ...base, epochs: 5, resume: dir });
        assert.equal(more.stoppedEarly, false);
        assert.equal(more.epochs.length, 5);
        assert.equal(more.best?.metric, 'trainLoss');
        assert.equal(more.best?.mode, 'min');
      } finally {
        model.dispose();
        tf.dispose([data.x!, data.y]);
      }
    });

    test('a checkpoint directory LATEST does not name (a write killed before LATEST moved) is ignored, then removed', async (t) => {
      const data = smallData();
      const model = small();
      const dir = tempDirFor(t, 'icnn-ckpt-');
      try {
        await fit(model, data, { ...base, epochs: 1, checkpoint: { dir } });
        mkdirSync(path.join(dir, 'ckpt-00000099'));
        writeFileSync(path.join(dir, 'ckpt-00000099', 'state.json'), '{ half a file');
        assert.equal((await readCheckpoint<TrainingState>(dir)).document.training.step, 5);
        const h = await fit(model, data, { ...base, epochs: 2, resume: dir, checkpoint: { dir } });
        assert.equal(h.steps, 10);
        assert.ok(!existsSync(path.join(dir, 'ckpt-00000099')), 'the orphan was cleaned up');
      } finally {
        model.dispose();
        tf.dispose([data.x!, data.y]);
      }
    });
  });

  describe('a process killed while writing checkpoints leaves the previous one intact', () => {
    const file = path.resolve(import.meta.dirname, 'checkpoint.test.ts');

    type Stage = 'temporary directory created' | 'model being saved' | 'optimizer state written';
    const reached: Record<Stage, (tmp: string) => boolean> = {
      'temporary directory created': () => true,
      'model being saved': (tmp) => existsSync(path.join(tmp, 'model')),
      'optimizer state written': (tmp) => existsSync(path.join(tmp, 'optimizer.bin')),
    };

    /**
     * Start the child; once two checkpoints are complete, poll (every millisecond) for its temporary checkpoint
     * directory to reach `stage`; then SIGSTOP it, check that the write is still unfinished there (no state.json,
     * not yet renamed) and SIGKILL it, or SIGCONT and wait for a later write if it slipped past.
     */
    function killDuringWrite(dir: string, stage: Stage): Promise<{ saved: number[]; pid: number; temp: string }> {
      return new Promise((resolve, reject) => {
        const env: NodeJS.ProcessEnv = { ...process.env, ICNN_CHECKPOINT_CHILD: dir };
        delete env.NODE_TEST_CONTEXT;
        delete env.ICNN_BACKEND;
        const child = spawn(process.execPath, ['--import', 'tsx', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        const saved: number[] = [];
        let temp = '';
        let buffer = '';
        let stderr = '';
        let poll: NodeJS.Timeout | undefined;
        let busy = false;
        const prefix = `.tmp-ckpt-${child.pid}-`;
        const unfinished = (t: string) => existsSync(path.join(dir, t)) && reached[stage](path.join(dir, t)) && !existsSync(path.join(dir, t, 'state.json'));
        const check = () => {
          if (busy || temp) return;
          const t = readdirSync(dir).find((n) => n.startsWith(prefix));
          if (!t || !reached[stage](path.join(dir, t))) return;
          busy = true;
          child.kill('SIGSTOP');
          setTimeout(() => {
            if (unfinished(t)) {
              temp = t;
              clearInterval(poll);
              child.kill('SIGKILL');
            } else {
              child.kill('SIGCONT');
            }
            busy = false;
          }, 5);
        };
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.stdout.on('data', (d: Buffer) => {
          buffer += d.toString();
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const m = /^saved (\d+)$/.exec(buffer.slice(0, nl));
            buffer = buffer.slice(nl + 1);
            if (m) saved.push(Number(m[1]));
            if (saved.length >= 2 && poll === undefined) poll = setInterval(check, 1);
          }
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', reject);
        // 'close', not 'exit': every line the child printed before the kill has been read.
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          clearInterval(poll);
          if (signal !== 'SIGKILL' || temp === '') reject(new Error(`child ended with ${code ?? signal} before the kill\n${stderr}`));
          else resolve({ saved, pid: child.pid!, temp });
        });
      });
    }

    for (const stage of Object.keys(reached) as Stage[]) {
      test(`SIGKILL mid-write (${stage}): the previous checkpoint loads and training resumes from it`, async (t) => {
        const dir = tempDirFor(t, 'icnn-ckpt-kill-');
        const { saved, pid, temp } = await killDuringWrite(dir, stage);
        // The write was cut short: its temporary directory is still there, without state.json.
        assert.ok(existsSync(path.join(dir, temp)) && !existsSync(path.join(dir, temp, 'state.json')), `${temp} left behind, unfinished`);
        const ckpt = await readCheckpoint<TrainingState>(dir);
        const step = ckpt.document.training.step;
        assert.equal(step, saved[saved.length - 1], `LATEST is the last complete checkpoint (saved: ${saved.join(', ')})`);
        const model = bigModel();
        const data = bigData();
        try {
          const h = await fit(model, data, {
            objective: 'energy-regression', batchSize: 4, learningRate: 1e-4, seed: 1, epochs: ckpt.document.training.epoch + 1,
            resume: dir, checkpoint: { dir, everySteps: 1, keep: 2 },
          });
          assert.equal(h.resumedFrom?.step, step);
          assert.ok(h.steps > step);
          // The resumed run's checkpoint writes removed the killed writer's temporary directory.
          assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith(`.tmp-ckpt-${pid}-`)), []);
          assert.equal((await readCheckpoint<TrainingState>(dir)).document.training.step, h.steps);
        } finally {
          model.dispose();
          tf.dispose([data.x!, data.y, data.target!]);
        }
      });
    }
  });
}
