/** Olivetti on generated data: orientation from a MAT file, scaling, and the §5.3 completion split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { olivettiCompletionSplit, olivettiPixelsFromMat, scaleOlivetti } from '../../src/data/index.js';
import { MI, MX, compressed, matFile, matrix } from './helpers.js';

/** A recognisable grey level for pixel (row r, column c) of image i. */
const grey = (i: number, r: number, c: number): number => (r * 3 + c * 5 + i * 11) % 251;

/** `faces` as MATLAB stores it: 4096×n column-major, each image column-major too: faces(r + 64c, i). */
function facesMat(n: number): Uint8Array {
  const values = new Array<number>(4096 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 64; c++) for (let r = 0; r < 64; r++) values[4096 * i + r + 64 * c] = grey(i, r, c);
  return matFile([compressed(matrix({ name: 'faces', classId: MX.DOUBLE, dims: [4096, n], real: { type: MI.UINT8, values } }))]);
}

test('olivettiPixelsFromMat returns upright row-major images: pixels[i*4096 + r*64 + c] = faces(r + 64c, i)', () => {
  const { pixels, n } = olivettiPixelsFromMat(facesMat(3));
  assert.equal(n, 3);
  for (let i = 0; i < n; i++) for (let r = 0; r < 64; r++) for (let c = 0; c < 64; c++) assert.equal(pixels[i * 4096 + r * 64 + c], grey(i, r, c));
});

test('olivettiPixelsFromMat refuses wrong shapes and values that are not grey levels', () => {
  const wrongDims = matFile([matrix({ name: 'faces', classId: MX.DOUBLE, dims: [64, 64], real: { type: MI.UINT8, values: new Array(4096).fill(1) } })]);
  assert.throws(() => olivettiPixelsFromMat(wrongDims, 'w.mat'), /w\.mat: variable 'faces' has dimensions 64x64, expected 4096xN/);
  const values = new Array(4096).fill(0.5);
  const fractional = matFile([matrix({ name: 'faces', classId: MX.DOUBLE, dims: [4096, 1], real: { type: MI.DOUBLE, values } })]);
  assert.throws(() => olivettiPixelsFromMat(fractional, 'f.mat'), /f\.mat: faces\(1, 1\) = 0\.5; expected grey levels as integers 0\.\.255/);
  const other = matFile([matrix({ name: 'X', classId: MX.DOUBLE, dims: [1, 1], real: { type: MI.DOUBLE, values: [1] } })]);
  assert.throws(() => olivettiPixelsFromMat(other, 'o.mat'), /no variable named 'faces' \(found: 'X'\)/);
});

test('scaling: divide255 (the paper) or minmax (scikit-learn)', () => {
  const px = new Uint8Array([0, 121, 242]);
  assert.deepEqual(Array.from(scaleOlivetti(px)), [0, Math.fround(121 / 255), Math.fround(242 / 255)]);
  assert.deepEqual(Array.from(scaleOlivetti(px, 'minmax')), [0, 0.5, 1]);
  assert.deepEqual(Array.from(scaleOlivetti(new Uint8Array([10, 20]), 'minmax')), [0, 1]);
  assert.throws(() => scaleOlivetti(new Uint8Array([3, 3]), 'minmax'), /min-max scaling is undefined/);
  assert.throws(() => scaleOlivetti(px, 'zscore' as never), /scaling must be one of 'divide255', 'minmax'/);
});

test('completion split: first nTrain train, rest test; y = left half, x = right half mirrored; [N, 64, 32, 1]', () => {
  const n = 7;
  const images = new Float32Array(n * 4096);
  for (let i = 0; i < n; i++) for (let r = 0; r < 64; r++) for (let c = 0; c < 64; c++) images[i * 4096 + r * 64 + c] = grey(i, r, c);
  const s = olivettiCompletionSplit(images, { nTrain: 5 });
  assert.deepEqual(s.itemShape, [64, 32, 1]);
  assert.equal(s.train.n, 5);
  assert.equal(s.test.n, 2);
  for (const [set, first] of [
    [s.train, 0],
    [s.test, 5],
  ] as const) {
    assert.equal(set.x.length, set.n * 64 * 32);
    assert.equal(set.y.length, set.n * 64 * 32);
    for (let k = 0; k < set.n; k++) {
      for (let r = 0; r < 64; r++) {
        for (let c = 0; c < 32; c++) {
          const at = k * 2048 + r * 32 + c;
          assert.equal(set.y[at], grey(first + k, r, c));
          assert.equal(set.x[at], grey(first + k, r, 63 - c));
        }
      }
    }
  }
  // x's column 0 is the image's last column: the pixel next to the face's middle ends up at the halves' seam.
  const plain = olivettiCompletionSplit(images, { nTrain: 5, flipX: false });
  assert.equal(plain.train.x[0], grey(0, 0, 32));
  assert.equal(plain.test.x[2048 + 5 * 32 + 31], grey(6, 5, 63));
  assert.deepEqual(plain.train.y, s.train.y);
});

test('completion split: the default is 350/50 and bad input is refused', () => {
  const s = olivettiCompletionSplit(new Float32Array(400 * 4096));
  assert.equal(s.train.n, 350);
  assert.equal(s.test.n, 50);
  assert.throws(() => olivettiCompletionSplit(new Float32Array(4095)), /expected a positive multiple of 4096/);
  assert.throws(() => olivettiCompletionSplit(new Float32Array(4096 * 2), { nTrain: 2 }), /nTrain must be less than the number of images \(2\), got 2/);
  assert.throws(() => olivettiCompletionSplit([1, 2] as never), /images must be a Float32Array/);
  assert.throws(() => olivettiCompletionSplit(new Float32Array(4096 * 2), { ntrain: 1 } as never), /unknown option 'ntrain'/);
});
