/**
 * A minimal MATLAB MAT-file reader: level 5 (the 128-byte header, data element tags including the small data
 * element format, `miCOMPRESSED` elements inflated with zlib, `miMATRIX` numeric arrays: array flags, dimensions,
 * name, real and imaginary parts of any numeric storage type converted to the array's class), both byte orders;
 * and level 4 full numeric matrices. Cell, struct, object, sparse and char arrays are recognized but not decoded
 * (asking for one is an error). Enough for `olivettifaces.mat`, with clear errors for anything else.
 */
import { inflateSync } from 'node:zlib';
import { fail } from '../util/errors.js';

/** The numeric MATLAB classes a v5 MAT file can hold. */
export type MatNumericClass = 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';
/** Every MATLAB class a v5 MAT-file variable can have. */
export type MatClass = MatNumericClass | 'cell' | 'struct' | 'object' | 'char' | 'sparse' | 'function' | 'opaque';
/** The typed array holding a numeric MAT variable's values. */
export type MatData = Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** One variable read from a MAT file: class, dimensions and (numeric classes) its values, column-major. */
export interface MatVariable {
  name: string;
  className: MatClass;
  /** MATLAB dimensions; the data is column-major (first index fastest). */
  dims: number[];
  /** Real part, in the class's JavaScript type (int64/uint64 as Float64Array); undefined for non-numeric classes. */
  real?: MatData;
  imag?: MatData;
  logical: boolean;
  global: boolean;
}

/** Options of `readMat`. */
export interface ReadMatOptions {
  /** Name used in error messages. */
  source?: string;
  /** Decode only these variables (others are skipped, whatever their class). Default: all numeric ones. */
  variables?: readonly string[];
}

// Data types (level 5).
const MI_INT8 = 1;
const MI_UINT8 = 2;
const MI_INT16 = 3;
const MI_UINT16 = 4;
const MI_INT32 = 5;
const MI_UINT32 = 6;
const MI_SINGLE = 7;
const MI_DOUBLE = 9;
const MI_INT64 = 12;
const MI_UINT64 = 13;
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
const MI_UTF8 = 16;

const MI_NAMES: Record<number, string> = {
  1: 'miINT8', 2: 'miUINT8', 3: 'miINT16', 4: 'miUINT16', 5: 'miINT32', 6: 'miUINT32', 7: 'miSINGLE', 9: 'miDOUBLE',
  12: 'miINT64', 13: 'miUINT64', 14: 'miMATRIX', 15: 'miCOMPRESSED', 16: 'miUTF8', 17: 'miUTF16', 18: 'miUTF32',
};
const MI_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };

const CLASSES: Record<number, MatClass> = {
  1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8',
  10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64', 16: 'function', 17: 'opaque',
};

function miName(t: number): string {
  return MI_NAMES[t] ?? `unknown type ${t}`;
}

function allocFor(cls: MatNumericClass, n: number): MatData {
  switch (cls) {
    case 'double':
    case 'int64':
    case 'uint64':
      return new Float64Array(n);
    case 'single':
      return new Float32Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
      return new Uint8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
  }
}

function isNumericClass(c: MatClass): c is MatNumericClass {
  return c !== 'cell' && c !== 'struct' && c !== 'object' && c !== 'char' && c !== 'sparse' && c !== 'function' && c !== 'opaque';
}

/** Read element `i` of a stored numeric type. */
function reader(view: DataView, le: boolean, type: number): (offset: number) => number {
  switch (type) {
    case MI_INT8:
      return (o) => view.getInt8(o);
    case MI_UINT8:
      return (o) => view.getUint8(o);
    case MI_INT16:
      return (o) => view.getInt16(o, le);
    case MI_UINT16:
      return (o) => view.getUint16(o, le);
    case MI_INT32:
      return (o) => view.getInt32(o, le);
    case MI_UINT32:
      return (o) => view.getUint32(o, le);
    case MI_SINGLE:
      return (o) => view.getFloat32(o, le);
    case MI_DOUBLE:
      return (o) => view.getFloat64(o, le);
    case MI_INT64:
      return (o) => Number(view.getBigInt64(o, le));
    case MI_UINT64:
      return (o) => Number(view.getBigUint64(o, le));
    default:
      return fail(`unsupported numeric storage type ${miName(type)}`);
  }
}

