/**
 * What an RL run's output directory already holds, checked before training: a complete run with the same settings
 * is reused (not retrained), a complete run of other settings is never overwritten without `overwrite`
 * (the CLI's --force).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fail } from '../util/errors.js';

/** The settings that make two runs the same run (steps included). */
export type RunSettings = Record<string, unknown>;

/** Parse a JSON file, or null when it does not exist; a damaged file is an error naming it. */
export async function readJsonFileIfExists(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    fail(`${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(`${what} ${file}: not valid JSON (${(e as Error).message}); move the file away or repair it`);
  }
}

function pick(o: Record<string, unknown>, keys: readonly string[]): string {
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, o[k]])));
}

/**
 * The complete result in `outDir/results.json` when its settings equal `settings`; null when there is none (or it
 * is incomplete). Fails when a complete run of other settings is there and `overwrite` is not set.
 */
export async function previousCompleteRun<R>(outDir: string, settings: RunSettings, overwrite: boolean): Promise<R | null> {
  const file = path.join(outDir, 'results.json');
  const prev = await readJsonFileIfExists(file, 'results') as Record<string, unknown> | null;
  if (prev === null || typeof prev !== 'object' || prev.complete !== true) return null;
  const keys = Object.keys(settings);
  const mine = pick(settings, keys);
  const theirs = pick(prev, keys);
  if (mine === theirs) return overwrite ? null : prev as R;
  if (overwrite) return null;
  const differing = keys.filter((k) => JSON.stringify(settings[k]) !== JSON.stringify(prev[k]));
  fail(`${outDir} holds a complete run of other settings (${differing.map((k) => `${k} ${JSON.stringify(prev[k])} there, ${JSON.stringify(settings[k])} here`).join('; ')}); ` +
    'choose another --out, or give --force to overwrite it');
}
