/**
 * Saving and loading models: the documents and the weight buffer (./modelFiles.ts puts them on disk).
 *
 * A saved model is a directory with `model.json` (format tag, kind, full config, weight manifest with sha256)
 * and `weights-<hash>.bin`, a safetensors file (../util/safetensors.ts: PyTorch reads it with
 * `safetensors.torch.load_file`; its `__metadata__` repeats the kind and config). Format version 1 (raw float32
 * back to back, offsets in the manifest) is still read. The weights file is written first
 * under a content-addressed name, then model.json is replaced atomically, then stale weight files are removed:
 * a killed save leaves the previous model intact. `load` refuses truncated, corrupted or mismatched files.
 * `toJSON` gives the same document with the weights inline (base64) instead of a file.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyModel } from './energyModel.js';
import { buildModel } from './registry.js';
import { base64ToBytes, bytesToBase64 } from '../util/base64.js';
import { sha256Hex } from '../util/sha256.js';
import { decodeSafetensors, encodeSafetensors } from '../util/safetensors.js';
import { IcnnError, fail } from '../util/errors.js';
import { VERSION } from '../version.js';

/** The `format` tag of a saved model's `model.json`: `load` refuses a document without it. */
export const MODEL_FORMAT = 'icnn-model';
/** The format version this library writes (2: safetensors weights); version 1 is still read. */
export const MODEL_FORMAT_VERSION = 2;
/** Versions `load` reads: 1 (raw float32 weights), 2 (safetensors weights). */
const READABLE_VERSIONS = [1, 2];

export interface TensorEntry {
  name: string;
  shape: number[];
  role: string;
  /** Format version 1 only: offset in bytes into the raw float32 weight buffer. */
  offset?: number;
}

export interface WeightManifest {
  dtype: 'float32';
  /** Size of the weights file (format 2: the whole safetensors file). */
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

/** Every parameter in one safetensors buffer, with the kind and config in its metadata. */
export function packWeights(model: EnergyModel): { buffer: Uint8Array; tensors: TensorEntry[] } {
  const params = model.parameters();
  const buffer = encodeSafetensors(
    params.map((p) => ({ name: p.name, shape: p.variable.shape, data: p.variable.dataSync() as Float32Array })),
    { format: MODEL_FORMAT, library: `icnn@${VERSION}`, kind: model.kind, config: JSON.stringify(model.config) },
  );
  return { buffer, tensors: params.map((p) => ({ name: p.name, shape: [...p.variable.shape], role: p.role })) };
}

export function manifestOf(model: EnergyModel, buffer: Uint8Array, tensors: TensorEntry[]): Omit<ModelJSON, 'weights'> & { weights: WeightManifest } {
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    library: `icnn@${VERSION}`,
    kind: model.kind,
    config: JSON.parse(JSON.stringify(model.config)) as Record<string, unknown>,
    weights: { dtype: 'float32', byteLength: buffer.byteLength, sha256: sha256Hex(buffer), tensors },
  };
}

export function modelToJSON(model: EnergyModel): ModelJSON {
  const { buffer, tensors } = packWeights(model);
  const doc = manifestOf(model, buffer, tensors);
  doc.weights.data = bytesToBase64(buffer);
  return doc;
}