interface Tag {
  type: number;
  nbytes: number;
  /** Offset of the data. */
  data: number;
  /** Offset of the next element (after padding). */
  next: number;
}

class Parser {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
    readonly source: string,
    /** Describes where `bytes` sits, for messages (e.g. "inside the compressed element at byte 128"). */
    readonly context: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  error(offset: number, what: string): never {
    fail(`${this.source}: byte ${offset}${this.context}: ${what}`);
  }

  /** The tag at `offset`, within `end`. `padded`: whether the element is padded to 8 bytes (all but compressed). */
  tag(offset: number, end: number, what: string): Tag {
    if (offset + 8 > end) this.error(offset, `truncated: expected an 8-byte tag for ${what}, only ${end - offset} bytes left`);
    const first = this.view.getUint32(offset, this.le);
    if (first >>> 16 !== 0) {
      // Small data element: 2-byte type, 2-byte size, up to 4 bytes of data in the same 8 bytes.
      const type = first & 0xffff;
      const nbytes = first >>> 16;
      if (nbytes > 4) this.error(offset, `small data element for ${what} claims ${nbytes} bytes (at most 4 fit)`);
      return { type, nbytes, data: offset + 4, next: offset + 8 };
    }
    const type = first;
    const nbytes = this.view.getUint32(offset + 4, this.le);
    const data = offset + 8;
    if (data + nbytes > end) {
      this.error(offset, `truncated: the ${miName(type)} element for ${what} declares ${nbytes} bytes, only ${end - data} are left`);
    }
    const padded = type === MI_COMPRESSED ? nbytes : Math.ceil(nbytes / 8) * 8;
    return { type, nbytes, data, next: Math.min(data + padded, end) };
  }

  expectType(t: Tag, offset: number, allowed: number[], what: string): void {
    if (!allowed.includes(t.type)) this.error(offset, `expected ${allowed.map(miName).join(' or ')} for ${what}, got ${miName(t.type)}`);
  }

  /** Decode a numeric sub-element into an array of class `cls`. */
  numeric(t: Tag, offset: number, cls: MatNumericClass, count: number, what: string): MatData {
    const size = MI_SIZES[t.type];
    if (size === undefined) this.error(offset, `expected a numeric type for ${what}, got ${miName(t.type)}`);
    if (t.nbytes !== count * size) {
      this.error(offset, `${what} holds ${t.nbytes / size} values (${miName(t.type)}), expected ${count} (the product of the dimensions)`);
    }
    const out = allocFor(cls, count);
    if (t.type === MI_UINT8) {
      out.set(this.bytes.subarray(t.data, t.data + count));
    } else {
      const get = reader(this.view, this.le, t.type);
      for (let i = 0, o = t.data; i < count; i++, o += size) out[i] = get(o);
    }
    return out;
  }

  /** A miMATRIX element's content (from after its tag to `end`). */
  matrix(start: number, end: number, wanted: (name: string) => boolean): MatVariable | null {
    const flagsTag = this.tag(start, end, 'the array flags');
    this.expectType(flagsTag, start, [MI_UINT32], 'the array flags');
    if (flagsTag.nbytes < 4) this.error(start, `array flags have ${flagsTag.nbytes} bytes, expected 8`);
    const flags = this.view.getUint32(flagsTag.data, this.le);
    const classNum = flags & 0xff;
    const className = CLASSES[classNum];
    if (className === undefined) this.error(flagsTag.data, `unknown array class ${classNum}`);
    const complex = (flags & 0x0800) !== 0;
    const global = (flags & 0x0400) !== 0;
    const logical = (flags & 0x0200) !== 0;

    const dimsAt = flagsTag.next;
    const dimsTag = this.tag(dimsAt, end, 'the dimensions');
    this.expectType(dimsTag, dimsAt, [MI_INT32], 'the dimensions');
    if (dimsTag.nbytes % 4 !== 0 || dimsTag.nbytes < 8) this.error(dimsAt, `dimensions have ${dimsTag.nbytes} bytes, expected at least two int32`);
    const dims: number[] = [];
    for (let o = dimsTag.data; o < dimsTag.data + dimsTag.nbytes; o += 4) {
      const d = this.view.getInt32(o, this.le);
      if (d < 0) this.error(o, `negative dimension ${d}`);
      dims.push(d);
    }

    const nameAt = dimsTag.next;
    const nameTag = this.tag(nameAt, end, 'the array name');
    this.expectType(nameTag, nameAt, [MI_INT8, MI_UINT8, MI_UTF8], 'the array name');
    const name = Buffer.from(this.bytes.subarray(nameTag.data, nameTag.data + nameTag.nbytes)).toString('utf8');
    if (!wanted(name)) return null;
    if (!isNumericClass(className)) {
      return { name, className, dims, logical, global };
    }
    const count = dims.reduce((a, b) => a * b, 1);
    const realAt = nameTag.next;
    const realTag = this.tag(realAt, end, `the real part of '${name}'`);
    const real = this.numeric(realTag, realAt, className, count, `the real part of '${name}'`);
    let imag: MatData | undefined;
    if (complex) {
      const imagAt = realTag.next;
      const imagTag = this.tag(imagAt, end, `the imaginary part of '${name}'`);
      imag = this.numeric(imagTag, imagAt, className, count, `the imaginary part of '${name}'`);
    }
    return { name, className, dims, real, imag, logical, global };
  }

