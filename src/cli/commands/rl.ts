/**
 * `icnn rl`: one continuous-control run (§5.4) of DDPG, NAF or ICNN Q-learning on an environment, with a test
 * episode every --test-interval steps; prints the paper's statistics (max / final / cumulative of the rolling
 * mean of test returns) and timings, and with --out writes results.json, learning-curve.png and checkpoints
 * (a second run with the same --out resumes).
 *
 * `icnn rl-table`: the grid --envs × --agents × --seeds, each run in DIR/<env>/<agent>/seed-<s>/ (a complete run
 * with the same settings is reused, an interrupted one resumed), then DIR/table.md with the paper's Table 3
 * values beside ours.
 *
 *   icnn rl --env InvertedPendulum --agent icnn --steps 10000 --seed 0 --out out/rl/ip-icnn
 *   icnn rl-table --envs InvertedPendulum,Pendulum --agents ddpg,naf,icnn --seeds 0,1,2 --steps 10000 --out out/rl/table
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fail } from '../../util/errors.js';
import { NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT } from '../../util/numbers.js';
import { numberOption } from '../numberOption.js';
import { probeOutputDir } from '../../util/outputDir.js';
import { readJsonFileIfExists } from '../../rl/previousRun.js';
import type { AgentKind, AgentOptions } from '../../rl/agents/index.js';
import type { RlResult, RlProgressMode } from '../../rl/runner.js';
import { cliProgressSink } from '../progressBar.js';

const AGENTS = ['ddpg', 'naf', 'icnn'] as const;

export const positiveInt = numberOption(POSITIVE_INT);
const nonNegativeInt = numberOption(NON_NEGATIVE_INT);
const positiveNumber = numberOption(POSITIVE);

export function intList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError('expected a comma-separated list of non-negative integers, e.g. 0,1,2.');
  return parts.map(Number);
}

function hiddenPair(v: string): [number, number] {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.length !== 2 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) throw new InvalidArgumentError('expected two layer widths, e.g. 200,200.');
  return [Number(parts[0]), Number(parts[1])];
}

export function agentList(v: string): AgentKind[] {
  const parts = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const p of parts) if (!(AGENTS as readonly string[]).includes(p)) throw new InvalidArgumentError(`unknown agent '${p}' (expected ${AGENTS.join(', ')}).`);
  if (parts.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of ${AGENTS.join(', ')}.`);
  return parts as AgentKind[];
}

function jsonObject(v: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(v);
  } catch (e) {
    throw new InvalidArgumentError(`not valid JSON (${(e as Error).message}).`);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new InvalidArgumentError('expected a JSON object, e.g. \'{"solver":"bundle-entropy"}\'.');
  return o as Record<string, unknown>;
}

interface SharedOptions {
  testInterval?: number;
  rewardScale?: number;
  hidden?: [number, number];
  batchSize?: number;
  warmup?: number;
  lr?: number;
  agentOptions?: Record<string, unknown>;
  maxEpisodeSteps?: number;
  timeLimitTerminal?: boolean;
  checkpointInterval?: number;
  valueGapRows?: number;
  mujocoDir?: string;
  force?: boolean;
  preset?: 'none' | 'paper';
  progress: RlProgressMode;
}

function addShared(cmd: Command): Command {
  return cmd
    .option('--test-interval <n>', "training steps between test episodes (default: the paper's for the task, else 1000)", positiveInt)
    .option('--reward-scale <k>', 'reward multiplier for learning (the authors\' reward_k; default: the preset\'s, else 1)', positiveNumber)
    .addOption(new Option('--preset <name>', "settings: 'paper' is the authors' per-task table of RL/run-exp.py and their ICNN inner loop (README); explicit options override it").choices(['none', 'paper']))
    .option('--hidden <l1,l2>', 'hidden layer widths of every network (default 200,200)', hiddenPair)
    .option('--batch-size <n>', 'minibatch size (default 256)', positiveInt)
    .option('--warmup <n>', 'transitions before learning starts (default 1000)', nonNegativeInt)
    .option('--lr <rate>', 'Adam learning rate of the Q-function (default 1e-3)', positiveNumber)
    .option('--agent-options <json>', 'further agent options as JSON, e.g. \'{"solver":"bundle-entropy","actIterations":10}\'', jsonObject)
    .option('--max-episode-steps <n>', 'cap on a training episode (default 1000)', positiveInt)
    .option('--time-limit-terminal', "store the time-limit step as terminal (its TD target r alone), as the authors' loop did; default: bootstrap through it")
    .option('--checkpoint-interval <n>', 'steps between checkpoints with --out (default 10 test intervals; 0: none)', nonNegativeInt)
    .option('--value-gap-rows <n>', 'ICNN: replayed transitions whose TD error is split into greedy gap, target lag, … at each test (rl-inspect\'s numbers, in results.json; default 256; 0: off)', nonNegativeInt)
    .option('--force', 'overwrite a complete run of other settings in --out (or retrain one of the same settings), and start over instead of resuming a checkpoint of other settings')
    .option('--mujoco-dir <dir>', 'directory of the MuJoCo model files (default: ICNN_MUJOCO_DIR, ICNN_DATA_DIR/mujoco, the cache, a download)')
    .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'bar', 'lines', 'none']).default('auto'));
}

function agentOptionsOf(o: SharedOptions): AgentOptions {
  return {
    ...(o.hidden ? { hidden: o.hidden } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.warmup !== undefined ? { warmup: o.warmup } : {}),
    ...(o.lr !== undefined ? { learningRate: o.lr } : {}),
    ...(o.agentOptions ?? {}),
  } as AgentOptions;
}

async function run(env: string, agent: AgentKind, steps: number, seed: number, o: SharedOptions, out: string | undefined, progress: RlProgressMode): Promise<RlResult> {
  const { runRl } = await import('../../rl/runner.js');
  return runRl({
    env, agent, steps, seed, outDir: out, progress: cliProgressSink(progress), ...(o.force ? { overwrite: true, resume: false } : {}),
    agentOptions: { ...agentOptionsOf(o), seed },
    ...(o.testInterval !== undefined ? { testInterval: o.testInterval } : {}),
    ...(o.rewardScale !== undefined ? { rewardScale: o.rewardScale } : {}),
    ...(o.preset !== undefined ? { preset: o.preset } : {}),
    ...(o.maxEpisodeSteps !== undefined ? { maxEpisodeSteps: o.maxEpisodeSteps } : {}),
    ...(o.timeLimitTerminal ? { timeLimitTerminal: true } : {}),
    ...(o.checkpointInterval !== undefined && out !== undefined ? { checkpointInterval: o.checkpointInterval } : {}),
    ...(o.valueGapRows !== undefined ? { valueGapRows: o.valueGapRows } : {}),
    ...(o.mujocoDir !== undefined ? { envOptions: { mujocoDir: o.mujocoDir } } : {}),
  });
}

function f(v: number | null, digits = 2): string {
  return v === null ? '– (needs > 10 tests)' : v.toFixed(digits);
}

export function formatRunSummary(r: RlResult): string {
  const m = r.metrics;
  const t = r.timing;
  return [
    `${r.env} / ${r.agent.toUpperCase()}  seed ${r.seed}, ${r.steps} steps, test every ${r.testInterval} (${r.tests.length} tests)` +
      (r.timeLimitTerminal ? ', time limit stored as terminal' : ''),
    ...(r.diverged ? [`DIVERGED at step ${r.diverged.step}: ${r.diverged.reason}; the metrics are over the tests before`] : []),
    `max test reward (rolling mean of 10)  ${f(m.maxTestReward)}`,
    `final test reward                     ${f(m.finalTestReward)}`,
    `cumulative test reward                ${f(m.cumulativeTestReward)}`,
    `best / last single test return        ${f(m.bestTestReward)} / ${f(m.lastTestReward)}`,
    `time ${t.seconds.toFixed(1)} s (${t.stepsPerSecond.toFixed(1)} steps/s), ${t.actMs.toFixed(2)} ms per action, ${t.updateMs.toFixed(1)} ms per update, tests ${t.testSeconds.toFixed(1)} s (backend ${r.backend})`,
    '',
  ].join('\n');
}

export function rlCommand(): Command {
  return addShared(new Command('rl')
    .description('train DDPG, NAF or ICNN Q-learning (§4.5, §5.4) on a continuous-control task with periodic test episodes')
    .requiredOption('--env <name>', 'environment: Pendulum, MountainCarContinuous, CartPoleContinuous or a MuJoCo task (InvertedPendulum, HalfCheetah, ...)')
    .addOption(new Option('--agent <kind>', 'agent').choices([...AGENTS]).makeOptionMandatory())
    .requiredOption('--steps <n>', 'training steps', positiveInt)
    .option('--seed <s>', 'seed (default 0)', nonNegativeInt, 0)
    .option('--out <dir>', 'write results.json, learning-curve.png and checkpoints here (resumes when present)')
    .option('--json', 'print the results as JSON'))
    .action(async (opts: SharedOptions & { env: string; agent: AgentKind; steps: number; seed: number; out?: string; json?: boolean }) => {
      if (opts.out !== undefined) await probeOutputDir('--out', opts.out);
      const { ready } = await import('../../backend/backend.js');
      await ready();
      const r = await run(opts.env, opts.agent, opts.steps, opts.seed, opts, opts.out, opts.json && opts.progress === 'auto' ? 'none' : opts.progress);
      process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatRunSummary(r));
    });
}

/** A results.json, or null when there is none; a damaged one is an error naming the file. */
async function readResults(file: string, where: string): Promise<RlResult | null> {
  const r = await readJsonFileIfExists(file, `${where}: results`);
  if (r === null) return null;
  if (typeof r !== 'object' || Array.isArray(r) || (r as RlResult).format !== 'icnn-rl-results') {
    fail(`${where}: ${file} is not an icnn rl results file (format ${JSON.stringify((r as Partial<RlResult> | null)?.format)}); move it away`);
  }
  return r as RlResult;
}

