/**
 * The core entry (src/index.ts, the package's `icnn`) bundles for the browser with esbuild, and nothing in it imports
 * a `node:` module (issue #17, package shape). The one `node:` specifier left in the bundle is inside the HiGHS
 * wasm build (npm `highs`): a dynamic import that its Emscripten glue runs only under Node, so it is marked external
 * here, as a browser bundler would leave it, and the test checks that it is exactly that and nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface NodeImport {
  from: string;
  path: string;
  kind: string;
}

function nodeImports(meta: Metafile): NodeImport[] {
  return Object.entries(meta.inputs).flatMap(([from, input]) =>
    input.imports.filter((i) => i.path.startsWith('node:')).map((i) => ({ from, path: i.path, kind: i.kind })));
}

async function bundle(entry: string) {
  return build({
    absWorkingDir: ROOT, entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false,
    metafile: true, logLevel: 'silent', external: ['node:*'],
  });
}

test('the core entry bundles for platform browser, with no node: import of its own', async () => {
  const result = await bundle('src/index.ts');
  assert.deepEqual(result.errors, []);
  const code = result.outputFiles[0].text;
  assert.ok(code.length > 100_000, `a bundle of the library and tfjs (${code.length} bytes)`);
  const sources = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('src/'));
  assert.ok(sources.includes('src/models/picnn.ts') && sources.includes('src/learning/fit.ts'), 'models and training are in the core');
  for (const nodeOnly of ['src/node.ts', 'src/models/modelFiles.ts', 'src/learning/checkpoint.ts', 'src/backend/nativeKernels.ts', 'src/data/resolve.ts']) {
    assert.ok(!sources.includes(nodeOnly), `${nodeOnly} stays out of the core bundle`);
  }
  const found = nodeImports(result.metafile);
  assert.deepEqual(found.filter((i) => i.from.startsWith('src/')), [], 'no source file of the core imports node:');
  assert.deepEqual(found.filter((i) => i.kind !== 'dynamic-import'), [], 'no static import or require of node: in the bundle');
  assert.deepEqual(found.map((i) => `${i.from} ${i.path}`), ['node_modules/highs/build/highs.mjs node:module'], 'only the guarded one in HiGHS');
  assert.doesNotMatch(code, /^import .* from ["']node:/m, 'the output imports no node: module at the top');
});

test('the Node entry does import node: modules (the check above can fail)', async () => {
  const result = await bundle('src/node.ts');
  const own = nodeImports(result.metafile).filter((i) => i.from.startsWith('src/'));
  assert.ok(own.some((i) => i.path === 'node:fs' || i.path === 'node:fs/promises'), JSON.stringify(own.slice(0, 3)));
});
