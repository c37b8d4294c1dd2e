/**
 * The backend module (src/backend/backend.ts): default backend, explicit switching, errors, the ICNN_BACKEND
 * override and the silenced tfjs console banner (the last two in child processes, each a fresh tfjs).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as icnn from '../helpers/icnn.js';
import { BACKEND_NAMES, backendInfo, ready, setBackend } from '../helpers/icnn.js';
import { runChild } from '../helpers/child.js';

const BANNER = /looks like you are running TensorFlow\.js in Node\.js/;

function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/** Child script: import the package, compute on the active backend, print backendInfo() as JSON on the last line. */
const USE_PACKAGE = `
import * as icnn from './test/helpers/icnn.ts';
const { tf } = icnn;
const a = tf.tensor2d([[1, 2], [3, 4]]);
const s = tf.sum(tf.matMul(a, a)).dataSync()[0];
if (s !== 54) throw new Error('wrong result ' + s);
console.log(JSON.stringify(icnn.backendInfo()));
`;

function lastJson(stdout: string): { name: string } {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as { name: string };
}

describe('backend selection in this process', () => {
  test('init() (awaited by the test helper) picks the default backend (wasm, unless ICNN_BACKEND is set)', async () => {
    const expected = process.env.ICNN_BACKEND ? process.env.ICNN_BACKEND : 'wasm';
    assert.equal(icnn.tf.getBackend(), expected);
    const info = await ready();
    assert.equal(info.name, expected);
    assert.equal(backendInfo().name, expected);
  });

  test('setBackend switches between wasm and cpu, and backendInfo reports name, threads and simd', async () => {
    const cpu = await setBackend('cpu');
    assert.equal(icnn.tf.getBackend(), 'cpu');
    assert.equal(cpu.name, 'cpu');
    assert.equal(cpu.threads, 1);
    assert.equal(cpu.simd, null);
    assert.deepEqual(backendInfo(), cpu);
    // ready() after an explicit switch reports the switched backend, not a re-initialized default
    assert.equal((await ready()).name, 'cpu');

    const wasm = await setBackend('wasm');
    assert.equal(icnn.tf.getBackend(), 'wasm');
    assert.equal(wasm.name, 'wasm');
    assert.equal(wasm.threads, 1, 'tfjs-wasm is single-threaded in Node');
    assert.equal(wasm.simd, true, 'the SIMD binary is used in Node 20');
    assert.equal(wasm.tfjsVersion, '4.22.0');
    assert.ok(wasm.available.includes('wasm') && wasm.available.includes('cpu'));
    assert.equal(wasm.available.includes('tensorflow'), tfjsNodeInstalled());
    assert.deepEqual(backendInfo(), wasm);

    // computing works on both
    for (const name of ['cpu', 'wasm'] as const) {
      await setBackend(name);
      const t = icnn.tf.tensor2d([[1, 2], [3, 4]]);
      const y = icnn.tf.matMul(t, t);
      assert.deepEqual(Array.from(await y.data()), [7, 10, 15, 22], name);
      icnn.tf.dispose([t, y]);
    }
  });

  test('BACKEND_NAMES lists the selectable backends', () => {
    assert.deepEqual([...BACKEND_NAMES], ['wasm', 'cpu', 'tensorflow']);
  });

  test("setBackend('bogus') throws an Error naming the value and the allowed names, and keeps the backend", async () => {
    await setBackend('wasm');
    await assert.rejects(setBackend('bogus'), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /'bogus'/);
      for (const name of BACKEND_NAMES) assert.match(err.message, new RegExp(`\\b${name}\\b`));
      return true;
    });
    for (const bad of ['', 'WASM', 'webgl']) {
      await assert.rejects(setBackend(bad), /unknown backend/, JSON.stringify(bad));
    }
    assert.equal(icnn.tf.getBackend(), 'wasm');
  });

  test("setBackend('tensorflow') without @tensorflow/tfjs-node throws a clear error and keeps the backend", { skip: tfjsNodeInstalled() && '@tensorflow/tfjs-node is installed' }, async () => {
    await setBackend('cpu');
    await assert.rejects(setBackend('tensorflow'), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /@tensorflow\/tfjs-node/);
      assert.match(err.message, /not installed/);
      return true;
    });
    assert.equal(icnn.tf.getBackend(), 'cpu');
    assert.equal(backendInfo().name, 'cpu');
    assert.ok(!backendInfo().available.includes('tensorflow'));
    await setBackend('wasm');
  });
});

describe('init options', () => {
  test('an unknown option or a wasmPaths that is not a folder URL is refused, naming it', async () => {
    await assert.rejects(icnn.init({ backnd: 'cpu' } as never), /init: unknown option 'backnd' \(known: backend, wasmPaths\)/);
    for (const bad of [42, 'https://cdn.example/tfjs']) {
      await assert.rejects(icnn.init({ wasmPaths: bad } as never), /init: wasmPaths must be a URL prefix ending in '\/'/);
    }
  });

  test('wasmPaths is where the wasm backend fetches its .wasm files (fresh process: a folder without them fails, naming it)', async () => {
    const script = `
import * as icnn from './src/index.ts';
try { await icnn.init({ backend: 'wasm', wasmPaths: '/nonexistent-icnn-wasm/' }); console.log('started'); }
catch (e) { console.log('refused: ' + e.message); }`;
    const r = await runChild(script, undefined, 120_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /refused: .*could not initialize the 'wasm' backend \(its \.wasm files were looked for under wasmPaths "\/nonexistent-icnn-wasm\/"\)/);
    assert.match(r.stderr, /nonexistent-icnn-wasm\/tfjs-backend-wasm/, 'the wasm loader tried that folder');
  });
});

describe('backend selection in a fresh process (ICNN_BACKEND, console banner)', () => {
  test('default without ICNN_BACKEND is wasm', async () => {
    const r = await runChild(USE_PACKAGE, undefined);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson(r.stdout).name, tfjsNodeInstalled() ? 'tensorflow' : 'wasm');
  });

  test('ICNN_BACKEND=cpu selects cpu, and the tfjs "running in Node.js" banner is not printed', async () => {
    const r = await runChild(USE_PACKAGE, 'cpu');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson(r.stdout).name, 'cpu');
    assert.doesNotMatch(r.stdout + r.stderr, BANNER);
    assert.equal(r.stderr, '', 'nothing on stderr');
  });

  test('control: the same cpu computation with plain @tensorflow/tfjs does print the banner', async () => {
    // Shows that the check above can fail: the banner exists in this tfjs version and is printed on first use.
    const script = `
import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');
tf.sum(tf.tensor2d([[1, 2], [3, 4]])).dataSync();
`;
    const r = await runChild(script, undefined);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, BANNER);
  });

  test('ICNN_BACKEND=wasm selects wasm', async () => {
    const r = await runChild(USE_PACKAGE, 'wasm');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastJson(r.stdout).name, 'wasm');
  });

  test('ICNN_BACKEND=nope fails on import with a message naming the variable, the value and the allowed names', async () => {
    const r = await runChild(USE_PACKAGE, 'nope');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ICNN_BACKEND: unknown backend 'nope' \(expected one of: wasm, cpu, tensorflow\)/);
    assert.equal(r.stdout, '', 'nothing computed');
  });

  test('ICNN_BACKEND=tensorflow without @tensorflow/tfjs-node fails with a clear message', { skip: tfjsNodeInstalled() && '@tensorflow/tfjs-node is installed' }, async () => {
    const r = await runChild(USE_PACKAGE, 'tensorflow');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /backend 'tensorflow' needs the optional package @tensorflow\/tfjs-node, which is not installed/);
  });
});
