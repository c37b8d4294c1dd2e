/**
 * Builds the demo page (demo/index.html + demo/src/main.ts) into a static folder that can be hosted anywhere:
 * index.html, style.css, main.js (esbuild bundle for the browser) and the .wasm files it loads at run time (tfjs's
 * wasm backend, HiGHS for the bundle method's LPs).
 *
 * The page imports the library as a user does, from the core entry `icnn` (demo/tsconfig.json maps it to
 * src/index.ts, so the page is built from the current sources; esbuild reads the same mapping). The core imports
 * nothing of Node, and the build keeps it that way: a Node builtin anywhere in the page's import graph fails the
 * build with the chain of imports that reached it (see `bundleForBrowser`).
 *
 *   npm run build:demo            → demo/dist/
 *   tsx demo/build.ts <outDir>
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

const DEMO_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(DEMO_DIR);
export const DEFAULT_OUT_DIR = path.join(DEMO_DIR, 'dist');

/** Files served next to main.js: the page itself and the wasm binaries the bundle fetches by name. */
const STATIC_FILES: [from: string, to: string][] = [
  ['demo/index.html', 'index.html'],
  ['demo/style.css', 'style.css'],
  ['node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm', 'tfjs-backend-wasm.wasm'],
  ['node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-simd.wasm'],
  ['node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'],
  // HiGHS's glue looks for highs.wasm next to the script that loads it (new URL('highs.wasm', import.meta.url)).
  ['node_modules/highs/build/highs.wasm', 'highs.wasm'],
];

/**
 * The one Node import a browser bundle of the core keeps: HiGHS's Emscripten glue imports node:module dynamically,
 * on its Node path only (as in test/package/browserBundle.test.ts).
 */
const ALLOWED_NODE_IMPORTS = new Set(['node_modules/highs/build/highs.mjs node:module dynamic-import']);

/** Builtins without the node: prefix ("fs", "fs/promises"). */
const BARE_BUILTIN = new RegExp(`^(${builtinModules.filter((m) => !m.startsWith('_')).join('|')})(/|$)`);
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || BARE_BUILTIN.test(specifier);

/**
 * Leaves the Node builtin imports external instead of failing at the first one (esbuild's own error names one
 * import and suggests platform 'node'), so that `nodeImportChains` can list them all with their chains: every
 * `node:` import, and the bare ones ("fs") of the repository's own code. The bare ones inside packages are left to
 * esbuild, which applies their "browser" fields (tfjs maps "fs" to an empty module) and fails on the others.
 */
const keepNodeImportsExternal: Plugin = {
  name: 'keep-node-imports-external',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
    b.onResolve({ filter: BARE_BUILTIN }, (args) =>
      (args.importer.split(path.sep).includes('node_modules') ? undefined : { path: args.path, external: true }));
  },
};

/** Each Node builtin import in the bundle (other than the allowed one), as "specifier ← the chain from the entry". */
function nodeImportChains(meta: Metafile): string[] {
  const parent = new Map<string, string>();
  const entries = Object.values(meta.outputs).flatMap((o) => (o.entryPoint ? [o.entryPoint] : []));
  const queue = [...entries];
  for (const file of queue) {
    for (const i of meta.inputs[file]?.imports ?? []) {
      if (i.external || parent.has(i.path) || entries.includes(i.path)) continue;
      parent.set(i.path, file);
      queue.push(i.path);
    }
  }
  const chainTo = (file: string): string[] => (parent.has(file) ? [...chainTo(parent.get(file)!), file] : [file]);
  return queue.flatMap((file) => (meta.inputs[file]?.imports ?? [])
    .filter((i) => i.external && isBuiltin(i.path) && !ALLOWED_NODE_IMPORTS.has(`${file} ${i.path} ${i.kind}`))
    .map((i) => `${i.path} ← ${chainTo(file).join(' → ')}`));
}

/**
 * Bundle `entry` (and what it imports) for the browser into `outfile`. Fails, writing nothing, when the bundle
 * would import a Node builtin: a browser has none, and the page must not depend on Node-only code.
 */
export async function bundleForBrowser(entry: string, outfile: string): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    write: false,
    metafile: true,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    logLevel: 'error',
    plugins: [keepNodeImportsExternal],
  });
  const chains = nodeImportChains(result.metafile);
  if (chains.length > 0) {
    throw new Error(`demo bundle: ${path.relative(ROOT, entry)} reaches Node-only modules, which a browser does not have ` +
      `(the page may use the core entry 'icnn', not Node-only code such as 'icnn/node'):\n  ${chains.join('\n  ')}`);
  }
  await fs.writeFile(outfile, result.outputFiles[0].contents);
}

/** Build the page into `outDir` (replaced whole: built in a sibling folder, then renamed over it). Returns outDir. */
export async function buildDemo(outDir: string = DEFAULT_OUT_DIR): Promise<string> {
  const target = path.resolve(outDir);
  const staging = `${target}.tmp-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  try {
    await bundleForBrowser(path.join(DEMO_DIR, 'src/main.ts'), path.join(staging, 'main.js'));
    for (const [from, to] of STATIC_FILES) await fs.copyFile(path.join(ROOT, from), path.join(staging, to));
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(staging, target);
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true });
    throw e;
  }
  return target;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildDemo(process.argv[2] ?? DEFAULT_OUT_DIR);
  console.log(`demo built in ${path.relative(process.cwd(), out) || '.'}`);
}
