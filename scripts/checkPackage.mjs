#!/usr/bin/env node
// `npm run check:package`: pack the package as npm would publish it (dist must be built: `npm run build`), then
// check the tarball with publint (package.json fields, exports, files) and with Are The Types Wrong (the types of
// every entry point resolve, for Node's ESM and for bundlers). The package is ESM-only (Node >= 20), hence attw's
// esm-only profile. Exits non-zero when either finds a problem.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`check:package: ${path.basename(command)} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  return r;
}

if (!existsSync(path.join(root, 'dist', 'index.js'))) {
  console.error('check:package: dist/ is not built; run `npm run build` first');
  process.exit(1);
}
const out = mkdtempSync(path.join(tmpdir(), 'icnn-pack-'));
try {
  // --ignore-scripts: `prepare` would rebuild dist, which the caller has just built.
  const packed = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: root, encoding: 'utf8' });
  if (packed.status !== 0) {
    console.error(`check:package: npm pack failed:\n${packed.stderr}`);
    process.exit(1);
  }
  const tarball = path.join(out, JSON.parse(packed.stdout)[0].filename);
  console.log(`== publint ${path.basename(tarball)}`);
  run(bin('publint'), ['run', tarball, '--strict']);
  console.log(`== attw ${path.basename(tarball)}`);
  run(bin('attw'), [tarball, '--profile', 'esm-only']);
} finally {
  rmSync(out, { recursive: true, force: true });
}
