/**
 * What every reproduction of the paper shares: the run context (output directory, quick mode, seed, data
 * directory, logging) and the report it leaves behind (report.md, results.json and PNG figures, written
 * atomically into the output directory).
 */
import path from 'node:path';
import { writeFileAtomic } from '../util/atomicFile.js';
import { fail } from '../util/errors.js';

export interface ExperimentContext {
  /** Directory for report.md, results.json and figures (created if missing). */
  outDir: string;
  /** Tiny subsets and few epochs: for tests and smoke runs; the numbers are not comparable with the paper. */
  quick: boolean;
  seed: number;
  /** Override the experiment's number of training epochs (default: the paper's). */
  epochs?: number;
  /** Where datasets are looked up first (else ICNN_DATA_DIR, the per-user cache, then a download). */
  dataDir?: string;
  /** Check local data files against their published size and sha256 (default true; --no-verify: false). */
  verify?: boolean;
  /** Run only these of the experiment's models (default: all; see `selectModels`); with `seeds`, its variants. */
  models?: string[];
  /**
   * bibtex, olivetti: run every (variant, seed) as its own resumable run under outDir/runs/ (two at a time), then
   * collect the tables over seeds (./seedRuns.ts, ./seedTable.ts).
   */
  seeds?: number[];
  /** With seeds' layout: only build the tables from the runs already under outDir (finished or not); no training. */
  collectOnly?: boolean;
  /**
   * With seeds' layout: results.json files of earlier collects whose seeds join the tables where the runs under
   * outDir lack them (./seedMerge.ts).
   */
  mergeFrom?: string[];
  /** Progress lines for humans (stderr in the CLI). */
  log: (line: string) => void;
  /** What determines the report, stored in results.json so a rerun with the same settings reuses it (the CLI's). */
  runSettings?: unknown;
}

export interface ExperimentReport {
  name: string;
  /** Markdown body of report.md (without the common header). */
  markdown: string;
  /** The table printed by the CLI (markdown). */
  table: string;
  /** Everything measured, for results.json. */
  results: Record<string, unknown>;
  /** Figure files written, relative to outDir. */
  figures: string[];
  wallSeconds: number;
}

export type Experiment = (ctx: ExperimentContext) => Promise<ExperimentReport>;

/** Write report.md and results.json (atomically) and return their paths. */
export async function writeReport(ctx: ExperimentContext, report: ExperimentReport): Promise<{ markdown: string; json: string }> {
  const md = path.join(ctx.outDir, 'report.md');
  const json = path.join(ctx.outDir, 'results.json');
  const header = [
    `# ${report.name}`,
    '',
    `Run ${new Date().toISOString()}, seed ${ctx.seed}${ctx.quick ? ', **quick mode** (reduced data and epochs: not comparable with the paper)' : ''}, ` +
      `wall time ${report.wallSeconds.toFixed(1)} s on ${process.platform}/${process.arch}, Node ${process.version}.`,
    '',
  ].join('\n');
  await writeFileAtomic(md, `${header}${report.markdown}\n`);
  await writeFileAtomic(json, `${JSON.stringify({ name: report.name, seed: ctx.seed, quick: ctx.quick, wallSeconds: report.wallSeconds, figures: report.figures, ...report.results, ...(ctx.runSettings !== undefined ? { runSettings: ctx.runSettings } : {}) }, null, 2)}\n`);
  return { markdown: md, json };
}

/** The models of `all` that `ctx.models` asks for, in `all`'s order (all by default); unknown names are refused. */
export function selectModels<T extends string>(experiment: string, ctx: ExperimentContext, all: readonly T[]): T[] {
  if (ctx.models === undefined) return [...all];
  if (!Array.isArray(ctx.models) || ctx.models.length === 0) fail(`${experiment}: models must be a non-empty list of: ${all.join(', ')}`);
  for (const m of ctx.models) {
    if (!(all as readonly string[]).includes(m)) fail(`${experiment}: unknown model ${JSON.stringify(m)} (expected some of: ${all.join(', ')})`);
  }
  return all.filter((m) => ctx.models!.includes(m));
}

/** A markdown table from a header and rows. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
