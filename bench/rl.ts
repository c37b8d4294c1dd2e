/**
 * `npx tsx bench/rl.ts`: the cost of one update step and one action choice of DDPG, NAF and ICNN Q-learning at the
 * paper's size (two hidden layers of 200, minibatch 256), on the active tfjs backend (wasm in Node), next to the same
 * steps in PyTorch (bench/torch_rl.py, one and two threads), on the same machine in the same run.
 *
 *   npx tsx bench/rl.ts                                   # InvertedPendulum sizes (4 → 1)
 *   npx tsx bench/rl.ts --obs 17 --act 6                  # HalfCheetah sizes
 *   npx tsx bench/rl.ts --obs 17 --act 6 --inner-adam library --act-iterations 40 --target-iterations 20 --inner-lr 0.05
 *   npx tsx bench/rl.ts --batch 64 --no-torch --reps 10
 *   npx tsx bench/rl.ts --smoke                           # plumbing check: hidden 8,8, batch 8, 2 inner iterations,
 *                                                         # one run each, results to a temporary directory
 *
 * ICNN: the TD target needs argmin_a' of the target network's −Q̃ on the whole minibatch (`--target-iterations`
 * Adam steps through tfjs), and acting needs the same for one state (`--act-iterations`, the plain-JS oracle of
 * src/rl/agents/layerOracle.ts). By default the authors' inner Adam (src/rl/agents/innerAdam.ts, lr 0.01) runs a
 * fixed number of iterations on both sides (its adaptive stop switched off, so that both sides do the same work;
 * pick the counts that the stop gives in training, `innerIterations` in results.json). The table also gives the
 * ICNN-to-DDPG ratio of the cost of one environment step (one action plus one update). Rounds alternate our side and PyTorch's (`--rounds`), so that other load on the machine
 * affects both alike. Writes bench/results/rl.json and bench/results/rl.md (atomically) and prints the table.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { backendInfo, tf } from '../test/helpers/icnn.js';
import { createAgent, type AgentKind, type AgentOptions } from '../src/rl/agents/index.js';
import { ReplayBuffer } from '../src/rl/replay.js';
import { Rng } from '../src/util/random.js';
import { writeFileAtomic } from '../src/util/atomicFile.js';
import { ArgReader, TORCH_CONFIGS, WARM_MS, median, resultsDir, runPython, warmFor } from './common.js';

interface Args {
  obs: number;
  act: number;
  hidden: [number, number];
  batch: number;
  actIterations: number;
  targetIterations: number;
  innerLr: number;
  innerAdam: 'authors' | 'library';
  warmup: number;
  reps: number;
  actReps: number;
  rounds: number;
  torch: boolean;
  agents: AgentKind[];
  smoke: boolean;
}

function usage(msg: string): never {
  console.error(`bench/rl: ${msg}\nusage: npx tsx bench/rl.ts [--obs N] [--act N] [--hidden L1,L2] [--batch N] [--act-iterations N] ` +
    '[--target-iterations N] [--inner-lr X] [--inner-adam authors|library] [--warmup N] [--reps N] [--act-reps N] [--rounds N] [--agents ddpg,naf,icnn] [--no-torch] [--smoke]');
  process.exit(2);
}

/** --smoke: toy sizes and one run of everything (options after --smoke still apply). */
const SMOKE: Partial<Args> = {
  hidden: [8, 8], batch: 8, actIterations: 2, targetIterations: 2, warmup: 1, reps: 1, actReps: 1, rounds: 1, smoke: true,
};