export function rlTableCommand(): Command {
  return addShared(new Command('rl-table')
    .description("run a grid of continuous-control runs and write a markdown table beside the paper's Table 3")
    .requiredOption('--envs <list>', 'comma-separated environments')
    .requiredOption('--agents <list>', 'comma-separated agents (ddpg, naf, icnn)', agentList)
    .option('--seeds <list>', 'comma-separated seeds (default 0)', intList, [0])
    .requiredOption('--steps <n>', 'training steps per run', positiveInt)
    .requiredOption('--out <dir>', 'directory for the runs and table.md'))
    .action(async (opts: SharedOptions & { envs: string; agents: AgentKind[]; seeds: number[]; steps: number; out: string }) => {
      await probeOutputDir('--out', opts.out);
      const { ready } = await import('../../backend/backend.js');
      await ready();
      const { resolveEnvName } = await import('../../rl/envs/registry.js');
      const { rlTableMarkdown } = await import('../../rl/table.js');
      const { writeFileAtomic } = await import('../../util/atomicFile.js');
      const envs = opts.envs.split(',').map((s) => s.trim()).filter((s) => s !== '').map((e) => resolveEnvName(e));
      if (envs.length === 0) fail('--envs: expected a comma-separated list of environments');
      const results: RlResult[] = [];
      for (const env of envs) {
        for (const agent of opts.agents) {
          for (const seed of opts.seeds) {
            const dir = path.join(opts.out, env, agent, `seed-${seed}`);
            const r = await run(env, agent, opts.steps, seed, opts, dir, opts.progress);
            process.stderr.write(formatRunSummary(r));
            results.push(r);
          }
        }
      }
      const notes = [
        `Budget: ${opts.steps} training steps per run; seeds ${opts.seeds.join(', ')}.`,
        `Preset ${opts.preset ?? 'none'}; agent options: ${JSON.stringify(agentOptionsOf(opts))}; reward scale ${opts.rewardScale ?? (opts.preset === 'paper' ? 'per the preset' : 1)}; test interval ${opts.testInterval ?? 'paper default'}.`,
        ...[...new Set(results.map((r) => `${r.env}/${r.agent}: ${r.timing.stepsPerSecond.toFixed(1)} steps/s, ${r.timing.actMs.toFixed(2)} ms per action, ${r.timing.updateMs.toFixed(1)} ms per update (seed ${r.seed})`))],
      ];
      const md = rlTableMarkdown(results, { agents: opts.agents, notes });
      await writeFileAtomic(path.join(opts.out, 'table.md'), md);
      process.stdout.write(md);
    });
}

