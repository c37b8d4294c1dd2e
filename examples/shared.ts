/**
 * What the examples share: their size (`--tiny` or ICNN_EXAMPLE_SIZE=tiny for the test suite's seconds-long runs)
 * and running one as a script (`npx tsx examples/<name>.ts [--tiny]` prints its result as JSON).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ExampleSize = 'tiny' | 'full';

export function sizeFromCommandLine(): ExampleSize {
  return process.argv.includes('--tiny') || process.env.ICNN_EXAMPLE_SIZE === 'tiny' ? 'tiny' : 'full';
}

/** Run `example` when its module is the script node was started with, and print what it returns. */
export async function runIfMain(moduleUrl: string, example: (size: ExampleSize) => Promise<unknown>): Promise<void> {
  if (process.argv[1] === undefined || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  const result = await example(sizeFromCommandLine());
  console.log(JSON.stringify(result, null, 2));
}
