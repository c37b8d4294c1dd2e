/**
 * A sweep spec (./spec.ts) expanded into runs. Sample i is drawn once, from a generator seeded with `searchSeed`,
 * and shared by every task, agent and seed (as the authors' `run-exp.random-search.py` shares each hyperparameter
 * draw across the three algorithms; icnn-paper.md §5.4). Samples are drawn in order from one stream, so a sweep
 * with more samples begins with the same runs.
 *
 * A run is keyed by a hash of the settings that decide its result (task, agent, seed, budget, test interval,
 * reward scale, agent options): the same settings give the same key, the same output directory
 * `OUT/<task>/<agent>/<hash>/` and the same queue job id, which makes re-running and re-enqueueing idempotent.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fail } from '../../util/errors.js';
import { Rng } from '../../util/random.js';
import { AGENT_KINDS, type AgentKind } from '../agents/agent.js';
import { stepsFor, testIntervalFor, type Distribution, type SweepSpec } from './spec.js';

export interface RunSettings {
  task: string;
  agent: AgentKind;
  seed: number;
  steps: number;
  /** Absent: the paper's for the task (runRl's default). */
  testInterval?: number;
  rewardScale: number;
  agentOptions: Record<string, unknown>;
}

export interface SweepRun extends RunSettings {
  /** Index of the hyperparameter sample. */
  sample: number;
  /** Absent: runRl's default. Not part of the key: it does not change the result. */
  checkpointInterval?: number;
  /** Key of the settings (`runKey`). */
  hash: string;
}

/** JSON with object keys sorted at every level, so that equal settings serialize equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** 12 hex digits of the SHA-256 of the run's settings. */
export function runKey(s: RunSettings): string {
  const { task, agent, seed, steps, testInterval, rewardScale, agentOptions } = s;
  return createHash('sha256').update(canonicalJson({ task, agent, seed, steps, testInterval, rewardScale, agentOptions })).digest('hex').slice(0, 12);
}

export function runDirectory(outRoot: string, run: Pick<SweepRun, 'task' | 'agent' | 'hash'>): string {
  return path.join(outRoot, run.task, run.agent, run.hash);
}

function draw(d: Distribution, rng: Rng, drawn: ReadonlyMap<string, unknown>): unknown {
  const a = d.args as [number | string, number | string];
  switch (d.kind) {
    case 'value':
      return d.args;
    case 'uniform':
      return (a[0] as number) + ((a[1] as number) - (a[0] as number)) * rng.uniform();
    case 'logUniform':
      return 10 ** ((a[0] as number) + ((a[1] as number) - (a[0] as number)) * rng.uniform());
    case 'normal':
      return (a[0] as number) + (a[1] as number) * rng.normal();
    case 'int': {
      const [lo, hi] = a.map((x) => (typeof x === 'string' ? Number(drawn.get(x)) : x)) as [number, number];
      // [lo, hi); an empty range (a bound drawn at its limit) gives lo rather than stopping the sweep.
      return hi <= lo ? lo : lo + rng.int(hi - lo);
    }
    case 'bernoulli':
      return rng.uniform() < (d.args as number);
    case 'choice':
      return (d.args as unknown[])[rng.int((d.args as unknown[]).length)];
  }
}

function applyModifiers(d: Distribution, v: unknown): unknown {
  if (typeof v !== 'number') return v;
  let x = v;
  if (d.min !== undefined) x = Math.max(d.min, x);
  if (d.zeroBelow !== undefined && x < d.zeroBelow) x = 0;
  return x;
}

/** The `samples` hyperparameter draws, each a map from parameter name to value (all agents' parameters). */
export function drawSamples(spec: SweepSpec): Map<string, unknown>[] {
  const rng = new Rng(spec.searchSeed);
  const out: Map<string, unknown>[] = [];
  for (let i = 0; i < spec.samples; i++) {
    const drawn = new Map<string, unknown>();
    for (const [name, d] of spec.parameters) drawn.set(name, applyModifiers(d, draw(d, rng, drawn)));
    out.push(drawn);
  }
  return out;
}

/** The settings of one (sample, agent): parameters that apply to the agent, hidden.0/1 joined into `hidden`. */
function settingsOf(spec: SweepSpec, sample: Map<string, unknown>, agent: AgentKind): { rewardScale: number; agentOptions: Record<string, unknown> } {
  let rewardScale = 1;
  const agentOptions: Record<string, unknown> = {};
  for (const [name, d] of spec.parameters) {
    if (d.agents !== undefined && !d.agents.includes(agent)) continue;
    const v = sample.get(name);
    if (name === 'rewardScale') {
      if (typeof v !== 'number' || !(v > 0)) fail(`sweep: rewardScale drew ${JSON.stringify(v)}; it must be a number > 0`);
      rewardScale = v;
    } else if (name.startsWith('hidden.')) {
      agentOptions.hidden = [sample.get('hidden.0'), sample.get('hidden.1')];
    } else {
      agentOptions[d.option ?? name] = v;
    }
  }
  return { rewardScale, agentOptions };
}

/** Every run of the sweep: tasks × samples × agents × seeds, in that order. */
export function expandSweep(spec: SweepSpec): SweepRun[] {
  const samples = drawSamples(spec);
  const runs: SweepRun[] = [];
  for (const task of spec.tasks) {
    const steps = stepsFor(spec, task) as number;
    const testInterval = testIntervalFor(spec, task);
    samples.forEach((sample, i) => {
      for (const agent of AGENT_KINDS.filter((a) => spec.agents.includes(a))) {
        const { rewardScale, agentOptions } = settingsOf(spec, sample, agent);
        for (const seed of spec.seeds) {
          const settings: RunSettings = { task, agent, seed, steps, ...(testInterval !== undefined ? { testInterval } : {}), rewardScale, agentOptions };
          runs.push({
            ...settings, sample: i, ...(spec.checkpointInterval !== undefined ? { checkpointInterval: spec.checkpointInterval } : {}), hash: runKey(settings),
          });
        }
      }
    });
  }
  return runs;
}
