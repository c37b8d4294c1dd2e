/**
 * Run independent tasks (experiment panels, seeds) on all cores. tfjs's wasm backend computes on one thread in
 * Node, so a 2-core machine runs two trainings at once only in two workers, each with its own wasm instance.
 * A task module exports `runTask(task)`; each worker imports it (worker.ts) and runs tasks sent to it in turn.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

/** The same-named sibling file, .js when running compiled, else .ts (tsx). */
export function siblingModule(importMetaUrl: string, name: string): string {
  const js = new URL(`./${name}.js`, importMetaUrl);
  if (existsSync(fileURLToPath(js))) return js.href;
  return new URL(`./${name}.ts`, importMetaUrl).href;
}

export interface ParallelOptions {
  /** Workers to start (default: available cores, at most the number of tasks). */
  concurrency?: number;
  /** Called as each task finishes. */
  onResult?: (index: number) => void;
}

/** Run `tasks` through `moduleUrl`'s `runTask` in worker threads; results in task order. */
export async function runParallel<T, R>(moduleUrl: string, tasks: T[], o: ParallelOptions = {}): Promise<R[]> {
  const concurrency = Math.max(1, Math.min(o.concurrency ?? os.availableParallelism(), tasks.length));
  const results = new Array<R>(tasks.length);
  let next = 0;
  const workerFile = siblingModule(import.meta.url, 'worker');
  const runWorker = () => new Promise<void>((resolve, reject) => {
    // Compiled: run worker.js directly. From sources (tsx): register tsx's loader in the worker first, since
    // module hooks of the main thread do not reach worker threads.
    const worker = workerFile.endsWith('.js')
      ? new Worker(new URL(workerFile), { workerData: { moduleUrl } })
      : new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(workerFile)}); });`,
        { eval: true, workerData: { moduleUrl } });
    let current = -1;
    const feed = () => {
      if (next >= tasks.length) {
        void worker.terminate().then(() => resolve());
        return;
      }
      current = next++;
      worker.postMessage({ index: current, task: tasks[current] });
    };
    worker.on('message', (m: { index: number; result?: R; error?: string }) => {
      if (m.error !== undefined) {
        void worker.terminate();
        reject(new Error(`task ${m.index} failed: ${m.error}`));
        return;
      }
      results[m.index] = m.result as R;
      o.onResult?.(m.index);
      feed();
    });
    worker.on('error', reject);
    feed();
  });
  await Promise.all(Array.from({ length: concurrency }, runWorker));
  return results;
}

