// Install step (package.json "install"): build the optional native addon with node-gyp against the headers of the
// running Node (--nodedir, so nothing is downloaded). It never fails the install: without a compiler, headers or
// node-gyp it prints one line and the library runs its matmuls on wasm. ICNN_NATIVE=0 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const say = (message) => console.log(`icnn: ${message}`);

/** node-gyp: the one npm runs scripts with (npm sets npm_config_node_gyp), else the copy bundled with npm. */
function findNodeGyp(nodeDir) {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.resolve(path.dirname(process.env.npm_execpath), '../node_modules/node-gyp/bin/node-gyp.js'),
    path.join(nodeDir, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

/** The compiler's or make's own complaint (node-gyp's "gyp ERR!" lines only repeat that it failed). */
function failureReason(text, status) {
  const lines = String(text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('gyp '));
  const complaint = lines.filter((l) => /error|not found|no such file/i.test(l)).pop();
  return complaint ?? `node-gyp exited with status ${status}`;
}

function build() {
  if (process.env.ICNN_NATIVE === '0') return 'native addon skipped (ICNN_NATIVE=0); matmuls run on wasm';
  const nodeDir = path.resolve(path.dirname(process.execPath), '..');
  if (!existsSync(path.join(nodeDir, 'include/node/node_api.h'))) {
    return `native addon not built: no Node headers in ${nodeDir}/include/node; matmuls run on wasm`;
  }
  const nodeGyp = findNodeGyp(nodeDir);
  if (nodeGyp === undefined) return 'native addon not built: node-gyp not found; matmuls run on wasm';
  const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`], {
    cwd: here, encoding: 'utf8', timeout: 600_000,
  });
  if (result.status !== 0) {
    const why = result.error ? result.error.message : failureReason(`${result.stdout}\n${result.stderr}`, result.status);
    return `native addon not built (${why}); matmuls run on wasm`;
  }
  const addon = createRequire(import.meta.url)(path.join(here, 'build/Release/icnn_native.node'));
  const info = addon.info();
  return `native addon built: ${info.isa} micro-kernels, ${info.threads} threads`;
}

try {
  say(build());
} catch (e) {
  say(`native addon not usable (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); matmuls run on wasm`);
}
process.exit(0);
