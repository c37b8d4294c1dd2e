/** Thread entry of the sweep's worker pool (./pool.ts): one run per task message. */
import { executeRun, type RunOutcome } from './execute.js';
import type { SweepRun } from './expand.js';

export default function runInThread(task: { run: SweepRun; outRoot: string }): Promise<RunOutcome> {
  return executeRun(task.run, task.outRoot);
}
