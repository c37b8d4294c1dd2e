/**
 * Training checkpoints: the model, the optimizer's state (Adam by default) and the training loop's counters in one directory, written so
 * that a process killed at any moment leaves the previous checkpoint loadable.
 *
 * Layout of a checkpoint root (`checkpoint.dir`):
 *   LATEST                   name of the newest complete checkpoint (replaced atomically)
 *   ckpt-00000120/           one checkpoint (the step count in the name)
 *     model/                 model.save() output
 *     optimizer.bin          Adam's slot variables m and v: a safetensors file (../util/safetensors.ts; format 1: raw float32)
 *     state.json             format tag, optimizer manifest (iterations, β-powers, slot shapes, sha256), training state
 *   .tmp-ckpt-<pid>-<hex>/   a checkpoint being written
 *
 * A write fills a temporary directory (every file fsynced), renames it to its final name (atomic, same file system),
 * then replaces LATEST atomically, then removes older checkpoints beyond `keep` and temporary directories of dead
 * processes. Killed before LATEST is replaced, the previous checkpoint is still the one LATEST names.
 *
 * Adam's state is read with optimizer.getWeights() and restored with setWeights(); tfjs's Adam also keeps β₁ᵗ and
 * β₂ᵗ as accumulated products, which setWeights recomputes with pow() (not always the same float32), so they are
 * saved and restored exactly: a resumed run then matches an uninterrupted one bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnergyModel } from '../models/energyModel.js';
import { loadModel } from '../models/modelFiles.js';
import { processIsAlive, syncDirectory, writeFileAtomic } from '../util/atomicFile.js';
import { fail } from '../util/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../util/safetensors.js';
import { VERSION } from '../version.js';

/** The `format` tag of a checkpoint's `state.json`: `readCheckpoint` refuses a document without it. */
export const CHECKPOINT_FORMAT = 'icnn-checkpoint';
/** The checkpoint format version this library writes (2: safetensors optimizer.bin); version 1 is still read. */
export const CHECKPOINT_FORMAT_VERSION = 2;
/** Versions `readCheckpoint` reads: 1 (raw float32 optimizer.bin), 2 (safetensors optimizer.bin). */
const READABLE_VERSIONS = [1, 2];

const LATEST = 'LATEST';
const STATE = 'state.json';
const OPTIMIZER = 'optimizer.bin';
const MODEL = 'model';
const NAME = /^ckpt-\d{8,}(-\d+)?$/;
const TEMP = /^\.tmp-ckpt-(\d+)-[0-9a-f]{8}$/;

export interface SlotEntry {
  name: string;
  shape: number[];
  /** Format version 1 only: offset in bytes into the raw float32 optimizer.bin. */
  offset?: number;
}

export interface OptimizerManifest {
  /** The optimizer's tfjs class name in lower case ('adam' for fit's default). */
  kind: string;
  /** Steps the optimizer has taken. */
  iterations: number;
  /** β₁ᵗ⁺¹ and β₂ᵗ⁺¹ as tfjs's Adam holds them (float32 values), or null if they could not be read. */
  accBeta1: number | null;
  accBeta2: number | null;
  byteLength: number;
  sha256: string;
  /** The optimizer's slots as getWeights() lists them (Adam: first moments of every trainable variable in order, then the second moments). */
  slots: SlotEntry[];
}

/** A checkpoint's `state.json`: format tag and version, library version, time written, optimizer manifest and `T`, the loop's state. */
export interface CheckpointDocument<T> {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  library: string;
  created: string;
  optimizer: OptimizerManifest;
  /** The training loop's own state (counters, RNG position, history, best metric). */
  training: T;
}

/** A checkpoint as `readCheckpoint` returns it: its directory, its `state.json` and the optimizer's slot values. */
export interface LoadedCheckpoint<T> {
  /** The checkpoint directory (ckpt-…). */
  dir: string;
  document: CheckpointDocument<T>;
  /** The Adam slots, in the manifest's order. */
  slots: Float32Array[];
}

function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

interface AdamInternals {
  accBeta1?: unknown;
  accBeta2?: unknown;
}

