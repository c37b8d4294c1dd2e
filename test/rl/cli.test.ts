/** `icnn rl` and `icnn rl-table` in process (commander program, tiny runs). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDirFor } from '../helpers/tmp.js';
import { formatRunSummary } from '../../src/cli/commands/rl.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.ts');

/** Run the CLI's main() in a child process (tsx), as `icnn ...args`. */
function capture(args: string[]): Promise<{ out: string; err: string }> {
  const script = `const m = await import(${JSON.stringify(MAIN)}); await m.main(['node', 'icnn', ...${JSON.stringify(args)}]);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, ICNN_BACKEND: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ out, err }) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

const TINY = ['--hidden', '8,8', '--batch-size', '16', '--warmup', '50', '--progress', 'none'];

test('icnn rl --json prints the results; --out writes results.json and the PNG', async (t) => {
  const dir = tempDirFor(t);
  const { out } = await capture(['rl', '--env', 'Pendulum', '--agent', 'naf', '--steps', '200', '--seed', '2', '--test-interval', '100',
    '--out', dir, '--json', '--reward-scale', '0.1', '--time-limit-terminal', ...TINY]);
  const r = JSON.parse(out);
  assert.equal(r.timeLimitTerminal, true);
  assert.equal(r.env, 'Pendulum');
  assert.equal(r.agent, 'naf');
  assert.equal(r.seed, 2);
  assert.equal(r.rewardScale, 0.1);
  assert.deepEqual(r.agentOptions.hidden, [8, 8]);
  assert.ok(existsSync(path.join(dir, 'results.json')));
  assert.ok(existsSync(path.join(dir, 'learning-curve.png')));
  const text = formatRunSummary(r);
  assert.match(text, /Pendulum \/ NAF {2}seed 2, 200 steps, test every 100 \(2 tests\), time limit stored as terminal/);
  assert.match(text, /max test reward \(rolling mean of 10\) {2}– \(needs > 10 tests\)/);
  assert.match(text, /ms per action/);
});

test('icnn rl-table runs the grid, reuses complete runs, and writes table.md', async (t) => {
  const dir = tempDirFor(t);
  const ok = ['rl-table', '--envs', 'Pendulum', '--agents', 'ddpg,naf', '--seeds', '0', '--steps', '100', '--test-interval', '10', '--out', dir, ...TINY];
  const first = await capture(ok);
  assert.match(first.out, /\| Pendulum \| 100 \|/);
  const md = readFileSync(path.join(dir, 'table.md'), 'utf8');
  assert.equal(md, first.out);
  assert.ok(existsSync(path.join(dir, 'Pendulum', 'ddpg', 'seed-0', 'results.json')));
  const second = await capture(ok);
  assert.match(second.err, /reusing .*Pendulum\/ddpg\/seed-0\/results.json/);
  assert.equal(second.out, first.out);
});

test('bad arguments are refused by the parser', async () => {
  await assert.rejects(capture(['rl', '--env', 'Pendulum', '--agent', 'sac', '--steps', '10']), /Allowed choices are ddpg, naf, icnn/);
  await assert.rejects(capture(['rl', '--env', 'Pendulum', '--agent', 'ddpg', '--steps', '0']), /positive integer/);
  await assert.rejects(capture(['rl', '--env', 'Pendulum', '--agent', 'ddpg', '--steps', '5', '--hidden', '8']), /two layer widths/);
});

test('icnn rl-collect tables every complete run under a directory, whatever its settings; skips incomplete ones; refuses an empty one', async (t) => {
  const dir = tempDirFor(t);
  // Two runs with different settings (rl-table could not reuse both in one grid).
  await capture(['rl', '--env', 'CartPoleContinuous', '--agent', 'ddpg', '--steps', '300', '--seed', '0', '--test-interval', '10',
    '--out', path.join(dir, 'CartPoleContinuous', 'ddpg', 'seed-0'), ...TINY]);
  await capture(['rl', '--env', 'CartPoleContinuous', '--agent', 'ddpg', '--steps', '300', '--seed', '1', '--test-interval', '10', '--reward-scale', '0.5',
    '--out', path.join(dir, 'CartPoleContinuous', 'ddpg', 'seed-1'), ...TINY]);
  const partial = JSON.parse(readFileSync(path.join(dir, 'CartPoleContinuous', 'ddpg', 'seed-1', 'results.json'), 'utf8'));
  mkdirSync(path.join(dir, 'CartPoleContinuous', 'naf', 'seed-0'), { recursive: true });
  writeFileSync(path.join(dir, 'CartPoleContinuous', 'naf', 'seed-0', 'results.json'), JSON.stringify({ ...partial, agent: 'naf', complete: false }));
  const { out, err } = await capture(['rl-collect', dir]);
  assert.equal(readFileSync(path.join(dir, 'table.md'), 'utf8'), out);
  assert.match(out, /\| CartPoleContinuous \| 300 \|/);
  assert.match(out, /\[2\]/, 'both ddpg seeds are in the cell');
  assert.match(out, /CartPoleContinuous\/ddpg seed 0: 300 steps, reward scale 1,/);
  assert.match(out, /CartPoleContinuous\/ddpg seed 1: 300 steps, reward scale 0.5,/);
  assert.ok(!/NAF/.test(out.split('\n').find((l) => l.startsWith('| Task')) ?? ''), 'no NAF column without a complete NAF run');
  assert.match(err, /skipping .*naf\/seed-0\/results.json: the run is not complete/);
  await assert.rejects(capture(['rl-collect', path.join(dir, 'CartPoleContinuous', 'ddpg', 'seed-0')]), /no complete runs under/);
  await assert.rejects(capture(['rl-collect', path.join(dir, 'missing')]), /rl-collect: no directory/);

  // Several directories make one table in --out; each note names its run's folder, relative to --out.
  const other = tempDirFor(t);
  cpSync(path.join(dir, 'CartPoleContinuous', 'ddpg', 'seed-0'), path.join(other, 'CartPoleContinuous', 'ddpg', 'seed-7'), { recursive: true });
  const combined = path.join(tempDirFor(t), 'combined');
  const both = await capture(['rl-collect', dir, other, '--out', combined]);
  assert.equal(readFileSync(path.join(combined, 'table.md'), 'utf8'), both.out);
  assert.match(both.out, /\[3\]/, 'the cell holds the runs of both directories');
  const note = both.out.split('\n').find((l) => l.includes('ddpg seed 1: 300 steps')) ?? '';
  assert.ok(note.endsWith(`[${path.relative(combined, path.join(dir, 'CartPoleContinuous', 'ddpg', 'seed-1'))}]`), note);
  assert.ok(existsSync(path.join(combined, 'best-curves', 'CartPoleContinuous.png')));
  assert.ok(!existsSync(path.join(other, 'table.md')), 'nothing written into the second input folder');
});
