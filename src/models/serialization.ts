/**
 * Saving and loading models.
 *
 * A saved model is a directory with `model.json` (format tag, kind, full config, weight manifest with sha256)
 * and `weights-<hash>.bin` (float32 little-endian, tensors back to back). The weights file is written first
 * under a content-addressed name, then model.json is replaced atomically, then stale weight files are removed:
 * a killed save leaves the previous model intact. `load` refuses truncated, corrupted or mismatched files.
 * `toJSON` gives the same document with the weights inline (base64) instead of a file.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnergyModel } from './energyModel.js';
import { buildModel } from './registry.js';
import { removeStaleTempFiles, writeFileAtomic } from '../util/atomicFile.js';
import { IcnnError, fail } from '../util/errors.js';
import { VERSION } from '../version.js';

/** The `format` field of a saved model's JSON document. */
export const MODEL_FORMAT = 'icnn-model';
/** The `formatVersion` field of a saved model's JSON document. */
export const MODEL_FORMAT_VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
  role: string;
  /** Offset in bytes into the weight buffer. */
  offset: number;
}

export interface WeightManifest {
  dtype: 'float32';
  byteLength: number;
  sha256: string;
  tensors: TensorEntry[];
  /** File name next to model.json (saved models). */
  file?: string;
  /** Base64 of the weight buffer (toJSON). */
  data?: string;
}

/** A saved model: format and its version, the library version, kind, configuration and the weights manifest. */
export interface ModelJSON {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  library: string;
  kind: string;
  config: Record<string, unknown>;
  weights: WeightManifest;
}

function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Pack every parameter into one little-endian float32 buffer. */
function packWeights(model: EnergyModel): { buffer: Uint8Array; tensors: TensorEntry[] } {
  const params = model.parameters();
  const total = params.reduce((n, p) => n + p.variable.size, 0);
  const floats = new Float32Array(total);
  const tensors: TensorEntry[] = [];
  let at = 0;
  for (const p of params) {
    floats.set(p.variable.dataSync() as Float32Array, at);
    tensors.push({ name: p.name, shape: [...p.variable.shape], role: p.role, offset: at * 4 });
    at += p.variable.size;
  }
  return { buffer: new Uint8Array(floats.buffer), tensors };
}

function manifestOf(model: EnergyModel, buffer: Uint8Array, tensors: TensorEntry[]): Omit<ModelJSON, 'weights'> & { weights: WeightManifest } {
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    library: `icnn@${VERSION}`,
    kind: model.kind,
    config: JSON.parse(JSON.stringify(model.config)) as Record<string, unknown>,
    weights: { dtype: 'float32', byteLength: buffer.byteLength, sha256: sha256(buffer), tensors },
  };
}

export function modelToJSON(model: EnergyModel): ModelJSON {
  const { buffer, tensors } = packWeights(model);
  const doc = manifestOf(model, buffer, tensors);
  doc.weights.data = Buffer.from(buffer).toString('base64');
  return doc;
}

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

function checkDocument(doc: unknown, where: string): ModelJSON {
  if (typeof doc !== 'object' || doc === null) fail(`${where}: expected a JSON object, got ${doc === null ? 'null' : typeof doc}`);
  const d = doc as Partial<ModelJSON>;
  if (d.format !== MODEL_FORMAT) fail(`${where}: not an icnn model (format ${JSON.stringify(d.format)}, expected '${MODEL_FORMAT}')`);
  if (d.formatVersion !== MODEL_FORMAT_VERSION) {
    fail(`${where}: unsupported formatVersion ${JSON.stringify(d.formatVersion)} (this library reads version ${MODEL_FORMAT_VERSION})`);
  }
  const w = d.weights;
  if (!w || typeof w !== 'object' || !Array.isArray(w.tensors) || typeof w.byteLength !== 'number' || typeof w.sha256 !== 'string') {
    fail(`${where}: the weights manifest is missing or malformed`);
  }
  if (w.dtype !== 'float32') fail(`${where}: unsupported weights dtype ${JSON.stringify(w.dtype)} (expected 'float32')`);
  w.tensors.forEach((t: unknown, i: number) => {
    const e = t as Partial<TensorEntry> | null;
    const ok = typeof e === 'object' && e !== null && typeof e.name === 'string' && Array.isArray(e.shape) &&
      e.shape.every((n) => Number.isInteger(n) && n >= 0) && Number.isInteger(e.offset);
    if (!ok) fail(`${where}: weights manifest entry ${i} is malformed (expected { name, shape, offset }), got ${JSON.stringify(t)}`);
  });
  if (typeof d.config !== 'object' || d.config === null || Array.isArray(d.config)) fail(`${where}: the config is missing`);
  checkManifestSizes(d as ModelJSON, where);
  return d as ModelJSON;
}

/** The largest weight buffer this library loads (1 GiB of float32): beyond it a manifest is taken as damaged. */
export const MAX_WEIGHT_BYTES = 2 ** 30;