  /** Top-level (or inflated) elements from `start` to the end. */
  elements(start: number, wanted: (name: string) => boolean, out: MatVariable[]): void {
    const end = this.bytes.length;
    let offset = start;
    while (offset < end) {
      // Some writers pad the end of the file with zeros; stop at trailing padding.
      if (end - offset < 8 && this.bytes.subarray(offset).every((b) => b === 0)) break;
      const t = this.tag(offset, end, 'a variable');
      if (t.type === MI_COMPRESSED) {
        let inflated: Uint8Array;
        try {
          inflated = inflateSync(this.bytes.subarray(t.data, t.data + t.nbytes));
        } catch (e) {
          this.error(offset, `the miCOMPRESSED element (${t.nbytes} bytes) is not a valid zlib stream: ${(e as Error).message}`);
        }
        const inner = new Parser(inflated, this.le, this.source, `${this.context} (inside the compressed element at byte ${offset}, inflated offset)`);
        inner.elements(0, wanted, out);
      } else if (t.type === MI_MATRIX) {
        if (t.nbytes > 0) {
          const v = this.matrix(t.data, t.data + t.nbytes, wanted);
          if (v) out.push(v);
        }
      } else {
        this.error(offset, `expected a miMATRIX or miCOMPRESSED element, got ${miName(t.type)}`);
      }
      offset = t.next;
    }
  }
}

/** MAT level 4: a sequence of [type, mrows, ncols, imagf, namlen] int32 headers, name, column-major data. */
function readMatV4(bytes: Uint8Array, source: string, wanted: (name: string) => boolean): MatVariable[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: MatVariable[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 20 > bytes.length) fail(`${source}: byte ${offset}: truncated MAT v4 matrix header (20 bytes expected, ${bytes.length - offset} left)`);
    // The byte order is whichever makes the type field a small MOPT number.
    let le = true;
    let type = view.getInt32(offset, true);
    if (type < 0 || type > 4052) {
      le = false;
      type = view.getInt32(offset, false);
    }
    const M = Math.floor(type / 1000);
    const O = Math.floor(type / 100) % 10;
    const P = Math.floor(type / 10) % 10;
    const T = type % 10;
    if (type < 0 || type > 4052 || O !== 0 || P > 5 || (M !== 0 && M !== 1)) {
      fail(`${source}: byte ${offset}: not a MAT file (expected a MAT v5 text header or a MAT v4 matrix header, got type field ${type})`);
    }
    if ((M === 0) !== le) fail(`${source}: byte ${offset}: MAT v4 byte order ${M} does not match the header's encoding`);
    const mrows = view.getInt32(offset + 4, le);
    const ncols = view.getInt32(offset + 8, le);
    const imagf = view.getInt32(offset + 12, le);
    const namlen = view.getInt32(offset + 16, le);
    if (mrows < 0 || ncols < 0 || namlen <= 0 || namlen > 4096) fail(`${source}: byte ${offset}: implausible MAT v4 header (rows ${mrows}, cols ${ncols}, name length ${namlen})`);
    let o = offset + 20;
    if (o + namlen > bytes.length) fail(`${source}: byte ${o}: truncated MAT v4 variable name`);
    const nameBytes = bytes.subarray(o, o + namlen);
    const name = Buffer.from(nameBytes[namlen - 1] === 0 ? nameBytes.subarray(0, namlen - 1) : nameBytes).toString('latin1');
    o += namlen;
    const size = [8, 4, 4, 2, 2, 1][P];
    const count = mrows * ncols;
    const partBytes = count * size;
    const total = partBytes * (imagf ? 2 : 1);
    if (o + total > bytes.length) fail(`${source}: byte ${o}: truncated data of '${name}' (${total} bytes expected, ${bytes.length - o} left)`);
    if (wanted(name)) {
      if (T !== 0) fail(`${source}: byte ${offset}: variable '${name}' is a MAT v4 ${T === 1 ? 'text' : T === 2 ? 'sparse' : `type ${T}`} matrix; only full numeric matrices are supported`);
      const mi = [MI_DOUBLE, MI_SINGLE, MI_INT32, MI_INT16, MI_UINT16, MI_UINT8][P];
      const get = reader(view, le, mi);
      const part = (start: number): Float64Array => {
        const a = new Float64Array(count);
        for (let i = 0, p = start; i < count; i++, p += size) a[i] = get(p);
        return a;
      };
      out.push({ name, className: 'double', dims: [mrows, ncols], real: part(o), imag: imagf ? part(o + partBytes) : undefined, logical: false, global: false });
    }
    offset = o + total;
  }
  return out;
}

