/**
 * The Olivetti experiment's pipeline (§5.3) in quick mode, on the real data (skipped without it): bundle entropy,
 * GD and the nonconvex ablation in worker threads, report.md, results.json with test MSE on the 0–255 scale, a
 * valid face grid and learning-curve PNG, and the same numbers again for the same seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../helpers/icnn.js';
import { getExperiment, writeReport } from '../../src/experiments/index.js';
import { greyPng } from '../../src/experiments/olivetti.js';
import { mse255 } from '../../src/experiments/olivettiTask.js';
import { readPngInfo } from '../../src/report/png.js';
import { OLIVETTI_MAT_FILE } from '../../src/data/sources.js';
import { SHARED_DATA_DIR, haveSharedData } from '../data/helpers.js';
import { inflateSync } from 'node:zlib';

interface Epoch { epoch: number; trainMse: number; testMse: number; seconds: number }
interface Run { method: string; epochs: Epoch[]; testMse: number; testMseClipped: number; isConvex: boolean; steps: number }

async function run(seed: number) {
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'icnn-olivetti-'));
  const ctx = { outDir, quick: true, seed, dataDir: SHARED_DATA_DIR, log: () => undefined };
  const report = await getExperiment('olivetti').run(ctx);
  await writeReport(ctx, report);
  return { outDir, report };
}

test('reproduce olivetti --quick writes the report, test MSE, face grid and curves, deterministically', async (t) => {
  if (!haveSharedData(t, OLIVETTI_MAT_FILE)) return;
  const a = await run(2);
  const b = await run(2);
  try {
    const md = await fs.readFile(path.join(a.outDir, 'report.md'), 'utf8');
    for (const word of ['bundle entropy', 'gradient descent', 'nonconvex', '942.0', '833.0', '872.0', '850.9', '795.4',
      'olivetti-faces.png', 'olivetti-curves.png', 'quick mode']) {
      assert.ok(md.includes(word), `report.md mentions ${word}`);
    }
    const results = JSON.parse(await fs.readFile(path.join(a.outDir, 'results.json'), 'utf8'));
    assert.deepEqual(results.data, { train: 40, test: 10 });
    assert.deepEqual(results.runs.map((r: Run) => r.method), ['bundle-entropy', 'gd', 'nonconvex']);
    assert.deepEqual(results.runs.map((r: Run) => r.isConvex), [true, true, false]);
    assert.ok(results.meanFaceBaselineMse > 100 && results.meanFaceBaselineMse < 10000, `mean-face baseline ${results.meanFaceBaselineMse}`);
    for (const r of results.runs as Run[]) {
      assert.equal(r.epochs.length, 2);
      assert.equal(r.steps, 2 * 2, `${r.method}: 40 faces in batches of 20, two epochs`);
      for (const v of [r.testMse, r.testMseClipped, ...r.epochs.flatMap((e) => [e.trainMse, e.testMse])]) {
        assert.ok(Number.isFinite(v) && v > 0 && v < 255 * 255, `${r.method}: MSE ${v} on the 0–255 scale`);
      }
      assert.ok(r.testMseClipped <= r.testMse + 1e-9, 'clipping to [0, 1] cannot increase the error');
    }
    const faces = readPngInfo(await fs.readFile(path.join(a.outDir, 'olivetti-faces.png')));
    assert.deepEqual([faces.width, faces.height], [120 + 5 * 136 + 8, 92 + 10 * 136 + 8], 'five columns, ten faces of 128 px');
    const curves = readPngInfo(await fs.readFile(path.join(a.outDir, 'olivetti-curves.png')));
    assert.ok(curves.width > 600 && curves.height > 300, `curves ${curves.width}×${curves.height}`);
    const again = JSON.parse(await fs.readFile(path.join(b.outDir, 'results.json'), 'utf8'));
    const numbers = (rs: Run[]) => rs.map((r) => [r.testMse, ...r.epochs.flatMap((e) => [e.trainMse, e.testMse])]);
    assert.deepEqual(numbers(again.runs), numbers(results.runs), 'same seed, same numbers');
  } finally {
    await fs.rm(a.outDir, { recursive: true, force: true });
    await fs.rm(b.outDir, { recursive: true, force: true });
  }
});

test('greyPng encodes grey levels (zoomed pixel blocks) that decode back', () => {
  const png = greyPng([0, 0.5, 1, 0.25], 2, 2, 2);
  assert.deepEqual(readPngInfo(png), { width: 4, height: 4, bitDepth: 8, colorType: 0 });
  // The IDAT chunk starts after the signature (8) and IHDR (25 bytes).
  const length = png.readUInt32BE(33);
  assert.equal(png.toString('latin1', 37, 41), 'IDAT');
  const raw = inflateSync(png.subarray(41, 41 + length));
  const rows = Array.from({ length: 4 }, (_, r) => Array.from(raw.subarray(r * 5, r * 5 + 5)));
  assert.deepEqual(rows, [[0, 0, 0, 128, 128], [0, 0, 0, 128, 128], [0, 255, 255, 64, 64], [0, 255, 255, 64, 64]]);
});

test('mse255 is the MSE on the 0–255 scale, optionally of predictions clipped to [0, 1]', () => {
  assert.equal(mse255([0.5, 1], [0.5, 0]), 255 * 255 / 2);
  assert.equal(mse255([1.2, -0.1], [1, 0], true), 0);
  assert.ok(Math.abs(mse255([1.2, -0.1], [1, 0]) - (51 * 51 + 25.5 * 25.5) / 2) < 1e-6);
});