/** Config keys that give sizes (widths, shapes, channels): each must fit in the stored parameters. */
const SIZE_KEY = /(Dim|Shape|hidden|Hidden|channels|filters|size)$/;

/** Every number under a size key of `config`, with its path. */
function sizeEntries(config: unknown, at: string, underSize: boolean, out: [string, unknown][]): [string, unknown][] {
  if (Array.isArray(config)) config.forEach((v, i) => sizeEntries(v, `${at}[${i}]`, underSize, out));
  else if (typeof config === 'object' && config !== null) {
    for (const [k, v] of Object.entries(config)) sizeEntries(v, `${at}.${k}`, underSize || SIZE_KEY.test(k), out);
  } else if (underSize) out.push([at, config]);
  return out;
}

/**
 * Check the manifest before anything is allocated: the buffer is within MAX_WEIGHT_BYTES, and no size in the config exceeds the parameters stored (a model.json with xDim 2e7
 * would otherwise build gigabytes of tensors before failing).
 */
function checkManifestSizes(doc: ModelJSON, where: string): void {
  const w = doc.weights;
  if (!Number.isSafeInteger(w.byteLength) || w.byteLength < 0 || w.byteLength > MAX_WEIGHT_BYTES || w.byteLength % 4 !== 0) {
    fail(`${where}: the weights manifest's byteLength ${JSON.stringify(w.byteLength)} is not a float32 buffer size up to ${MAX_WEIGHT_BYTES} bytes; the file is damaged`);
  }
  const stored = w.byteLength / 4;
  for (const [at, v] of sizeEntries(doc.config, 'config', false, [])) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v > Math.max(stored, 1))) {
      fail(`${where}: ${at} is ${v}, more than the ${stored} parameters stored in the weights; the model.json is damaged`);
    }
  }
}

/** Build the model of `doc` and fill its parameters from `buffer`, checking size, checksum and shapes. */
function restore(doc: ModelJSON, buffer: Uint8Array, where: string): EnergyModel {
  const w = doc.weights;
  if (buffer.byteLength !== w.byteLength) {
    fail(`${where}: weights are truncated or padded: expected ${w.byteLength} bytes, found ${buffer.byteLength}`);
  }
  const digest = sha256(buffer);
  if (digest !== w.sha256) fail(`${where}: weights are corrupted: sha256 ${digest} does not match the manifest's ${w.sha256}`);
  let model: EnergyModel;
  try {
    model = buildModel(doc.kind, doc.config, where);
  } catch (e) {
    if (e instanceof IcnnError && !e.message.startsWith(where)) fail(`${where}: the ${String(doc.kind)} config in the file is invalid: ${e.message}`);
    throw e;
  }
  try {
    const byName = new Map(w.tensors.map((t) => [t.name, t]));
    const aligned = new Uint8Array(buffer.byteLength);
    aligned.set(buffer);
    const floats = new Float32Array(aligned.buffer);
    for (const p of model.parameters()) {
      const entry = byName.get(p.name);
      if (!entry) fail(`${where}: the file has no tensor '${p.name}' that this ${doc.kind} config needs`);
      const expected = p.variable.shape;
      if (entry.shape.length !== expected.length || entry.shape.some((s, i) => s !== expected[i])) {
        fail(`${where}: tensor '${p.name}' has shape [${entry.shape.join(', ')}] in the file, but the config implies [${expected.join(', ')}]`);
      }
      const start = entry.offset / 4;
      if (!Number.isInteger(start) || start < 0 || start + p.variable.size > floats.length) {
        fail(`${where}: tensor '${p.name}' lies outside the weight buffer (offset ${entry.offset})`);
      }
      const values = tf.tensor(floats.subarray(start, start + p.variable.size), expected, 'float32');
      p.variable.assign(values);
      values.dispose();
      byName.delete(p.name);
    }
    if (byName.size > 0) fail(`${where}: the file has tensors that this ${doc.kind} config does not: ${[...byName.keys()].join(', ')}`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * Rebuild a model from the document of `model.toJSON()`, whatever its kind.
 *
 * @param json - a `ModelJSON` document (weights inline)
 * @returns the model, of the class that was saved
 */
export function modelFromJSON(json: unknown): EnergyModel {
  const where = 'modelFromJSON';
  let parsed = json;
  if (typeof json === 'string') {
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      fail(`${where}: the string is not valid JSON (${(e as Error).message})`);
    }
  }
  const doc = checkDocument(parsed, where);
  if (typeof doc.weights.data !== 'string') fail(`${where}: the document has no inline weights (use loadModel for a saved directory)`);
  return restore(doc, new Uint8Array(Buffer.from(doc.weights.data, 'base64')), where);
}

/**
 * Load a model saved with `model.save(dir)`, whatever its kind.
 *
 * @param dir - the directory `save` wrote
 * @returns the model, of the class that was saved
 */
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
