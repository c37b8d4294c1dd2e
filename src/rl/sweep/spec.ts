/**
 * Sweep specifications: which tasks, agents and seeds to run, how many hyperparameter samples, and the
 * distribution of each hyperparameter (icnn-paper.md §5.4: the paper's cells are the best of 50 random samples).
 *
 *   {
 *     "tasks": ["InvertedDoublePendulum", "Reacher"], "agents": ["ddpg", "naf", "icnn"], "seeds": [0],
 *     "samples": 8, "searchSeed": 0,
 *     "steps": 10000,                       // or { "Reacher": 10000, ... }; default: the paper's budget of the task
 *     "testInterval": 100,                  // optional, same forms; default: the paper's for the task
 *     "checkpointInterval": 1000,           // optional; default: runRl's (10 test intervals)
 *     "parameters": {
 *       "hidden.0": { "int": [100, 600] },                 // [lo, hi): numpy's randint
 *       "hidden.1": { "int": [100, "hidden.0"] },          // a bound may name a parameter drawn before it
 *       "rewardScale": { "logUniform": [-4, 1] },          // 10^U(lo, hi)
 *       "actorL2": { "logUniform": [-10, -2], "zeroBelow": 1e-8, "agents": ["ddpg"] },
 *       "ouTheta": { "normal": [0.15, 0.1], "min": 1e-8 },
 *       "batchSize": { "value": 64 }
 *     }
 *   }
 *
 * A parameter is `rewardScale` (the runner's reward multiplier), `hidden.0` / `hidden.1` (the two layer widths),
 * or any other agent option (checked by the agent when the run starts). Distributions: `value`, `uniform`,
 * `logUniform`, `normal`, `int`, `bernoulli` (true with probability p), `choice`; modifiers `min` (clamp from
 * below), `zeroBelow` (values under it become 0), `agents` (apply only to these agents; still drawn for all,
 * so the samples do not depend on which agents a sweep runs) and `option` (the agent option the parameter sets,
 * when it is not the parameter's name: two parameters can then draw one option differently per agent, as the
 * paper's `naf_bn` and `icnn_bn` both set `batchNorm`).
 */
import { fail } from '../../util/errors.js';
import { AGENT_KINDS, type AgentKind } from '../agents/agent.js';
import { PAPER_BUDGETS } from '../runner.js';
import { resolveEnvName } from '../envs/registry.js';

export const DISTRIBUTION_KINDS = ['value', 'uniform', 'logUniform', 'normal', 'int', 'bernoulli', 'choice'] as const;
export type DistributionKind = (typeof DISTRIBUTION_KINDS)[number];

export interface Distribution {
  kind: DistributionKind;
  /** value: the value; uniform/logUniform/normal/int: [a, b]; bernoulli: p; choice: the options. */
  args: unknown;
  min?: number;
  zeroBelow?: number;
  agents?: AgentKind[];
  /** The agent option this parameter sets; default: the parameter's name. */
  option?: string;
}

export type PerTask = number | Readonly<Record<string, number>>;

export interface SweepSpec {
  tasks: string[];
  agents: AgentKind[];
  seeds: number[];
  samples: number;
  searchSeed: number;
  steps?: PerTask;
  testInterval?: PerTask;
  checkpointInterval?: number;
  /** In draw order. */
  parameters: [string, Distribution][];
}

const SPEC_KEYS = ['tasks', 'agents', 'seeds', 'samples', 'searchSeed', 'steps', 'testInterval', 'checkpointInterval', 'parameters'];
const MODIFIER_KEYS = ['min', 'zeroBelow', 'agents', 'option'];
const OPTION_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const PARAMETER_NAME = /^(?:hidden\.[01]|[A-Za-z][A-Za-z0-9]*)$/;

/** The place of a field in the spec, for error messages: `spec.parameters.ouTheta.normal[1]`. */
function at(pathParts: readonly (string | number)[]): string {
  return pathParts.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : `${s}.${p}`), 'spec');
}