function parseArgs(argv: string[]): Args {
  const a: Args = { obs: 4, act: 1, hidden: [200, 200], batch: 256, actIterations: 10, targetIterations: 10, innerLr: 0.01, innerAdam: 'authors', warmup: 2, reps: 12, actReps: 30, rounds: 3, torch: true, agents: ['ddpg', 'naf', 'icnn'], smoke: false };
  const r = new ArgReader(argv, usage);
  for (let arg = r.next(); arg !== undefined; arg = r.next()) {
    switch (arg) {
      case '--obs': a.obs = r.int(1); break;
      case '--act': a.act = r.int(1); break;
      case '--batch': a.batch = r.int(1); break;
      case '--act-iterations': a.actIterations = r.int(1); break;
      case '--target-iterations': a.targetIterations = r.int(1); break;
      case '--inner-lr': a.innerLr = r.number(1e-9); break;
      case '--inner-adam': {
        const v = r.value();
        if (v !== 'authors' && v !== 'library') usage(`--inner-adam needs authors or library, got ${v}`);
        a.innerAdam = v;
        break;
      }
      case '--warmup': a.warmup = r.int(0); break;
      case '--reps': a.reps = r.int(1); break;
      case '--act-reps': a.actReps = r.int(1); break;
      case '--rounds': a.rounds = r.int(1); break;
      case '--no-torch': a.torch = false; break;
      case '--smoke': Object.assign(a, SMOKE); break;
      case '--hidden': {
        const h = (r.value() ?? '').split(',').map(Number);
        if (h.length !== 2 || h.some((v) => !Number.isInteger(v) || v < 1)) usage('--hidden needs two widths, e.g. 200,200');
        a.hidden = [h[0], h[1]];
        break;
      }
      case '--agents': a.agents = r.list(['ddpg', 'naf', 'icnn'] as const, 'agent'); break;
      default: r.unknown();
    }
  }
  return a;
}

interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function summarizeRuns(runs: number[]): Timing {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}

async function timeCase(fn: () => Promise<unknown>, warmup: number, reps: number): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  await warmFor(fn); // as torch_rl.py's warm_ms: both sides' timed runs start on busy cores (common.ts, WARM_MS)
  const runs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  return summarizeRuns(runs);
}

type Cases = Record<string, { update: Timing; act: Timing }>;

/** One round of our side: `reps` updates and `actReps` actions per agent (fresh agents, seed 0). */
async function ours(a: Args, reps: number, actReps: number): Promise<Cases> {
  const rng = new Rng(0);
  const replay = new ReplayBuffer(a.batch, a.obs, a.act);
  for (let i = 0; i < a.batch; i++) {
    replay.add(Array.from({ length: a.obs }, () => rng.normal()), Array.from({ length: a.act }, () => rng.uniform() * 2 - 1), rng.normal(),
      Array.from({ length: a.obs }, () => rng.normal()), rng.uniform() < 0.05);
  }
  const batch = replay.gather(Array.from({ length: a.batch }, (_, i) => i));
  const obs = Array.from({ length: a.obs }, () => rng.normal());
  const out: Record<string, { update: Timing; act: Timing }> = {};
  for (const kind of a.agents) {
    const options: AgentOptions = {
      hidden: a.hidden, batchSize: a.batch, warmup: 0,
      ...(kind === 'icnn' ? {
        actIterations: a.actIterations, targetIterations: a.targetIterations, innerLearningRate: a.innerLr,
        ...(a.innerAdam === 'authors' ? { innerAdam: 'authors' as const, innerStop: 'none' as const } : {}),
      } : {}),
    };
    const agent = createAgent(kind, a.obs, a.act, options);
    try {
      out[kind] = {
        update: await timeCase(() => agent.update(batch), a.warmup, reps),
        act: await timeCase(() => agent.act(obs), a.warmup, actReps),
      };
    } finally {
      agent.dispose();
    }
  }
  return out;
}