function betaPowers(optimizer: tf.Optimizer): { b1: tf.Variable; b2: tf.Variable } | null {
  const o = optimizer as unknown as AdamInternals;
  return o.accBeta1 instanceof tf.Variable && o.accBeta2 instanceof tf.Variable ? { b1: o.accBeta1, b2: o.accBeta2 } : null;
}

function optimizerKind(optimizer: tf.Optimizer): string {
  return optimizer.getClassName().toLowerCase();
}

/** Serialize an optimizer's state (Adam's β-powers too). */
async function snapshotOptimizer(optimizer: tf.Optimizer): Promise<{ manifest: OptimizerManifest; buffer: Uint8Array }> {
  const weights = await optimizer.getWeights();
  const [iter, ...slots] = weights;
  const iterations = (await iter.tensor.data())[0];
  iter.tensor.dispose(); // a fresh scalar made by getWeights; the slots are the optimizer's own variables
  const entries: SlotEntry[] = [];
  const arrays = [];
  for (const s of slots) {
    entries.push({ name: s.name, shape: [...s.tensor.shape] });
    arrays.push({ name: s.name, shape: s.tensor.shape, data: await s.tensor.data() as Float32Array });
    // tfjs's optimizers hand out their own slot variables; others (../learning/adam.ts) fresh copies.
    if (!(s.tensor instanceof tf.Variable)) s.tensor.dispose();
  }
  const powers = betaPowers(optimizer);
  const buffer = encodeSafetensors(arrays);
  return {
    manifest: {
      kind: optimizerKind(optimizer), iterations,
      accBeta1: powers ? (await powers.b1.data())[0] : null,
      accBeta2: powers ? (await powers.b2.data())[0] : null,
      byteLength: buffer.byteLength, sha256: sha256(buffer), slots: entries,
    },
    buffer,
  };
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(() => true, () => false);
}

/** The name LATEST holds, or null when there is none. */
async function readLatest(root: string): Promise<string | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(root, LATEST), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const name = text.trim();
  if (!NAME.test(name)) fail(`checkpoint ${root}: ${LATEST} names ${JSON.stringify(name.slice(0, 60))}, not a checkpoint`);
  return name;
}

/** The newest complete checkpoint directory under `root`, or null when there is none yet. */
export async function latestCheckpoint(root: string): Promise<string | null> {
  const name = await readLatest(root);
  return name === null ? null : path.join(root, name);
}

/**
 * Writes checkpoints into one root directory, keeping the newest `keep` (default 2) of those it wrote (and the one
 * a run resumed from counts as written).
 */
export class CheckpointWriter {
  private readonly written: string[] = [];

  constructor(readonly root: string, readonly keep = 2, resumedFrom?: string) {
    if (!Number.isInteger(keep) || keep < 1) fail(`checkpoint.keep must be a positive integer, got ${JSON.stringify(keep)}`);
    if (resumedFrom && path.resolve(path.dirname(resumedFrom)) === path.resolve(root)) this.written.push(path.basename(resumedFrom));
  }

