/**
 * One run of a sweep, on whichever executor (the local thread pool or a queue worker): the run's directory
 * `OUT/<task>/<agent>/<hash>/` gets `run.json` (the sweep's record of the run) and then exactly what `icnn rl --out`
 * writes (results.json, learning-curve.png, checkpoints). A complete results.json is reused; an interrupted run
 * resumes from its checkpoint (runRl does that).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fail } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomicFile.js';
import { AGENT_KINDS, type AgentKind } from '../agents/agent.js';
import { runRl, type RlResult } from '../runner.js';
import { runDirectory, runKey, type SweepRun } from './expand.js';

export interface RunOutcome {
  hash: string;
  task: string;
  agent: AgentKind;
  sample: number;
  seed: number;
  dir: string;
  /** 'reused': a complete results.json was already there. */
  status: 'done' | 'reused';
  maxTestReward: number | null;
  seconds: number;
  /** Steps already done when this execution resumed the run (0: started from scratch). */
  resumedAt: number;
  /** The step at which training diverged (the run ended there), or null. */
  divergedAt: number | null;
}

/** Check a run received from elsewhere (a queue job): its fields, and that its key matches its settings. */
export function checkRun(v: unknown): SweepRun {
  const where = 'sweep job';
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${where}: expected a run object, got ${JSON.stringify(v)}`);
  const r = v as Record<string, unknown>;
  const need = (name: string, ok: boolean, what: string) => ok || fail(`${where}: ${name} must be ${what}, got ${JSON.stringify(r[name])}`);
  need('task', typeof r.task === 'string', 'an environment name');
  need('agent', (AGENT_KINDS as readonly unknown[]).includes(r.agent), `one of ${AGENT_KINDS.join(', ')}`);
  for (const k of ['seed', 'steps', 'sample']) need(k, Number.isSafeInteger(r[k]) && (r[k] as number) >= 0, 'a non-negative integer');
  need('rewardScale', typeof r.rewardScale === 'number', 'a number');
  need('agentOptions', r.agentOptions !== null && typeof r.agentOptions === 'object' && !Array.isArray(r.agentOptions), 'an object');
  need('hash', typeof r.hash === 'string' && /^[0-9a-f]{12}$/.test(r.hash), '12 hex digits');
  const run = v as SweepRun;
  if (runKey(run) !== run.hash) fail(`${where}: hash ${run.hash} does not match the run's settings (key ${runKey(run)}); enqueue it again with icnn rl-sweep`);
  return run;
}

/**
 * Refuse a sweep before it starts when an agent refuses its options (a misspelt parameter name, a value out of
 * range): the first run of each agent builds its agent once (for 1 × 1 sizes), so a typo is one error, not one
 * failed run per sample. Values drawn later in the sweep are checked when their run starts.
 */
export async function checkAgentOptions(runs: readonly SweepRun[]): Promise<void> {
  const { ready } = await import('../../backend/backend.js');
  const { createAgent } = await import('../agents/index.js');
  await ready();
  for (const kind of AGENT_KINDS) {
    const run = runs.find((r) => r.agent === kind);
    if (run === undefined) continue;
    try {
      createAgent(kind, 1, 1, { ...run.agentOptions, seed: run.seed } as Parameters<typeof createAgent>[3]).dispose();
    } catch (e) {
      fail(`sweep: ${run.task}/${kind} sample ${run.sample}: ${(e as Error).message}`);
    }
  }
}

async function completeResults(file: string): Promise<RlResult | null> {
  try {
    const r = JSON.parse(await fs.readFile(file, 'utf8')) as RlResult;
    return r.complete === true ? r : null;
  } catch {
    return null;
  }
}

function outcome(run: SweepRun, dir: string, r: RlResult, status: RunOutcome['status']): RunOutcome {
  return {
    hash: run.hash, task: run.task, agent: run.agent, sample: run.sample, seed: run.seed, dir, status,
    maxTestReward: r.metrics.maxTestReward, seconds: r.timing.seconds, resumedAt: status === 'reused' ? r.steps : r.resumedAt,
    divergedAt: r.diverged?.step ?? null,
  };
}

/** Run (or resume, or reuse) one sweep run under `outRoot`. */
export async function executeRun(raw: SweepRun, outRoot: string): Promise<RunOutcome> {
  const run = checkRun(raw);
  const dir = runDirectory(outRoot, run);
  const previous = await completeResults(path.join(dir, 'results.json'));
  if (previous !== null) return outcome(run, dir, previous, 'reused');
  await writeFileAtomic(path.join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  const r = await runRl({
    env: run.task, agent: run.agent, steps: run.steps, seed: run.seed, outDir: dir, progress: 'none',
    rewardScale: run.rewardScale, agentOptions: { ...run.agentOptions, seed: run.seed },
    ...(run.testInterval !== undefined ? { testInterval: run.testInterval } : {}),
    ...(run.checkpointInterval !== undefined ? { checkpointInterval: run.checkpointInterval } : {}),
  });
  return outcome(run, dir, r, 'done');
}
