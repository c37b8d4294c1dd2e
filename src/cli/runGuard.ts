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

/** `train`: refuse to overwrite the model and history of a finished run in `out` unless `force`. */
export async function guardFinishedOutput(out: string, files: readonly string[], force: boolean): Promise<void> {
  if (force) return;
  for (const f of files) {
    const p = path.join(path.resolve(out), f);
    if (await fs.stat(p).then(() => true, () => false)) {
      fail(`--out ${path.resolve(out)} already holds ${f} of a finished run; choose another --out, or give --force to overwrite it`);
    }
  }
}
