/**
 * Seeded runs and their collect step (src/experiments/seedRuns.ts, seedTable.ts) on fixture run directories:
 * per-seed final / last-5 / best values by hand, an unfinished run listed and kept out of the means, the ablation
 * line, results.json's row schema through `reproduce olivetti --collect`, and the run log's resume rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../helpers/icnn.js';
import { getExperiment, writeReport } from '../../src/experiments/index.js';
import { collectSeedRuns, runDirectory, runSeedGrid, SeedRunLog, type SeedRunHeader } from '../../src/experiments/seedRuns.js';
import { seedAblationTable, seedMainTable, seedTable, unfinishedLines, type SeedTableSpec } from '../../src/experiments/seedTable.js';
import type { EpochRecord } from '../../src/learning/fit.js';

const SPEC: SeedTableSpec = {
  metric: 'testMse', lowerIsBetter: true, digits: 1, alsoShow: [], paper: (m) => (m === 'bundle-entropy' ? 833 : null), label: (m) => m,
};

const history = (values: number[]): EpochRecord[] =>
  values.map((v, i) => ({ epoch: i + 1, trainLoss: v / 1000, metrics: { testMse: v }, seconds: 1, steps: i + 1, examples: 10 }));

/** A run of `values` (test MSE per epoch) in its directory, complete or not, written through SeedRunLog. */
async function fixtureRun(out: string, variant: string, method: string, seed: number, values: number[], epochs: number): Promise<void> {
  const header: SeedRunHeader = { experiment: 'olivetti', variant, method, setting: `setting of ${variant}`, seed, quick: true, epochs };
  const log = await SeedRunLog.open(runDirectory(out, variant, seed), header);
  for (let i = 1; i <= values.length; i++) await log.epochEnd({ history: history(values.slice(0, i)) }, { testMse: values[i - 1] });
  if (values.length === epochs) await log.complete();
}

test('collect: final, last-5 mean and best per seed; unfinished runs listed, not averaged; ablation line', async () => {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'icnn-seeds-'));
  try {
    await fixtureRun(out, 'bundle-entropy', 'bundle-entropy', 0, [900, 880, 870, 860, 850, 840, 845], 7);
    await fixtureRun(out, 'bundle-entropy', 'bundle-entropy', 1, [950, 900, 820, 830, 835, 836, 837], 7);
    await fixtureRun(out, 'bundle-entropy', 'bundle-entropy', 2, [990, 980], 7);
    await fixtureRun(out, 'bundle-entropy.conv-gate', 'bundle-entropy', 0, [1000, 950, 930], 3);
    const records = await collectSeedRuns(out, 'olivetti');
    assert.equal(records.length, 4);
    const t = seedTable(records, SPEC);
    const be = t.rows.find((r) => r.variant === 'bundle-entropy')!;
    assert.deepEqual(be.seeds, [0, 1]);
    assert.deepEqual(be.final, [845, 837]);
    assert.deepEqual(be.last5, [(870 + 860 + 850 + 840 + 845) / 5, (820 + 830 + 835 + 836 + 837) / 5]);
    assert.deepEqual(be.best, [840, 820]);
    assert.deepEqual(be.bestEpoch, [6, 3]);
    assert.equal(be.paper, 833);
    assert.deepEqual(t.unfinished, [{ variant: 'bundle-entropy', seed: 2, epochsDone: 2, epochs: 7 }]);
    const md = seedMainTable(t, SPEC, ['bundle-entropy']);
    assert.match(md, /\| bundle-entropy \| setting of bundle-entropy \| 0, 1 \| 841\.0 ± 5\.7 \|/);
    assert.match(md, /830\.0 ± 14\.1 \(epochs 6, 3; optimistic\)/);
    assert.match(unfinishedLines(t).join('\n'), /bundle-entropy seed 2: 2 of 7 epochs/);
    const ab = seedAblationTable(t, SPEC, [{ variant: 'bundle-entropy.conv-gate', reference: 'bundle-entropy', change: 'conv gate' }]);
    // A one-seed ablation against the same seed of its reference (930 − 845), not against the reference's mean (841).
    assert.match(ab, /\| conv gate \| bundle-entropy: 841\.0 ± 5\.7 \[2\] \| bundle-entropy\.conv-gate: 930\.0 \[1\] \| \+85\.0 \(seed 0 of both\) \|/);
    const noCommon = seedTable(records.map((r) => (r.variant === 'bundle-entropy.conv-gate' ? { ...r, seed: 5 } : r)), SPEC);
    assert.match(seedAblationTable(noCommon, SPEC, [{ variant: 'bundle-entropy.conv-gate', reference: 'bundle-entropy', change: 'conv gate' }]),
      /\| \+89\.0 \(no seed in common\) \|/);

    // The experiment's collect step writes results.json with one row per (method, setting) and the report.
    const ctx = { outDir: out, quick: true, seed: 0, collectOnly: true, log: () => undefined };
    const report = await getExperiment('olivetti').run(ctx);
    await writeReport(ctx, report);
    const results = JSON.parse(await fs.readFile(path.join(out, 'results.json'), 'utf8'));
    const row = results.rows.find((r: { variant: string }) => r.variant === 'bundle-entropy');
    for (const k of ['method', 'setting', 'seeds', 'final', 'last5', 'best', 'paper']) assert.ok(k in row, `row has ${k}`);
    assert.deepEqual([row.method, row.seeds, row.final, row.paper], ['bundle-entropy', [0, 1], [845, 837], null],
      'paper only on the authors\' model settings');
    assert.equal(results.unfinished.length, 1);
    const text = await fs.readFile(path.join(out, 'report.md'), 'utf8');
    assert.match(text, /Unfinished runs/);
    assert.match(text, /FC gate on the first FC layer → 3×3 conv gate/);
    assert.ok(existsSync(path.join(out, 'olivetti-seed-curves.png')));
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
});

