/**
 * The collect step of the seeded supervised runs (./seedRuns.ts): from the run records under an output directory,
 * one row per (method, setting) over the complete seeds, with
 * - final: each seed's metric at its last epoch (the number the paper reports), shown as mean ± sd over seeds;
 * - last5: each seed's mean over its last 5 epochs (less epoch-to-epoch noise);
 * - best: each seed's best epoch, chosen by its test score, so optimistic;
 * - the wall time of each run;
 * and an ablation table with one line per change against its reference row. Unfinished runs are listed, never
 * averaged in. results.json keeps the per-seed arrays.
 */
import path from 'node:path';
import { summarize } from '../rl/table.js';
import { lineChart, type Series } from '../report/charts.js';
import { writeSvgAsPng } from '../report/png.js';
import { markdownTable } from './experiment.js';
import type { SeedRunRecord } from './seedRuns.js';

export interface SeedTableSpec {
  /** Test metric of the main table (a key of each epoch's metrics). */
  metric: string;
  lowerIsBetter: boolean;
  digits: number;
  /** Further metrics shown beside it (final mean ± sd). */
  alsoShow: { key: string; label: string }[];
  /** The paper's value for a row, or null. */
  paper: (method: string, setting: string) => number | null;
  /** Human name of a method. */
  label: (method: string) => string;
}

export interface AblationLine {
  /** The variant that makes the change, and the variant it changes. */
  variant: string;
  reference: string;
  change: string;
}

export interface SeedRow {
  method: string;
  setting: string;
  variant: string;
  seeds: number[];
  final: number[];
  last5: number[];
  best: number[];
  bestEpoch: number[];
  epochs: number[];
  seconds: number[];
  paper: number | null;
  /** final values of the alsoShow metrics, one per seed. */
  also: Record<string, number[]>;
}

export interface UnfinishedRun {
  variant: string;
  seed: number;
  epochsDone: number;
  epochs: number;
  /** The error of its last session, if it failed. */
  error?: string;
}

export interface SeedTable {
  rows: SeedRow[];
  unfinished: UnfinishedRun[];
}

/** How to read the main table (under it in every report). */
export const SEED_TABLE_NOTE = [
  '"final": each seed\'s last epoch, mean ± sample sd over seeds; "mean of last 5 epochs": each seed\'s mean over its',
  'last five epochs, then the mean over seeds; "best epoch": each seed\'s best test epoch, chosen on the test set, so',
  'optimistic. Wall time: each run (seed) in turn, summed over its epochs (resumed sessions included).',
];

const metricOf = (r: SeedRunRecord, key: string) => r.epochRecords.map((e) => e.metrics[key]);

/** Rows (complete runs, grouped by variant, in first-seen order) and the unfinished runs. */
export function seedTable(records: readonly SeedRunRecord[], spec: SeedTableSpec): SeedTable {
  const rows = new Map<string, SeedRow>();
  const unfinished: UnfinishedRun[] = [];
  for (const r of records) {
    if (!r.complete || r.epochRecords.length === 0) {
      unfinished.push({ variant: r.variant, seed: r.seed, epochsDone: r.epochRecords.length, epochs: r.epochs, ...(r.error ? { error: r.error } : {}) });
      continue;
    }
    let row = rows.get(r.variant);
    if (!row) {
      row = {
        method: r.method, setting: r.setting, variant: r.variant, seeds: [], final: [], last5: [], best: [], bestEpoch: [], epochs: [],
        seconds: [], paper: spec.paper(r.method, r.setting), also: Object.fromEntries(spec.alsoShow.map((m) => [m.key, []])),
      };
      rows.set(r.variant, row);
    }
    const v = metricOf(r, spec.metric);
    const tail = v.slice(-5);
    let b = 0;
    v.forEach((x, i) => {
      if (spec.lowerIsBetter ? x < v[b] : x > v[b]) b = i;
    });
    row.seeds.push(r.seed);
    row.final.push(v[v.length - 1]);
    row.last5.push(tail.reduce((a, x) => a + x, 0) / tail.length);
    row.best.push(v[b]);
    row.bestEpoch.push(r.epochRecords[b].epoch);
    row.epochs.push(r.epochRecords.length);
    row.seconds.push(r.seconds);
    for (const m of spec.alsoShow) row.also[m.key].push(r.epochRecords[r.epochRecords.length - 1].metrics[m.key]);
  }
  return { rows: [...rows.values()], unfinished };
}

function meanSd(values: readonly number[], digits: number): string {
  const s = summarize(values);
  if (s.mean === null) return '–';
  return values.length > 1 ? `${s.mean.toFixed(digits)} ± ${(s.std ?? 0).toFixed(digits)}` : s.mean.toFixed(digits);
}

const mean = (v: readonly number[]) => summarize(v).mean;

/** The main table: one line per (method, setting). */
export function seedMainTable(t: SeedTable, spec: SeedTableSpec, variants: readonly string[]): string {
  const d = spec.digits;
  const ordered = variants.flatMap((v) => t.rows.filter((r) => r.variant === v));
  const rows = ordered.map((r) => [
    spec.label(r.method), r.setting, r.seeds.join(', '), meanSd(r.final, d), meanSd(r.last5, d),
    `${meanSd(r.best, d)} (epochs ${r.bestEpoch.join(', ')}; optimistic)`,
    ...spec.alsoShow.map((m) => meanSd(r.also[m.key], d)),
    r.paper === null ? '—' : r.paper.toFixed(d), r.epochs.join(', '), r.seconds.map((s) => `${s.toFixed(0)} s`).join(', '),
  ]);
  return markdownTable(['method', 'setting', 'seeds', 'final (mean ± sd)', 'mean of last 5 epochs', 'best epoch',
    ...spec.alsoShow.map((m) => `${m.label} (final)`), 'paper', 'epochs', 'wall time per run'], rows);
}

