/**
 * The Node-only halves of the core (the native kernels, model files, checkpoints, progress bars) are loaded on first
 * use, through a specifier that bundlers leave alone, so that the core's import graph stays free of `node:` modules
 * and bundles for the browser (issue #17, package shape). `icnn/node` imports the same modules statically.
 */
import { fail } from './errors.js';

/** Whether this is Node.js (where the Node-only halves can load). */
export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/**
 * Import a module that only works in Node. `specifier` is resolved from this file (src/util or dist/util), like any
 * relative import here. Outside Node, `where` names what needed it in a one-line error.
 */
export async function importNodeOnly<T>(specifier: string, where: string): Promise<T> {
  if (!isNode()) fail(`${where} needs Node.js (it uses files or native code); import it from 'icnn/node' in a Node program`);
  return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
}