/** One line per run for a table's notes: budget, settings and speed. */
function runNote(r: RlResult): string {
  const { seed: _seed, ...options } = r.agentOptions;
  const best = r.metrics.bestTestReward;
  const reach = best === null ? undefined : r.tests.find((t) => t.reward >= best);
  return `${r.env}/${r.agent} seed ${r.seed}: ${r.steps} steps, reward scale ${r.rewardScale}, test every ${r.testInterval}, ` +
    (r.timeLimitTerminal ? 'time limit stored as terminal, ' : '') + `options ${JSON.stringify(options)}; ${r.timing.seconds.toFixed(0)} s wall (${r.backend ?? 'backend not recorded'}), ` +
    `${r.timing.stepsPerSecond.toFixed(1)} steps/s, ${r.timing.actMs.toFixed(2)} ms/action, ${r.timing.updateMs.toFixed(1)} ms/update; ` +
    `${r.tests.length} tests, best single test ${best === null ? '—' : best.toFixed(1)}${reach ? ` (first at step ${reach.step})` : ''}` +
    (r.diverged ? `; diverged at step ${r.diverged.step} (${r.diverged.reason})` : '');
}

/**
 * Every complete run under DIR/<env>/<agent>/seed-<s>/results.json (rl-table) or DIR/<env>/<agent>/<hash>/ (rl-sweep),
 * in a stable order; incomplete ones are named. `dirs`, when given, gets each result's directory.
 */
