/**
 * `icnn train` and `icnn evaluate` end to end, run from the sources (this file, started with ICNN_CLI_CHILD=1, is
 * the CLI: it calls src/cli/main.ts as bin/icnn.js calls the build), plus the config checks in-process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/tmp.js';

if (process.env.ICNN_CLI_CHILD) {
  const { main } = await import('../../src/cli/main.js');
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`icnn: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  await defineTests();
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

async function defineTests(): Promise<void> {
  const { IcnnError, tf, loadModel } = await import('../helpers/icnn.js');
  const {
    parseTrainConfig, loadDataSource, modelFromConfig, syntheticMultilabel,
  } = await import('../../src/cli/commands/train.js');
  const { parseRows } = await import('../../src/cli/rows.js');
  /** A rows file of `icnn train` (labelled by its name, as in a config's data.csv). */
  const parseRowsText = (text: string, file: string, width: number) => parseRows(text, file, width, { label: file, name: 'x' });
  const { createObjective } = await import('../../src/learning/objectives/index.js');
  const { evaluate } = await import('../../src/learning/metrics.js');

  const file = path.resolve(import.meta.dirname, 'train.test.ts');
  let work = '';

  function icnn(...args: string[]): Run {
    const env: NodeJS.ProcessEnv = { ...process.env, ICNN_CLI_CHILD: '1' };
    delete env.NODE_TEST_CONTEXT;
    delete env.ICNN_BACKEND;
    // tsx resolved here: the child runs in the temp dir, where a bare 'tsx' would not resolve.
    const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), file, ...args], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  function ok(r: Run): Run {
    assert.equal(r.status, 0, `exit status ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  }

  const config = (over: Record<string, unknown> = {}) => ({
    model: { kind: 'PICNN', xDim: 10, yDim: 6, hidden: [16], seed: 1 },
    data: { 'synthetic-multilabel': { n: 128, xDim: 10, yDim: 6, seed: 1, sampleSeed: 2 } },
    validation: { 'synthetic-multilabel': { n: 64, xDim: 10, yDim: 6, seed: 1, sampleSeed: 3 } },
    objective: 'unrolled-gd',
    objectiveOptions: { steps: 5 },
    optimizer: { learningRate: 0.01 },
    epochs: 2,
    batchSize: 32,
    seed: 1,
    checkpoint: { dir: 'ckpt' },
    out: 'out',
    ...over,
  });

  interface HistoryFile {
    format: string;
    objective: string;
    history: { epochs: { epoch: number; trainLoss: number; metrics: Record<string, number> }[]; steps: number; resumedFrom: { step: number } | null };
  }

  before(() => {
    work = makeTempDir('icnn-cli-train-');
    writeFileSync(path.join(work, 'train.json'), JSON.stringify(config()));
    writeFileSync(path.join(work, 'train3.json'), JSON.stringify(config({ epochs: 3, out: 'out3' })));
    writeFileSync(path.join(work, 'typo.json'), JSON.stringify(config({ objectiveOptions: { stepz: 5 } })));
    // The validation set as a JSON data file, for `evaluate --data`.
    const v = syntheticMultilabel({ n: 64, xDim: 10, yDim: 6, seed: 1, sampleSeed: 3 });
    const rows = (a: Float32Array, w: number) => Array.from({ length: a.length / w }, (_, i) => Array.from(a.subarray(i * w, (i + 1) * w)));
    writeFileSync(path.join(work, 'val.json'), JSON.stringify({ x: rows(v.x, 10), y: rows(v.y, 6) }));
  });

  after(() => {
    if (work) removeDir(work);
  });

  describe('icnn train / evaluate (end to end)', () => {
    test('train writes the model and the history; evaluate reproduces the final validation metrics', async () => {
      const r = ok(icnn('train', '--config', 'train.json', '--progress', 'lines'));
      assert.match(r.stdout, /^trained PICNN with unrolled-gd: 2 epochs, 8 steps/m);
      assert.match(r.stdout, /^epoch 2: loss [\d.]+ +exampleF1 [\d.]+/m);
      assert.match(r.stderr, /^epoch 1\/2 {2}step 4 {2}loss [\d.]+ {2}exampleF1 /m, 'one progress line per epoch on stderr');
      assert.ok(existsSync(path.join(work, 'out/model/model.json')));
      assert.ok(existsSync(path.join(work, 'ckpt/LATEST')));
      const h = JSON.parse(readFileSync(path.join(work, 'out/history.json'), 'utf8')) as HistoryFile;
      assert.equal(h.format, 'icnn-training-history');
      assert.equal(h.objective, 'unrolled-gd');
      assert.equal(h.history.epochs.length, 2);
      assert.equal(h.history.steps, 8);
      const last = h.history.epochs[1].metrics;
      assert.deepEqual(Object.keys(last).sort(), ['exampleF1', 'hammingAccuracy', 'labelMacroF1', 'microF1', 'mse', 'subsetAccuracy']);

      const model = await loadModel(path.join(work, 'out/model'));
      assert.equal(model.kind, 'PICNN');
      model.dispose();

      const text = ok(icnn('evaluate', '--model', 'out/model', '--config', 'train.json'));
      assert.match(text.stdout, /^PICNN evaluated with unrolled-gd predictions on 64 rows/m);
      const f1 = Number(/^exampleF1 +([\d.]+)$/m.exec(text.stdout)?.[1]);
      assert.ok(Math.abs(f1 - last.exampleF1) < 1e-6, `evaluate ${f1} vs history ${last.exampleF1}`);

      const json = JSON.parse(ok(icnn('evaluate', '--model', 'out/model', '--data', 'val.json', '--objective', 'unrolled-gd',
        '--objective-options', '{"steps": 5}', '--json')).stdout) as { rows: number; objective: string; metrics: Record<string, number> };
      assert.equal(json.rows, 64);
      assert.equal(json.objective, 'unrolled-gd');
      for (const [k, v] of Object.entries(last)) assert.ok(Math.abs(json.metrics[k] - v) < 1e-6, `${k}: ${json.metrics[k]} vs ${v}`);

      // Resume the run for a third epoch from its checkpoint.
      const r3 = ok(icnn('train', '--config', 'train3.json', '--resume', 'ckpt', '--progress', 'none'));
      assert.match(r3.stdout, /3 epochs, 12 steps/);
      assert.equal(r3.stderr, '');
      const h3 = JSON.parse(readFileSync(path.join(work, 'out3/history.json'), 'utf8')) as HistoryFile;
      assert.equal(h3.history.resumedFrom?.step, 8);
      assert.deepEqual(h3.history.epochs.slice(0, 2), h.history.epochs);
    });

    test('a bad config exits non-zero naming the offending key, without a stack trace', () => {
      const r = icnn('train', '--config', 'typo.json');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^icnn: config\.objectiveOptions\.stepz: unknown option of objective 'unrolled-gd' \(expected one of: steps, /m);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(r.stdout, '');
      const missing = icnn('evaluate', '--model', 'out/model');
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /no data: give --data FILE, --x FILE --y FILE, or --config FILE/);
    });
  });

  describe('config checks (in-process)', () => {
    const refuses = (raw: unknown, pattern: RegExp) => assert.throws(() => parseTrainConfig(raw, '/base'), (e: unknown) => {
      assert.ok(e instanceof IcnnError, String(e));
      assert.match((e as Error).message, pattern);
      return true;
    });

    test('unknown keys are named with their path; required keys and value types are checked', () => {
      refuses({ ...config(), epoch: 3 }, /^config\.epoch: unknown key \(expected one of: model, data, /);
      refuses(config({ checkpoint: { dir: 'c', every: 2 } }), /^config\.checkpoint\.every: unknown key/);
      refuses(config({ earlyStopping: { patience: 2, metrc: 'mse' } }), /^config\.earlyStopping\.metrc: unknown key/);
      refuses(config({ optimizer: { learningRate: 0.1, beta1: 0.9 } }), /^config\.optimizer\.beta1: unknown key/);
      refuses(config({ optimizer: { name: 'sgd' } }), /config\.optimizer\.name must be 'adam'/);
      refuses(config({ data: { csv: { x: 'x.csv', y: 'y.csv', labels: 'l.csv' } } }), /^config\.data\.csv\.labels: unknown key/);
      refuses(config({ data: { json: 'a.json', csv: { y: 'y.csv' } } }), /config\.data must have exactly one of 'json', 'csv', 'synthetic-multilabel'/);
      refuses(config({ data: { parquet: 'a.pq' } }), /^config\.data\.parquet: unknown key/);
      refuses(config({ validation: { 'synthetic-multilabel': { n: 5, xDim: 10, yDim: 6, sed: 1 } } }), /^config\.validation\.synthetic-multilabel\.sed: unknown key/);
      refuses(config({ epochs: 0 }), /config\.epochs must be a positive integer, got 0/);
      refuses(config({ batchSize: '32' }), /config\.batchSize must be a positive integer, got "32"/);
      refuses(config({ model: { load: 'm', kind: 'PICNN' } }), /^config\.model\.kind: unknown key \(expected one of: load\)/);
      const { out: _out, ...noOut } = config();
      refuses(noOut, /config\.out is required/);
      refuses([], /config must be an object, got an array/);
    });

    test('paths are resolved against the config directory; model and objective errors carry the config path', async () => {
      const c = parseTrainConfig(config({ data: { csv: { x: 'd/x.csv', y: 'd/y.csv' } } }), '/base');
      assert.deepEqual(c.data, { csv: { x: '/base/d/x.csv', y: '/base/d/y.csv' } });
      assert.equal(c.out, '/base/out');
      assert.equal(c.checkpoint?.dir, '/base/ckpt');
      assert.equal(c.learningRate, 0.01);
      await assert.rejects(modelFromConfig({ kind: 'PICNN', options: { xDim: 10, yDim: 6, hiden: [4] } }), /^IcnnError: config\.model: PICNN: unknown option 'hiden'/);
      await assert.rejects(modelFromConfig({ kind: 'Transformer', options: {} }), /config\.model\.kind: unknown model kind "Transformer"/);
      assert.throws(() => createObjective('unrolled-gd', { steps: -1 }, 'config.objectiveOptions'), /config\.objectiveOptions\.steps must be a positive integer, got -1/);
      assert.throws(() => createObjective('argmin-bundle-entropy', { lower: 1, upper: 0 }, 'config.objectiveOptions'), /lower \(1\) must be below upper \(0\)/);
    });

    test('data files: CSV with header, JSON rows, width and row-count checks naming the file and line', async () => {
      assert.deepEqual([...parseRowsText('a,b\n1,2\n\n3,4.5\n', 'x.csv', 2)], [1, 2, 3, 4.5]);
      assert.deepEqual([...parseRowsText('[[1,2],[3,4]]', 'x.json', 2)], [1, 2, 3, 4]);
      assert.deepEqual([...parseRowsText('[1.5, 2]', 't.json', 1)], [1.5, 2]);
      assert.throws(() => parseRowsText('1,2\n3\n', 'x.csv', 2), /^IcnnError: x\.csv: line 2 has 1 value, but the model takes x of width 2$/);
      assert.throws(() => parseRowsText('1,2\n3,abc\n', 'x.csv', 2), /x\.csv: line 2, column 2: "abc" is not a finite number/);
      assert.throws(() => parseRowsText('[[1,2],[3,null]]', 'x.json', 2), /^IcnnError: x\.json: rows\[1\]\[1\] is null, not a finite number/);
      const dir = makeTempDir('icnn-cli-data-');
      const { FICNN } = await import('../helpers/icnn.js');
      const model = new FICNN({ xDim: 2, yDim: 3, hidden: [4] });
      try {
        writeFileSync(path.join(dir, 'x.csv'), 'x1,x2\n1,2\n3,4\n');
        writeFileSync(path.join(dir, 'y.csv'), '0,1,0\n1,1,0\n');
        writeFileSync(path.join(dir, 't.csv'), '0.5\n-1\n');
        writeFileSync(path.join(dir, 'y3.csv'), '0,1,0\n1,1,0\n1,1,1\n');
        const d = await loadDataSource({ csv: { x: path.join(dir, 'x.csv'), y: path.join(dir, 'y.csv'), target: path.join(dir, 't.csv') } }, model, 'config.data');
        assert.deepEqual(d.x!.shape, [2, 2]);
        assert.deepEqual([...d.target!.dataSync()], [0.5, -1]);
        tf.dispose([d.x!, d.y, d.target!]);
        await assert.rejects(loadDataSource({ csv: { x: path.join(dir, 'x.csv'), y: path.join(dir, 'y3.csv') } }, model, 'config.data'),
          /config\.data: x has 2 rows but y has 3/);
        await assert.rejects(loadDataSource({ csv: { y: path.join(dir, 'y.csv') } }, model, 'config.data'), /config\.data\.csv\.x is required/);
        await assert.rejects(loadDataSource({ json: path.join(dir, 'nope.json') }, model, 'config.data'), /config\.data .*nope\.json: file not found/);
        await assert.rejects(loadDataSource({ 'synthetic-multilabel': { n: 4, xDim: 5, yDim: 3 } }, model, 'config.data'),
          /xDim 5 and yDim 3 must match the model's \(2, 3\)/);
      } finally {
        model.dispose();
        removeDir(dir);
      }
    });

    test('the synthetic-multilabel generator is deterministic, with binary labels of moderate frequency; evaluate runs on it', async () => {
      const a = syntheticMultilabel({ n: 200, xDim: 10, yDim: 6, seed: 1, sampleSeed: 2 });
      const b = syntheticMultilabel({ n: 200, xDim: 10, yDim: 6, seed: 1, sampleSeed: 2 });
      assert.deepEqual(a, b);
      const freq = a.y.reduce((s, v) => s + v, 0) / a.y.length;
      assert.ok(freq > 0.15 && freq < 0.7, `label frequency ${freq}`);
      assert.ok(a.y.every((v) => v === 0 || v === 1));
      const { PICNN } = await import('../helpers/icnn.js');
      const model = new PICNN({ xDim: 10, yDim: 6, hidden: [8], seed: 1 });
      const d = await loadDataSource({ 'synthetic-multilabel': { n: 20, xDim: 10, yDim: 6, seed: 1, sampleSeed: 5 } }, model, 'v');
      try {
        const m = await evaluate(model, createObjective('unrolled-gd', { steps: 2 }), d);
        assert.ok(m.exampleF1 >= 0 && m.exampleF1 <= 1);
      } finally {
        model.dispose();
        tf.dispose([d.x!, d.y]);
      }
    });
  });
}
