/**
 * Nothing lost: the checks a command makes before it starts, so that a fresh run never deletes or overwrites what
 * an earlier run left (its checkpoints, its model) unless the user says `--force`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fail } from '../util/errors.js';

const CHECKPOINT_NAME = /^ckpt-\d{8,}(-\d+)?$/;

/** Names of the checkpoints (and LATEST) in `root`; [] when it does not exist. */
async function checkpointEntries(root: string): Promise<string[]> {
  try {
    return (await fs.readdir(root)).filter((e) => e === 'LATEST' || CHECKPOINT_NAME.test(e));
  } catch {
    return [];
  }
}

/**
 * `train`: a run that is not resuming from `root` would prune the checkpoints already there (its `keep` counts only
 * its own), so refuse unless `force`.
 */
export async function guardCheckpointRoot(root: string, resume: string | undefined, force: boolean): Promise<void> {
  if (force) return;
  const found = await checkpointEntries(root);
  if (found.length === 0) return;
  const abs = path.resolve(root);
  const resumesHere = resume !== undefined && [path.resolve(resume), path.dirname(path.resolve(resume))].includes(abs);
  if (resumesHere) return;
  fail(`checkpoint dir ${abs} holds checkpoints of an earlier run (${found.filter((e) => e !== 'LATEST').length} found); ` +
    `continue it with --resume ${abs}, or give --force to start over (the old checkpoints will be pruned)`);
}

/**
 * The settings of a finished run, as `runSettings` inside its record file (train: history.json, reproduce:
 * results.json). A rerun with identical settings reuses the run instead of training it again (issue #19); one with
 * other settings is refused unless `force`.
 */
export interface RunSettings {
  /** The file, relative to `out`, that holds `runSettings` once the run has finished. */
  file: string;
  /** Plain JSON: what determines the run's result (config, data digests, seed, epochs, ...). */
  value: unknown;
}

/** JSON with object keys sorted, so that two equal settings give the same text whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The first top-level key whose value differs between the two settings, for the refusal message. */
function firstDifference(there: unknown, here: unknown): string {
  const a = (there ?? {}) as Record<string, unknown>;
  const b = (here ?? {}) as Record<string, unknown>;
  const key = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().find((k) => canonicalJson(a[k]) !== canonicalJson(b[k]));
  if (key === undefined) return 'no settings recorded there';
  const show = (v: unknown) => { const t = canonicalJson(v); return t.length > 60 ? `${t.slice(0, 57)}...` : t; };
  return `${key}: ${show(a[key])} there, ${show(b[key])} here`;
}

async function recordedSettings(out: string, settings: RunSettings): Promise<unknown> {
  try {
    const doc = JSON.parse(await fs.readFile(path.join(out, settings.file), 'utf8')) as { runSettings?: unknown };
    return doc.runSettings;
  } catch {
    return undefined;
  }
}

/**
 * `train`, `reproduce`: before any work, look for a finished run in `out` (any of `files`). None: go on (false).
 * One with the same `settings`: report it and reuse it (true). Otherwise refuse to overwrite it unless `force`.
 */
export async function guardFinishedOutput(out: string, files: readonly string[], force: boolean, settings?: RunSettings): Promise<boolean> {
  if (force) return false;
  const abs = path.resolve(out);
  for (const f of files) {
    if (!(await fs.stat(path.join(abs, f)).then(() => true, () => false))) continue;
    const there = settings ? await recordedSettings(abs, settings) : undefined;
    if (settings && there !== undefined && canonicalJson(there) === canonicalJson(settings.value)) return true;
    const why = settings ? ` (its settings differ in ${firstDifference(there, settings.value)})` : '';
    fail(`--out ${abs} already holds ${f} of a finished run; choose another --out, or give --force to overwrite it${why}`);
  }
  return false;
}
