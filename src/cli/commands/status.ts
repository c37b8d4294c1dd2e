/** `icnn status`: library version, tensor backend, threads. */
import { Command } from 'commander';
import { VERSION } from '../../version.js';

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
        `tfjs      ${info.tfjsVersion}`,
        `available ${info.available.join(', ')}`,
        `node      ${process.version}`,
        '',
      ].join('\n'));
    });
}
