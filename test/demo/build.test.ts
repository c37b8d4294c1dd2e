/**
 * The demo's browser bundle (demo/build.ts): the page bundles with no Node builtin in it, and a Node import anywhere
 * in a page's import graph fails the build, naming the chain of imports that reached it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser } from '../../demo/build.js';
import { tempDirFor } from '../helpers/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A page entry in a temp dir importing `specifiers` (absolute paths, or bare names). */
async function entryImporting(dir: string, specifiers: string[]): Promise<string> {
  const entry = path.join(dir, 'entry.ts');
  await fs.writeFile(entry, specifiers.map((s, i) => `import * as m${i} from ${JSON.stringify(s)};\nconsole.log(m${i});\n`).join(''));
  return entry;
}

test('the demo page bundles for the browser from the core entry, with no Node import left', async (t) => {
  const out = path.join(tempDirFor(t, 'icnn-demo-bundle-'), 'main.js');
  await bundleForBrowser(path.join(ROOT, 'demo/src/main.ts'), out);
  const code = await fs.readFile(out, 'utf8');
  assert.ok(code.length > 100_000, `a bundle of the library and tfjs (${code.length} bytes)`);
  assert.doesNotMatch(code, /\bfrom\s*["']node:|require\(\s*["']node:/, 'no static import or require of node:');
  // The one kept: HiGHS's glue loads node:module with a dynamic import on its Node path only.
  assert.deepEqual(code.match(/import\(\s*["']node:[^"']*["']\s*\)/g), ['import("node:module")']);
});

test('a node: import reached through the library fails the build with its chain, and writes nothing', async (t) => {
  const dir = tempDirFor(t, 'icnn-demo-bundle-');
  const entry = await entryImporting(dir, [path.join(ROOT, 'src/index.ts'), path.join(ROOT, 'src/node.ts')]);
  const out = path.join(dir, 'main.js');
  await assert.rejects(bundleForBrowser(entry, out), (e: Error) => {
    const [first, ...chains] = e.message.split('\n');
    assert.match(first, /^demo bundle: .*entry\.ts reaches Node-only modules, which a browser does not have/);
    assert.ok(chains.length > 0 && chains.every((c) => /^ {2}node:\S+ ← \S*entry\.ts → src\/node\.ts( → \S+)*$/.test(c)), chains.join('\n'));
    assert.ok(chains.some((c) => c.startsWith('  node:fs ')), 'icnn/node reads files');
    return true;
  });
  assert.equal(existsSync(out), false);
});

test("a bare builtin ('fs') in the repository's own code fails the build too", async (t) => {
  const dir = tempDirFor(t, 'icnn-demo-bundle-');
  const entry = await entryImporting(dir, ['fs']);
  await assert.rejects(bundleForBrowser(entry, path.join(dir, 'main.js')), /\n {2}fs ← \S*entry\.ts$/);
});
