/**
 * Models on disk (Node): a directory with `model.json` and `weights-<hash>.bin`, as ./serialization.ts describes.
 * The weights file is written first under a content-addressed name, then model.json is replaced atomically, then
 * stale weight files are removed: a killed save leaves the previous model intact.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnergyModel } from './energyModel.js';
// The model classes register their kinds when imported: loadModel must be able to build any of them.
import './index.js';
import { checkDocument, manifestOf, packWeights, restore } from './serialization.js';
import { removeStaleTempFiles, writeFileAtomic } from '../util/atomicFile.js';
import { fail } from '../util/errors.js';

/**
 * Save a model to a directory (`model.json` and a content-addressed weights file), atomically: a save killed midway
 * leaves the previous model in `dir` loadable.
 */
export async function saveModel(model: EnergyModel, dir: string): Promise<void> {
  const { buffer, tensors } = packWeights(model);
  const doc = manifestOf(model, buffer, tensors);
  const file = `weights-${doc.weights.sha256.slice(0, 16)}.bin`;
  doc.weights.file = file;
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, file), buffer);
  await writeFileAtomic(path.join(dir, 'model.json'), `${JSON.stringify(doc, null, 2)}\n`);
  for (const entry of await fs.readdir(dir)) {
    if (entry !== file && /^weights-[0-9a-f]{16}\.bin$/.test(entry)) await fs.rm(path.join(dir, entry), { force: true });
  }
  // Temporary files of saves that were killed mid-write (their process is gone) would otherwise pile up.
  await removeStaleTempFiles(dir);
}

/** Load a model that `saveModel` (or `model.save`) wrote, checking the format, the weights' size and their sha256. */
export async function loadModel(dir: string): Promise<EnergyModel> {
  const jsonPath = path.join(dir, 'model.json');
  const where = `loadModel(${dir})`;
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const dirExists = await fs.stat(dir).then((st) => st.isDirectory(), () => false);
      if (!dirExists) fail(`${where}: no saved model there: directory ${dir} does not exist (ENOENT)`);
      fail(`${where}: no saved model there: ${jsonPath} not found (ENOENT)`);
    }
    fail(`${where}: cannot read ${jsonPath}: ${code ?? (e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`${where}: model.json is not valid JSON (${(e as Error).message})`);
  }
  const doc = checkDocument(parsed, where);
  const file = doc.weights.file;
  if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) fail(`${where}: model.json names no valid weights file`);
  let buffer: Uint8Array;
  try {
    buffer = new Uint8Array(await fs.readFile(path.join(dir, file)));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(`${where}: the weights file ${file} named by model.json is missing (ENOENT)`);
    fail(`${where}: cannot read weights file ${file}: ${code ?? (e as Error).message}`);
  }
  return restore(doc, buffer, where);
}