test('run log: another run in the same directory is refused; a resumed run keeps its epochs; completion drops checkpoints', async () => {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'icnn-seeds-'));
  const dir = runDirectory(out, 'gd-5', 0);
  const header: SeedRunHeader = { experiment: 'olivetti', variant: 'gd-5', method: 'gd', setting: 's', seed: 0, quick: true, epochs: 3 };
  try {
    const first = await SeedRunLog.open(dir, header);
    assert.equal(first.resume, undefined);
    await first.epochEnd({ history: history([900]) });
    await first.epochEnd({ history: history([900, 880]) });
    await assert.rejects(SeedRunLog.open(dir, { ...header, seed: 1 }), /holds another run \(seed 0 vs 1\)/);
    // A checkpoint after epoch 2 (fit writes LATEST): the record resumes with both epochs, and an epoch the record
    // missed (checkpointed, then killed before run.json) is filled from fit's history.
    await fs.mkdir(path.join(dir, 'checkpoints'), { recursive: true });
    await fs.writeFile(path.join(dir, 'checkpoints', 'LATEST'), 'ckpt-2');
    const again = await SeedRunLog.open(dir, header);
    assert.equal(again.resume, path.join(dir, 'checkpoints'));
    assert.deepEqual(again.epochs.map((e) => e.metrics.testMse), [900, 880]);
    await again.epochEnd({ history: history([900, 880, 870]) }, { trainMse: 1 });
    assert.deepEqual(again.epochs.map((e) => e.epoch), [1, 2, 3]);
    const r = await again.complete();
    assert.ok(r.complete);
    assert.ok(!existsSync(path.join(dir, 'checkpoints')));
    const [read] = await collectSeedRuns(out, 'olivetti');
    assert.deepEqual(read.epochRecords.map((e) => e.metrics.testMse), [900, 880, 870]);
    await assert.rejects(collectSeedRuns(out, 'bibtex'), /is a olivetti run, not bibtex/);
    await assert.rejects(collectSeedRuns(path.join(out, 'none'), 'olivetti'), /no runs under/);
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
});

test('the grid runs every (variant, seed) in a fresh worker; a failing run leaves error.txt, the rest go on and are collected', async () => {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'icnn-seeds-'));
  const moduleUrl = new URL('../helpers/seedTaskFixture.ts', import.meta.url).href;
  const lines: string[] = [];
  try {
    const make = (variant: string, seed: number, runDir: string) => ({ variant, seed, runDir });
    const failed = await runSeedGrid(moduleUrl, out, ['bad', 'good'], [0, 1], make, { log: (l) => lines.push(l) });
    assert.equal(failed, 2);
    const t = seedTable(await collectSeedRuns(out, 'olivetti'), SPEC);
    assert.deepEqual(t.rows.map((r) => [r.variant, r.seeds, r.final]), [['good', [0, 1], [99, 100]]]);
    assert.deepEqual(t.unfinished.map((u) => [u.variant, u.seed, u.error]), [['bad', 0, 'task 0 failed: fixture failure'], ['bad', 1, 'task 0 failed: fixture failure']]);
    assert.match(unfinishedLines(t).join('\n'), /bad seed 1: 0 of \? epochs; FAILED: task 0 failed: fixture failure/);
    // Again: complete runs are kept, the failed ones tried again.
    lines.length = 0;
    assert.equal(await runSeedGrid(moduleUrl, out, ['bad', 'good'], [0, 1], make, { log: (l) => lines.push(l) }), 2);
    assert.ok(lines.some((l) => /good seed 0: complete in .*, kept/.test(l)), lines.join('\n'));
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
});

