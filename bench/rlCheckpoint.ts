/**
 * `npm run bench:rl-checkpoint -- DIR`: what one environment step of the ICNN agent costs *in training*, against
 * DDPG's, measured in one run. bench/rl.ts times fresh networks at a fixed number of inner iterations; with the
 * authors' adaptive stop (`--preset paper`) the count is whatever the trained critic needs (74-76 per TD-target
 * argmax late in the HalfCheetah runs), so this bench starts from an ICNN run's checkpoint (agent and replay) and
 * times updates on its own replayed minibatches, in three settings of the inner solver:
 *
 * - `as run`: the checkpoint's options (the preset: the authors' batch-wide stop, cap 1000);
 * - `row stop`: `innerStop: 'row'` (rows stop as they converge, the converged ones no longer evaluated);
 * - `row stop + warm start`: as well `warmStart` (each TD target's argmax starts from its replay slot's last
 *   solution). A run's cache holds a solution for most slots, made a few hundred updates earlier (a slot is drawn
 *   once per capacity/batch updates); here the minibatches are drawn from a pool of `--pool` slots that is primed
 *   once (pool/batch updates) before the timed ones, so the cached solutions are fresher than in a run: optimistic.
 *
 * DDPG is a fresh agent at the same sizes (its update does the same work at any point of training). Each setting
 * starts from the same checkpoint (a fresh load), then `--warmup` untimed updates, then `--reps` timed ones; rounds
 * alternate the settings so that other load on the machine affects them alike. Writes
 * bench/results/rl-checkpoint.{json,md} (atomically) and prints the table.
 *
 *   npm run bench:rl-checkpoint -- out/rl/HalfCheetah/icnn/seed-2
 *   npm run bench:rl-checkpoint -- DIR --reps 30 --rounds 3 --pool 4096
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { backendInfo, tf } from '../test/helpers/icnn.js';
import { createAgent, ICNNAgent, type Agent, type AgentOptions } from '../src/rl/agents/index.js';
import { readStateFile, writeStateFile } from '../src/rl/agents/state.js';
import { loadCheckpointAgent } from '../src/rl/runner.js';
import type { Batch } from '../src/rl/replay.js';
import { Rng } from '../src/util/random.js';
import { writeFileAtomic } from '../src/util/atomicFile.js';
import { ArgReader, median, resultsDir } from './common.js';

interface Args {
  dir: string;
  reps: number;
  warmup: number;
  rounds: number;
  pool: number;
  actReps: number;
  smoke: boolean;
}

function usage(msg: string): never {
  console.error(`bench/rlCheckpoint: ${msg}\nusage: npm run bench:rl-checkpoint -- DIR [--reps N] [--warmup N] [--rounds N] [--pool N] [--act-reps N] [--smoke]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { dir: '', reps: 24, warmup: 3, rounds: 3, pool: 4096, actReps: 30, smoke: false };
  const r = new ArgReader(argv, usage);
  for (let opt = r.next(); opt !== undefined; opt = r.next()) {
    switch (opt) {
      case '--reps': a.reps = r.int(1); break;
      case '--warmup': a.warmup = r.int(0); break;
      case '--rounds': a.rounds = r.int(1); break;
      case '--pool': a.pool = r.int(1); break;
      case '--act-reps': a.actReps = r.int(1); break;
      case '--smoke': Object.assign(a, { reps: 2, warmup: 1, rounds: 1, pool: 64, actReps: 2, smoke: true }); break;
      default:
        if (opt.startsWith('--')) usage(`unknown option ${opt}`);
        if (a.dir !== '') usage(`one run directory, got ${a.dir} and ${opt}`);
        a.dir = opt;
    }
  }
  if (a.dir === '') usage('the run directory (icnn rl --out DIR of an ICNN run with a checkpoint) is missing');
  return a;
}

/** The settings of the inner solver that are timed, as overrides of the checkpoint's agent options. */
const SETTINGS = [
  { name: 'as run', overrides: {}, primed: false },
  { name: 'row stop', overrides: { innerStop: 'row' }, primed: false },
  { name: 'row stop + warm start', overrides: { innerStop: 'row', warmStart: true }, primed: true },
] as const;

