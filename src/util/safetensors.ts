/**
 * The one tensor container of the library: the safetensors layout (https://huggingface.co/docs/safetensors), so
 * that PyTorch users read saved weights with `safetensors.torch.load_file`.
 *
 *   8 bytes   N, the header length (unsigned 64-bit little endian)
 *   N bytes   UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, …,
 *             "__metadata__": { "<key>": "<string>" } }, padded with spaces to a multiple of 8 bytes
 *   the rest  the tensors' float32 values, little endian, back to back in header order (offsets relative to here)
 *
 * Pure bytes <-> arrays, browser-safe (no `node:` imports). Checksums, atomic writes and file names are the
 * callers' (models/serialization.ts, learning/checkpoint.ts, rl/agents/state.ts). Decoding checks the header before
 * allocating anything and refuses holes, overlaps, trailing bytes and sizes that disagree with shapes.
 */
import { fail } from './errors.js';

export interface NamedArray {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

export interface DecodedTensors {
  metadata: Record<string, string>;
  /** The tensors in file order. */
  arrays: Map<string, { shape: number[]; data: Float32Array }>;
}

/** A header larger than this is taken as damage (safetensors' own reader caps it at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA = '__metadata__';
/** The signature of the container this one replaced (icnn ≤ 0.x RL state files). */
const OLD_RL_MAGIC = 'ICNNRL1\n';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Encode `arrays` (float32, unique names) and string `metadata` as one safetensors buffer. */
export function encodeSafetensors(arrays: readonly NamedArray[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA] = metadata;
  let offset = 0;
  for (const a of arrays) {
    if (a.name === METADATA || Object.hasOwn(header, a.name)) throw new Error(`internal: duplicate or reserved tensor name '${a.name}'`);
    if (elementCount(a.shape) !== a.data.length) throw new Error(`internal: tensor '${a.name}' has ${a.data.length} values for shape [${a.shape.join(', ')}]`);
    header[a.name] = { dtype: 'F32', shape: [...a.shape], data_offsets: [offset, offset + a.data.length * 4] };
    offset += a.data.length * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const a of arrays) {
    if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), at);
    else for (let i = 0; i < a.data.length; i++) view.setFloat32(at + 4 * i, a.data[i], true);
    at += a.data.byteLength;
  }
  return out;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

function readHeader(bytes: Uint8Array, where: string): { metadata: Record<string, string>; entries: HeaderEntry[]; dataStart: number } {
  if (bytes.length >= OLD_RL_MAGIC.length && new TextDecoder().decode(bytes.subarray(0, OLD_RL_MAGIC.length)) === OLD_RL_MAGIC) {
    fail(`${where}: written by an older icnn in its former ICNNRL1 format; this version reads safetensors files only, so start that run again`);
  }
  if (bytes.length < 8) fail(`${where}: not a safetensors file (${bytes.length} bytes, shorter than its 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER_BYTES || 8 + n > bytes.length) {
    fail(`${where}: not a safetensors file or truncated (header length ${n}, file ${bytes.length} bytes)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`${where}: the safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(`${where}: the safetensors header is not a JSON object`);
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA) {
      if (typeof raw !== 'object' || raw === null || Object.values(raw).some((v) => typeof v !== 'string')) fail(`${where}: ${METADATA} must map names to strings`);
      Object.assign(metadata, raw);
      continue;
    }
    entries.push(checkEntry(name, raw, where));
  }
  return { metadata, entries, dataStart: 8 + n };
}

function checkEntry(name: string, raw: unknown, where: string): HeaderEntry {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  const shape = e?.shape;
  const offsets = e?.data_offsets;
  const ok = typeof e === 'object' && e !== null && Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
    Array.isArray(offsets) && offsets.length === 2 && offsets.every((d) => Number.isSafeInteger(d) && d >= 0) && offsets[0] <= offsets[1];
  if (!ok) fail(`${where}: tensor '${name}' has a malformed header entry (expected { dtype, shape, data_offsets }), got ${JSON.stringify(raw)}`);
  if (e.dtype !== 'F32') fail(`${where}: tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; icnn reads F32 only`);
  const [begin, end] = offsets as number[];
  if (end - begin !== elementCount(shape as number[]) * 4) {
    fail(`${where}: tensor '${name}' spans ${end - begin} bytes, but its shape [${(shape as number[]).join(', ')}] needs ${elementCount(shape as number[]) * 4}`);
  }
  return { name, shape: shape as number[], begin, end };
}

/** Decode a safetensors buffer (float32 tensors); every failure is one line naming `where`. */
export function decodeSafetensors(bytes: Uint8Array, where: string): DecodedTensors {
  const { metadata, entries, dataStart } = readHeader(bytes, where);
  const dataLength = bytes.length - dataStart;
  // The spec: the tensors cover the data section with no holes and no overlaps.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin !== expected) fail(`${where}: tensor '${e.name}' starts at byte ${e.begin} of the data, expected ${expected} (a hole or an overlap)`);
    expected = e.end;
  }
  if (expected !== dataLength) fail(`${where}: truncated or padded: the header describes ${expected} bytes of data, the file has ${dataLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const arrays = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of entries) {
    const data = new Float32Array((e.end - e.begin) / 4);
    const from = dataStart + e.begin;
    if (LITTLE_ENDIAN_HOST) new Uint8Array(data.buffer).set(bytes.subarray(from, dataStart + e.end));
    else for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(from + 4 * i, true);
    arrays.set(e.name, { shape: e.shape, data });
  }
  return { metadata, arrays };
}
