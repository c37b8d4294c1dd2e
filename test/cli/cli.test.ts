/**
 * The `icnn` command line, run as users run it: bin/icnn.js on a fresh build of src (built into a temp dir, so
 * the repository's dist/ is neither needed nor touched).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FICNN, PICNN, VERSION } from '../helpers/icnn.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

let work = '';
let bin = '';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function icnn(...args: string[]): Run {
  const env = { ...process.env };
  delete env.ICNN_BACKEND;
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): Run {
  assert.equal(r.status, 0, `exit status ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

before(() => {
  work = makeTempDir('icnn-cli-');
  const pkg = path.join(work, 'pkg');
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(pkg, 'dist')], {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000,
  });
  assert.equal(build.status, 0, `npm run build (tsc -p tsconfig.build.json) failed:\n${build.stdout}${build.stderr}`);
  // The package as installed: package.json (ESM), bin/, dist/, and its dependencies.
  const binRel = PKG.bin.icnn;
  mkdirSync(path.dirname(path.join(pkg, binRel)), { recursive: true });
  copyFileSync(path.join(ROOT, binRel), path.join(pkg, binRel));
  copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  bin = path.join(pkg, binRel);
  assert.ok(existsSync(path.join(pkg, 'dist/cli/main.js')));
}, { timeout: 120_000 });

after(() => {
  if (work) removeDir(work);
});

describe('icnn status', () => {
  test('prints the version and the backend in use', () => {
    const r = ok(icnn('status'));
    assert.match(r.stdout, new RegExp(`^icnn ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(r.stdout, /^backend +(wasm|cpu|tensorflow)\b.*\d+ threads?$/m);
    assert.match(r.stdout, /^tfjs +4\.22\.0$/m);
    assert.match(r.stdout, new RegExp(`^node +${process.version.replace(/\./g, '\\.')}$`, 'm'));
    assert.equal(r.stderr, '', 'no warnings or banners on stderr');
  });

  test('--json prints parseable JSON', () => {
    const r = ok(icnn('status', '--json'));
    const info = JSON.parse(r.stdout) as { version: string; backend: { name: string; threads: number; tfjsVersion: string; available: string[] } };
    assert.equal(info.version, VERSION);
    assert.ok(['wasm', 'cpu', 'tensorflow'].includes(info.backend.name), info.backend.name);
    assert.ok(info.backend.available.includes(info.backend.name));
    assert.ok(Number.isInteger(info.backend.threads) && info.backend.threads >= 1);
    assert.equal(info.backend.tfjsVersion, '4.22.0');
  });

  test('--backend cpu selects the cpu backend', () => {
    const text = ok(icnn('--backend', 'cpu', 'status'));
    assert.match(text.stdout, /^backend +cpu, 1 thread$/m);
    const json = JSON.parse(ok(icnn('--backend', 'cpu', 'status', '--json')).stdout) as { backend: { name: string; simd: unknown } };
    assert.equal(json.backend.name, 'cpu');
    assert.equal(json.backend.simd, null);
  });

  test('--backend with an unknown name fails, naming the option and the choices', () => {
    const r = icnn('--backend', 'gpu', 'status');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--backend/);
    assert.match(r.stderr, /unknown backend 'gpu'/);
    assert.match(r.stderr, /wasm, cpu, tensorflow/);
    assert.equal(r.stdout, '');
  });
});

describe('icnn usage errors', () => {
  test('--version prints the version', () => {
    assert.equal(ok(icnn('--version')).stdout.trim(), VERSION);
  });

  test('an unknown command exits non-zero with a message', () => {
    const r = icnn('frobnicate');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.equal(r.stdout, '');
  });

  test('an unknown option exits non-zero with a message', () => {
    const r = icnn('status', '--verbose');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown option '--verbose'/);
  });
});

describe('icnn summary', () => {
  let modelDir = '';
  let picnn: PICNN;

  before(async () => {
    modelDir = path.join(work, 'saved model');
    picnn = new PICNN({ xDim: 20, yDim: 7, hidden: [30, 7], batchNorm: true, seed: 4 });
    await picnn.save(modelDir);
  });

  after(() => picnn.dispose());

  test('prints the kind, shapes, convexity and parameter count of a saved model', () => {
    const r = ok(icnn('summary', '--model', modelDir));
    assert.match(r.stdout, /^PICNN +\(x: \[20\], y: \[7\]\)$/m);
    assert.match(r.stdout, /convex in y: yes/);
    assert.ok(picnn.numParameters > 1000, 'the count should need a thousands separator');
    const count = picnn.numParameters.toLocaleString('en-US');
    assert.match(r.stdout, new RegExp(`trainable parameters: ${count}$`, 'm'));
    assert.match(r.stdout, /u0\.bn\.movingMean/);
    assert.equal(r.stdout.trim(), picnn.summary().trim());
  });

  test('--json prints the kind, config and parameter count', () => {
    const info = JSON.parse(ok(icnn('summary', '--model', modelDir, '--json')).stdout) as
      { kind: string; config: Record<string, unknown>; isConvex: boolean; numParameters: number };
    assert.equal(info.kind, 'PICNN');
    assert.deepEqual(info.config, JSON.parse(JSON.stringify(picnn.config)));
    assert.equal(info.isConvex, true);
    assert.equal(info.numParameters, picnn.numParameters);
  });

  test('a non-convex FICNN is reported as such', async () => {
    const dir = path.join(work, 'ficnn-none');
    const m = new FICNN({ yDim: 3, hidden: [4], positivity: 'none' });
    await m.save(dir);
    m.dispose();
    const r = ok(icnn('summary', '--model', dir));
    assert.match(r.stdout, /^FICNN/m);
    assert.match(r.stdout, /convex in y: NO +\(positivity: none\)/);
  });

  test('a missing directory exits non-zero with a clear error', () => {
    const missing = path.join(work, 'no-such-model');
    const r = icnn('summary', '--model', missing);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^icnn: /);
    assert.ok(r.stderr.includes(missing), r.stderr);
    assert.match(r.stderr, /does not exist/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  });

  test('a damaged model exits non-zero naming the problem', () => {
    const dir = path.join(work, 'damaged');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'model.json'), '{ not json');
    const r = icnn('summary', '--model', dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not valid JSON/);
  });

  test('--model is required', () => {
    const r = icnn('summary');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /required option '--model <dir>'/);
  });
});

describe('icnn rl-sweep', () => {
  test('runs a sweep on the compiled worker-thread pool into DIR/<task>/<agent>/<hash>; a second call reuses it; bad input is one line', () => {
    const spec = path.join(work, 'sweep.json');
    writeFileSync(spec, JSON.stringify({
      tasks: ['Pendulum'], agents: ['ddpg', 'naf'], steps: 100, testInterval: 50,
      parameters: { 'hidden.0': { value: 8 }, 'hidden.1': { value: 8 }, batchSize: { value: 16 }, warmup: { value: 50 } },
    }));
    const out = path.join(work, 'sweep');
    const listed = ok(icnn('rl-sweep', spec, '--out', out, '--dry-run')).stdout.trim().split('\n');
    assert.equal(listed.length, 2);
    const dirs = listed.map((l) => l.split('  ')[1]);
    const first = ok(icnn('rl-sweep', spec, '--out', out, '--workers', '2'));
    assert.match(first.stdout, /^2 runs: 2 done, 0 already complete, 0 failed/);
    for (const d of dirs) assert.equal(JSON.parse(readFileSync(path.join(d, 'results.json'), 'utf8')).complete, true);
    assert.match(ok(icnn('rl-sweep', spec, '--out', out)).stdout, /^2 runs: 0 done, 2 already complete, 0 failed/);
    const bad = icnn('rl-sweep', spec, '--out', out, '--samples', '2', '--agents', 'ddpg', '--workers', '2', '--queue', 'redis://127.0.0.1:1');
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, 'icnn: rl-sweep: --workers applies to the local pool; with --queue give each `icnn worker` --concurrency\n');
  });
});
