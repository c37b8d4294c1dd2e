/**
 * `npm run bench:sweep`: the local executor of `icnn rl-sweep` (a pool of worker threads, src/rl/sweep/pool.ts) on a
 * 4-run sweep of Pendulum runs, first on 1 thread (the runs one after another), then on 2 threads, each into a fresh
 * directory. On an otherwise idle 2-core machine the 2-thread wall time should be about half the 1-thread one; the
 * load average before and after, and the CPU time this process got, are recorded because other work on the machine
 * changes that.
 *
 *   npm run bench:sweep                       # 4 runs of 4000 steps
 *   npm run bench:sweep -- --steps 500 --workers 2
 *
 * Writes bench/results/sweep.json and bench/results/sweep.md (atomically) and prints the table.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validateSweepSpec } from '../src/rl/sweep/spec.js';
import { expandSweep } from '../src/rl/sweep/expand.js';
import { runSweepLocally } from '../src/rl/sweep/pool.js';
import { writeFileAtomic } from '../src/util/atomicFile.js';

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: expected a positive integer, got ${process.argv[i + 1]}`);
  return v;
}

const steps = arg('steps', 4000);
const workers = arg('workers', 2);
const runs = expandSweep(validateSweepSpec({
  tasks: ['Pendulum'], agents: ['ddpg', 'naf'], samples: 2, steps, testInterval: 200, checkpointInterval: 0,
  parameters: { 'hidden.0': { value: 64 }, 'hidden.1': { value: 64 }, batchSize: { value: 64 }, warmup: { value: 100 }, learningRate: { logUniform: [-4, -3] } },
}));

async function timeSweep(threads: number): Promise<{ threads: number; seconds: number; cpuSeconds: number; runSeconds: number[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'icnn-bench-sweep-'));
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const outcomes = await runSweepLocally(runs, dir, { workers: threads });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const failed = outcomes.find((o) => o.error !== undefined);
    if (failed) throw new Error(`a run failed: ${failed.error}`);
    return { threads, seconds, cpuSeconds, runSeconds: outcomes.map((o) => o.outcome!.seconds) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadBefore = os.loadavg();
const sequential = await timeSweep(1);
const parallel = await timeSweep(workers);
const loadAfter = os.loadavg();
const ratio = parallel.seconds / sequential.seconds;
const fmtLoad = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
const md = [
  '# Sweep executor: a 4-run sweep on the local worker-thread pool', '',
  `${runs.length} Pendulum runs (DDPG and NAF, 2 samples) of ${steps} steps, hidden 64,64, batch 64, no checkpoints.`, '',
  '| threads | wall time (s) | CPU time (s) | cores used (CPU / wall) | per-run time (s) |', '|---:|---:|---:|---:|---|',
  ...[sequential, parallel].map((s) => `| ${s.threads} | ${s.seconds.toFixed(1)} | ${s.cpuSeconds.toFixed(1)} | ${(s.cpuSeconds / s.seconds).toFixed(2)} | ` +
    `${s.runSeconds.map((x) => x.toFixed(1)).join(', ')} |`), '',
  'Cores used below the thread count means other processes held the cores: the ratio then says little about the pool.', '',
  `${workers} threads / 1 thread wall time: **${ratio.toFixed(2)}** (ideal on ${workers} free cores: ${(1 / workers).toFixed(2)}).`,
  `Machine: ${os.cpus().length} cores, load average (1, 5, 15 min) ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after; node ${process.version}.`, '',
].join('\n');
await writeFileAtomic(path.join(RESULTS, 'sweep.json'), `${JSON.stringify({ steps, runs: runs.length, sequential, parallel, ratio, loadBefore, loadAfter, cores: os.cpus().length }, null, 2)}\n`);
await writeFileAtomic(path.join(RESULTS, 'sweep.md'), md);
process.stdout.write(md);