interface Sample { ms: number; targetIterations: number; meanIterations: number }

/**
 * The checkpoint's agent with some options changed: its agent file rewritten with those options into `tmp` (the
 * agent refuses a file saved with other options), then loaded into an agent built with them.
 */
async function agentWith(dir: string, overrides: Record<string, unknown>, tmp: string): Promise<{ agent: ICNNAgent; env: string; seed: number; step: number }> {
  const loaded = await loadCheckpointAgent(dir);
  const { env, seed, step } = loaded;
  if (!(loaded.agent instanceof ICNNAgent)) {
    loaded.agent.dispose();
    usage(`${dir} is a ${loaded.agent.kind.toUpperCase()} run; this bench times the ICNN agent`);
  }
  if (Object.keys(overrides).length === 0) return { agent: loaded.agent, env, seed, step };
  const options = { ...loaded.agent.options, ...overrides } as AgentOptions;
  loaded.agent.dispose();
  const { meta, arrays } = await readStateFile(loaded.agentFile);
  const file = path.join(tmp, 'agent.bin');
  const agent = createAgent('icnn', meta.observationSize as number, meta.actionSize as number, options) as ICNNAgent;
  // The agent's own resolved options, so that the rewritten file matches what load() compares.
  await writeStateFile(file, { ...meta, options: agent.options }, arrays);
  await agent.load(file);
  return { agent, env, seed, step };
}

/** `reps` timed updates after `warmup` untimed ones, on minibatches drawn from `pool` slots (all of the replay: null). */
async function timeUpdates(agent: Agent, batchSize: number, pool: Int32Array | null, a: Args, primed: boolean, rng: Rng): Promise<Sample[]> {
  const draw = (): Batch => pool === null
    ? agent.replay.sample(batchSize, rng)
    : agent.replay.gather(Int32Array.from({ length: batchSize }, () => pool[rng.int(pool.length)]));
  if (primed && pool !== null) {
    // Every slot of the pool solved once, so that the timed updates find a cached start (see the module comment).
    for (let i = 0; i < pool.length; i += batchSize) {
      const ix = pool.subarray(i, Math.min(pool.length, i + batchSize));
      if (ix.length === batchSize) await agent.update(agent.replay.gather(ix));
    }
  }
  for (let i = 0; i < a.warmup; i++) await agent.update(draw());
  const out: Sample[] = [];
  for (let i = 0; i < a.reps; i++) {
    const b = draw();
    const t0 = performance.now();
    const s = await agent.update(b);
    out.push({ ms: performance.now() - t0, targetIterations: Number(s.targetIterations ?? NaN), meanIterations: Number(s.innerIterations ?? NaN) });
  }
  return out;
}

