/**
 * Nothing lost, nothing redone (issue #19): a rerun of `train` or `reproduce` over a finished run with identical
 * settings reports and reuses it (exit 0, files untouched, no training); one with other settings is refused with
 * the first setting that differs; `--force` trains again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDirFor } from '../helpers/tmp.js';
import { runCli } from './cli.js';

const CONFIG = {
  model: { kind: 'PICNN', xDim: 3, yDim: 2, hidden: [4], seed: 1 },
  data: { 'synthetic-multilabel': { n: 16, xDim: 3, yDim: 2, seed: 1, sampleSeed: 2 } },
  objective: 'unrolled-gd', objectiveOptions: { steps: 2 }, optimizer: { learningRate: 0.01 },
  epochs: 1, batchSize: 8, out: 'out',
};

function snapshot(file: string): { bytes: string; mtimeMs: number } {
  return { bytes: readFileSync(file, 'utf8'), mtimeMs: statSync(file).mtimeMs };
}

test('train: identical settings reuse the finished run; other settings or data are refused; --force retrains', async (t) => {
  const dir = tempDirFor(t);
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify(CONFIG));
  const args = ['train', '--config', config, '--progress', 'none'];
  const first = await runCli(args);
  assert.equal(first.status, 0, first.stderr);
  const history = path.join(dir, 'out', 'history.json');
  const before = snapshot(history);

  const again = await runCli([...args, '--json']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /already holds a finished run with identical settings; reusing it \(give --force to train again\)/);
  assert.deepEqual(snapshot(history), before, 'the reused run is left as it was');
  assert.deepEqual(JSON.parse(again.stdout), JSON.parse(before.bytes).history, '--json prints the finished run\'s history');

  writeFileSync(config, JSON.stringify({ ...CONFIG, epochs: 2 }));
  const other = await runCli(args);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /already holds model of a finished run; choose another --out, or give --force to overwrite it \(its settings differ in epochs: 1 there, 2 here\)/);
  assert.deepEqual(snapshot(history), before);

  const forced = await runCli([...args, '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal((JSON.parse(readFileSync(history, 'utf8')) as { history: { epochs: unknown[] } }).history.epochs.length, 2);
});

test('train: a data file edited since the finished run is a different setting', async (t) => {
  const dir = tempDirFor(t);
  const data = { x: [[0, 1, 2], [1, 0, 2], [2, 1, 0], [0, 2, 1]], y: [[0, 1], [1, 0], [1, 1], [0, 0]] };
  writeFileSync(path.join(dir, 'data.json'), JSON.stringify(data));
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ ...CONFIG, data: { json: 'data.json' }, batchSize: 2 }));
  const args = ['train', '--config', config, '--progress', 'none'];
  assert.equal((await runCli(args)).status, 0);
  writeFileSync(path.join(dir, 'data.json'), JSON.stringify({ ...data, y: [[1, 1], [1, 0], [1, 1], [0, 0]] }));
  const edited = await runCli(args);
  assert.equal(edited.status, 1);
  assert.match(edited.stderr, /its settings differ in inputDigests/);
});

test('reproduce: identical settings reuse the report; another seed is refused', async (t) => {
  const dir = tempDirFor(t);
  const args = ['reproduce', 'synthetic', '--quick', '--out', dir];
  const first = await runCli(args);
  assert.equal(first.status, 0, first.stderr);
  const results = path.join(dir, 'results.json');
  const before = snapshot(results);

  const again = await runCli([...args, '--json']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /identical settings; reusing it/);
  assert.equal(again.stdout, before.bytes);
  assert.deepEqual(snapshot(results), before);

  const other = await runCli([...args, '--seed', '1']);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /already holds results\.json of a finished run; .*--force .*\(its settings differ in seed: 0 there, 1 here\)/);
  assert.deepEqual(snapshot(results), before);
});