/** One round of PyTorch's side with `threads` threads (a fresh process; its import time is not measured). */
function torch(a: Args, reps: number, actReps: number, threads: 1 | 2): { cases: Cases; torch: string } | { error: string } {
  const config = {
    agents: a.agents, obs: a.obs, act: a.act, hidden: a.hidden, batch: a.batch, act_iterations: a.actIterations,
    target_iterations: a.targetIterations, inner_lr: a.innerLr, authors: a.innerAdam === 'authors', warmup: a.warmup, warm_ms: WARM_MS, reps, act_reps: actReps,
  };
  try {
    return runPython('torch_rl.py', ['--config', JSON.stringify(config), '--threads', String(threads)], TORCH_CONFIGS[threads - 1].env, 1_800_000) as { cases: Cases; torch: string };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const load = os.loadavg();
  // Rounds alternate our side and PyTorch's, so that other load on the machine affects both alike.
  const perRound = Math.max(1, Math.round(a.reps / a.rounds));
  const actPerRound = Math.max(1, Math.round(a.actReps / a.rounds));
  type Runs = Record<string, { update: number[]; act: number[] }>;
  const add = (into: Runs, cases: Cases) => {
    for (const [k, v] of Object.entries(cases)) {
      into[k] ??= { update: [], act: [] };
      into[k].update.push(...v.update.runs);
      into[k].act.push(...v.act.runs);
    }
  };
  const mineRuns: Runs = {};
  const torchRuns: [Runs, Runs] = [{}, {}];
  let theirsError: string | null = a.torch ? null : 'skipped (--no-torch)';
  let torchVersion = '';
  for (let round = 0; round < a.rounds; round++) {
    add(mineRuns, await ours(a, perRound, actPerRound));
    for (const threads of [1, 2] as const) {
      if (theirsError !== null) break;
      const t = torch(a, perRound, actPerRound, threads);
      if ('error' in t) {
        theirsError = t.error;
      } else {
        torchVersion = t.torch;
        add(torchRuns[threads - 1], t.cases);
      }
    }
    console.error(`round ${round + 1}/${a.rounds} done`);
  }
  const merge = (r: Runs): Cases =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { update: summarizeRuns(v.update), act: summarizeRuns(v.act) }]));
  const mine = merge(mineRuns);
  const theirs: { cases: Cases; cases2: Cases; torch: string } | { error: string } = theirsError !== null
    ? { error: theirsError }
    : { cases: merge(torchRuns[0]), cases2: merge(torchRuns[1]), torch: torchVersion };
  const f = (v: number | undefined, d = 2) => (v === undefined ? '–' : v.toFixed(d));
  const lines = [
    `# RL step costs: tfjs (${backendInfo().name}) vs PyTorch (1 and 2 threads)`,
    '',
    `Sizes: observation ${a.obs}, action ${a.act}, hidden ${a.hidden.join('/')}, minibatch ${a.batch}. ICNN inner Adam (update: ${a.innerAdam}): ${a.targetIterations} ` +
      `iterations for the TD targets (whole minibatch), ${a.actIterations} per action, lr ${a.innerLr}. Medians of ${perRound * a.rounds} updates / ` +
      `${actPerRound * a.rounds} actions in ${a.rounds} alternating rounds (${a.warmup} warm-up runs each, then ${WARM_MS} ms of untimed runs on each side); load average at start ` +
      `${load.map((v) => v.toFixed(1)).join(' ')} on ${os.cpus().length} cores.`,
    '',
    '| agent | update, ours (ms) | update, PyTorch 1 thread (ms) | update, PyTorch 2 threads (ms) | action, ours (ms) | action, PyTorch 1 thread (ms) | action, PyTorch 2 threads (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const k of a.agents) {
    const [t1, t2] = 'cases' in theirs ? [theirs.cases[k], theirs.cases2[k]] : [undefined, undefined];
    lines.push(`| ${k} | ${f(mine[k].update.median)} | ${f(t1?.update.median)} | ${f(t2?.update.median)} | ${f(mine[k].act.median, 3)} | ` +
      `${f(t1?.act.median, 3)} | ${f(t2?.act.median, 3)} |`);
  }
  const perStep = (c: Cases | undefined, k: string): number | undefined => (c?.[k] ? c[k].update.median + c[k].act.median : undefined);
  const ratio = (c: Cases | undefined): string => {
    const i = perStep(c, 'icnn');
    const d = perStep(c, 'ddpg');
    return i === undefined || d === undefined ? '–' : (i / d).toFixed(2);
  };
  lines.push('', `ICNN / DDPG, ms per environment step (one action + one update): ours ${ratio(mine)}, PyTorch ${ratio('cases' in theirs ? theirs.cases : undefined)} ` +
    `(1 thread), ${ratio('cases2' in theirs ? theirs.cases2 : undefined)} (2 threads).`);
  if ('cases' in theirs) {
    for (const [label, c] of [['1 thread', theirs.cases], ['2 threads', theirs.cases2]] as const) {
      lines.push(`Ours / PyTorch ${label} per update: ${a.agents.map((k) => `${k} ${(mine[k].update.median / c[k].update.median).toFixed(2)}`).join(', ')}.`);
    }
  }
  if ('error' in theirs) lines.push('', `PyTorch: ${theirs.error}`);
  const md = `${lines.join('\n')}\n`;
  const record = { args: a, load, backend: backendInfo(), tfjs: tf.version.tfjs, node: process.version, ours: mine, torch: theirs };
  const out = resultsDir(a.smoke);
  await writeFileAtomic(path.join(out, 'rl.json'), `${JSON.stringify(record, null, 2)}\n`);
  await writeFileAtomic(path.join(out, 'rl.md'), md);
  process.stdout.write(md);
  if (a.smoke) console.log(`(--smoke) wrote ${path.join(out, 'rl.json')}, ${path.join(out, 'rl.md')}`);
}

await main();
