/** Helpers for the data tests: where the shared data lies, a tiny MAT-file writer, environment overrides. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `ICNN_DATA_DIR` (CI sets it), else `../shared/data` next to the repository. */
export const SHARED_DATA_DIR = process.env.ICNN_DATA_DIR ? path.resolve(process.env.ICNN_DATA_DIR) : path.resolve(repoRoot, '..', 'shared', 'data');

/**
 * Whether the shared data files are there. Missing files fail the test when ICNN_DATA_DIR is set (CI), and skip it
 * otherwise (a checkout without the data).
 */
export function haveSharedData(t: { skip: (msg?: string) => void }, ...files: string[]): boolean {
  const missing = files.filter((f) => !existsSync(path.join(SHARED_DATA_DIR, f)));
  if (missing.length === 0) return true;
  if (process.env.ICNN_DATA_DIR) throw new Error(`ICNN_DATA_DIR=${process.env.ICNN_DATA_DIR} lacks ${missing.join(', ')}`);
  t.skip(`shared data not found (${missing.join(', ')} under ${SHARED_DATA_DIR})`);
  return false;
}

/** Run `fn` with some environment variables set (undefined: removed), restoring them afterwards. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T> | T): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>): void => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

// ---- MAT v5 writer (just enough to generate test files) ----

export const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15 } as const;
export const MX = { CELL: 1, STRUCT: 2, CHAR: 4, DOUBLE: 6, SINGLE: 7, INT8: 8, UINT8: 9, INT16: 10, UINT16: 11, INT32: 12, UINT32: 13 } as const;

const SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8 };

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function encode(type: number, values: ArrayLike<number>, le: boolean): Uint8Array {
  const size = SIZES[type];
  const buf = new Uint8Array(values.length * size);
  const v = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) {
    const o = i * size;
    const x = values[i];
    switch (type) {
      case MI.INT8: v.setInt8(o, x); break;
      case MI.UINT8: v.setUint8(o, x); break;
      case MI.INT16: v.setInt16(o, x, le); break;
      case MI.UINT16: v.setUint16(o, x, le); break;
      case MI.INT32: v.setInt32(o, x, le); break;
      case MI.UINT32: v.setUint32(o, x, le); break;
      case MI.SINGLE: v.setFloat32(o, x, le); break;
      case MI.DOUBLE: v.setFloat64(o, x, le); break;
    }
  }
  return buf;
}

/** One data element: tag + data (+ padding to 8 bytes). `small`: the compact format for ≤ 4 bytes. */
export function element(type: number, data: Uint8Array, le = true, small = false): Uint8Array {
  if (small) {
    if (data.length > 4) throw new Error('small elements hold at most 4 bytes');
    const out = new Uint8Array(8);
    const v = new DataView(out.buffer);
    v.setUint32(0, (data.length << 16) | type, le);
    out.set(data, 4);
    return out;
  }
  const pad = type === MI.COMPRESSED ? 0 : (8 - (data.length % 8)) % 8;
  const out = new Uint8Array(8 + data.length + pad);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, data.length, le);
  out.set(data, 8);
  return out;
}

export interface MatrixSpec {
  name: string;
  classId: number;
  dims: number[];
  /** Storage type and values of the real part (omit for cell/struct headers only). */
  real?: { type: number; values: ArrayLike<number> };
  imag?: { type: number; values: ArrayLike<number> };
  /** Put the name in the small data element format (names of ≤ 4 bytes). */
  smallName?: boolean;
}

export function matrix(spec: MatrixSpec, le = true): Uint8Array {
  const flags = spec.classId | (spec.imag ? 0x0800 : 0);
  const parts = [
    element(MI.UINT32, encode(MI.UINT32, [flags, 0], le), le),
    element(MI.INT32, encode(MI.INT32, spec.dims, le), le),
    element(MI.INT8, new TextEncoder().encode(spec.name), le, spec.smallName ?? false),
  ];
  if (spec.real) parts.push(element(spec.real.type, encode(spec.real.type, spec.real.values, le), le));
  if (spec.imag) parts.push(element(spec.imag.type, encode(spec.imag.type, spec.imag.values, le), le));
  return element(MI.MATRIX, concat(parts), le);
}

export function compressed(inner: Uint8Array, le = true): Uint8Array {
  return element(MI.COMPRESSED, deflateSync(inner), le);
}

/** A complete MAT v5 file from top-level elements. */
export function matFile(elements: Uint8Array[], le = true, version = 0x0100): Uint8Array {
  const header = new Uint8Array(128);
  header.fill(32, 0, 116);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, Platform: test, Created on: never'), 0);
  const v = new DataView(header.buffer);
  v.setUint16(124, version, le);
  header.set(new TextEncoder().encode(le ? 'IM' : 'MI'), 126);
  return concat([header, ...elements]);
}

/** A MAT v4 file with one full double matrix (little-endian). */
export function matV4(name: string, rows: number, cols: number, values: ArrayLike<number>): Uint8Array {
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  const head = new Uint8Array(20);
  const v = new DataView(head.buffer);
  v.setInt32(0, 0, true);
  v.setInt32(4, rows, true);
  v.setInt32(8, cols, true);
  v.setInt32(12, 0, true);
  v.setInt32(16, nameBytes.length, true);
  return concat([head, nameBytes, encode(MI.DOUBLE, values, true)]);
}

export { concat };
