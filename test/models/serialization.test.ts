/**
 * Saving and loading: exact round trips for every model kind and positivity mode, refusal of damaged files,
 * and atomic saves (a save killed mid-write leaves the previous model loadable).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ConvPICNN, EnergyModel, FICNN, FeedForward, IcnnError, MODEL_FORMAT, PICNN, POSITIVITY_MODES, loadModel, modelFromJSON, tf,
  type Positivity,
} from '../helpers/icnn.js';
import { Rng } from '../../src/util/random.js';
import { tempDirFor } from '../helpers/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Spec {
  label: string;
  build: (positivity: Positivity) => EnergyModel;
  /** Whether the model takes a positivity option. */
  convex: boolean;
}

const SPECS: Spec[] = [
  { label: 'FICNN without x', convex: true, build: (positivity) => new FICNN({ yDim: 5, hidden: [7, 6], positivity, seed: 1 }) },
  { label: 'FICNN with x', convex: true, build: (positivity) => new FICNN({ xDim: 3, yDim: 5, hidden: [7, 6], positivity, seed: 2 }) },
  {
    label: 'PICNN with batch norm', convex: true,
    build: (positivity) => new PICNN({ xDim: 6, yDim: 4, hidden: [8, 5], uHidden: [7, 3], batchNorm: true, positivity, seed: 3 }),
  },
  {
    label: 'ConvPICNN', convex: true,
    build: (positivity) => new ConvPICNN({
      xShape: [16, 8, 1], yShape: [16, 8, 1],
      conv: [{ filters: 4, kernel: 4, stride: 2 }, { filters: 4, kernel: 3, stride: 1 }], fcHidden: [8], positivity, seed: 4,
    }),
  },
  { label: 'FeedForward linear', convex: false, build: () => new FeedForward({ xDim: 6, yDim: 4, hidden: [9], batchNorm: true, seed: 5 }) },
  { label: 'FeedForward joint', convex: false, build: () => new FeedForward({ xDim: 6, yDim: 4, hidden: [9, 3], energy: 'joint', seed: 6 }) },
];

/** Deterministic batch of inputs for a model (null x when the model takes no x). */
function inputsFor(model: EnergyModel, n: number, seed: number): { x: tf.Tensor2D | null; y: tf.Tensor2D } {
  const rng = new Rng(seed);
  const x = model.xDim === 0 ? null : tf.tensor2d(rng.fillNormal(n * model.xDim), [n, model.xDim]);
  const y = tf.tensor2d(rng.fillUniform(n * model.yDim, -1, 1), [n, model.yDim]);
  return { x, y };
}

function energies(model: EnergyModel, seed = 11): Float32Array {
  const { x, y } = inputsFor(model, 5, seed);
  try {
    const e = model.energy(x, y);
    const out = e.dataSync() as Float32Array;
    e.dispose();
    return out;
  } finally {
    tf.dispose([x, y].filter((t): t is tf.Tensor2D => t !== null));
  }
}

/** Move every parameter (biases and batch-norm state included) away from its initial value. */
function perturb(model: EnergyModel, seed: number): void {
  const rng = new Rng(seed);
  for (const p of model.parameters()) {
    tf.tidy(() => {
      const noise = tf.tensor(rng.fillUniform(p.variable.size, 0.05, 0.3), p.variable.shape);
      p.variable.assign(tf.add(p.variable, noise));
    });
  }
}

function paramValues(model: EnergyModel): Map<string, Float32Array> {
  return new Map(model.parameters().map((p) => [p.name, p.variable.dataSync() as Float32Array]));
}

function assertSameModel(a: EnergyModel, b: EnergyModel): void {
  assert.equal(b.kind, a.kind);
  assert.equal(b.constructor, a.constructor);
  assert.deepEqual(b.config, a.config);
  assert.equal(b.positivity, a.positivity);
  assert.equal(b.isConvex, a.isConvex);
  const pa = paramValues(a);
  const pb = paramValues(b);
  assert.deepEqual([...pb.keys()], [...pa.keys()]);
  for (const [name, values] of pa) assert.deepEqual(pb.get(name), values, `parameter ${name}`);
  assert.deepEqual(energies(b), energies(a));
}

