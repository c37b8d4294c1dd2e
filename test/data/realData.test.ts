/**
 * The real files in the shared data directory (ICNN_DATA_DIR, else ../shared/data): BibTeX counts and label
 * statistics as PROVENANCE.md states them, Olivetti pixels against the derived .bin, orientation, split shapes.
 * Never downloads (download: false).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  loadBibtex,
  loadOlivetti,
  olivettiCompletionSplit,
  readMultiLabelArff,
  resolveDataFile,
  type BibtexData,
  type OlivettiData,
} from '../../src/data/index.js';
import { BIBTEX_LABELS_FILE, BIBTEX_TEST_FILE, BIBTEX_TRAIN_FILE, OLIVETTI_MAT_FILE } from '../../src/data/sources.js';
import { SHARED_DATA_DIR, haveSharedData } from './helpers.js';

const local = { dataDir: SHARED_DATA_DIR, download: false } as const;

let bibtex: BibtexData | undefined;
async function getBibtex(): Promise<BibtexData> {
  bibtex ??= await loadBibtex(local);
  return bibtex;
}
let olivetti: OlivettiData | undefined;
async function getOlivetti(): Promise<OlivettiData> {
  olivetti ??= await loadOlivetti(local);
  return olivetti;
}

function labelStats(y: Float32Array, n: number, d: number): { cardinality: number; density: number; empty: number } {
  let total = 0;
  let empty = 0;
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let j = 0; j < d; j++) k += y[i * d + j];
    total += k;
    if (k === 0) empty++;
  }
  return { cardinality: total / n, density: total / (n * d), empty };
}

const rowKey = (x: Float32Array, y: Float32Array, i: number, dx: number, dy: number): string => {
  const on: number[] = [];
  for (let j = 0; j < dx; j++) if (x[i * dx + j]) on.push(j);
  for (let j = 0; j < dy; j++) if (y[i * dy + j]) on.push(dx + j);
  return on.join(',');
};

test('BibTeX: 4880/2515 split, 1836 features, 159 labels named as in bibtex.xml, binary values', async (t) => {
  if (!haveSharedData(t, 'bibtex/bibtex-train.arff', 'bibtex/bibtex-test.arff', 'bibtex/bibtex.xml')) return;
  const b = await getBibtex();
  assert.equal(b.train.n, 4880);
  assert.equal(b.test.n, 2515);
  assert.equal(b.featureNames.length, 1836);
  assert.equal(b.labelNames.length, 159);
  assert.deepEqual(b.featureNames.slice(0, 3), ['0', '000', '02']);
  assert.deepEqual(b.featureNames.slice(-2), ['zu', 'zur']);
  assert.deepEqual([b.labelNames[0], b.labelNames[1], b.labelNames.at(-1)], ['TAG_2005', 'TAG_2006', 'TAG_wiki']);
  for (const s of [b.train, b.test]) {
    assert.equal(s.x.length, s.n * 1836);
    assert.equal(s.y.length, s.n * 159);
    assert.ok(s.x.every((v) => v === 0 || v === 1));
    assert.ok(s.y.every((v) => v === 0 || v === 1));
  }
  // Labels by count (Mulan: the last 159 attributes) give the same names and values.
  const byCount = readMultiLabelArff(path.join(SHARED_DATA_DIR, 'bibtex', 'bibtex-test.arff'), { labelCount: 159 });
  assert.deepEqual(byCount.labelNames, b.labelNames);
  assert.deepEqual(byCount.y, b.test.y);
  assert.deepEqual(byCount.x, b.test.x);
});

test('BibTeX: label cardinality, density and active features as PROVENANCE.md states (union 2.402)', async (t) => {
  if (!haveSharedData(t, 'bibtex/bibtex-train.arff', 'bibtex/bibtex-test.arff', 'bibtex/bibtex.xml')) return;
  const b = await getBibtex();
  const tr = labelStats(b.train.y, b.train.n, 159);
  const te = labelStats(b.test.y, b.test.n, 159);
  const unionCard = (tr.cardinality * b.train.n + te.cardinality * b.test.n) / (b.train.n + b.test.n);
  assert.ok(Math.abs(tr.cardinality - 2.3803) < 1e-4, `train cardinality ${tr.cardinality}`);
  assert.ok(Math.abs(te.cardinality - 2.4437) < 1e-4, `test cardinality ${te.cardinality}`);
  assert.ok(Math.abs(unionCard - 2.402) < 1e-3, `union cardinality ${unionCard}`);
  assert.ok(Math.abs(tr.density - 0.01497) < 1e-5 && Math.abs(te.density - 0.01537) < 1e-5);
  assert.equal(tr.empty, 0);
  assert.equal(te.empty, 0);
  const meanActive = (x: Float32Array, n: number): number => x.reduce((a, v) => a + v, 0) / n;
  assert.ok(Math.abs(meanActive(b.train.x, b.train.n) - 68.49) < 0.005);
  assert.ok(Math.abs(meanActive(b.test.x, b.test.n) - 68.98) < 0.005);
});

test('BibTeX: the gzipped union file holds the same multiset of rows as train + test (2856 distinct label sets)', async (t) => {
  if (!haveSharedData(t, 'bibtex/bibtex.arff.gz', 'bibtex/bibtex-train.arff')) return;
  const b = await getBibtex();
  const u = readMultiLabelArff(path.join(SHARED_DATA_DIR, 'bibtex', 'bibtex.arff.gz'), { labelCount: 159 });
  assert.equal(u.n, 7395);
  assert.deepEqual(u.featureNames, b.featureNames);
  const keys = (x: Float32Array, y: Float32Array, n: number): string[] => Array.from({ length: n }, (_, i) => rowKey(x, y, i, 1836, 159));
  const union = keys(u.x, u.y, u.n).sort();
  const split = [...keys(b.train.x, b.train.y, b.train.n), ...keys(b.test.x, b.test.y, b.test.n)].sort();
  assert.deepEqual(union, split);
  const labelSets = new Set(Array.from({ length: u.n }, (_, i) => Array.from(u.y.subarray(i * 159, (i + 1) * 159)).join('')));
  assert.equal(labelSets.size, 2856);
  assert.ok(Math.abs(labelStats(u.y, u.n, 159).cardinality - 2.4019) < 1e-4);
});

test('the shared files match the sources table (sha256, or a listed equivalent copy for olivettifaces.mat)', async (t) => {
  if (!haveSharedData(t, 'bibtex/bibtex-train.arff', 'bibtex/bibtex-test.arff', 'bibtex/bibtex.xml', 'olivetti/olivettifaces.mat')) return;
  for (const file of [BIBTEX_TRAIN_FILE, BIBTEX_TEST_FILE, BIBTEX_LABELS_FILE, OLIVETTI_MAT_FILE]) {
    assert.equal(await resolveDataFile(file, { ...local, verify: true }), path.join(SHARED_DATA_DIR, ...file.split('/')));
  }
});

test('Olivetti: 400 images equal to the derived .bin byte for byte, scaled by 1/255 into [0, 1]', async (t) => {
  if (!haveSharedData(t, 'olivetti/olivettifaces.mat', 'olivetti/olivetti_faces_u8_400x64x64.bin', 'olivetti/olivetti_faces_u8_400x64x64.json')) return;
  const o = await getOlivetti();
  const sidecar = JSON.parse(readFileSync(path.join(SHARED_DATA_DIR, 'olivetti', 'olivetti_faces_u8_400x64x64.json'), 'utf8')) as { shape: number[]; header_bytes: number };
  assert.deepEqual(sidecar.shape, [400, 64, 64]);
  assert.deepEqual([o.n, o.height, o.width], sidecar.shape);
  const bin = readFileSync(path.join(SHARED_DATA_DIR, 'olivetti', 'olivetti_faces_u8_400x64x64.bin')).subarray(sidecar.header_bytes);
  assert.equal(bin.length, o.pixels.length);
  assert.ok(Buffer.from(o.pixels.buffer, o.pixels.byteOffset, o.pixels.byteLength).equals(bin), 'pixels differ from the .bin');
  assert.equal(o.images.length, 400 * 4096);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < o.pixels.length; i++) {
    assert.equal(o.images[i], Math.fround(bin[i] / 255));
    min = Math.min(min, o.images[i]);
    max = Math.max(max, o.images[i]);
    sum += bin[i];
  }
  assert.equal(min, 0);
  assert.equal(max, Math.fround(242 / 255));
  assert.ok(Math.abs(sum / bin.length - 132.3843) < 1e-4);
  assert.deepEqual(Array.from(o.pixels.subarray(0, 8)), [75, 89, 101, 107, 128, 147, 159, 164]);
  assert.deepEqual(Array.from(o.personIds.subarray(0, 11)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(o.personIds[399], 39);
});

test("Olivetti: scikit-learn's published values (minmax = /242) and upright faces", async (t) => {
  if (!haveSharedData(t, 'olivetti/olivettifaces.mat')) return;
  const sk = await loadOlivetti({ ...local, scaling: 'minmax' });
  const near = (a: ArrayLike<number>, b: number[]): void => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-6, `${a[i]} vs ${v}`));
  near(sk.images.subarray(0, 4), [0.30991736, 0.3677686, 0.41735536, 0.44214877]); // images[0][0, :4]
  near(sk.images.subarray(4096 - 3, 4096), [0.15289256, 0.16115703, 0.1570248]); // data[0][-3:]: bottom-right corner
  near(sk.images.subarray(4096, 4096 + 3), [0.45454547, 0.47107437, 0.5123967]); // data[1][:3]
  near(sk.images.subarray(8192, 8192 + 3), [0.3181818, 0.40082645, 0.49173555]); // data[2][:3]
  // Upright: in the mean face, the darkest row of the upper two thirds (the eyes) lies in rows 10..22, well below
  // the brightness of the forehead rows 0..5. A transposed or upside-down image fails this.
  const rowMean = new Float64Array(64);
  for (let i = 0; i < sk.n; i++) for (let r = 0; r < 64; r++) for (let c = 0; c < 64; c++) rowMean[r] += sk.pixels[i * 4096 + r * 64 + c];
  let eyeRow = 4;
  for (let r = 4; r <= 42; r++) if (rowMean[r] < rowMean[eyeRow]) eyeRow = r;
  const forehead = rowMean.slice(0, 6).reduce((a, b) => a + b, 0) / 6;
  assert.ok(eyeRow >= 10 && eyeRow <= 22, `darkest row ${eyeRow}`);
  assert.ok(rowMean[eyeRow] < 0.8 * forehead, `eye row ${rowMean[eyeRow]} vs forehead ${forehead}`);
});

test('Olivetti completion split: 350/50 images of [64, 32, 1]; x is the right half mirrored, y the left half', async (t) => {
  if (!haveSharedData(t, 'olivetti/olivettifaces.mat')) return;
  const o = await getOlivetti();
  const s = olivettiCompletionSplit(o.images);
  assert.equal(s.train.n, 350);
  assert.equal(s.test.n, 50);
  assert.deepEqual(s.itemShape, [64, 32, 1]);
  assert.equal(s.train.x.length, 350 * 64 * 32);
  assert.equal(s.test.y.length, 50 * 64 * 32);
  const img = (i: number, r: number, c: number): number => o.images[i * 4096 + r * 64 + c];
  for (const [k, r, c] of [
    [0, 0, 0],
    [17, 30, 5],
    [349, 63, 31],
  ]) {
    assert.equal(s.train.y[k * 2048 + r * 32 + c], img(k, r, c));
    assert.equal(s.train.x[k * 2048 + r * 32 + c], img(k, r, 63 - c));
  }
  assert.equal(s.test.x[49 * 2048 + 10 * 32 + 3], img(399, 10, 60));
  assert.equal(s.test.y[0], img(350, 0, 0));
  // A face is roughly symmetric: the mirrored right half resembles the left half far better than unmirrored.
  let mirrored = 0;
  let plain = 0;
  for (let k = 0; k < 350; k++) {
    for (let r = 0; r < 64; r++) {
      for (let c = 0; c < 32; c++) {
        const y = s.train.y[k * 2048 + r * 32 + c];
        mirrored += (s.train.x[k * 2048 + r * 32 + c] - y) ** 2;
        plain += (img(k, r, 32 + c) - y) ** 2;
      }
    }
  }
  assert.ok(mirrored < 0.7 * plain, `mirrored ${mirrored} vs plain ${plain}`);
});