  /** Write a checkpoint of `model`, `optimizer` (any tfjs optimizer; Adam by default) and `training`; returns its directory. */
  async write<T>(model: EnergyModel, optimizer: tf.Optimizer, training: T, step: number): Promise<string> {
    await fs.mkdir(this.root, { recursive: true });
    const { manifest, buffer } = await snapshotOptimizer(optimizer);
    const doc: CheckpointDocument<T> = {
      format: CHECKPOINT_FORMAT, formatVersion: CHECKPOINT_FORMAT_VERSION, library: `icnn@${VERSION}`,
      created: new Date().toISOString(), optimizer: manifest, training,
    };
    const tmp = path.join(this.root, `.tmp-ckpt-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.mkdir(tmp);
      await model.save(path.join(tmp, MODEL));
      await writeFileAtomic(path.join(tmp, OPTIMIZER), buffer);
      await writeFileAtomic(path.join(tmp, STATE), `${JSON.stringify(doc, null, 1)}\n`);
      const base = `ckpt-${String(step).padStart(8, '0')}`;
      let name = base;
      for (let i = 1; await exists(path.join(this.root, name)); i++) name = `${base}-${i}`;
      await fs.rename(tmp, path.join(this.root, name));
      await syncDirectory(this.root);
      await writeFileAtomic(path.join(this.root, LATEST), `${name}\n`);
      this.written.push(name);
    } catch (e) {
      await fs.rm(tmp, { recursive: true, force: true });
      throw e;
    }
    await this.cleanUp();
    return path.join(this.root, this.written[this.written.length - 1]);
  }

  /** Remove checkpoints older than the newest `keep` written, and temporary directories of dead processes. */
  private async cleanUp(): Promise<void> {
    const keep = new Set(this.written.slice(-this.keep));
    const latest = await readLatest(this.root);
    if (latest) keep.add(latest);
    for (const entry of await fs.readdir(this.root)) {
      const temp = TEMP.exec(entry);
      const stale = temp ? !processIsAlive(Number(temp[1])) : NAME.test(entry) && !keep.has(entry);
      if (stale) await fs.rm(path.join(this.root, entry), { recursive: true, force: true });
    }
    this.written.splice(0, Math.max(0, this.written.length - this.keep));
  }
}

/**
 * Read a checkpoint: `where` is a checkpoint root (its LATEST is followed) or one checkpoint directory. Checks the
 * format and the optimizer file's size and sha256; the model is checked when it is restored.
 */
export async function readCheckpoint<T>(where: string): Promise<LoadedCheckpoint<T>> {
  const label = `checkpoint ${where}`;
  let dir = where;
  if (!(await exists(path.join(where, STATE)))) {
    if (!(await exists(where))) fail(`${label}: no such directory`);
    const name = await readLatest(where);
    if (name === null) fail(`${label}: no checkpoint there (neither ${STATE} nor ${LATEST})`);
    dir = path.join(where, name);
  }
  let doc: CheckpointDocument<T>;
  try {
    doc = JSON.parse(await fs.readFile(path.join(dir, STATE), 'utf8')) as CheckpointDocument<T>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(`checkpoint ${dir}: cannot read ${STATE} (${code ?? (e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || doc.format !== CHECKPOINT_FORMAT) fail(`checkpoint ${dir}: ${STATE} is not an icnn checkpoint`);
  if (!READABLE_VERSIONS.includes(doc.formatVersion)) {
    fail(`checkpoint ${dir}: unsupported formatVersion ${JSON.stringify(doc.formatVersion)} (this library reads ${READABLE_VERSIONS.join(' and ')})`);
  }
  const m = doc.optimizer;
  if (!m || typeof m.kind !== 'string' || !Array.isArray(m.slots) || typeof m.byteLength !== 'number' || typeof m.sha256 !== 'string') {
    fail(`checkpoint ${dir}: the optimizer manifest is missing or malformed`);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(path.join(dir, OPTIMIZER)));
  } catch (e) {
    fail(`checkpoint ${dir}: cannot read ${OPTIMIZER} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes.byteLength !== m.byteLength) fail(`checkpoint ${dir}: ${OPTIMIZER} has ${bytes.byteLength} bytes, the manifest says ${m.byteLength}`);
  if (sha256(bytes) !== m.sha256) fail(`checkpoint ${dir}: ${OPTIMIZER} is corrupted (sha256 mismatch)`);
  const slots = doc.formatVersion === 1 ? rawSlots(m, bytes, dir) : safetensorsSlots(m, bytes, dir);
  return { dir, document: doc, slots };
}

/** The slots of a format-2 optimizer.bin, in the manifest's order. */
function safetensorsSlots(m: OptimizerManifest, bytes: Uint8Array, dir: string): Float32Array[] {
  const { arrays } = decodeSafetensors(bytes, `checkpoint ${dir}: ${OPTIMIZER}`);
  return m.slots.map((s, i) => {
    const stored = arrays.get(s.name);
    if (!stored || stored.shape.join() !== s.shape.join()) fail(`checkpoint ${dir}: optimizer slot ${i} (${s.name}) is not in ${OPTIMIZER} with shape [${s.shape.join(', ')}]`);
    return stored.data;
  });
}

/** The slots of a format-1 optimizer.bin (raw float32 at the manifest's offsets). */
function rawSlots(m: OptimizerManifest, bytes: Uint8Array, dir: string): Float32Array[] {
  const aligned = new Float32Array(Math.floor(bytes.byteLength / 4));
  new Uint8Array(aligned.buffer).set(bytes.subarray(0, aligned.length * 4));
  return m.slots.map((s, i) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const start = (s.offset ?? NaN) / 4;
    if (!Number.isInteger(start) || start < 0 || start + size > aligned.length) fail(`checkpoint ${dir}: optimizer slot ${i} lies outside ${OPTIMIZER}`);
    return aligned.slice(start, start + size);
  });
}

/**
 * Load the checkpoint's model into `model`: same kind and configuration required; every parameter (trainable and
 * batch-norm state) is overwritten.
 */
export async function restoreModel(model: EnergyModel, checkpointDir: string): Promise<void> {
  const saved = await loadModel(path.join(checkpointDir, MODEL));
  try {
    const a = JSON.stringify(saved.config);
    const b = JSON.stringify(model.config);
    if (saved.kind !== model.kind || a !== b) {
      fail(`resume: checkpoint ${checkpointDir} holds a ${saved.kind} ${a}, but the model to train is a ${model.kind} ${b}`);
    }
    const target = new Map(model.parameters().map((p) => [p.name, p.variable]));
    for (const p of saved.parameters()) {
      const v = target.get(p.name);
      if (!v) fail(`resume: the model has no parameter '${p.name}'`);
      v.assign(p.variable);
    }
  } finally {
    saved.dispose();
  }
}

/** Restore the optimizer's state; the slots must match the model's trainable variables in order and shape. */
export async function restoreOptimizer(optimizer: tf.Optimizer, model: EnergyModel, ckpt: LoadedCheckpoint<unknown>): Promise<void> {
  const m = ckpt.document.optimizer;
  const vars = model.trainableVariables;
  if (m.kind !== optimizerKind(optimizer)) fail(`resume: checkpoint ${ckpt.dir} holds the state of a ${m.kind} optimizer, this run uses ${optimizerKind(optimizer)}`);
  const perVariable = m.kind === 'adam' ? 2 : m.slots.length / vars.length;
  if (m.slots.length !== 0 && (!Number.isInteger(perVariable) || m.slots.length !== perVariable * vars.length)) {
    fail(`resume: checkpoint ${ckpt.dir} has ${m.slots.length} optimizer slots, the model's ${vars.length} trainable variables need ${perVariable === 2 ? 2 * vars.length : 'a multiple of that'}`);
  }
  m.slots.forEach((s, i) => {
    const v = vars[i % vars.length];
    if (s.shape.length !== v.shape.length || s.shape.some((d, j) => d !== v.shape[j])) {
      fail(`resume: optimizer slot ${i} of checkpoint ${ckpt.dir} has shape [${s.shape.join(', ')}], the variable needs [${v.shape.join(', ')}]`);
    }
  });
  const iter = tf.scalar(m.iterations, 'int32');
  const tensors = m.slots.map((s, i) => tf.tensor(ckpt.slots[i], s.shape, 'float32'));
  try {
    await optimizer.setWeights([{ name: 'iter', tensor: iter }, ...tensors.map((tensor, i) => ({ name: m.slots[i].name, tensor }))]);
  } finally {
    // setWeights made variables of the slots (sharing their data); these handles are no longer needed.
    tf.dispose([iter, ...tensors]);
  }
  const powers = betaPowers(optimizer);
  if (powers && m.accBeta1 !== null && m.accBeta2 !== null) {
    tf.tidy(() => {
      powers.b1.assign(tf.scalar(m.accBeta1!, 'float32'));
      powers.b2.assign(tf.scalar(m.accBeta2!, 'float32'));
    });
  }
}
