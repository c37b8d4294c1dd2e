/**
 * Joining an earlier collect to today's runs: a results.json written by `reproduce bibtex|olivetti --seeds/--collect`
 * keeps every row's per-seed arrays, so it stays the record of runs whose directories are gone (another machine,
 * another sitting). `--merge FILE` adds those seeds to the table built from the runs under --out, for each seed that
 * --out has no complete run of; the runs on disk win. The merged seeds have no per-epoch history here, so they are
 * in the tables and the ablations but not in the curves, and the report says which rows they joined.
 */
import { promises as fs } from 'node:fs';
import * as v from 'valibot';
import { fail } from '../util/errors.js';
import { arrayOf, nonEmptyString, parseWith, show } from '../util/schema.js';
import type { SeedRow, SeedTable, SeedTableSpec } from './seedTable.js';

const finite = v.custom<number>((x) => typeof x === 'number' && Number.isFinite(x), (issue) => `must be a finite number, got ${show(issue.input)}`);
const seedNumber = v.custom<number>((x) => Number.isInteger(x) && (x as number) >= 0, (issue) => `must be a seed (an integer ≥ 0), got ${show(issue.input)}`);

const ROW = v.looseObject({
  method: nonEmptyString,
  setting: v.string((issue) => `must be a string, got ${show(issue.input)}`),
  variant: nonEmptyString,
  seeds: arrayOf(seedNumber, 'seeds'),
  final: arrayOf(finite, 'numbers'),
  last5: arrayOf(finite, 'numbers'),
  best: arrayOf(finite, 'numbers'),
  bestEpoch: arrayOf(finite, 'numbers'),
  epochs: arrayOf(finite, 'numbers'),
  seconds: arrayOf(finite, 'numbers'),
  finalAlso: v.optional(v.record(v.string(), arrayOf(finite, 'numbers'))),
});

const RESULTS = v.looseObject({
  metric: nonEmptyString,
  rows: arrayOf(ROW, 'rows'),
});

const PER_SEED = ['final', 'last5', 'best', 'bestEpoch', 'epochs', 'seconds'] as const;

/** The seeds one earlier file added to one row. */
export interface MergedSeeds {
  file: string;
  variant: string;
  seeds: number[];
}

/** The rows of an earlier results.json of the same experiment (`metric` as its collect wrote it), checked. */
export async function readEarlierRows(file: string, metric: string, spec: SeedTableSpec): Promise<SeedRow[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    fail(`--merge ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)}); expected a results.json of an earlier --seeds or --collect run`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`--merge ${file}: not JSON (${(e as Error).message})`);
  }
  const parsed = parseWith(RESULTS, json, { root: `--merge ${file}:` });
  if (parsed.metric !== metric) fail(`--merge ${file}: its rows are of '${parsed.metric}', this experiment's of '${metric}'`);
  return parsed.rows.map((r, i) => {
    const where = `--merge ${file}: rows[${i}] (${r.variant})`;
    for (const k of PER_SEED) {
      if (r[k].length !== r.seeds.length) fail(`${where}: '${k}' has ${r[k].length} values for ${r.seeds.length} seeds`);
    }
    if (new Set(r.seeds).size !== r.seeds.length) fail(`${where}: a seed appears twice in ${show(r.seeds)}`);
    const also: Record<string, number[]> = {};
    for (const m of spec.alsoShow) {
      const values = r.finalAlso?.[m.key];
      if (values === undefined || values.length !== r.seeds.length) fail(`${where}: finalAlso.${m.key} needs one value per seed (${r.seeds.length})`);
      also[m.key] = values;
    }
    return {
      method: r.method, setting: r.setting, variant: r.variant, seeds: r.seeds, final: r.final, last5: r.last5, best: r.best,
      bestEpoch: r.bestEpoch, epochs: r.epochs, seconds: r.seconds, paper: spec.paper(r.method, r.setting), also,
    };
  });
}

/** Row `r` with the seeds at `picks` of `from` appended, every per-seed array reordered by seed. */
function withSeeds(r: SeedRow, from: SeedRow, picks: number[]): SeedRow {
  const joined: SeedRow = {
    ...r,
    seeds: [...r.seeds, ...picks.map((i) => from.seeds[i])],
    ...Object.fromEntries(PER_SEED.map((k) => [k, [...r[k], ...picks.map((i) => from[k][i])]])),
    also: Object.fromEntries(Object.entries(r.also).map(([k, values]) => [k, [...values, ...picks.map((i) => from.also[k][i])]])),
  };
  const order = joined.seeds.map((_, i) => i).sort((a, b) => joined.seeds[a] - joined.seeds[b]);
  const sorted = <T>(a: readonly T[]) => order.map((i) => a[i]);
  return {
    ...joined, seeds: sorted(joined.seeds), ...Object.fromEntries(PER_SEED.map((k) => [k, sorted(joined[k])])),
    also: Object.fromEntries(Object.entries(joined.also).map(([k, values]) => [k, sorted(values)])),
  };
}

/**
 * `t` with the earlier rows' seeds that `t` lacks (a complete run under --out wins over an earlier row of the same
 * variant and seed; a variant that has no complete run here is added whole, after the others).
 */
export function mergeEarlierRows(t: SeedTable, earlier: readonly { file: string; rows: readonly SeedRow[] }[]): { table: SeedTable; merged: MergedSeeds[] } {
  const rows = new Map(t.rows.map((r) => [r.variant, r]));
  const merged: MergedSeeds[] = [];
  for (const { file, rows: fileRows } of earlier) {
    for (const e of fileRows) {
      const current = rows.get(e.variant);
      const picks = e.seeds.map((s, i) => [s, i]).filter(([s]) => !current?.seeds.includes(s)).map(([, i]) => i);
      if (picks.length === 0) continue;
      const base: SeedRow = current ?? { ...e, seeds: [], ...Object.fromEntries(PER_SEED.map((k) => [k, []])), also: Object.fromEntries(Object.keys(e.also).map((k) => [k, []])) };
      rows.set(e.variant, withSeeds(base, e, picks));
      merged.push({ file, variant: e.variant, seeds: picks.map((i) => e.seeds[i]).sort((a, b) => a - b) });
    }
  }
  return { table: { rows: [...rows.values()], unfinished: t.unfinished }, merged };
}

/** The report's lines on what was merged (empty when nothing was). */
export function mergedLines(merged: readonly MergedSeeds[]): string[] {
  if (merged.length === 0) return [];
  return ['', 'Joined from earlier results (`--merge`; their run directories are not under --out, so they are in the tables, not in the curves):', '',
    ...merged.map((m) => `- ${m.variant} seed${m.seeds.length > 1 ? 's' : ''} ${m.seeds.join(', ')}: ${m.file}`)];
}

/** `t` joined with the rows of each file in `files` (none: `t` as it is). */
export async function joinEarlierResults(t: SeedTable, files: readonly string[] | undefined, metric: string, spec: SeedTableSpec): Promise<{ table: SeedTable; merged: MergedSeeds[] }> {
  if (files === undefined || files.length === 0) return { table: t, merged: [] };
  const earlier = await Promise.all(files.map(async (file) => ({ file, rows: await readEarlierRows(file, metric, spec) })));
  return mergeEarlierRows(t, earlier);
}
