/**
 * The plain-wasm path when the native addon is absent: disabled by ICNN_NATIVE=0 (in a child process, as a user
 * would), a failed load (injected), a missing or broken addon file. Matmuls must then give the cpu backend's results
 * and the native path's results (relative 1e-5), and status must say why the native path is off.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, setBackend, tf } from '../helpers/icnn.js';
import { loadNativeAddon, NATIVE_ADDON_PATH } from '../../src/backend/nativeAddon.js';
import { disableNativeKernels, enableNativeKernels, nativeStatus } from '../../src/backend/nativeKernels.js';
import { relErr } from './reference.js';
import { tempDirFor } from '../helpers/tmp.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/matMulChild.ts');

interface ChildResult {
  backend: string;
  native: { enabled: boolean; reason: string | null };
  product: number[];
  fused: number[];
}

function runChild(env: Record<string, string>): ChildResult {
  const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ICNN_BACKEND: '', ...env }, encoding: 'utf8',
  });
  return JSON.parse(out) as ChildResult;
}

describe('fallback to plain wasm', () => {
  after(async () => {
    enableNativeKernels();
    await setBackend('wasm');
  });

  test('loadNativeAddon says why it loads nothing: disabled, not built, not an addon', (t) => {
    assert.match(loadNativeAddon(NATIVE_ADDON_PATH, { ICNN_NATIVE: '0' }).reason ?? '', /ICNN_NATIVE=0/);
    assert.match(loadNativeAddon('/nonexistent/icnn_native.node', {}).reason ?? '', /not built/);
    const broken = path.join(tempDirFor(t), 'broken.node');
    writeFileSync(broken, 'not a shared object');
    const load = loadNativeAddon(broken, {});
    assert.equal(load.addon, null);
    assert.match(load.reason ?? '', /^addon failed to load: /);
  });

  test('ICNN_NATIVE=0 in a child process: status off, matmuls equal the native path and cpu', async () => {
    const off = runChild({ ICNN_NATIVE: '0' });
    assert.equal(off.backend, 'wasm');
    assert.equal(off.native.enabled, false);
    assert.match(off.native.reason ?? '', /ICNN_NATIVE=0/);
    const on = runChild({});
    assert.equal(on.native.enabled, nativeStatus().enabled, 'the child takes the same path as this process');
    assert.ok(relErr(off.product, on.product) <= 1e-5, `product: ${relErr(off.product, on.product)}`);
    assert.ok(relErr(off.fused, on.fused) <= 1e-5, `fused: ${relErr(off.fused, on.fused)}`);
    await setBackend('cpu');
    const cpu = runChild({ ICNN_BACKEND: 'cpu' });
    assert.ok(relErr(off.product, cpu.product) <= 1e-5, `product vs cpu: ${relErr(off.product, cpu.product)}`);
    assert.ok(relErr(off.fused, cpu.fused) <= 1e-5, `fused vs cpu: ${relErr(off.fused, cpu.fused)}`);
  });

  test('an injected load failure restores the wasm kernels and is reported', async () => {
    await setBackend('wasm');
    const rngData = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i));
    const product = () => tf.tidy(() => {
      const a = tf.tensor2d(rngData, [64, 48]);
      return tf.matMul(a, a, true, false).dataSync().slice();
    });
    const before = product();
    const status = enableNativeKernels({ addon: null, reason: 'injected failure' });
    assert.deepEqual(status, { enabled: false, isa: null, threads: 0, kernels: [], reason: 'injected failure' });
    assert.equal(backendInfo().native.reason, 'injected failure');
    const plain = product();
    assert.ok(relErr(plain, before) <= 1e-5, `plain wasm vs previous path: ${relErr(plain, before)}`);
    disableNativeKernels('again');
    assert.ok(relErr(product(), plain) === 0, 'disabling twice leaves the wasm kernels in place');
  });
});