function bad(source: string, pathParts: readonly (string | number)[], expected: string, got: unknown): never {
  return fail(`${source}: ${at(pathParts)} must be ${expected}, got ${JSON.stringify(got) ?? String(got)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function finite(source: string, p: (string | number)[], v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(source, p, 'a finite number', v);
  return v;
}

function nonNegativeInt(source: string, p: (string | number)[], v: unknown, positive = false): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (positive ? 1 : 0)) bad(source, p, positive ? 'a positive integer' : 'a non-negative integer', v);
  return v;
}

function nonEmptyArray(source: string, p: (string | number)[], v: unknown, what: string): unknown[] {
  if (!Array.isArray(v) || v.length === 0) bad(source, p, `a non-empty array of ${what}`, v);
  return v;
}

function checkKeys(source: string, p: (string | number)[], o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(`${source}: ${at([...p, k])} is not a known field (expected one of: ${allowed.join(', ')})`);
  }
}

function perTask(source: string, p: (string | number)[], v: unknown, tasks: readonly string[]): PerTask {
  if (typeof v === 'number') return nonNegativeInt(source, p, v, true);
  if (!isObject(v)) bad(source, p, 'a positive integer or an object { task: positive integer }', v);
  const out: Record<string, number> = {};
  for (const [task, n] of Object.entries(v)) {
    const name = resolveTask(source, [...p, task], task);
    if (!tasks.includes(name)) fail(`${source}: ${at([...p, task])} names a task that is not in spec.tasks (${tasks.join(', ')})`);
    out[name] = nonNegativeInt(source, [...p, task], n, true);
  }
  return out;
}

function resolveTask(source: string, p: (string | number)[], v: unknown): string {
  if (typeof v !== 'string') bad(source, p, 'an environment name', v);
  try {
    return resolveEnvName(v);
  } catch (e) {
    return fail(`${source}: ${at(p)}: ${(e as Error).message}`);
  }
}

function pair(source: string, p: (string | number)[], v: unknown, names: readonly string[]): [number | string, number | string] {
  if (!Array.isArray(v) || v.length !== 2) bad(source, p, 'an array of two numbers [a, b]', v);
  return v.map((x, i) => {
    if (typeof x === 'string' && names.includes(x)) return x;
    return finite(source, [...p, i], x);
  }) as [number | string, number | string];
}

function distribution(source: string, p: (string | number)[], v: unknown, drawnBefore: readonly string[]): Distribution {
  if (!isObject(v)) bad(source, p, `an object with one of ${DISTRIBUTION_KINDS.join(', ')}`, v);
  const kinds = Object.keys(v).filter((k) => !MODIFIER_KEYS.includes(k));
  if (kinds.length !== 1 || !(DISTRIBUTION_KINDS as readonly string[]).includes(kinds[0])) {
    fail(`${source}: ${at(p)} must have exactly one of ${DISTRIBUTION_KINDS.join(', ')} (and optionally ${MODIFIER_KEYS.join(', ')}), got keys ${JSON.stringify(Object.keys(v))}`);
  }
  const kind = kinds[0] as DistributionKind;
  const q = [...p, kind];
  const raw = v[kind];
  let args: unknown = raw;
  if (kind === 'uniform' || kind === 'logUniform' || kind === 'normal') {
    const [a, b] = pair(source, q, raw, []) as [number, number];
    if (kind === 'normal' ? b < 0 : b < a) bad(source, q, kind === 'normal' ? '[mean, sd] with sd ≥ 0' : '[lo, hi] with lo ≤ hi', raw);
    args = [a, b];
  } else if (kind === 'int') {
    const ab = pair(source, q, raw, drawnBefore);
    ab.forEach((x, i) => typeof x === 'number' && !Number.isSafeInteger(x) && bad(source, [...q, i], 'an integer or the name of a parameter listed before', x));
    if (typeof ab[0] === 'number' && typeof ab[1] === 'number' && ab[1] <= ab[0]) bad(source, q, '[lo, hi) with lo < hi', raw);
    args = ab;
  } else if (kind === 'bernoulli') {
    if (typeof raw !== 'number' || !(raw >= 0 && raw <= 1)) bad(source, q, 'a probability in [0, 1]', raw);
  } else if (kind === 'choice') {
    nonEmptyArray(source, q, raw, 'values');
  } else if (raw === undefined || raw === null) {
    bad(source, q, 'a value', raw);
  }
  const d: Distribution = { kind, args };
  if (v.min !== undefined) d.min = finite(source, [...p, 'min'], v.min);
  if (v.zeroBelow !== undefined) d.zeroBelow = finite(source, [...p, 'zeroBelow'], v.zeroBelow);
  if (v.agents !== undefined) d.agents = agentList(source, [...p, 'agents'], v.agents);
  if (v.option !== undefined) {
    if (typeof v.option !== 'string' || !OPTION_NAME.test(v.option) || ['seed', 'hidden', 'rewardScale'].includes(v.option)) {
      bad(source, [...p, 'option'], 'an agent option name (not seed, hidden or rewardScale)', v.option);
    }
    d.option = v.option;
  }
  return d;
}

function agentList(source: string, p: (string | number)[], v: unknown): AgentKind[] {
  return nonEmptyArray(source, p, v, `agents (${AGENT_KINDS.join(', ')})`).map((a, i) => {
    if (typeof a !== 'string' || !(AGENT_KINDS as readonly string[]).includes(a)) bad(source, [...p, i], `one of ${AGENT_KINDS.join(', ')}`, a);
    return a as AgentKind;
  });
}

/** Check a parsed JSON sweep spec; every error names the path of the bad field (`spec.parameters.x.int[1]`). */
export function validateSweepSpec(raw: unknown, source = 'sweep spec'): SweepSpec {
  if (!isObject(raw)) bad(source, [], 'a JSON object', Array.isArray(raw) ? 'an array' : raw);
  checkKeys(source, [], raw, SPEC_KEYS);
  const tasks = [...new Set(nonEmptyArray(source, ['tasks'], raw.tasks, 'environment names').map((t, i) => resolveTask(source, ['tasks', i], t)))];
  const agents = [...new Set(agentList(source, ['agents'], raw.agents))];
  const seeds = raw.seeds === undefined ? [0] : nonEmptyArray(source, ['seeds'], raw.seeds, 'seeds').map((s, i) => {
    const n = nonNegativeInt(source, ['seeds', i], s);
    if (n > 0xffffffff) bad(source, ['seeds', i], 'an integer in [0, 2^32)', s);
    return n;
  });
  const samples = nonNegativeInt(source, ['samples'], raw.samples ?? 1, true);
  const searchSeed = nonNegativeInt(source, ['searchSeed'], raw.searchSeed ?? 0);
  const spec: SweepSpec = { tasks, agents, seeds, samples, searchSeed, parameters: [] };
  if (raw.steps !== undefined) spec.steps = perTask(source, ['steps'], raw.steps, tasks);
  for (const t of tasks) {
    if (stepsFor(spec, t) === undefined) fail(`${source}: ${at(['steps'])} must give the budget of ${t} (it has no paper budget)`);
  }
  if (raw.testInterval !== undefined) spec.testInterval = perTask(source, ['testInterval'], raw.testInterval, tasks);
  if (raw.checkpointInterval !== undefined) spec.checkpointInterval = nonNegativeInt(source, ['checkpointInterval'], raw.checkpointInterval);
  const parameters = raw.parameters ?? {};
  if (!isObject(parameters)) bad(source, ['parameters'], 'an object { name: distribution }', parameters);
  for (const [name, d] of Object.entries(parameters)) {
    if (!PARAMETER_NAME.test(name) || name === 'seed' || name === 'hidden') {
      fail(`${source}: ${at(['parameters', name])}: a parameter is rewardScale, hidden.0, hidden.1 or an agent option name (not seed or hidden)`);
    }
    spec.parameters.push([name, distribution(source, ['parameters', name], d, spec.parameters.map(([n]) => n))]);
  }
  const names = spec.parameters.map(([n]) => n);
  if (names.includes('hidden.0') !== names.includes('hidden.1')) fail(`${source}: ${at(['parameters'])} must give both hidden.0 and hidden.1, or neither`);
  checkOneDrawPerOption(source, spec);
  return spec;
}

/** Two parameters may set one agent option only for disjoint sets of agents (else one draw would hide the other). */
function checkOneDrawPerOption(source: string, spec: SweepSpec): void {
  const setter = new Map<string, string>();
  for (const [name, d] of spec.parameters) {
    if (name.startsWith('hidden.') || name === 'rewardScale') continue;
    for (const agent of (d.agents ?? AGENT_KINDS).filter((x) => spec.agents.includes(x))) {
      const key = `${agent}.${d.option ?? name}`;
      const other = setter.get(key);
      if (other !== undefined) fail(`${source}: ${at(['parameters', name])} and ${at(['parameters', other])} both set ${agent}'s option ${d.option ?? name}`);
      setter.set(key, name);
    }
  }
}

