/**
 * The Redis executor with a real redis-server (127.0.0.1, a free port, nothing persisted) and real `icnn worker`
 * processes (tsx): two workers drain a queue; a worker killed with SIGKILL has its job retried by the other, which
 * resumes the run from its checkpoint; a graceful stop finishes the running run; bad jobs, a bad spec and an
 * unreachable Redis each give one clear error; a worker that loses Redis waits for it, then gives up.
 * Runs are tiny Pendulum runs (a few hundred steps) because the machine is small and shared.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { freePort, REDIS_MISSING, startRedis, type RedisServer } from '../../helpers/redis.js';
import { removeDir, tempDirFor } from '../../helpers/tmp.js';
import { validateSweepSpec } from '../../../src/rl/sweep/spec.js';
import { expandSweep, runDirectory, runKey, type SweepRun } from '../../../src/rl/sweep/expand.js';
import { executeRun } from '../../../src/rl/sweep/execute.js';
import { enqueueRuns, SWEEP_QUEUE } from '../../../src/rl/sweep/queue.js';
import type { RlResult } from '../../../src/rl/runner.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/cli/main.ts');
const TINY = { 'hidden.0': { value: 8 }, 'hidden.1': { value: 8 }, batchSize: { value: 16 }, warmup: { value: 50 } };

let redis: RedisServer | undefined;
before(async () => {
  if (!REDIS_MISSING) redis = await startRedis();
});
after(async () => {
  await redis?.stop();
  if (launcherFile !== undefined) removeDir(path.dirname(launcherFile));
});

let launcherFile: string | undefined;
/**
 * A script file that runs the CLI from the sources as bin/icnn.js runs the compiled one (an error: one line on
 * stderr, exit code 1). A file, not `-e`: worker threads inherit the process's flags, and `--input-type` breaks them.
 */
function launcher(): string {
  if (launcherFile === undefined) {
    launcherFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'icnn-cli-')), 'icnn.mjs');
    writeFileSync(launcherFile, `const { main } = await import(${JSON.stringify(pathToFileURL(MAIN).href)});\n` +
      'main(process.argv).catch((e) => { process.stderr.write(`icnn: ${e.message}\\n`); process.exitCode = 1; });\n');
  }
  return launcherFile;
}