async function timeActions(agent: Agent, observations: Float32Array[], reps: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await agent.act(Array.from(observations[i % observations.length]));
    out.push(performance.now() - t0);
  }
  return out;
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const load = os.loadavg();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'icnn-bench-ck-'));
  const updates: Record<string, Sample[]> = {};
  const actions: Record<string, number[]> = {};
  let sizes = { env: '', seed: 0, observation: 0, action: 0, batch: 0, replay: 0, step: 0 };
  try {
    for (let round = 0; round < a.rounds; round++) {
      for (const s of SETTINGS) {
        const { agent, env, seed, step } = await agentWith(a.dir, s.overrides, tmp);
        try {
          const batch = agent.options.batchSize;
          sizes = { env, seed, observation: agent.observationSize, action: agent.actionSize, batch, replay: agent.replay.size, step };
          const rng = new Rng(1000 + round);
          const pool = s.primed ? Int32Array.from({ length: Math.min(a.pool, agent.replay.size) }, () => rng.int(agent.replay.size)) : null;
          (updates[s.name] ??= []).push(...await timeUpdates(agent, batch, pool, a, s.primed, rng));
          if (!s.primed) {
            const obs = agent.replay.sample(8, rng);
            const rows = Array.from({ length: 8 }, (_, i) => obs.observations.slice(i * agent.observationSize, (i + 1) * agent.observationSize));
            (actions[s.name] ??= []).push(...await timeActions(agent, rows, Math.max(1, Math.round(a.actReps / a.rounds))));
          }
        } finally {
          agent.dispose();
        }
      }
      // DDPG: fresh, same sizes and minibatch, on random transitions (its update's work does not depend on them).
      const ddpg = createAgent('ddpg', sizes.observation, sizes.action, { batchSize: sizes.batch, warmup: 0, seed: round });
      try {
        const rng = new Rng(round);
        for (let i = 0; i < sizes.batch; i++) {
          ddpg.observe({
            observation: Array.from({ length: sizes.observation }, () => rng.normal()), action: Array.from({ length: sizes.action }, () => rng.uniform() * 2 - 1),
            reward: rng.normal(), nextObservation: Array.from({ length: sizes.observation }, () => rng.normal()), terminal: false,
          });
        }
        (updates.ddpg ??= []).push(...await timeUpdates(ddpg, sizes.batch, null, a, false, rng));
        const obs = Array.from({ length: 8 }, () => Float32Array.from({ length: sizes.observation }, () => rng.normal()));
        (actions.ddpg ??= []).push(...await timeActions(ddpg, obs, Math.max(1, Math.round(a.actReps / a.rounds))));
      } finally {
        ddpg.dispose();
      }
      console.error(`round ${round + 1}/${a.rounds} done`);
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  const actMs = (name: string) => median(actions[name] ?? actions['row stop']);
  const stepMs = (name: string) => median(updates[name].map((u) => u.ms)) + actMs(name);
  const ddpgStep = stepMs('ddpg');
  const lines = [
    `# ICNN in training against DDPG: ms per environment step from a checkpoint`,
    '',
    `Checkpoint: ${sizes.env}/icnn seed ${sizes.seed} at step ${sizes.step} (replay ${sizes.replay}); observation ${sizes.observation}, action ${sizes.action}, ` +
      `minibatch ${sizes.batch}. Per setting and round: a fresh load of the checkpoint, ${a.warmup} untimed updates, ${a.reps} timed ones on replayed minibatches; ` +
      `${a.rounds} rounds alternating the settings; warm start primed on a pool of ${a.pool} slots. Load average at start ${load.map((v) => v.toFixed(1)).join(' ')} ` +
      `on ${os.cpus().length} cores; tfjs ${tf.version.tfjs} (${backendInfo().name}), Node ${process.version}.`,
    '',
    '| setting | update, median (ms) | update, mean (ms) | TD-target iterations, max over rows (mean) | iterations per row (mean) | action (ms) | ms per env step | / DDPG |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const name of [...SETTINGS.map((s) => s.name), 'ddpg']) {
    const u = updates[name];
    const iters = (k: 'targetIterations' | 'meanIterations') => (name === 'ddpg' ? '–' : mean(u.map((x) => x[k])).toFixed(1));
    lines.push(`| ${name} | ${median(u.map((x) => x.ms)).toFixed(2)} | ${mean(u.map((x) => x.ms)).toFixed(2)} | ${iters('targetIterations')} | ${iters('meanIterations')} | ` +
      `${actMs(name).toFixed(3)} | ${stepMs(name).toFixed(2)} | ${(stepMs(name) / ddpgStep).toFixed(2)} |`);
  }
  lines.push('', 'ms per env step: median update + median action (the warm start does not change acting, so its row takes the row stop\'s action).');
  const md = `${lines.join('\n')}\n`;
  const out = resultsDir(a.smoke);
  await writeFileAtomic(path.join(out, 'rl-checkpoint.json'), `${JSON.stringify({ args: a, checkpoint: sizes, load, updates, actions }, null, 2)}\n`);
  await writeFileAtomic(path.join(out, 'rl-checkpoint.md'), md);
  process.stdout.write(md);
}

await main();