test('collect --merge: an earlier results.json fills the seeds the runs lack; runs on disk win; bad files are named', async () => {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'icnn-merge-'));
  try {
    await fixtureRun(out, 'bundle-entropy', 'bundle-entropy', 0, [900, 845], 2);
    await fixtureRun(out, 'bundle-entropy', 'bundle-entropy', 1, [990], 2);
    const row = (variant: string, method: string, seeds: number[], final: number[]) => ({
      method, setting: "authors' model", variant, seeds, final, last5: final.map((x) => x + 1), best: final.map((x) => x - 1),
      bestEpoch: seeds.map(() => 2), epochs: seeds.map(() => 2), seconds: seeds.map(() => 10), paper: null, finalAlso: { trainMse: final.map((x) => x / 4) },
    });
    const earlier = path.join(out, 'earlier.json');
    await fs.writeFile(earlier, JSON.stringify({
      metric: 'test MSE, 0–255 scale',
      rows: [row('bundle-entropy', 'bundle-entropy', [2, 0, 1], [700, 111, 800]), row('gd-30', 'gd', [1, 0], [960, 940])],
    }));
    const run = (mergeFrom: string[]) => getExperiment('olivetti').run({ outDir: out, quick: true, seed: 0, collectOnly: true, mergeFrom, log: () => undefined });
    const report = await run([earlier]);
    const rows = report.results.rows as { variant: string; seeds: number[]; final: number[]; last5: number[]; finalAlso: { trainMse: number[] } }[];
    const be = rows.find((r) => r.variant === 'bundle-entropy')!;
    // Seed 0 from its run (845, not the file's 111); seeds 1 (unfinished here) and 2 from the file; arrays in seed order.
    assert.deepEqual(be.seeds, [0, 1, 2]);
    assert.deepEqual(be.final, [845, 800, 700]);
    assert.deepEqual(be.last5, [(900 + 845) / 2, 801, 701]);
    assert.deepEqual(be.finalAlso.trainMse.slice(1), [200, 175]);
    const gd30 = rows.find((r) => r.variant === 'gd-30')!;
    assert.deepEqual([gd30.seeds, gd30.final], [[0, 1], [940, 960]]);
    assert.deepEqual(report.results.merged, [
      { file: earlier, variant: 'bundle-entropy', seeds: [1, 2] }, { file: earlier, variant: 'gd-30', seeds: [0, 1] },
    ]);
    assert.match(report.markdown, /Joined from earlier results/);
    assert.match(report.markdown, /\| ICNN: bundle entropy \| setting of bundle-entropy \| 0, 1, 2 \| 781\.7 ± 74\.2 \|/);
    assert.match(report.markdown, /GD: 5 → 30 inner steps \| gd-5: not run \| gd-30: 950\.0 ± 14\.1 \[2\]/);
    assert.match(report.markdown, /bundle-entropy seed 1: 1 of 2 epochs/, 'the unfinished run is still listed');

    const bad = path.join(out, 'bad.json');
    await fs.writeFile(bad, JSON.stringify({ metric: 'test MSE, 0–255 scale', rows: [{ ...row('gd-30', 'gd', [0, 1], [1, 2]), final: [1] }] }));
    await assert.rejects(run([bad]), /--merge .*bad\.json: rows\[0\] \(gd-30\): 'final' has 1 values for 2 seeds/);
    await fs.writeFile(bad, JSON.stringify({ metric: 'test example-F1 on [0, 1]', rows: [] }));
    await assert.rejects(run([bad]), /its rows are of 'test example-F1 on \[0, 1\]', this experiment's of 'test MSE, 0–255 scale'/);
    await fs.writeFile(bad, JSON.stringify({ metric: 'test MSE, 0–255 scale', rows: [{ ...row('gd-30', 'gd', [0], [1]), seeds: [-1] }] }));
    await assert.rejects(run([bad]), /rows\[0\]\.seeds\[0\] must be a seed \(an integer ≥ 0\), got -1/);
    await fs.writeFile(bad, '{ not json');
    await assert.rejects(run([bad]), /bad\.json: not JSON/);
    await assert.rejects(run([path.join(out, 'missing.json')]), /missing\.json: cannot read it \(ENOENT\)/);
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
});
