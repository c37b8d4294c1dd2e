/** A task module for runSeedGrid tests: variant 'bad' throws; others record two epochs of a fixed metric. */
import { SeedRunLog } from '../../src/experiments/seedRuns.js';

export async function runTask(task: { variant: string; seed: number; runDir: string }): Promise<number> {
  if (task.variant === 'bad') throw new Error('fixture failure');
  const log = await SeedRunLog.open(task.runDir, {
    experiment: 'olivetti', variant: task.variant, method: task.variant, setting: 's', seed: task.seed, quick: true, epochs: 2,
  });
  const h = (n: number) => Array.from({ length: n }, (_, i) => ({
    epoch: i + 1, trainLoss: 1, metrics: { testMse: 100 + task.seed - i }, seconds: 0, steps: i + 1, examples: 1,
  }));
  await log.epochEnd({ history: h(1) });
  await log.epochEnd({ history: h(2) });
  await log.complete();
  return task.seed;
}