/** All (or the requested) variables of a MAT file. */
export function readMat(bytes: Uint8Array, options: ReadMatOptions = {}): MatVariable[] {
  const source = options.source ?? 'MAT file';
  const names = options.variables;
  const wanted = (name: string): boolean => names === undefined || names.includes(name);
  if (bytes.length < 4) fail(`${source}: ${bytes.length} bytes is too short for a MAT file`);
  // Level 5 files start with a 116-byte text header; level 4 files with a binary int32 whose bytes include a zero.
  const isV4 = bytes[0] === 0 || bytes[1] === 0 || bytes[2] === 0 || bytes[3] === 0;
  let out: MatVariable[];
  if (isV4) {
    out = readMatV4(bytes, source, wanted);
  } else {
    if (bytes.length < 128) fail(`${source}: ${bytes.length} bytes is too short for a MAT v5 file (the header alone is 128 bytes)`);
    const endian = String.fromCharCode(bytes[126], bytes[127]);
    if (endian !== 'IM' && endian !== 'MI') {
      fail(`${source}: byte 126: expected the MAT v5 endian indicator 'IM' or 'MI', got ${JSON.stringify(endian)} (not a MAT v5 file?)`);
    }
    const le = endian === 'IM';
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint16(124, le);
    if (version !== 0x0100) fail(`${source}: byte 124: MAT version 0x${version.toString(16)} is not supported (expected 0x0100, level 5; HDF5-based v7.3 files are not supported)`);
    const parser = new Parser(bytes, le, source, '');
    out = [];
    parser.elements(128, wanted, out);
  }
  if (names) {
    for (const n of names) {
      const v = out.find((o) => o.name === n);
      if (!v) fail(`${source}: no variable named '${n}' (found: ${listNames(bytes, source, isV4)})`);
      if (!v.real) fail(`${source}: variable '${n}' has class ${v.className}; only numeric arrays (double, single, intN, uintN) are supported`);
    }
  }
  return out.filter((v) => v.real !== undefined);
}

function listNames(bytes: Uint8Array, source: string, isV4: boolean): string {
  const all: string[] = [];
  const collect = (name: string): boolean => {
    all.push(name);
    return false;
  };
  try {
    if (isV4) readMatV4(bytes, source, collect);
    else {
      const le = String.fromCharCode(bytes[126], bytes[127]) === 'IM';
      new Parser(bytes, le, source, '').elements(128, collect, []);
    }
  } catch {
    // best effort
  }
  return all.length ? all.map((n) => `'${n}'`).join(', ') : 'none';
}

/** One numeric variable by name. */
export function readMatVariable(bytes: Uint8Array, name: string, options: Omit<ReadMatOptions, 'variables'> = {}): MatVariable {
  return readMat(bytes, { ...options, variables: [name] })[0];
}