/** `icnn ...args` from the sources, in a child process; its stdout and stderr are collected in `log`. */
class Cli {
  readonly child: ChildProcess;
  log = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', launcher(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.log += d));
    this.child.stderr!.on('data', (d) => (this.log += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async waitFor(pattern: RegExp, what: string, timeoutMs = 120_000): Promise<void> {
    await until(() => pattern.test(this.log), `${what}; log so far:\n${this.log}`, timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

async function until(ok: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A separate Redis database per test, so the queues do not mix. */
const queueUrl = (db: number) => `${redis!.url}/${db}`;

function tinyRuns(o: { agents: string[]; samples: number; steps: number; checkpointInterval: number }): SweepRun[] {
  return expandSweep(validateSweepSpec({
    tasks: ['Pendulum'], agents: o.agents, samples: o.samples, steps: o.steps, testInterval: 50, checkpointInterval: o.checkpointInterval,
    parameters: { ...TINY, learningRate: { logUniform: [-3.5, -2.5] } },
  }));
}

async function jobCounts(url: string): Promise<Record<string, number>> {
  const queue = new Queue(SWEEP_QUEUE, { connection: { host: '127.0.0.1', port: redis!.port, db: Number(url.split('/').pop()), maxRetriesPerRequest: null } });
  try {
    return await queue.getJobCounts('completed', 'failed', 'waiting', 'active');
  } finally {
    await queue.close();
  }
}

const results = (dir: string): RlResult => JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as RlResult;

test('two icnn worker processes drain a queue: every run completes exactly once; bad jobs fail alone with a clear reason', { skip: REDIS_MISSING }, async (t) => {
  const out = tempDirFor(t);
  const url = queueUrl(1);
  const runs = tinyRuns({ agents: ['ddpg', 'naf'], samples: 2, steps: 150, checkpointInterval: 100 });
  assert.deepEqual(await enqueueRuns(url, runs, out), { added: 4, existing: 0, retried: 0 });
  assert.deepEqual(await enqueueRuns(url, runs, out), { added: 0, existing: 4, retried: 0 }, 'enqueueing again adds nothing (job id = run key)');
  // Settings the agent refuses (with a key that matches them), and a run whose key does not match its settings.
  const settings = { ...runs[0], agentOptions: { ...runs[0].agentOptions, batchSize: -1 } };
  const refused = { ...settings, hash: runKey(settings) };
  const tampered = { ...runs[1], steps: 999 };
  const queue = new Queue(SWEEP_QUEUE, { connection: { host: '127.0.0.1', port: redis!.port, db: 1, maxRetriesPerRequest: null } });
  await queue.add('x', { run: refused, outRoot: out }, { jobId: refused.hash, attempts: 1 });
  await queue.add('x', { run: tampered, outRoot: out }, { jobId: 'tampered', attempts: 1 });

  const workers = [new Cli(['worker', '--queue', url, '--stall-ms', '5000']), new Cli(['worker', '--queue', url, '--stall-ms', '5000'])];
  try {
    await until(async () => {
      const c = await jobCounts(url);
      return c.completed + c.failed === runs.length + 2;
    }, 'the queue to drain', 240_000);
    const c = await jobCounts(url);
    assert.equal(c.completed, runs.length);
    assert.equal(c.failed, 2);
    const refusedJob = await queue.getJob(refused.hash);
    assert.match(refusedJob!.failedReason, /batchSize must be a positive integer, got -1/);
    assert.doesNotMatch(refusedJob!.failedReason, /\n/);
    assert.match((await queue.getJob('tampered'))!.failedReason, /^sweep job: hash [0-9a-f]{12} does not match the run's settings/);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await queue.close();
  }
  const logs = workers.map((w) => w.log).join('\n');
  for (const run of runs) {
    const done = logs.split('\n').filter((l) => l.includes(`(${run.hash}): done`));
    assert.equal(done.length, 1, `${run.hash} completed ${done.length} times:\n${logs}`);
    const r = results(runDirectory(out, run));
    assert.equal(r.complete, true);
    assert.equal(r.resumedAt, 0);
    assert.equal(r.steps, 150);
    assert.deepEqual(JSON.parse(readFileSync(path.join(runDirectory(out, run), 'run.json'), 'utf8')), run);
  }
  assert.ok(workers.every((w) => /\): done/.test(w.log)), `both workers took jobs:\n${logs}`);
  assert.match(logs, /failed: .*batchSize must be a positive integer/);
  assert.match(logs, /job tampered: rejected: sweep job: hash/);
});

test('a worker killed with SIGKILL mid-run: the other worker retries the job, resumes from the checkpoint, and ends as an uninterrupted run', { skip: REDIS_MISSING }, async (t) => {
  const out = tempDirFor(t);
  const url = queueUrl(2);
  const [run] = tinyRuns({ agents: ['naf'], samples: 1, steps: 500, checkpointInterval: 100 });
  const dir = runDirectory(out, run);
  const first = new Cli(['worker', '--queue', url, '--stall-ms', '1500']);
  let second: Cli | undefined;
  try {
    await first.waitFor(/taking jobs/, 'the first worker');
    await enqueueRuns(url, [run], out);
    await first.waitFor(/started/, 'the first worker to take the job');
    second = new Cli(['worker', '--queue', url, '--stall-ms', '1500']);
    await second.waitFor(/taking jobs/, 'the second worker');
    await until(() => existsSync(path.join(dir, 'checkpoint.json')), 'the first checkpoint');
    first.child.kill('SIGKILL');
    await first.exited;
    assert.doesNotMatch(first.log, /\): done/, 'the first worker was killed before the run ended');
    await second.waitFor(/\): done/, 'the second worker to finish the run', 240_000);
  } finally {
    await first.stop();
    await second?.stop();
  }
  const resumedAt = Number(/done \(resumed at step (\d+)\)/.exec(second.log)?.[1]);
  assert.ok(resumedAt >= 100 && resumedAt < 500, `the second worker resumed from the checkpoint:\n${second.log}`);
  const resumed = results(dir);
  assert.equal(resumed.resumedAt, resumedAt);
  assert.equal(resumed.complete, true);
  assert.ok(!existsSync(path.join(dir, 'checkpoint.json')), 'a complete run drops its checkpoint');
  const plain = await executeRun(run, tempDirFor(t));
  const uninterrupted = results(plain.dir);
  assert.equal(uninterrupted.resumedAt, 0);
  assert.deepEqual(resumed.tests, uninterrupted.tests);
  assert.deepEqual(resumed.train, uninterrupted.train);
  assert.deepEqual(resumed.metrics, uninterrupted.metrics);
  assert.deepEqual((await jobCounts(url)).completed, 1);
});

test('an unreachable Redis and a malformed spec: one clear line each, quickly, without retry loops', { skip: REDIS_MISSING }, async (t) => {
  const dir = tempDirFor(t);
  const closed = `redis://127.0.0.1:${await freePort()}`;
  await assert.rejects(enqueueRuns(closed, tinyRuns({ agents: ['naf'], samples: 1, steps: 100, checkpointInterval: 0 }), dir),
    new RegExp(`^IcnnError: cannot reach Redis at ${closed} \\(ECONNREFUSED\\); is redis-server running there and reachable\\?$`));
  const worker = new Cli(['worker', '--queue', closed]);
  assert.equal(await worker.exited, 1);
  assert.match(worker.log, new RegExp(`^icnn: cannot reach Redis at ${closed} \\(ECONNREFUSED\\)`));
  const spec = path.join(dir, 'bad.json');
  writeFileSync(spec, JSON.stringify({ tasks: ['Pendulum'], agents: ['naf'], steps: 100, parameters: { ouSigma: { normal: [0.1] } } }));
  const sweep = new Cli(['rl-sweep', spec, '--out', dir, '--queue', redis!.url]);
  assert.equal(await sweep.exited, 1);
  assert.equal(sweep.log.trim().split('\n').length, 1, sweep.log);
  assert.match(sweep.log, /spec\.parameters\.ouSigma\.normal must be an array of two numbers \[a, b\], got \[0\.1\]/);
  writeFileSync(spec, JSON.stringify({ tasks: ['Pendulum'], agents: ['naf'], steps: 100 }));
  const badUrl = new Cli(['rl-sweep', spec, '--out', dir, '--queue', 'http://localhost:6379']);
  assert.equal(await badUrl.exited, 1);
  assert.equal(badUrl.log, "icnn: --queue: expected redis://HOST:PORT or redis://HOST:PORT/DB, got 'http://localhost:6379'\n");
});

test('a worker that loses Redis waits for a restart, then gives up with one clear line and exit code 1', { skip: REDIS_MISSING }, async (t) => {
  const out = tempDirFor(t);
  let own = await startRedis(); // its own server: this test stops it
  const worker = new Cli(['worker', '--queue', own.url, '--give-up-after', '6']);
  try {
    await worker.waitFor(/taking jobs/, 'the worker');
    // A restart within the give-up time: the worker reconnects and takes the next job.
    await own.stop();
    await new Promise((r) => setTimeout(r, 1500));
    own = await startRedis(own.port);
    const [run] = tinyRuns({ agents: ['naf'], samples: 1, steps: 60, checkpointInterval: 0 });
    await enqueueRuns(own.url, [run], out);
    await worker.waitFor(/\): done/, 'the worker to run a job after the restart');
    assert.equal(worker.child.exitCode, null, `the worker kept running through the restart:\n${worker.log}`);
    // Gone for good: it stops within the give-up time plus a few seconds, naming the address and the cause.
    const lost = Date.now();
    await own.stop();
    const code = await Promise.race([worker.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    assert.equal(code, 1, `exit code; log:\n${worker.log}`);
    assert.ok(Date.now() - lost >= 5000, 'it waited for the give-up time');
    const lines = worker.log.trim().split('\n');
    assert.match(lines.at(-1)!, new RegExp(`^icnn: lost Redis at ${own.url.replace(/[.]/g, '\\.')} \\(ECONNREFUSED\\) and it did not come back within 6 s; stopped\\.`));
  } finally {
    await worker.stop();
    await own.stop();
  }
});

test('Ctrl-C (SIGTERM once) lets the running run finish, then the worker exits 0; the job is complete', { skip: REDIS_MISSING }, async (t) => {
  const out = tempDirFor(t);
  const url = queueUrl(3);
  // Long enough that the rest of the run after the first checkpoint outlasts the 5 s bound of the give-up path: a
  // graceful stop that applied that bound would leave the run unfinished.
  const [run] = tinyRuns({ agents: ['naf'], samples: 1, steps: 1000, checkpointInterval: 100 });
  const dir = runDirectory(out, run);
  const worker = new Cli(['worker', '--queue', url]);
  try {
    await worker.waitFor(/taking jobs/, 'the worker');
    await enqueueRuns(url, [run], out);
    await until(() => existsSync(path.join(dir, 'checkpoint.json')), 'the first checkpoint (the run is under way)');
    worker.child.kill('SIGTERM');
    await worker.waitFor(/stopping after the running jobs/, 'the worker to say it waits for the running run');
    assert.equal(await worker.exited, 0, `exit code; log:\n${worker.log}`);
  } finally {
    await worker.stop();
  }
  assert.match(worker.log, /\): done, max test reward/, 'the run finished before the worker stopped');
  assert.equal(results(dir).complete, true);
  assert.equal((await jobCounts(url)).completed, 1);
});
