/** Worker entry of runParallel: import the task module once, then run each task message through `runTask`. */
import { parentPort, workerData } from 'node:worker_threads';

const { moduleUrl } = workerData as { moduleUrl: string };
const { ready } = await import('../backend/backend.js');
await ready();
const mod = (await import(moduleUrl)) as { runTask: (task: unknown) => Promise<unknown> };

parentPort!.on('message', (m: { index: number; task: unknown }) => {
  mod.runTask(m.task).then(
    (result) => parentPort!.postMessage({ index: m.index, result }),
    (e: unknown) => parentPort!.postMessage({ index: m.index, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) }),
  );
});