export function checkDocument(doc: unknown, where: string): ModelJSON {
  if (typeof doc !== 'object' || doc === null) fail(`${where}: expected a JSON object, got ${doc === null ? 'null' : typeof doc}`);
  const d = doc as Partial<ModelJSON>;
  if (d.format !== MODEL_FORMAT) fail(`${where}: not an icnn model (format ${JSON.stringify(d.format)}, expected '${MODEL_FORMAT}')`);
  if (!READABLE_VERSIONS.includes(d.formatVersion as number)) {
    fail(`${where}: unsupported formatVersion ${JSON.stringify(d.formatVersion)} (this library reads versions ${READABLE_VERSIONS.join(' and ')})`);
  }
  const w = d.weights;
  if (!w || typeof w !== 'object' || !Array.isArray(w.tensors) || typeof w.byteLength !== 'number' || typeof w.sha256 !== 'string') {
    fail(`${where}: the weights manifest is missing or malformed`);
  }
  if (w.dtype !== 'float32') fail(`${where}: unsupported weights dtype ${JSON.stringify(w.dtype)} (expected 'float32')`);
  w.tensors.forEach((t: unknown, i: number) => {
    const e = t as Partial<TensorEntry> | null;
    const ok = typeof e === 'object' && e !== null && typeof e.name === 'string' && Array.isArray(e.shape) &&
      e.shape.every((n) => Number.isInteger(n) && n >= 0) && (d.formatVersion !== 1 || Number.isInteger(e.offset));
    if (!ok) fail(`${where}: weights manifest entry ${i} is malformed (expected { name, shape${d.formatVersion === 1 ? ', offset' : ''} }), got ${JSON.stringify(t)}`);
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
  const rawFloats = doc.formatVersion === 1;
  if (!Number.isSafeInteger(w.byteLength) || w.byteLength < 0 || w.byteLength > MAX_WEIGHT_BYTES || (rawFloats && w.byteLength % 4 !== 0)) {
    fail(`${where}: the weights manifest's byteLength ${JSON.stringify(w.byteLength)} is not a ${rawFloats ? 'float32 buffer' : 'weights file'} size up to ${MAX_WEIGHT_BYTES} bytes; the file is damaged`);
  }
  const stored = Math.floor(w.byteLength / 4);
  for (const [at, v] of sizeEntries(doc.config, 'config', false, [])) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v > Math.max(stored, 1))) {
      fail(`${where}: ${at} is ${v}, more than the ${stored} parameters stored in the weights; the model.json is damaged`);
    }
  }
}

/** The values of each stored tensor by name: the safetensors file (format 2) or the manifest's offsets (format 1). */
function storedTensors(doc: ModelJSON, buffer: Uint8Array, where: string): (entry: TensorEntry) => Float32Array {
  if (doc.formatVersion !== 1) {
    const { arrays } = decodeSafetensors(buffer, `${where}: weights file`);
    return (entry) => {
      const stored = arrays.get(entry.name);
      if (!stored) fail(`${where}: tensor '${entry.name}' is in model.json but not in the weights file`);
      if (stored.shape.length !== entry.shape.length || stored.shape.some((s, i) => s !== entry.shape[i])) {
        fail(`${where}: tensor '${entry.name}' has shape [${stored.shape.join(', ')}] in the weights file, [${entry.shape.join(', ')}] in model.json`);
      }
      return stored.data;
    };
  }
  const aligned = new Uint8Array(buffer.byteLength);
  aligned.set(buffer);
  const floats = new Float32Array(aligned.buffer);
  return (entry) => {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const start = (entry.offset as number) / 4;
    if (!Number.isInteger(start) || start < 0 || start + size > floats.length) {
      fail(`${where}: tensor '${entry.name}' lies outside the weight buffer (offset ${entry.offset})`);
    }
    return floats.subarray(start, start + size);
  };
}

/** Build the model of `doc` and fill its parameters from `buffer`, checking size, checksum and shapes. */
export function restore(doc: ModelJSON, buffer: Uint8Array, where: string): EnergyModel {
  const w = doc.weights;
  if (buffer.byteLength !== w.byteLength) {
    fail(`${where}: weights are truncated or padded: expected ${w.byteLength} bytes, found ${buffer.byteLength}`);
  }
  const digest = sha256Hex(buffer);
  if (digest !== w.sha256) fail(`${where}: weights are corrupted: sha256 ${digest} does not match the manifest's ${w.sha256}`);
  const valuesOf = storedTensors(doc, buffer, where);
  let model: EnergyModel;
  try {
    model = buildModel(doc.kind, doc.config, where);
  } catch (e) {
    if (e instanceof IcnnError && !e.message.startsWith(where)) fail(`${where}: the ${String(doc.kind)} config in the file is invalid: ${e.message}`);
    throw e;
  }
  try {
    const byName = new Map(w.tensors.map((t) => [t.name, t]));
    for (const p of model.parameters()) {
      const entry = byName.get(p.name);
      if (!entry) fail(`${where}: the file has no tensor '${p.name}' that this ${doc.kind} config needs`);
      const expected = p.variable.shape;
      if (entry.shape.length !== expected.length || entry.shape.some((s, i) => s !== expected[i])) {
        fail(`${where}: tensor '${p.name}' has shape [${entry.shape.join(', ')}] in the file, but the config implies [${expected.join(', ')}]`);
      }
      const values = tf.tensor(valuesOf(entry), expected, 'float32');
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
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(doc.weights.data);
  } catch {
    fail(`${where}: the inline weights are not valid base64`);
  }
  return restore(doc, bytes, where);
}