function modesOf(spec: Spec): Positivity[] {
  return spec.convex ? [...POSITIVITY_MODES] : ['clip'];
}

async function savedFicnn(t: { after: (fn: () => void) => void }): Promise<{ dir: string; doc: Record<string, unknown> & { weights: { file: string } } }> {
  const dir = tempDirFor(t);
  const model = new FICNN({ xDim: 2, yDim: 3, hidden: [8, 4], seed: 9 });
  await model.save(dir);
  model.dispose();
  const doc = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
  return { dir, doc };
}

async function assertLoadFails(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadModel(dir), (e: unknown) => {
    assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('round trips', () => {
  for (const spec of SPECS) {
    for (const positivity of modesOf(spec)) {
      const label = spec.convex ? `${spec.label}, positivity ${positivity}` : spec.label;

      test(`save -> load is exact: ${label}`, async (t) => {
        const dir = tempDirFor(t);
        const model = spec.build(positivity);
        const fresh = energies(model);
        perturb(model, 21);
        const before = energies(model);
        assert.notDeepEqual(before, fresh, 'perturbing the parameters must change the energies');
        await model.save(dir);
        const loaded = await loadModel(dir);
        try {
          assertSameModel(model, loaded);
          // The class's own loader returns the same model, typed.
          const cls = model.constructor as unknown as { load: (d: string) => Promise<EnergyModel> };
          const typed = await cls.load(dir);
          assert.ok(typed instanceof (model.constructor as typeof EnergyModel));
          assert.deepEqual(energies(typed), before);
          typed.dispose();
        } finally {
          loaded.dispose();
          model.dispose();
        }
      });

      test(`toJSON -> JSON.stringify -> fromJSON is exact: ${label}`, () => {
        const model = spec.build(positivity);
        perturb(model, 22);
        const text = JSON.stringify(model.toJSON());
        const doc = JSON.parse(text);
        assert.equal(doc.format, MODEL_FORMAT);
        assert.equal(doc.kind, model.kind);
        assert.equal(typeof doc.weights.data, 'string');
        const fromString = modelFromJSON(text);
        const fromObject = (model.constructor as unknown as { fromJSON: (j: unknown) => EnergyModel }).fromJSON(doc);
        try {
          assertSameModel(model, fromString);
          assertSameModel(model, fromObject);
        } finally {
          fromString.dispose();
          fromObject.dispose();
          model.dispose();
        }
      });
    }
  }

  test('batch-norm moving statistics survive save/load and toJSON/fromJSON', async (t) => {
    const dir = tempDirFor(t);
    const models = [
      new PICNN({ xDim: 6, yDim: 4, hidden: [8, 6, 5], batchNorm: true, seed: 3 }),
      new ConvPICNN({
        xShape: [16, 8, 1], yShape: [16, 8, 1], conv: [{ filters: 4, kernel: 4, stride: 2 }, { filters: 4, kernel: 3, stride: 1 }],
        fcHidden: [8], seed: 4,
      }),
    ];
    for (const model of models) {
      const inferenceBefore = energies(model);
      const { x, y } = inputsFor(model, 6, 5);
      tf.dispose(model.energy(x, y, { training: true }));
      tf.dispose([x, y].filter((v): v is tf.Tensor2D => v !== null));
      const stats = model.parameters().filter((p) => p.role === 'state');
      assert.ok(stats.length >= 4, `${model.kind} should have batch-norm state`);
      for (const p of stats) {
        const v = p.variable.dataSync();
        const initial = p.name.endsWith('movingMean') ? 0 : 1;
        assert.ok(v.some((e) => e !== initial), `${p.name} should have moved away from ${initial} after a training step`);
      }
      const trained = energies(model);
      assert.notDeepEqual(trained, inferenceBefore, 'inference energies depend on the moving statistics');

      await model.save(dir);
      const loaded = await loadModel(dir);
      const fromJson = modelFromJSON(JSON.stringify(model.toJSON()));
      try {
        for (const copy of [loaded, fromJson]) {
          for (const p of stats) {
            const q = copy.parameters().find((c) => c.name === p.name);
            assert.ok(q, p.name);
            assert.equal(q.role, 'state');
            assert.deepEqual(q.variable.dataSync(), p.variable.dataSync(), p.name);
          }
          assert.deepEqual(energies(copy), trained);
        }
      } finally {
        loaded.dispose();
        fromJson.dispose();
        model.dispose();
      }
    }
  });

  test('a subclass loader refuses another kind, naming both; loadModel and the right class accept it', async (t) => {
    const dir = tempDirFor(t);
    const model = new FICNN({ xDim: 2, yDim: 3, hidden: [4], seed: 1 });
    await model.save(dir);
    const before = tf.memory().numTensors;
    await assert.rejects(PICNN.load(dir), (e: unknown) => {
      assert.ok(e instanceof IcnnError);
      assert.match(e.message, /FICNN/);
      assert.match(e.message, /PICNN/);
      return true;
    });
    assert.equal(tf.memory().numTensors, before, 'a refused load must dispose the model it built');
    assert.throws(() => ConvPICNN.fromJSON(model.toJSON()), (e: unknown) => e instanceof IcnnError && /FICNN/.test(e.message) && /ConvPICNN/.test(e.message));
    const generic = await loadModel(dir);
    assert.ok(generic instanceof FICNN);
    assert.equal(generic.kind, 'FICNN');
    const typed = await FICNN.load(dir);
    assert.ok(typed instanceof FICNN);
    const viaBase = await EnergyModel.load(dir);
    assert.ok(viaBase instanceof FICNN);
    for (const m of [generic, typed, viaBase, model]) m.dispose();
  });
});

describe('damaged files are refused', () => {
  test('truncated weights file', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    const file = path.join(dir, doc.weights.file);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 7));
    await assertLoadFails(dir, /truncated/);
    await assertLoadFails(dir, new RegExp(`expected ${bytes.length} bytes, found ${bytes.length - 7}`));
  });

  test('padded weights file', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    const file = path.join(dir, doc.weights.file);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(4)]));
    await assertLoadFails(dir, /truncated or padded/);
  });

  test('a flipped byte fails the checksum', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    const file = path.join(dir, doc.weights.file);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(file, bytes);
    await assertLoadFails(dir, /corrupted/);
    await assertLoadFails(dir, /sha256/);
  });

  test('an edited config whose shapes no longer match the weights', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    const config = doc.config as { hidden: number[] };
    config.hidden[0] += 1;
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    const before = tf.memory().numTensors;
    await assertLoadFails(dir, /shape/);
    await assertLoadFails(dir, /layer0\.Wv/);
    await assertLoadFails(dir, /\[5, 8\].*\[5, 9\]/);
    assert.equal(tf.memory().numTensors, before, 'a refused load must not leak the variables it created');
  });

  test('a manifest without a tensor the config needs, or with an extra one', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    const weights = doc.weights as unknown as { tensors: { name: string }[] };
    const original = structuredClone(weights.tensors);
    weights.tensors = original.filter((e) => e.name !== 'layer1.Wz');
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    await assertLoadFails(dir, /no tensor 'layer1\.Wz'/);
    weights.tensors = [...original, { ...original[0], name: 'extra.W' }];
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    await assertLoadFails(dir, /extra\.W/);
  });

  test('a malformed manifest entry', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    const weights = doc.weights as unknown as { tensors: Record<string, unknown>[] };
    delete weights.tensors[1].shape;
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    await assertLoadFails(dir, /manifest entry 1 is malformed/);
  });

  test('a config value the model refuses', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    (doc.config as Record<string, unknown>).activation = 'tanh';
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    await assertLoadFails(dir, /loadModel\(.*\).*config.*invalid.*tanh/);
  });

  test('missing weights file', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    await fs.rm(path.join(dir, doc.weights.file));
    await assertLoadFails(dir, new RegExp(`weights file ${doc.weights.file}.*missing`));
  });

  test('missing directory', async (t) => {
    const dir = path.join(tempDirFor(t), 'does-not-exist');
    await assertLoadFails(dir, /does-not-exist/);
    await assertLoadFails(dir, /does not exist/);
  });

  test('a directory without model.json', async (t) => {
    const dir = tempDirFor(t);
    await assertLoadFails(dir, /model\.json not found/);
  });

  test('invalid JSON', async (t) => {
    const { dir } = await savedFicnn(t);
    writeFileSync(path.join(dir, 'model.json'), '{"format": "icnn-model", ');
    await assertLoadFails(dir, /not valid JSON/);
    assert.throws(() => modelFromJSON('{nope'), (e: unknown) => e instanceof IcnnError && /not valid JSON/.test(e.message));
  });

  test('JSON that is not an object', async (t) => {
    const { dir } = await savedFicnn(t);
    writeFileSync(path.join(dir, 'model.json'), '[1, 2]');
    await assertLoadFails(dir, /not an icnn model/);
    writeFileSync(path.join(dir, 'model.json'), 'null');
    await assertLoadFails(dir, /expected a JSON object, got null/);
  });

  test('wrong format tag', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    doc.format = 'keras-model';
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    await assertLoadFails(dir, /not an icnn model.*keras-model/);
  });

  test('unsupported format version', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    doc.formatVersion = 99;
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    await assertLoadFails(dir, /formatVersion 99/);
  });

  test('unknown kind', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    doc.kind = 'ResNet';
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    await assertLoadFails(dir, /unknown model kind "ResNet".*FICNN.*PICNN/);
  });

  test('a weights file name that escapes the directory', async (t) => {
    const { dir, doc } = await savedFicnn(t);
    doc.weights.file = '../weights.bin';
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    await assertLoadFails(dir, /no valid weights file/);
  });

  test('fromJSON: damaged inline weights and documents without weights', () => {
    const model = new FICNN({ yDim: 3, hidden: [4], seed: 2 });
    const doc = model.toJSON();
    model.dispose();
    const bytes = Buffer.from(doc.weights.data as string, 'base64');
    bytes[3] ^= 0x80;
    const flipped = { ...doc, weights: { ...doc.weights, data: bytes.toString('base64') } };
    assert.throws(() => modelFromJSON(flipped), (e: unknown) => e instanceof IcnnError && /corrupted.*sha256/.test(e.message));
    const short = { ...doc, weights: { ...doc.weights, data: bytes.subarray(0, 8).toString('base64') } };
    assert.throws(() => modelFromJSON(short), (e: unknown) => e instanceof IcnnError && /truncated/.test(e.message));
    const noData = { ...doc, weights: { ...doc.weights, data: undefined } };
    assert.throws(() => modelFromJSON(noData), (e: unknown) => e instanceof IcnnError && /no inline weights/.test(e.message));
  });
});

