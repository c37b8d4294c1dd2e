/** The demo bundle's temporary stand-ins for Node-only modules (demo/nodeStubs.ts), bundled and run here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { nodeStubs } from '../../demo/nodeStubs.js';

/** Bundle `source` with the plugin for the browser and import the result. */
async function bundleAndImport(source: string): Promise<Record<string, unknown>> {
  const out = await build({
    stdin: { contents: source, loader: 'ts', resolveDir: process.cwd() },
    bundle: true, write: false, format: 'esm', platform: 'browser', logLevel: 'silent', plugins: [nodeStubs()],
  });
  const code = out.outputFiles[0].text;
  assert.doesNotMatch(code, /from\s*["']node:/, 'no static node: import is left in the bundle');
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`) as Promise<Record<string, unknown>>;
}

test('node builtins become stand-ins that throw a one-line error naming what was used', async () => {
  const m = await bundleAndImport(`
    import { promises as fs, existsSync } from 'node:fs';
    import path from 'node:path';
    export const calls = [() => fs.readFile('x'), () => existsSync('x'), () => path.join('a', 'b')];`);
  const names = ['node:fs.promises.readFile', 'node:fs.existsSync', 'node:path.join'];
  (m.calls as (() => unknown)[]).forEach((call, i) => {
    assert.throws(call, (e: Error) => e.message === `${names[i]} is not available in the browser (Node-only code path of icnn)`);
  });
});

test('createHash works: the same bytes give the same digest, other bytes another', async () => {
  const m = await bundleAndImport(`
    import { createHash } from 'node:crypto';
    export const digest = (parts) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');`);
  const digest = m.digest as (parts: (string | Uint8Array)[]) => string;
  const a = digest(['2x3;', new Uint8Array(new Float32Array([1, 2, 3]).buffer)]);
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.equal(digest(['2x3;', new Uint8Array(new Float32Array([1, 2, 3]).buffer)]), a);
  assert.notEqual(digest(['2x3;', new Uint8Array(new Float32Array([1, 2, 4]).buffer)]), a);
  assert.notEqual(digest(['3x2;', new Uint8Array(new Float32Array([1, 2, 3]).buffer)]), a);
});

test('commander, cli-progress and the native addon are replaced; node:module stays a dynamic import', async () => {
  const m = await bundleAndImport(`
    import { InvalidArgumentError } from 'commander';
    import bars from 'cli-progress';
    import { loadNativeAddon } from './src/backend/nativeAddon.js';
    export const error = new InvalidArgumentError('bad');
    export const bar = () => new bars.SingleBar({});
    export const native = loadNativeAddon();
    export const lazy = () => import('node:module');`);
  assert.ok(m.error instanceof Error);
  assert.throws(m.bar as () => unknown, /cli-progress.SingleBar is not available in the browser/);
  assert.deepEqual(m.native, { addon: null, reason: 'the native addon is Node-only' });
  assert.equal(typeof ((await (m.lazy as () => Promise<Record<string, unknown>>)()).createRequire), 'function');
});
