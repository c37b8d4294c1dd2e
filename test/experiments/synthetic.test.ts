/**
 * The synthetic experiment's pipeline in quick mode (so it cannot rot): it runs in worker threads, writes
 * report.md, results.json and a PNG figure, is deterministic for a seed, and learns the linear dataset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../helpers/icnn.js';
import { getExperiment, writeReport } from '../../src/experiments/index.js';
import { readPngInfo } from '../../src/report/png.js';

async function run(seed: number) {
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'icnn-synthetic-'));
  const ctx = { outDir, quick: true, seed, log: () => undefined };
  const report = await getExperiment('synthetic').run(ctx);
  await writeReport(ctx, report);
  return { outDir, report };
}

test('reproduce synthetic --quick writes the report, results and figure, deterministically', async () => {
  const a = await run(3);
  const b = await run(3);
  try {
    const md = await fs.readFile(path.join(a.outDir, 'report.md'), 'utf8');
    for (const word of ['moons', 'circles', 'linear', 'FICNN', 'PICNN', 'FeedForward', 'synthetic.png', 'quick mode']) {
      assert.ok(md.includes(word), `report.md mentions ${word}`);
    }
    const results = JSON.parse(await fs.readFile(path.join(a.outDir, 'results.json'), 'utf8'));
    assert.equal(results.panels.length, 9);
    for (const p of results.panels) {
      assert.ok(p.trainAccuracy >= 0 && p.trainAccuracy <= 1 && p.heldOutAccuracy >= 0 && p.heldOutAccuracy <= 1);
      assert.ok(Number.isFinite(p.finalLoss));
    }
    const linearFF = results.panels.find((p: { dataset: string; model: string }) => p.dataset === 'linear' && p.model === 'FeedForward');
    assert.ok(linearFF.trainAccuracy >= 0.7, `feed-forward on linear: ${linearFF.trainAccuracy}`);
    const png = readPngInfo(await fs.readFile(path.join(a.outDir, 'synthetic.png')));
    assert.ok(png.width > 800 && png.height > 600, `figure ${png.width}×${png.height}`);
    const again = JSON.parse(await fs.readFile(path.join(b.outDir, 'results.json'), 'utf8'));
    assert.deepEqual(again.panels.map((p: { trainAccuracy: number }) => p.trainAccuracy), results.panels.map((p: { trainAccuracy: number }) => p.trainAccuracy));
  } finally {
    await fs.rm(a.outDir, { recursive: true, force: true });
    await fs.rm(b.outDir, { recursive: true, force: true });
  }
});

test('an unknown experiment is refused with the list of names', () => {
  assert.throws(() => getExperiment('mnist'), /unknown experiment 'mnist' \(expected one of: .*synthetic/);
});
