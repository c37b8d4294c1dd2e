/**
 * kill -9 at a random point, then resume: the result must be bit-identical to an uninterrupted run (issue #19), for
 * `train` (checkpoints + --resume), `rl` (checkpoint.json in --out, resumed by running the same command again) and
 * `reproduce` (no checkpoints: a killed run leaves no partial report, and a rerun gives the same numbers). Tiny
 * sizes on the cpu backend; a few kills each, bounded. The random delays are printed so a failure can be replayed.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/tmp.js';
import { runCli, startCli, type CliRun } from './cli.js';

const SHARED_DATA = path.resolve(import.meta.dirname, '../../../shared/data');
const KILLS = 2;

/** Start `args`, SIGKILL it after a random delay in [loMs, hiMs]; whether it had already finished. */
async function killSomewhere(args: string[], loMs: number, hiMs: number, env: Record<string, string | undefined> = {}): Promise<{ finished: boolean; run: CliRun }> {
  const delay = Math.round(loMs + Math.random() * (hiMs - loMs));
  const { child, done } = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), delay);
  const run = await done;
  clearTimeout(timer);
  process.stderr.write(`# kill -9 after ${delay} ms: ${run.signal === 'SIGKILL' ? 'killed' : `finished (status ${run.status})`}\n`);
  return { finished: run.signal === null, run };
}

function ok(r: CliRun): CliRun {
  assert.equal(r.status, 0, `status ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A JSON document without its timings (wall-clock fields differ between runs by nature). */
function withoutTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimes);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !/seconds|Seconds|timing|Ms$|resumedAt|resumedFrom|lastCheckpoint|created|backend|figures/.test(k)).map(([k, e]) => [k, withoutTimes(e)]));
}

describe('kill -9 and resume gives the uninterrupted result', () => {
  const work = makeTempDir('icnn-kill-');
  after(() => removeDir(work));

  test('train: killed at random points, resumed with --resume, the model is bit-identical', async () => {
    const config = (name: string) => {
      const file = path.join(work, `${name}.json`);
      writeFileSync(file, JSON.stringify({
        model: { kind: 'PICNN', xDim: 4, yDim: 3, hidden: [8], seed: 1 },
        data: { 'synthetic-multilabel': { n: 64, xDim: 4, yDim: 3, seed: 1, sampleSeed: 2 } },
        objective: 'unrolled-gd', objectiveOptions: { steps: 3 }, optimizer: { learningRate: 0.01 },
        epochs: 12, batchSize: 8, checkpoint: { dir: `${name}-ckpt`, everySteps: 4 }, out: `${name}-out`,
      }));
      return file;
    };
    const ref = config('ref');
    ok(await runCli(['--backend', 'cpu', 'train', '--config', ref, '--progress', 'none']));
    const cfg = config('killed');
    const ckpt = path.join(work, 'killed-ckpt');
    const args = () => ['--backend', 'cpu', 'train', '--config', cfg, '--progress', 'none', ...(existsSync(path.join(ckpt, 'LATEST')) ? ['--resume', ckpt] : [])];
    for (let k = 0; k < KILLS; k++) {
      const { finished, run } = await killSomewhere(args(), 5000, 9000);
      if (finished) {
        ok(run);
        break;
      }
    }
    if (!existsSync(path.join(work, 'killed-out', 'history.json'))) ok(await runCli(args()));
    const weights = (name: string) => JSON.parse(readFileSync(path.join(work, `${name}-out`, 'model', 'model.json'), 'utf8')).weights.sha256;
    assert.equal(weights('killed'), weights('ref'), 'the resumed model has the uninterrupted weights, bit for bit');
    const history = (name: string) => withoutTimes(JSON.parse(readFileSync(path.join(work, `${name}-out`, 'history.json'), 'utf8')).history);
    assert.deepEqual(history('killed'), history('ref'));
  });

  test('rl: killed at random points, the same command resumes; the results are bit-identical; a complete run is reused, not overwritten', async () => {
    const rl = (out: string, steps = '300') => ['--backend', 'cpu', 'rl', '--env', 'Pendulum', '--agent', 'ddpg', '--steps', steps, '--seed', '3',
      '--test-interval', '50', '--checkpoint-interval', '50', '--hidden', '8,8', '--batch-size', '16', '--warmup', '50', '--progress', 'none', '--out', path.join(work, out)];
    ok(await runCli(rl('rl-ref')));
    for (let k = 0; k < KILLS; k++) {
      const { finished, run } = await killSomewhere(rl('rl-killed'), 4000, 9000);
      if (finished) {
        ok(run);
        break;
      }
    }
    const file = path.join(work, 'rl-killed', 'results.json');
    const complete = () => existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).complete === true;
    if (!complete()) ok(await runCli(rl('rl-killed')));
    const results = (out: string) => withoutTimes(JSON.parse(readFileSync(path.join(work, out, 'results.json'), 'utf8')));
    assert.deepEqual(results('rl-killed'), results('rl-ref'));

    const bytes = readFileSync(file);
    const again = ok(await runCli(rl('rl-killed')));
    assert.match(again.stderr, /reusing .*rl-killed\/results\.json/);
    assert.ok(readFileSync(file).equals(bytes), 'a complete run with the same settings is reused, not retrained');
    const other = await runCli(rl('rl-killed', '200'));
    assert.equal(other.status, 1);
    assert.match(other.stderr, /holds a complete run of other settings \(steps 300 there, 200 here\); choose another --out, or give --force/);
    assert.ok(readFileSync(file).equals(bytes), 'a run of other settings does not overwrite it');
  });

  test('reproduce: a killed run leaves no partial report; the rerun gives the uninterrupted numbers', async () => {
    const env = { ICNN_DATA_DIR: SHARED_DATA };
    const args = (out: string, ...more: string[]) => ['--backend', 'cpu', 'reproduce', 'bibtex', '--quick', '--models', 'ff', '--epochs', '1', '--out', path.join(work, out), ...more];
    ok(await runCli(args('rep-ref'), env));
    const file = path.join(work, 'rep-killed', 'results.json');
    const { finished, run } = await killSomewhere(args('rep-killed'), 3000, 10000, env);
    if (finished) ok(run);
    else if (existsSync(file)) JSON.parse(readFileSync(file, 'utf8')); // written atomically: complete or absent
    if (!finished) ok(await runCli(args('rep-killed', '--force'), env));
    const results = (out: string) => withoutTimes(JSON.parse(readFileSync(path.join(work, out, 'results.json'), 'utf8')));
    assert.deepEqual(results('rep-killed'), results('rep-ref'));
  });
});