describe('atomic saves', () => {
  function listDir(dir: string): string[] {
    return readdirSync(dir).sort();
  }

  test('saving over an existing model replaces it and removes the stale weights file', async (t) => {
    const dir = tempDirFor(t);
    const a = new PICNN({ xDim: 4, yDim: 3, hidden: [6, 3], seed: 1 });
    const b = new PICNN({ xDim: 5, yDim: 2, hidden: [7, 4], batchNorm: true, seed: 2 });
    await a.save(dir);
    const first = listDir(dir);
    assert.equal(first.length, 2);
    assert.ok(first.includes('model.json'));
    const weightsA = first.find((f) => f.startsWith('weights-'));
    assert.match(weightsA ?? '', /^weights-[0-9a-f]{16}\.bin$/);

    await b.save(dir);
    const second = listDir(dir);
    assert.equal(second.length, 2, `expected model.json and one weights file, got ${second.join(', ')}`);
    assert.ok(!second.includes(weightsA as string), 'the previous weights file must be removed');
    const loaded = await loadModel(dir);
    assertSameModel(b, loaded);
    // The weights file name is the sha256 of its content (16 hex digits).
    const weightsB = second.find((f) => f.startsWith('weights-')) as string;
    const digest = createHash('sha256').update(readFileSync(path.join(dir, weightsB))).digest('hex');
    assert.equal(weightsB, `weights-${digest.slice(0, 16)}.bin`);

    // Saving the same model twice is idempotent.
    await b.save(dir);
    assert.deepEqual(listDir(dir), second);
    for (const m of [a, b, loaded]) m.dispose();
  });

  test('a save removes temporary files left by killed writers, but not those of live processes', async (t) => {
    const dir = tempDirFor(t);
    const done = spawnSync(process.execPath, ['-e', '']);
    const deadPid = done.pid as number;
    assert.equal(done.status, 0);
    const stale = [`.model.json.${deadPid}.0123abcd.tmp`, `.weights-0123456789abcdef.bin.${deadPid}.deadbeef.tmp`];
    const live = `.model.json.${process.pid}.cafef00d.tmp`;
    for (const f of [...stale, live]) writeFileSync(path.join(dir, f), 'partial');
    writeFileSync(path.join(dir, 'notes.txt'), 'not ours');
    const model = new FICNN({ yDim: 2, hidden: [3], seed: 1 });
    await model.save(dir);
    const files = listDir(dir);
    for (const f of stale) assert.ok(!files.includes(f), `${f} should be removed`);
    assert.ok(files.includes(live), 'a live writer\'s temporary file must be kept');
    assert.ok(files.includes('notes.txt'), 'unrelated files must be kept');
    model.dispose();
  });

  test('a save killed mid-write leaves the previous model loadable', { timeout: 5 * 60_000 }, async (t) => {
    const dir = tempDirFor(t);
    const script = path.join(ROOT, 'test/helpers/saveLoop.ts');
    const rng = new Rng(2024);
    let lastSaved = 0;
    let next = 1;
    const kills = 5;
    let sawLeftovers = 0;
    for (let round = 0; round < kills; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir, String(next)], {
        cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      // Wait until one save of this child completed (so every round has a model to fall back to) and the next
      // one started, then kill it at a random moment of that save (one save of this model takes ~40-100 ms).
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (/saved \d+\nstart \d+/.test(out)) resolve();
        });
        child.on('exit', (code) => reject(new Error(`saveLoop exited early (code ${code}): ${err}`)));
      });
      await new Promise((resolve) => setTimeout(resolve, rng.uniform() * 60));
      child.kill('SIGKILL');
      await closed;
      const started = [...out.matchAll(/start (\d+)/g)].map((m) => Number(m[1]));
      const saved = [...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
      assert.ok(saved.length > 0);
      lastSaved = Math.max(...saved);
      const lastStarted = Math.max(...started);
      next = lastStarted + 1;

      const loaded = await loadModel(dir);
      const bias = loaded.parameters().find((p) => p.name === 'z0.b');
      assert.ok(bias);
      const k = bias.variable.dataSync()[0];
      // The loaded model is the last completed save, or the one in flight if it got as far as model.json.
      assert.ok(k >= lastSaved && k <= lastStarted, `round ${round}: loaded iteration ${k}, saved ${lastSaved}, started ${lastStarted}`);
      loaded.dispose();

      const files = listDir(dir);
      if (files.some((f) => f.endsWith('.tmp'))) sawLeftovers++;
      const weightFiles = files.filter((f) => /^weights-[0-9a-f]{16}\.bin$/.test(f));
      assert.ok(weightFiles.length >= 1 && weightFiles.length <= 2, `round ${round}: ${files.join(', ')}`);
    }
    t.diagnostic(`${kills} kills, ${sawLeftovers} of them mid-write (temporary files left behind)`);

    // One clean save afterwards tidies up everything the killed writers left.
    const model = await PICNN.load(dir);
    await model.save(dir);
    const files = listDir(dir);
    assert.equal(files.length, 2, files.join(', '));
    assert.ok(existsSync(path.join(dir, 'model.json')));
    model.dispose();
  });
});
