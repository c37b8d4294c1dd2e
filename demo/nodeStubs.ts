/**
 * TEMPORARY esbuild plugin for the browser bundle, until the browser-safe core entry of issue #17 (`icnn` with no
 * `node:` imports, `icnn/node` for files) lands. The demo imports the library's `src/` modules directly, and a few of
 * them still reach Node-only code that the page never runs:
 *
 * - `node:*` builtins (save/load, checkpoints, atomic files): replaced by modules whose every export throws
 *   "not available in the browser" when used; the export names are read from Node's own module at build time.
 *   `createHash` alone works (a non-cryptographic FNV-1a digest), because `fit` fingerprints its in-memory data
 *   for checkpoint resumes, which the page never uses;
 * - `commander` (one error class, used by `util/numbers.ts`'s CLI parsers) and `cli-progress` (the terminal bar);
 * - `src/backend/nativeAddon.ts` (the optional C++ addon): reports "not available", so the wasm kernels run;
 * - `node:module` inside HiGHS's Emscripten glue is a dynamic import on its Node path only: left external.
 *
 * Delete this file once the demo can import the core entry.
 */
import type { Plugin } from 'esbuild';

const NAMESPACE = 'icnn-browser-stub';

/** A value that throws a one-line error when called or read into, naming what the page tried to use. */
const UNAVAILABLE = `
function unavailable(name) {
  const fail = () => { throw new Error(name + ' is not available in the browser (Node-only code path of icnn)'); };
  return new Proxy(function () {}, {
    get: (_t, key) => (key === Symbol.toPrimitive || key === 'then' ? undefined : unavailable(name + '.' + String(key))),
    apply: fail,
    construct: fail,
  });
}`;

/** FNV-1a over the bytes given, 8 hex digits per 32-bit lane (4 lanes): enough to tell data sets apart. */
const FNV_HASH = `
export function createHash() {
  const lanes = [0x811c9dc5, 0x050c5d1f, 0x01000193, 0x9e3779b9];
  const hash = {
    update(data) {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength ?? data.length);
      for (let l = 0; l < 4; l++) {
        let h = lanes[l];
        for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193 + 2 * l) >>> 0;
        lanes[l] = h;
      }
      return hash;
    },
    digest() { return lanes.map((h) => h.toString(16).padStart(8, '0')).join(''); },
  };
  return hash;
}`;

async function builtinStub(specifier: string): Promise<string> {
  const name = specifier.replace(/^node:/, '');
  const real = (await import(`node:${name}`)) as Record<string, unknown>;
  const lines = [UNAVAILABLE, `export default unavailable('node:${name}');`];
  if (name === 'crypto') lines.push(FNV_HASH);
  for (const key of Object.keys(real)) {
    if (key === 'default' || !/^[A-Za-z_$][\w$]*$/.test(key) || (name === 'crypto' && key === 'createHash')) continue;
    lines.push(`export const ${key} = unavailable('node:${name}.${key}');`);
  }
  return lines.join('\n');
}

const PACKAGE_STUBS: Record<string, string> = {
  commander: 'export class InvalidArgumentError extends Error {}',
  'cli-progress': `${UNAVAILABLE}\nexport default unavailable('cli-progress');`,
};

const NATIVE_ADDON_STUB = `
export const NATIVE_ADDON_PATH = '';
export function loadNativeAddon() { return { addon: null, reason: 'the native addon is Node-only' }; }`;

export function nodeStubs(): Plugin {
  return {
    name: 'icnn-node-stubs',
    setup(build) {
      // HiGHS's glue imports node:module dynamically on its Node path only.
      build.onResolve({ filter: /^node:module$/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
      build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: NAMESPACE }));
      build.onResolve({ filter: /^(commander|cli-progress)$/ }, (args) => ({ path: args.path, namespace: NAMESPACE }));
      build.onResolve({ filter: /(^|\/)nativeAddon\.js$/ }, () => ({ path: 'native-addon', namespace: NAMESPACE }));
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, async (args) => {
        if (args.path === 'native-addon') return { contents: NATIVE_ADDON_STUB, loader: 'js' };
        if (args.path in PACKAGE_STUBS) return { contents: PACKAGE_STUBS[args.path], loader: 'js' };
        return { contents: await builtinStub(args.path), loader: 'js' };
      });
    },
  };
}
