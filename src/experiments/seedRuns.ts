/**
 * Seeded, resumable runs of the supervised experiments (`reproduce bibtex|olivetti --seeds 0,1,2`), each (variant,
 * seed) in its own directory:
 *
 *   <out>/runs/<variant>/seed-<s>/run.json       the run's record: settings, every finished epoch, complete or not
 *   <out>/runs/<variant>/seed-<s>/checkpoints/   fit's checkpoints (one kept), from which an interrupted run resumes
 *
 * run.json is rewritten atomically after every epoch, so a collect step (./seedTable.ts) can build the tables from
 * whatever has finished while other runs go on. The grid runs two at a time (./parallel.ts's workers).
 */
import path from 'node:path';
import { promises as fs, existsSync } from 'node:fs';
import type { EpochEndInfo, EpochRecord } from '../learning/fit.js';
import { writeFileAtomic } from '../util/atomicFile.js';
import { fail } from '../util/errors.js';
import { runParallel } from './parallel.js';
import { selectModels, type ExperimentContext } from './experiment.js';

export const SEED_RUN_FORMAT = 'icnn-seed-run';

export interface SeedRunEpoch {
  epoch: number;
  /** Wall time of the epoch: training, evaluation and any extra per-epoch evaluation. */
  seconds: number;
  trainLoss: number;
  metrics: Record<string, number>;
}

/** What identifies a run: a different header in the same directory is refused rather than mixed. */
export interface SeedRunHeader {
  experiment: string;
  variant: string;
  method: string;
  setting: string;
  seed: number;
  quick: boolean;
  epochs: number;
}

export interface SeedRunRecord extends SeedRunHeader {
  format: typeof SEED_RUN_FORMAT;
  complete: boolean;
  epochRecords: SeedRunEpoch[];
  /** Wall time over all sessions (the sum of the epochs'). */
  seconds: number;
  /** Anything else the experiment keeps (parameter count, settings). */
  extra: Record<string, unknown>;
  /** Why the run's last session failed (from its error.txt), if it did. */
  error?: string;
}

/** Written into a run's directory when its session fails; removed when the run starts again. */
const ERROR_FILE = 'error.txt';

export function runDirectory(outDir: string, variant: string, seed: number): string {
  return path.join(outDir, 'runs', variant, `seed-${seed}`);
}

export async function readSeedRun(file: string): Promise<SeedRunRecord | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let r: SeedRunRecord;
  try {
    r = JSON.parse(text) as SeedRunRecord;
  } catch (e) {
    fail(`${file} is not readable JSON (${(e as Error).message})`);
  }
  if (r.format !== SEED_RUN_FORMAT) fail(`${file} is not a seed-run record (format ${JSON.stringify(r.format)}, expected '${SEED_RUN_FORMAT}')`);
  return r;
}

const HEADER_KEYS: (keyof SeedRunHeader)[] = ['experiment', 'variant', 'method', 'setting', 'seed', 'quick', 'epochs'];

/** One run's record, kept in step with fit: `fitOptions` to resume and checkpoint, `onEpochEnd` after each epoch. */
export class SeedRunLog {
  private lastEnd = Date.now();

  private constructor(private readonly dir: string, private readonly record: SeedRunRecord, readonly resume: string | undefined) {}

  /** Open (or start) the record in `dir`; a record of another run there is refused. */
  static async open(dir: string, header: SeedRunHeader, extra: Record<string, unknown> = {}): Promise<SeedRunLog> {
    await fs.mkdir(dir, { recursive: true });
    const previous = await readSeedRun(path.join(dir, 'run.json'));
    if (previous !== null) {
      const differs = HEADER_KEYS.filter((k) => previous[k] !== header[k]);
      if (differs.length > 0) {
        fail(`${dir} holds another run (${differs.map((k) => `${k} ${JSON.stringify(previous[k])} vs ${JSON.stringify(header[k])}`).join(', ')}); ` +
          'use another --out or remove it');
      }
    }
    await fs.rm(path.join(dir, ERROR_FILE), { force: true });
    const checkpoints = path.join(dir, 'checkpoints');
    const resume = existsSync(path.join(checkpoints, 'LATEST')) ? checkpoints : undefined;
    const record: SeedRunRecord = {
      format: SEED_RUN_FORMAT, ...header, complete: false, epochRecords: resume && previous ? previous.epochRecords : [], seconds: 0, extra,
    };
    return new SeedRunLog(dir, record, resume);
  }

  get fitOptions(): { checkpoint: { dir: string; keep: number }; resume?: string } {
    return { checkpoint: { dir: path.join(this.dir, 'checkpoints'), keep: 1 }, ...(this.resume ? { resume: this.resume } : {}) };
  }

  /**
   * Record the epoch fit just finished (with `extra` metrics measured after it). Epochs of the history the record
   * lacks (a crash between fit's checkpoint and this write) are filled from fit's history.
   */
  async epochEnd(info: Pick<EpochEndInfo, 'history'>, extra: Record<string, number> = {}): Promise<void> {
    const now = Date.now();
    const history: readonly EpochRecord[] = info.history;
    const kept = this.record.epochRecords.slice(0, history.length - 1);
    for (let i = kept.length; i < history.length; i++) {
      const h = history[i];
      const last = i === history.length - 1;
      kept.push({
        epoch: h.epoch, seconds: last ? (now - this.lastEnd) / 1000 : h.seconds, trainLoss: h.trainLoss,
        metrics: { ...h.metrics, ...(last ? extra : {}) },
      });
    }
    this.lastEnd = now;
    this.record.epochRecords = kept;
    await this.write();
  }

