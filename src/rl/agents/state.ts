/**
 * An agent's state file (weights, target weights, optimizer moments, replay, counters): one safetensors file
 * (../../util/safetensors.ts) whose `__metadata__` holds the JSON `meta` under "icnn" and the sha256 of the data
 * section under "sha256", so that a truncated or corrupted file is refused rather than half-loaded.
 * Written with `writeFileAtomic` (temporary file, fsync, rename), a checkpoint is replaced all at once.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../../util/atomicFile.js';
import { fail } from '../../util/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../util/safetensors.js';

export interface Container {
  meta: Record<string, unknown>;
  arrays: Map<string, Float32Array>;
}

function dataDigest(arrays: Iterable<Float32Array>): string {
  const hash = createHash('sha256');
  for (const a of arrays) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest('hex');
}

export function encodeStateFile(meta: Record<string, unknown>, arrays: Map<string, Float32Array>): Uint8Array {
  const named = [...arrays].map(([name, data]) => ({ name, shape: [data.length], data }));
  return encodeSafetensors(named, { icnn: JSON.stringify(meta), sha256: dataDigest(arrays.values()) });
}

export function decodeStateFile(bytes: Uint8Array, where: string): Container {
  const { metadata, arrays } = decodeSafetensors(bytes, where);
  if (typeof metadata.icnn !== 'string' || typeof metadata.sha256 !== 'string') fail(`${where}: not an icnn state file (no icnn metadata)`);
  const flat = new Map([...arrays].map(([name, a]) => [name, a.data]));
  if (dataDigest(flat.values()) !== metadata.sha256) fail(`${where}: the data do not match their sha256 (corrupted file)`);
  let meta: unknown;
  try {
    meta = JSON.parse(metadata.icnn);
  } catch (e) {
    fail(`${where}: corrupted state metadata (${(e as Error).message})`);
  }
  if (typeof meta !== 'object' || meta === null) fail(`${where}: corrupted state metadata (not an object)`);
  return { meta: meta as Record<string, unknown>, arrays: flat };
}

export async function writeStateFile(file: string, meta: Record<string, unknown>, arrays: Map<string, Float32Array>): Promise<void> {
  await writeFileAtomic(file, encodeStateFile(meta, arrays));
}

export async function readStateFile(file: string): Promise<Container> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail(`${file}: checkpoint not found`);
    throw e;
  }
  return decodeStateFile(bytes, file);
}