/**
 * The change's effect on the final values: the difference of the means over the seeds both rows have (seed-to-seed
 * spread is larger than some effects, so a one-seed ablation is compared with the same seed of its reference), else,
 * with no seed in common, of the rows' means, so marked.
 */
function ablationDelta(a: SeedRow, b: SeedRow, digits: number): string {
  const common = b.seeds.filter((s) => a.seeds.includes(s));
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
  if (common.length === 0) return `${sign((mean(b.final) ?? 0) - (mean(a.final) ?? 0))} (no seed in common)`;
  const at = (r: SeedRow, seed: number) => r.final[r.seeds.indexOf(seed)];
  const diff = common.reduce((acc, seed) => acc + at(b, seed) - at(a, seed), 0) / common.length;
  const same = common.length === a.seeds.length && common.length === b.seeds.length;
  return same ? sign(diff) : `${sign(diff)} (seed${common.length > 1 ? 's' : ''} ${common.join(', ')} of both)`;
}

/** One line per change: the reference row's final mean ± sd, the changed row's, and the change's effect (ablationDelta). */
export function seedAblationTable(t: SeedTable, spec: SeedTableSpec, lines: readonly AblationLine[]): string {
  const d = spec.digits;
  const byVariant = new Map(t.rows.map((r) => [r.variant, r]));
  const rows = lines.map((l) => {
    const a = byVariant.get(l.reference);
    const b = byVariant.get(l.variant);
    return [l.change, `${l.reference}: ${a ? `${meanSd(a.final, d)} [${a.seeds.length}]` : 'not run'}`,
      `${l.variant}: ${b ? `${meanSd(b.final, d)} [${b.seeds.length}]` : 'not run'}`, a && b ? ablationDelta(a, b, d) : '–'];
  });
  return markdownTable(['change', 'reference: final [seeds]', 'with the change: final [seeds]', 'Δ (same seeds)'], rows);
}

/** results.json rows: the per-seed arrays of every (method, setting). */
export function seedResultRows(t: SeedTable): Record<string, unknown>[] {
  return t.rows.map((r) => ({
    method: r.method, setting: r.setting, variant: r.variant, seeds: r.seeds, final: r.final, last5: r.last5, best: r.best,
    bestEpoch: r.bestEpoch, epochs: r.epochs, seconds: r.seconds, paper: r.paper, ...(Object.keys(r.also).length > 0 ? { finalAlso: r.also } : {}),
  }));
}

/** [epoch, mean over the complete seeds of `metric`] for a variant's learning curve. */
export function meanCurve(records: readonly SeedRunRecord[], variant: string, metric: string): [number, number][] {
  const runs = records.filter((r) => r.complete && r.variant === variant);
  const n = Math.min(...runs.map((r) => r.epochRecords.length));
  if (runs.length === 0) return [];
  return Array.from({ length: n }, (_, i) => [runs[0].epochRecords[i].epoch, runs.reduce((a, r) => a + r.epochRecords[i].metrics[metric], 0) / runs.length]);
}

/** The mean over seeds of a row's final values (null when the row has no complete run). */
export function finalMean(t: SeedTable, variant: string): number | null {
  const r = t.rows.find((x) => x.variant === variant);
  return r ? summarize(r.final).mean : null;
}

/** A PNG of the mean learning curves of `variants` (complete seeds) with the paper's values dashed. */
export async function writeSeedCurves(file: string, records: readonly SeedRunRecord[], variants: readonly string[], metric: string,
  o: { title: string; subtitle: string; yLabel: string; paper: [string, number][] }): Promise<string> {
  const series: Series[] = variants.map((v) => ({ name: v, points: meanCurve(records, v, metric) })).filter((x) => x.points.length > 0);
  const last = Math.max(2, ...series.map((x) => x.points.length));
  for (const [name, v] of o.paper) series.push({ name, points: [[1, v], [last, v]] });
  const quick = records.some((r) => r.quick) ? 'QUICK MODE, not comparable with the paper; ' : '';
  await writeSvgAsPng(file, await lineChart({
    title: o.title, subtitle: `${quick}${o.subtitle}`, xLabel: 'epoch', yLabel: o.yLabel, series, dashed: o.paper.map(([n]) => n), markPoints: last <= 60,
  }), { scale: 1.5 });
  return path.basename(file);
}

/** Lines naming the unfinished runs (empty when all finished). */
export function unfinishedLines(t: SeedTable): string[] {
  if (t.unfinished.length === 0) return [];
  return ['', '**Unfinished runs** (not in the tables; run the same command again to resume them):', '',
    ...t.unfinished.map((u) => `- ${u.variant} seed ${u.seed}: ${u.epochsDone} of ${u.epochs || '?'} epochs${u.error ? `; FAILED: ${u.error}` : ''}`)];
}
