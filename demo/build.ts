/**
 * Builds the demo page (demo/index.html + demo/src/main.ts) into a static folder that can be hosted anywhere:
 * index.html, style.css, main.js (esbuild bundle for the browser) and the .wasm files it loads at run time (tfjs's
 * wasm backend, HiGHS for the bundle method's LPs).
 *
 *   npm run build:demo            → demo/dist/
 *   tsx demo/build.ts <outDir>
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeStubs } from './nodeStubs.js';

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

/** Build the page into `outDir` (replaced whole: built in a sibling folder, then renamed over it). Returns outDir. */
export async function buildDemo(outDir: string = DEFAULT_OUT_DIR): Promise<string> {
  const target = path.resolve(outDir);
  const staging = `${target}.tmp-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  try {
    await build({
      entryPoints: [path.join(DEMO_DIR, 'src/main.ts')],
      outfile: path.join(staging, 'main.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      sourcemap: false,
      logLevel: 'error',
      plugins: [nodeStubs()],
    });
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
