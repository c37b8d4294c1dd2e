/** MAT-file reader on generated files: storage formats, compression, byte order, v4, and malformed input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { readMat, readMatVariable } from '../../src/data/index.js';
import { IcnnError } from '../../src/util/errors.js';
import { MI, MX, compressed, element, matFile, matV4, matrix } from './helpers.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

const values6 = [1, -2.5, 3, 4e10, 0, 7];

test('uncompressed double matrix, column-major, with dimensions and name', () => {
  const file = matFile([matrix({ name: 'data', classId: MX.DOUBLE, dims: [2, 3], real: { type: MI.DOUBLE, values: values6 } })]);
  const [v] = readMat(file);
  assert.equal(v.name, 'data');
  assert.equal(v.className, 'double');
  assert.deepEqual(v.dims, [2, 3]);
  assert.ok(v.real instanceof Float64Array);
  assert.deepEqual(Array.from(v.real), values6);
  assert.equal(v.imag, undefined);
});

test('class double stored as uint8 inside a miCOMPRESSED element (the olivettifaces.mat layout), small-format name', () => {
  const pixels = Array.from({ length: 24 }, (_, i) => (i * 37) % 256);
  const inner = matrix({ name: 'face', classId: MX.DOUBLE, dims: [4, 6], real: { type: MI.UINT8, values: pixels }, smallName: true });
  const v = readMatVariable(matFile([compressed(inner)]), 'face');
  assert.ok(v.real instanceof Float64Array);
  assert.deepEqual(Array.from(v.real), pixels);
  assert.deepEqual(v.dims, [4, 6]);
});

test('big-endian files, several variables, other classes and storage types, complex parts; non-numeric ones skipped', () => {
  for (const le of [true, false]) {
    const file = matFile(
      [
        matrix({ name: 'c', classId: MX.CELL, dims: [1, 1] }, le),
        matrix({ name: 'i16', classId: MX.INT16, dims: [1, 3], real: { type: MI.INT8, values: [-1, 2, -3] } }, le),
        compressed(matrix({ name: 's', classId: MX.SINGLE, dims: [3, 1], real: { type: MI.SINGLE, values: [0.5, -1, 2] } }, le), le),
        matrix({ name: 'z', classId: MX.DOUBLE, dims: [1, 2], real: { type: MI.INT32, values: [1, 2] }, imag: { type: MI.DOUBLE, values: [-0.5, 3] } }, le),
        matrix({ name: 'u', classId: MX.UINT16, dims: [2, 1], real: { type: MI.UINT16, values: [65535, 7] } }, le),
      ],
      le,
    );
    const vars = readMat(file);
    assert.deepEqual(vars.map((v) => v.name), ['i16', 's', 'z', 'u']);
    const byName = Object.fromEntries(vars.map((v) => [v.name, v]));
    assert.ok(byName.i16.real instanceof Int16Array);
    assert.deepEqual(Array.from(byName.i16.real), [-1, 2, -3]);
    assert.ok(byName.s.real instanceof Float32Array);
    assert.deepEqual(Array.from(byName.s.real), [0.5, -1, 2]);
    assert.deepEqual(Array.from(byName.z.real as Float64Array), [1, 2]);
    assert.deepEqual(Array.from(byName.z.imag as Float64Array), [-0.5, 3]);
    assert.deepEqual(Array.from(byName.u.real as Uint16Array), [65535, 7]);
    rejects(() => readMatVariable(file, 'c'), /variable 'c' has class cell; only numeric arrays .* are supported/);
    rejects(() => readMatVariable(file, 'nope'), /no variable named 'nope' \(found: 'c', 'i16', 's', 'z', 'u'\)/);
  }
});

test('MAT v4 full matrices are read too', () => {
  const v = readMatVariable(matV4('faces', 2, 3, values6), 'faces');
  assert.deepEqual(v.dims, [2, 3]);
  assert.deepEqual(Array.from(v.real as Float64Array), values6);
});

test('malformed files: errors name the byte offset and what was expected', () => {
  const good = matrix({ name: 'a', classId: MX.DOUBLE, dims: [1, 2], real: { type: MI.DOUBLE, values: [1, 2] } });
  rejects(() => readMat(new Uint8Array(3)), /too short for a MAT file/);
  rejects(() => readMat(new TextEncoder().encode('MATLAB 5.0 but far too short')), /too short for a MAT v5 file/);
  const notMat = new Uint8Array(200).fill(65);
  rejects(() => readMat(notMat, { source: 'x.mat' }), /^x\.mat: byte 126: expected the MAT v5 endian indicator 'IM' or 'MI', got "AA"/);
  rejects(() => readMat(matFile([good], true, 0x0200)), /byte 124: MAT version 0x200 is not supported .*v7\.3/);
  const truncated = matFile([good]).subarray(0, 128 + 30);
  rejects(() => readMat(truncated), /byte 128: truncated: the miMATRIX element for a variable declares \d+ bytes, only 22 are left/);
  const badZlib = matFile([element(MI.COMPRESSED, new Uint8Array([1, 2, 3, 4, 5]))]);
  rejects(() => readMat(badZlib), /byte 128: the miCOMPRESSED element \(5 bytes\) is not a valid zlib stream/);
  const wrongCount = matFile([matrix({ name: 'a', classId: MX.DOUBLE, dims: [2, 2], real: { type: MI.DOUBLE, values: [1, 2, 3] } })]);
  rejects(() => readMat(wrongCount), /the real part of 'a' holds 3 values \(miDOUBLE\), expected 4/);
  const notMatrix = matFile([element(MI.DOUBLE, new Uint8Array(8))]);
  rejects(() => readMat(notMatrix), /byte 128: expected a miMATRIX or miCOMPRESSED element, got miDOUBLE/);
  // A compressed element whose inflated content is truncated: the message says where, inside the stream.
  const inner = matrix({ name: 'a', classId: MX.DOUBLE, dims: [1, 2], real: { type: MI.DOUBLE, values: [1, 2] } });
  const cut = matFile([element(MI.COMPRESSED, deflateSync(inner.subarray(0, 40)))]);
  rejects(() => readMat(cut), /inside the compressed element at byte 128.*truncated/);
  const badFlags = matFile([element(MI.MATRIX, element(MI.DOUBLE, new Uint8Array(8)))]);
  rejects(() => readMat(badFlags), /expected miUINT32 for the array flags, got miDOUBLE/);
});
