/**
 * The one-machine executor: a tinypool of worker threads, one per core by default. tfjs's wasm backend computes on
 * one thread per instance, so runs only proceed in parallel in separate threads (see ../../experiments/parallel.ts);
 * a thread also keeps a queue worker's main thread free to renew its job locks (./queue.ts).
 */
import os from 'node:os';
import Tinypool from 'tinypool';
import { siblingModule } from '../../experiments/parallel.js';
import type { RunOutcome } from './execute.js';
import type { SweepRun } from './expand.js';

export interface RunPool {
  run(run: SweepRun, outRoot: string): Promise<RunOutcome>;
  destroy(): Promise<void>;
}

/**
 * The pool's thread module. Compiled: poolWorker.js. From sources (tsx): a data: module that registers tsx's loader
 * in the thread first, since the main thread's module hooks do not reach worker threads.
 */
function threadModule(): string {
  const file = siblingModule(import.meta.url, 'poolWorker');
  if (file.endsWith('.js')) return file;
  const source = `const t = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}); t.register();\n` +
    `const m = await import(${JSON.stringify(file)}); export default m.default;`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

export function defaultWorkers(): number {
  return os.availableParallelism();
}

export function createRunPool(threads = defaultWorkers()): RunPool {
  const pool = new Tinypool({ filename: threadModule(), minThreads: 1, maxThreads: threads, idleTimeout: 1000 });
  return {
    run: (run, outRoot) => pool.run({ run, outRoot }) as Promise<RunOutcome>,
    destroy: () => pool.destroy(),
  };
}

export interface SweepOutcome {
  run: SweepRun;
  outcome?: RunOutcome;
  /** Why the run failed; the other runs go on. */
  error?: string;
}

/** Every run through a pool of `workers` threads; `log` gets one line per finished or failed run. */
export async function runSweepLocally(runs: readonly SweepRun[], outRoot: string, o: { workers?: number; log?: (line: string) => void } = {}): Promise<SweepOutcome[]> {
  const pool = createRunPool(Math.max(1, Math.min(o.workers ?? defaultWorkers(), runs.length)));
  try {
    return await Promise.all(runs.map(async (run): Promise<SweepOutcome> => {
      try {
        const outcome = await pool.run(run, outRoot);
        o.log?.(describeOutcome(outcome));
        return { run, outcome };
      } catch (e) {
        const error = firstLine(e);
        o.log?.(`${runLabel(run)}: failed: ${error}`);
        return { run, error };
      }
    }));
  } finally {
    await pool.destroy();
  }
}

export function runLabel(run: Pick<SweepRun, 'task' | 'agent' | 'sample' | 'seed' | 'hash'>): string {
  return `${run.task}/${run.agent} sample ${run.sample} seed ${run.seed} (${run.hash})`;
}

export function describeOutcome(o: RunOutcome): string {
  const max = o.maxTestReward === null ? '– (≤ 10 tests)' : o.maxTestReward.toFixed(2);
  const how = o.status === 'reused' ? 'already complete' : `done${o.resumedAt > 0 ? ` (resumed at step ${o.resumedAt})` : ''}`;
  const diverged = o.divergedAt === null ? '' : ` (diverged at step ${o.divergedAt})`;
  return `${runLabel(o)}: ${how}${diverged}, max test reward ${max}, ${o.seconds.toFixed(1)} s`;
}

/** The first line of an error's message: what a user needs, without the stack of internals. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
