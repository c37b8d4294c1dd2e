/**
 * A short ICNN Q-learning run on Pendulum (§4.5, §5.4).
 *
 * The ICNN agent models −Q(s, a) as a PICNN convex in the action, so its greedy action argmax_a Q(s, a) is a convex
 * problem, solved by the inner optimizer of the authors' RL code; Q is fitted to TD targets (energy regression,
 * §4.1). The run reports the test returns along the way (Pendulum's returns lie in [−16.3·200, 0]: −16.3 is the
 * worst reward of one step) and the TD loss of each training episode.
 *
 *   npx tsx examples/pendulum-q-learning.ts [--tiny]
 */
import * as rl from 'icnn/rl';
import { runIfMain, type ExampleSize } from './shared.js';

export async function pendulumQLearning(size: ExampleSize = 'full') {
  const result = await rl.runRl({
    env: 'Pendulum', agent: 'icnn', seed: 1,
    steps: size === 'tiny' ? 400 : 20_000,
    testInterval: size === 'tiny' ? 200 : 2000,
    agentOptions: size === 'tiny' ? { hidden: [8, 8], batchSize: 16, warmup: 50 } : {},
  });
  return {
    complete: result.complete,
    steps: result.steps,
    testReturns: result.tests.map((t) => ({ step: t.step, return: t.reward })),
    episodes: result.train.map((e) => ({ step: e.step, return: e.reward, tdLoss: e.updates?.loss ?? null })),
  };
}

await runIfMain(import.meta.url, pendulumQLearning);
