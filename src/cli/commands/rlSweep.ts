/**
 * `icnn rl-sweep`: expand a sweep spec (../../rl/sweep/spec.ts; `paper` is the paper's random search, §5.4) into
 * runs and execute them: on this machine in a pool of worker threads (default), or by enqueueing them on a Redis
 * queue (--queue) for `icnn worker` processes on any number of machines. Each run writes DIR/<task>/<agent>/<hash>/
 * as `icnn rl --out` does; rerunning the command reuses complete runs and resumes interrupted ones.
 *
 *   icnn rl-sweep paper --tasks InvertedDoublePendulum,Reacher --samples 8 --out out/sweep
 *   icnn rl-sweep my-sweep.json --out /shared/sweep --queue redis://10.0.0.5:6379
 *   icnn worker --queue redis://10.0.0.5:6379 --concurrency 2            # on each machine
 *   icnn rl-collect out/sweep                                             # best of N per cell
 */
import { Command } from 'commander';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fail } from '../../util/errors.js';
import { agentList, intList, positiveInt } from './rl.js';
import type { AgentKind } from '../../rl/agents/index.js';

interface SweepOptions {
  out: string;
  workers?: number;
  queue?: string;
  tasks?: string;
  agents?: AgentKind[];
  seeds?: number[];
  samples?: number;
  dryRun?: boolean;
}

/** The spec as JSON: the built-in `paper`, or a file; command-line overrides replace its fields. */
async function readSpec(spec: string, o: SweepOptions): Promise<Record<string, unknown>> {
  let raw: unknown;
  if (spec === 'paper') {
    const { PAPER_SWEEP_SPEC } = await import('../../rl/sweep/spec.js');
    raw = structuredClone(PAPER_SWEEP_SPEC);
  } else {
    let text: string;
    try {
      text = await fs.readFile(spec, 'utf8');
    } catch (e) {
      fail(`rl-sweep: cannot read the spec ${spec} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a JSON file or 'paper'`);
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      fail(`rl-sweep: ${spec} is not valid JSON (${(e as Error).message})`);
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`rl-sweep: ${spec}: spec must be a JSON object`);
  const out = raw as Record<string, unknown>;
  if (o.tasks !== undefined) out.tasks = o.tasks.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (o.agents !== undefined) out.agents = o.agents;
  if (o.seeds !== undefined) out.seeds = o.seeds;
  if (o.samples !== undefined) out.samples = o.samples;
  return out;
}

export function rlSweepCommand(): Command {
  return new Command('rl-sweep')
    .description('run a sweep of continuous-control runs (random hyperparameter search, §5.4) on a local worker pool or a Redis queue')
    .argument('<spec>', "a sweep spec (JSON file) or 'paper' (the paper's random search: 10 tasks × 3 agents × 50 samples)")
    .requiredOption('--out <dir>', 'output directory: each run in DIR/<task>/<agent>/<hash>/ (shared by all machines with --queue)')
    .option('--workers <n>', 'worker threads on this machine (default: one per core)', positiveInt)
    .option('--queue <url>', 'enqueue the runs on this Redis (redis://HOST:PORT) for `icnn worker` processes instead of running them')
    .option('--tasks <list>', "replace the spec's tasks (comma-separated)")
    .option('--agents <list>', "replace the spec's agents (ddpg, naf, icnn)", agentList)
    .option('--seeds <list>', "replace the spec's seeds", intList)
    .option('--samples <n>', "replace the spec's number of hyperparameter samples", positiveInt)
    .option('--dry-run', 'list the runs without running or enqueueing them')
    .action(async (specArg: string, o: SweepOptions) => {
      if (o.queue !== undefined && o.workers !== undefined) fail('rl-sweep: --workers applies to the local pool; with --queue give each `icnn worker` --concurrency');
      const { validateSweepSpec } = await import('../../rl/sweep/spec.js');
      const { expandSweep, runDirectory } = await import('../../rl/sweep/expand.js');
      const { runLabel } = await import('../../rl/sweep/pool.js');
      const spec = validateSweepSpec(await readSpec(specArg, o), `rl-sweep ${specArg}`);
      const runs = expandSweep(spec);
      const outRoot = path.resolve(o.out);
      if (o.dryRun) {
        for (const run of runs) process.stdout.write(`${runLabel(run)}  ${runDirectory(outRoot, run)}\n`);
        return;
      }
      const { checkAgentOptions } = await import('../../rl/sweep/execute.js');
      await checkAgentOptions(runs);
      if (o.queue !== undefined) {
        const { enqueueRuns } = await import('../../rl/sweep/queue.js');
        const s = await enqueueRuns(o.queue, runs, outRoot);
        process.stdout.write(`${runs.length} runs: ${s.added} enqueued, ${s.existing} already in the queue, ${s.retried} failed before and re-enqueued ` +
          `(queue ${o.queue}; results in ${outRoot})\n`);
        return;
      }
      const { runSweepLocally } = await import('../../rl/sweep/pool.js');
      const outcomes = await runSweepLocally(runs, outRoot, { workers: o.workers, log: (line) => process.stderr.write(`${line}\n`) });
      const failed = outcomes.filter((x) => x.error !== undefined).length;
      const reused = outcomes.filter((x) => x.outcome?.status === 'reused').length;
      process.stdout.write(`${runs.length} runs: ${runs.length - failed - reused} done, ${reused} already complete, ${failed} failed (results in ${outRoot}; summarize with icnn rl-collect ${o.out})\n`);
      if (failed > 0) process.exitCode = 1;
    });
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('take rl-sweep runs from a Redis queue and run them until stopped (Ctrl-C: finish the running ones; twice: leave them to other workers)')
    .requiredOption('--queue <url>', 'the Redis of the sweep queue (redis://HOST:PORT)')
    .option('--concurrency <n>', 'runs at once on this machine (default 1)', positiveInt, 1)
    .option('--out <dir>', 'the shared output directory as this machine sees it (default: the path given to rl-sweep)')
    .option('--stall-ms <ms>', 'lock duration and stalled-job check interval: how soon the job of a dead worker is retried (default 30000)', positiveInt)
    .option('--give-up-after <s>', 'seconds to wait for a lost Redis to come back before stopping with exit code 1 (default 120)', positiveInt)
    .action(async (o: { queue: string; concurrency: number; out?: string; stallMs?: number; giveUpAfter?: number }) => {
      const { startQueueWorker } = await import('../../rl/sweep/queue.js');
      const log = (line: string) => process.stdout.write(`${line}\n`);
      const worker = await startQueueWorker(o.queue, {
        concurrency: o.concurrency, log, ...(o.out !== undefined ? { outRoot: path.resolve(o.out) } : {}), ...(o.stallMs !== undefined ? { stallMs: o.stallMs } : {}),
        ...(o.giveUpAfter !== undefined ? { giveUpMs: o.giveUpAfter * 1000 } : {}),
      });
      log(`worker: taking jobs from ${o.queue} (concurrency ${o.concurrency})`);
      let stopping = false;
      const stop = () => {
        if (stopping) process.exit(130);
        stopping = true;
        log('worker: stopping after the running jobs (again to stop now)');
        void worker.close();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        await worker.done; // rejects when Redis went away for good
      } catch (e) {
        // BullMQ's connections keep retrying the Redis that is gone and would keep the process alive: one line, exit 1.
        process.stderr.write(`icnn: ${(e as Error).message}\n`);
        process.exit(1);
      }
    });
}
