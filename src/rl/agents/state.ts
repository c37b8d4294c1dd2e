/**
 * A single-file binary container for checkpoints: a JSON header and named float32 arrays, with the sha256 of
 * the payload in the header, so that a truncated or corrupted file is refused rather than half-loaded.
 *
 * Layout: the 8 bytes "ICNNRL1\n", a uint32 (little endian) header length, the UTF-8 JSON header
 * `{ meta, arrays: [{ name, length }], sha256 }`, then the arrays' float32 values back to back (little endian).
 * Written with `writeFileAtomic` (temporary file, fsync, rename), a checkpoint is replaced all at once.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../../util/atomicFile.js';
import { fail } from '../../util/errors.js';

const MAGIC = 'ICNNRL1\n';

export interface Container {
  meta: Record<string, unknown>;
  arrays: Map<string, Float32Array>;
}

/**
 * The bytes of a checkpoint container: a JSON header (with the payload's sha256) and named float32 arrays.
 *
 * @param meta - the JSON metadata
 * @param arrays - the named arrays
 * @returns the container's bytes
 */
export function encodeContainer(meta: Record<string, unknown>, arrays: Map<string, Float32Array>): Uint8Array {
  let total = 0;
  const index: { name: string; length: number }[] = [];
  for (const [name, a] of arrays) {
    index.push({ name, length: a.length });
    total += a.length;
  }
  const payload = new Uint8Array(total * 4);
  const view = new DataView(payload.buffer);
  let off = 0;
  for (const a of arrays.values()) {
    for (let i = 0; i < a.length; i++, off += 4) view.setFloat32(off, a[i], true);
  }
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const header = new TextEncoder().encode(JSON.stringify({ meta, arrays: index, sha256 }));
  const out = new Uint8Array(MAGIC.length + 4 + header.length + payload.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length, true);
  out.set(header, MAGIC.length + 4);
  out.set(payload, MAGIC.length + 4 + header.length);
  return out;
}

/**
 * Read the bytes `encodeContainer` wrote; refuses a truncated or corrupted container.
 *
 * @param bytes - the container's bytes
 * @param where - the name used in error messages
 * @returns the metadata and the named arrays
 */
export function decodeContainer(bytes: Uint8Array, where: string): Container {
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (bytes.length < MAGIC.length + 4 || magic !== MAGIC) fail(`${where}: not an icnn RL checkpoint (bad signature)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  const start = MAGIC.length + 4;
  if (start + headerLength > bytes.length) fail(`${where}: truncated checkpoint (header)`);
  let header: { meta: Record<string, unknown>; arrays: { name: string; length: number }[]; sha256: string };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + headerLength)));
  } catch (e) {
    fail(`${where}: corrupted checkpoint header (${(e as Error).message})`);
  }
  const payload = bytes.subarray(start + headerLength);
  const expected = header.arrays.reduce((n, a) => n + a.length, 0) * 4;
  if (payload.length !== expected) fail(`${where}: truncated or padded checkpoint (${payload.length} payload bytes, expected ${expected})`);
  const sha = createHash('sha256').update(payload).digest('hex');
  if (sha !== header.sha256) fail(`${where}: checkpoint payload does not match its sha256 (corrupted file)`);
  const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const arrays = new Map<string, Float32Array>();
  let off = 0;
  for (const { name, length } of header.arrays) {
    const a = new Float32Array(length);
    for (let i = 0; i < length; i++, off += 4) a[i] = pv.getFloat32(off, true);
    arrays.set(name, a);
  }
  return { meta: header.meta, arrays };
}

/**
 * Write a container to `file` atomically (temporary file, fsync, rename).
 *
 * @param file - the target path
 * @param meta - the JSON metadata
 * @param arrays - the named arrays
 */
export async function writeContainer(file: string, meta: Record<string, unknown>, arrays: Map<string, Float32Array>): Promise<void> {
  await writeFileAtomic(file, encodeContainer(meta, arrays));
}

/**
 * Read a container written by `writeContainer`.
 *
 * @param file - the path
 * @returns the metadata and the named arrays
 */
export async function readContainer(file: string): Promise<Container> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail(`${file}: checkpoint not found`);
    throw e;
  }
  return decodeContainer(bytes, file);
}
