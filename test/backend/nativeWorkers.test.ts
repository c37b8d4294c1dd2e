/**
 * Two Node worker threads running native matmuls at the same time (as `icnn reproduce synthetic` trains models in
 * worker threads): the addon's thread pool serves one caller at a time and the other computes alone, so both get the
 * wasm kernel's results (relative 1e-5) and neither hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { backendInfo } from '../helpers/icnn.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/matMulWorker.ts');

function runWorker(seed: number): Promise<{ native: boolean; worst: number }> {
  return new Promise((resolve, reject) => {
    // tsx's loader must be registered inside the worker (as src/experiments/parallel.ts does).
    const w = new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(WORKER)}); });`,
      { eval: true, workerData: { seed, rounds: 100 } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

test('concurrent native matmuls in two worker threads equal the wasm kernel', { skip, timeout: 120_000 }, async () => {
  const results = await Promise.all([runWorker(1), runWorker(2)]);
  for (const [i, r] of results.entries()) {
    assert.equal(r.native, true, `worker ${i} did not load the native kernels`);
    assert.ok(r.worst <= 1e-5, `worker ${i}: relative error ${r.worst}`);
  }
});
