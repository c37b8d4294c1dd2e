/** `icnn status`: library version, tensor backend, threads. */
import { Command } from 'commander';
import { VERSION } from '../../version.js';
import type { BackendInfo } from '../../backend/backend.js';

/** Which matmul path runs: the native addon (instruction set, threads) or the backend's own kernels, and why. */
function nativeLine(info: BackendInfo): string {
  const n = info.native;
  if (!n.enabled) return `off (${n.reason}): matmuls run on ${info.name}`;
  const where = info.name === 'wasm' ? 'active' : `inactive (backend is ${info.name}, not wasm)`;
  return `${where}: ${n.kernels.join(', ')} on ${n.isa}, ${n.threads} thread${n.threads === 1 ? '' : 's'}`;
}

export function statusCommand(): Command {
  return new Command('status')
    .description('print the library version and the tensor backend in use')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { ready } = await import('../../backend/backend.js');
      const info = await ready();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ version: VERSION, backend: info }, null, 2)}\n`);
        return;
      }
      process.stdout.write([
        `icnn ${VERSION}`,
        `backend   ${info.name}${info.simd ? ' (SIMD)' : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`,
        `native    ${nativeLine(info)}`,
        `tfjs      ${info.tfjsVersion}`,
        `available ${info.available.join(', ')}`,
        `node      ${process.version}`,
        '',
      ].join('\n'));
    });
}