export async function collectRuns(dir: string, log: (line: string) => void = () => undefined, dirs?: Map<RlResult, string>): Promise<RlResult[]> {
  const entries = async (d: string) => (await fs.readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  let envs: string[];
  try {
    envs = await entries(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') fail(`rl-collect: no directory ${dir}`);
    throw e;
  }
  const out: RlResult[] = [];
  for (const env of envs) {
    for (const agent of (await entries(path.join(dir, env))).filter((a) => (AGENTS as readonly string[]).includes(a))) {
      const seeds = (await entries(path.join(dir, env, agent))).filter((s) => /^seed-\d+$/.test(s))
        .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
      const sweepRuns = (await entries(path.join(dir, env, agent))).filter((s) => /^[0-9a-f]{12}$/.test(s));
      for (const s of [...seeds, ...sweepRuns]) {
        const file = path.join(dir, env, agent, s, 'results.json');
        const r = await readResults(file, 'rl-collect');
        if (r === null) continue;
        if (!Array.isArray(r.tests) || typeof r.metrics !== 'object' || r.metrics === null || typeof r.timing !== 'object' || r.timing === null) {
          fail(`rl-collect: ${file} lacks tests, metrics or timing; it is not a results file this version wrote (move it away)`);
        }
        if (!r.complete) {
          log(`rl-collect: skipping ${file}: the run is not complete (resume it with icnn rl --out ${path.dirname(file)})`);
          continue;
        }
        out.push(r);
        dirs?.set(r, path.dirname(file));
      }
    }
  }
  return out;
}

export function rlCollectCommand(): Command {
  return new Command('rl-collect')
    .description("write table.md beside the paper's Table 3 from the complete runs under DIR/<env>/<agent>/{seed-<s>,<hash>}/ " +
      '(no training), with the best run of each cell, its settings and learning curves (best-curves/); several DIRs make one table')
    .argument('<dirs...>', 'directories of runs, laid out as rl-table or rl-sweep writes them')
    .option('--out <dir>', 'where table.md and best-curves/ go (default: the first DIR)')
    .action(async (dirList: string[], opts: { out?: string }) => {
      const { rlTableMarkdown } = await import('../../rl/table.js');
      const { writeFileAtomic } = await import('../../util/atomicFile.js');
      const { bestRuns, bestRunsMarkdown, writeBestCurves } = await import('../../rl/sweep/collect.js');
      const out = opts.out ?? dirList[0];
      const dirs = new Map<RlResult, string>();
      const results: RlResult[] = [];
      for (const dir of dirList) results.push(...await collectRuns(dir, (line) => process.stderr.write(`${line}\n`), dirs));
      const shown = dirList.join(', ');
      if (results.length === 0) fail(`rl-collect: no complete runs under ${shown} (expected DIR/<env>/<agent>/seed-<s>/results.json)`);
      await probeOutputDir('rl-collect --out', out);
      const agents = AGENTS.filter((a) => results.some((r) => r.agent === a));
      const best = await bestRuns(results, dirs);
      const bestSection = bestRunsMarkdown(best, out, await writeBestCurves(best, out));
      // With several directories, each note names the run's folder, since one cell may then mix settings.
      const where = (r: RlResult) => (dirList.length > 1 ? ` [${path.relative(out, dirs.get(r) ?? '')}]` : '');
      const md = rlTableMarkdown(results, { agents, notes: results.map((r) => runNote(r) + where(r)) }) + `\n${bestSection}`;
      await writeFileAtomic(path.join(out, 'table.md'), md);
      process.stdout.write(md);
    });
}
