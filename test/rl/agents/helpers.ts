/** Shared by the agent tests: small agents, a synthetic replay, batches. */
import { createAgent, NormalizedEnv, type Agent, type AgentKind, type AgentOptions } from '../../../src/rl/agents/index.js';
import { makeEnv } from '../../../src/rl/envs/index.js';
import { runRl } from '../../../src/rl/runner.js';
import { ReplayBuffer, type Batch } from '../../../src/rl/replay.js';
import { Rng } from '../../../src/util/random.js';

export const SMALL: AgentOptions = { hidden: [16, 16], batchSize: 32, warmup: 0, replayCapacity: 10_000 };

export function smallAgent(kind: AgentKind, obs = 3, act = 1, options: AgentOptions = {}): Agent {
  return createAgent(kind, obs, act, { ...SMALL, ...(kind === 'icnn' ? { actIterations: 30, innerLearningRate: 0.05 } : {}), ...options });
}

/** A batch of random transitions with a reward that depends on the action (so Q has something to learn). */
export function randomBatch(size: number, obs: number, act: number, seed: number): Batch {
  const rng = new Rng(seed);
  const buf = new ReplayBuffer(size, obs, act);
  for (let i = 0; i < size; i++) {
    const s = Array.from({ length: obs }, () => rng.normal());
    const a = Array.from({ length: act }, () => rng.uniform() * 2 - 1);
    const s2 = s.map((v) => 0.9 * v + 0.1 * rng.normal());
    const r = -((a[0] - 0.5 * Math.tanh(s[0])) ** 2) - 0.1 * s[1] ** 2;
    buf.add(s, a, r, s2, rng.uniform() < 0.1);
  }
  return buf.gather(Array.from({ length: size }, (_, i) => i));
}

export function fillReplay(agent: Agent, n: number, seed: number): void {
  const b = randomBatch(n, agent.observationSize, agent.actionSize, seed);
  const o = agent.observationSize;
  const a = agent.actionSize;
  for (let i = 0; i < n; i++) {
    agent.observe({
      observation: b.observations.subarray(i * o, (i + 1) * o), action: b.actions.subarray(i * a, (i + 1) * a), reward: b.rewards[i],
      nextObservation: b.nextObservations.subarray(i * o, (i + 1) * o), terminal: b.terminals[i] > 0,
    });
  }
}


/** Mean raw return of a policy over `episodes` episodes with fixed reset seeds 1000, 1001, … */
export async function evaluatePolicy(envName: string, policy: (obs: Float64Array) => Promise<ArrayLike<number>>, episodes = 10): Promise<number> {
  const env = new NormalizedEnv(await makeEnv(envName));
  let total = 0;
  for (let k = 0; k < episodes; k++) {
    let obs = env.reset(1000 + k);
    for (;;) {
      const r = env.step(await policy(obs));
      total += r.reward;
      obs = r.observation;
      if (r.terminated || r.truncated) break;
    }
  }
  env.close();
  return total / episodes;
}

/**
 * Train `agent` for `steps` steps on `envName` (runRl, no intermediate tests), then return the greedy policy's
 * mean return and a uniformly random policy's, both on the same 10 evaluation episodes.
 */
export async function learnAndEvaluate(envName: string, agent: Agent, steps: number, rewardScale: number): Promise<{ learned: number; random: number; seconds: number }> {
  const env = await makeEnv(envName);
  const t0 = performance.now();
  await runRl({ env, agent, steps, seed: 0, testInterval: steps, rewardScale });
  const seconds = (performance.now() - t0) / 1000;
  env.close();
  const rng = new Rng(5);
  const random = await evaluatePolicy(envName, async () => Array.from({ length: agent.actionSize }, () => rng.uniform() * 2 - 1));
  const learned = await evaluatePolicy(envName, (o) => agent.act(o));
  return { learned, random, seconds };
}