function pick(v: PerTask | undefined, task: string): number | undefined {
  return typeof v === 'number' ? v : v?.[task];
}

export function stepsFor(spec: SweepSpec, task: string): number | undefined {
  return pick(spec.steps, task) ?? PAPER_BUDGETS[task]?.steps;
}

export function testIntervalFor(spec: SweepSpec, task: string): number | undefined {
  return pick(spec.testInterval, task);
}

/**
 * The paper's random search (the authors' `run-exp.random-search.py`, icnn-paper.md §5.4) in our option names, on
 * all ten tasks with their budgets. `lrelu` is ICNN's leaky slope; `prate` and `pl2norm` are DDPG's actor's;
 * `naf_bn` ~ Bern(0.5) and `icnn_bn` ~ Bern(0.25) are the `batchNorm` option of the NAF and ICNN agents.
 */
export const PAPER_SWEEP_SPEC = Object.freeze({
  tasks: Object.keys(PAPER_BUDGETS),
  agents: [...AGENT_KINDS],
  seeds: [0],
  samples: 50,
  searchSeed: 0,
  parameters: {
    'hidden.0': { int: [100, 600] },
    'hidden.1': { int: [100, 'hidden.0'] },
    rewardScale: { logUniform: [-4, 1] },
    l2: { logUniform: [-10, -2], zeroBelow: 1e-8 },
    actorL2: { logUniform: [-10, -2], zeroBelow: 1e-8, agents: ['ddpg'] },
    learningRate: { logUniform: [-4, -1] },
    actorLearningRate: { logUniform: [-4, -1], agents: ['ddpg'] },
    ouTheta: { normal: [0.15, 0.1], min: 1e-8 },
    ouSigma: { normal: [0.1, 0.05], min: 1e-8 },
    leakySlope: { logUniform: [-4, -1], zeroBelow: 1e-3, agents: ['icnn'] },
    nafBatchNorm: { bernoulli: 0.5, agents: ['naf'], option: 'batchNorm' },
    icnnBatchNorm: { bernoulli: 0.25, agents: ['icnn'], option: 'batchNorm' },
  },
});