  async complete(extra: Record<string, unknown> = {}): Promise<SeedRunRecord> {
    this.record.complete = true;
    this.record.extra = { ...this.record.extra, ...extra };
    await this.write();
    // The run is complete: run.json is the record; drop the checkpoints.
    await fs.rm(path.join(this.dir, 'checkpoints'), { recursive: true, force: true });
    return this.record;
  }

  get epochs(): readonly SeedRunEpoch[] {
    return this.record.epochRecords;
  }

  private async write(): Promise<void> {
    this.record.seconds = this.record.epochRecords.reduce((a, e) => a + e.seconds, 0);
    await writeFileAtomic(path.join(this.dir, 'run.json'), `${JSON.stringify(this.record, null, 1)}\n`);
  }
}

export interface SeedGridTask {
  variant: string;
  seed: number;
  /** The run's directory (see runDirectory). */
  runDir: string;
}

/**
 * Run every (variant, seed) not yet complete under `outDir`, `concurrency` at a time, each in a fresh worker thread
 * running `moduleUrl`'s runTask (a run that aborts its wasm instance cannot take the next one down); complete runs are
 * kept as they are. A failed run leaves error.txt in its directory and the others go on; their count is returned.
 */
export async function runSeedGrid<T extends SeedGridTask>(moduleUrl: string, outDir: string, variants: readonly string[],
  seeds: readonly number[], makeTask: (variant: string, seed: number, runDir: string) => T,
  o: { concurrency?: number; log: (line: string) => void }): Promise<number> {
  const tasks: T[] = [];
  for (const variant of variants) {
    for (const seed of seeds) {
      const dir = runDirectory(outDir, variant, seed);
      const previous = await readSeedRun(path.join(dir, 'run.json'));
      if (previous?.complete) {
        o.log(`${variant} seed ${seed}: complete in ${dir}, kept`);
        continue;
      }
      tasks.push(makeTask(variant, seed, dir));
    }
  }
  if (tasks.length === 0) return 0;
  const concurrency = Math.min(o.concurrency ?? 2, tasks.length);
  o.log(`${tasks.length} runs to do, ${concurrency} at a time: ${tasks.map((t) => `${t.variant}/seed-${t.seed}`).join(', ')}`);
  let next = 0;
  let failed = 0;
  const slot = async () => {
    while (next < tasks.length) {
      const t = tasks[next++];
      try {
        await runParallel<T, unknown>(moduleUrl, [t], { concurrency: 1 });
        o.log(`${t.variant} seed ${t.seed}: done`);
      } catch (e) {
        failed++;
        const message = (e as Error).message.split('\n')[0];
        o.log(`${t.variant} seed ${t.seed}: FAILED (${message}); see ${path.join(t.runDir, ERROR_FILE)}`);
        await fs.mkdir(t.runDir, { recursive: true });
        await writeFileAtomic(path.join(t.runDir, ERROR_FILE), `${(e as Error).message}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  return failed;
}

/**
 * An experiment's `--seeds` / `--collect` step: unless collecting only, run the variants `ctx.models` picks (all by
 * default) for every seed through `moduleUrl`, with tasks from `prepare` (given the shared progress file, it loads
 * the data once); then every run record under ctx.outDir.
 */
export async function seedGridAndCollect<T extends SeedGridTask>(ctx: ExperimentContext, experiment: string, variantIds: readonly string[],
  moduleUrl: string, prepare: (progressFile: string) => Promise<(variant: string, seed: number, runDir: string) => T>): Promise<SeedRunRecord[]> {
  if (!ctx.collectOnly) {
    const variants = selectModels(experiment, ctx, variantIds);
    const progressFile = path.join(ctx.outDir, 'progress.log');
    const makeTask = await prepare(progressFile);
    ctx.log(`${experiment}: ${variants.length} variants × seeds ${(ctx.seeds ?? []).join(', ')}; per-epoch progress in ${progressFile}`);
    const failed = await runSeedGrid(moduleUrl, ctx.outDir, variants, ctx.seeds ?? [ctx.seed], makeTask, { log: (line) => ctx.log(`${experiment}: ${line}`) });
    if (failed > 0) ctx.log(`${experiment}: ${failed} runs failed (listed in the report as unfinished, with the error)`);
  }
  return collectSeedRuns(ctx.outDir, experiment);
}

/** Every run.json under `<outDir>/runs/<variant>/seed-<s>/`, complete or not, in a stable order. */
export async function collectSeedRuns(outDir: string, experiment: string): Promise<SeedRunRecord[]> {
  const root = path.join(outDir, 'runs');
  const dirs = async (d: string) => (await fs.readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  let variants: string[];
  try {
    variants = await dirs(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail(`collect: no runs under ${root} (expected ${root}/<variant>/seed-<s>/run.json)`);
    throw e;
  }
  const out: SeedRunRecord[] = [];
  for (const v of variants) {
    const seeds = (await dirs(path.join(root, v))).filter((s) => /^seed-\d+$/.test(s)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    for (const s of seeds) {
      const dir = path.join(root, v, s);
      const error = await fs.readFile(path.join(dir, ERROR_FILE), 'utf8').then((t) => t.split('\n')[0], () => null);
      const r = await readSeedRun(path.join(dir, 'run.json'));
      if (r === null) {
        // Failed before its first epoch: a record of nothing but the error.
        if (error !== null) {
          out.push({
            format: SEED_RUN_FORMAT, experiment, variant: v, method: v, setting: '', seed: Number(s.slice(5)), quick: false, epochs: 0,
            complete: false, epochRecords: [], seconds: 0, extra: {}, error,
          });
        }
        continue;
      }
      if (r.experiment !== experiment) fail(`collect: ${path.join(dir, 'run.json')} is a ${r.experiment} run, not ${experiment}`);
      out.push(error === null ? r : { ...r, error });
    }
  }
  return out;
}
