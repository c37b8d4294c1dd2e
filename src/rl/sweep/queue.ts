/**
 * The many-machine executor: a BullMQ queue on Redis. `enqueueRuns` adds one job per run with the run's key as job
 * id, so enqueueing a sweep twice adds nothing new. `startQueueWorker` takes jobs and runs each in a thread of a
 * local pool (./pool.ts), which keeps this thread free to renew the job's lock. A worker that dies stops renewing;
 * after the stall interval another worker's stalled-job check puts the job back in the queue, and whoever takes it
 * resumes the run from its checkpoint in the shared output directory (results are files there, not queue values).
 * A run that fails (bad settings) fails its job once, without retries, and the worker goes on with the others.
 * A worker that loses Redis waits for it to come back (a restart) for a while, then stops and says so: left alone,
 * BullMQ's client would retry forever and the process would hang on to its runs without anyone knowing.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { fail, IcnnError } from '../../util/errors.js';
import { checkRun, type RunOutcome } from './execute.js';
import type { SweepRun } from './expand.js';
import { createRunPool, describeOutcome, firstLine, runLabel } from './pool.js';

export const SWEEP_QUEUE = 'icnn-rl-sweep';
/** How long to wait for Redis to answer before giving up (ms). */
export const CONNECT_TIMEOUT_MS = 3000;
/** Lock duration and stalled-job check interval (ms), BullMQ's default. */
export const DEFAULT_STALL_MS = 30_000;
/** How long a worker waits for a lost Redis to come back before it stops (ms). */
export const DEFAULT_GIVE_UP_MS = 120_000;
/** How often the worker checks that Redis answers (ms). */
const WATCH_INTERVAL_MS = 2000;
/** How soon the watch reconnects after losing Redis (ms): one connection attempt, cheap even over a network. */
const WATCH_RECONNECT_MS = 500;
/** How often a job may be found stalled (its worker died) before it is failed. */
const MAX_STALLS = 5;

export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  url: string;
}

export interface SweepJobData {
  run: SweepRun;
  /** The output directory as the enqueueing machine sees it (a worker's --out overrides it). */
  outRoot: string;
}

/** `redis://HOST:PORT[/DB]`. */
export function parseQueueUrl(url: string): QueueAddress {
  const m = /^redis:\/\/([^/:\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})(?:\/(\d+))?\/?$/.exec(url);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) fail(`--queue: expected redis://HOST:PORT or redis://HOST:PORT/DB, got '${url}'`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]), db: Number(m[3] ?? 0), url };
}

/** Fail with one line unless Redis answers PING within `timeoutMs` (one try, no reconnection loop). */
export async function checkReachable(a: QueueAddress, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const redis = new Redis({
    host: a.host, port: a.port, db: a.db, lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null,
    maxRetriesPerRequest: 0, enableOfflineQueue: false,
  });
  let cause: unknown = null;
  redis.on('error', (e) => (cause ??= e)); // the socket's error (ECONNREFUSED, ETIMEDOUT), reported below, once
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    const first = (cause ?? e) as NodeJS.ErrnoException;
    fail(`cannot reach Redis at ${a.url} (${first.code ?? firstLine(first)}); is redis-server running there and reachable?`);
  } finally {
    redis.disconnect();
  }
}

/**
 * Ping Redis every couple of seconds on a connection of its own; call `onLost` once when pings have gone
 * unanswered for `giveUpMs`, counted from the first unanswered one. Pings, not connection events, so that a silent
 * network partition counts as well as a refused port.
 */
function watchRedis(a: QueueAddress, giveUpMs: number, onLost: (cause: string) => void): { stop(): void } {
  const redis = new Redis({
    host: a.host, port: a.port, db: a.db, connectTimeout: CONNECT_TIMEOUT_MS, commandTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => WATCH_RECONNECT_MS,
  });
  let cause = '';
  redis.on('error', (e: NodeJS.ErrnoException) => (cause = e.code ?? firstLine(e)));
  const interval = Math.min(WATCH_INTERVAL_MS, giveUpMs);
  // When the first unanswered ping of the current outage was sent. The wait counts from there, not from the last
  // answer (up to one interval before the loss), so the worker never gives up sooner than `giveUpMs` after the loss.
  // The timer ticks whether or not a ping settles: a ping that hangs counts as unanswered once it is an interval old,
  // and never stops the watch (a watch that awaited it stalled once and the worker never gave up).
  let unansweredSince: number | undefined;
  let pending: number | undefined; // when the ping in flight was sent
  // A reconnection that passes ioredis's ready check is an answer: a short outage ends when Redis is back, not at the
  // next ping (up to an interval plus a reconnect delay later, which made a 1.5 s restart look like 6 s).
  redis.on('ready', () => (unansweredSince = undefined));
  const tick = () => {
    const now = Date.now();
    if (pending !== undefined && now - pending >= interval) unansweredSince ??= pending;
    if (unansweredSince !== undefined && now - unansweredSince >= giveUpMs) {
      stop();
      onLost(cause || 'no answer');
      return;
    }
    if (pending !== undefined) return;
    const sentAt = now;
    pending = sentAt;
    redis.ping().then(() => {
      unansweredSince = undefined;
    }, (e: unknown) => {
      if (cause === '') cause = firstLine(e);
      unansweredSince ??= sentAt;
    }).finally(() => {
      if (pending === sentAt) pending = undefined;
    });
  };
  const timer = setInterval(tick, interval);
  const stop = () => {
    clearInterval(timer);
    redis.disconnect();
  };
  return { stop };
}

function connectionOf(a: QueueAddress) {
  return { host: a.host, port: a.port, db: a.db, maxRetriesPerRequest: null, connectTimeout: CONNECT_TIMEOUT_MS };
}

export interface EnqueueSummary {
  added: number;
  /** Already in the queue (waiting, running or done) under the same key. */
  existing: number;
  /** Failed before and put back in the queue. */
  retried: number;
}

/** Add one job per run (job id = run key); jobs that failed before are retried. */
export async function enqueueRuns(url: string, runs: readonly SweepRun[], outRoot: string): Promise<EnqueueSummary> {
  const address = parseQueueUrl(url);
  await checkReachable(address);
  const queue = new Queue<SweepJobData>(SWEEP_QUEUE, { connection: connectionOf(address) });
  const summary: EnqueueSummary = { added: 0, existing: 0, retried: 0 };
  try {
    for (const run of runs) {
      const job = await queue.getJob(run.hash);
      if (job === undefined) {
        await queue.add(run.hash, { run, outRoot }, { jobId: run.hash, attempts: 1, removeOnComplete: false, removeOnFail: false });
        summary.added++;
      } else if (await job.isFailed()) {
        await job.retry('failed');
        summary.retried++;
      } else {
        summary.existing++;
      }
    }
  } finally {
    await queue.close();
  }
  return summary;
}

export interface QueueWorkerOptions {
  /** Runs at once on this machine (threads; default 1). */
  concurrency?: number;
  /** The shared output directory as this machine sees it (default: the one each job was enqueued with). */
  outRoot?: string;
  /** Lock duration and stalled-job check interval in ms (default 30 s): how soon a dead worker's job is retried. */
  stallMs?: number;
  /** How long to wait for a lost Redis to come back before stopping, in ms (default 2 min). */
  giveUpMs?: number;
  log?: (line: string) => void;
}

export interface QueueWorker {
  /** Stop taking jobs; with `force`, do not wait for the running ones (they are retried elsewhere). */
  close(force?: boolean): Promise<void>;
  /**
   * Settles when the worker has stopped: fulfilled after `close`, rejected when it gave up on a lost Redis (the runs
   * it had keep their checkpoints; the job comes back to whichever worker runs once Redis is back).
   */
  readonly done: Promise<void>;
}

/** Take jobs from the sweep queue at `url` until closed. */
export async function startQueueWorker(url: string, o: QueueWorkerOptions = {}): Promise<QueueWorker> {
  const address = parseQueueUrl(url);
  await checkReachable(address);
  const concurrency = o.concurrency ?? 1;
  const stallMs = o.stallMs ?? DEFAULT_STALL_MS;
  const log = o.log ?? (() => undefined);
  const pool = createRunPool(concurrency);
  const processJob = async (job: Job<SweepJobData>): Promise<RunOutcome> => {
    let run: SweepRun;
    try {
      run = checkRun(job.data?.run);
    } catch (e) {
      log(`job ${job.id}: rejected: ${firstLine(e)}`);
      throw new UnrecoverableError(firstLine(e));
    }
    const outRoot = o.outRoot ?? job.data.outRoot;
    if (typeof outRoot !== 'string' || outRoot === '') throw new UnrecoverableError(`job ${job.id}: no output directory (give the worker --out DIR)`);
    log(`${runLabel(run)}: started`);
    try {
      const outcome = await pool.run(run, outRoot);
      log(describeOutcome(outcome));
      return outcome;
    } catch (e) {
      log(`${runLabel(run)}: failed: ${firstLine(e)}`);
      throw new UnrecoverableError(firstLine(e));
    }
  };
  const worker = new Worker<SweepJobData, RunOutcome>(SWEEP_QUEUE, processJob, {
    connection: connectionOf(address), concurrency, lockDuration: stallMs, stalledInterval: stallMs, maxStalledCount: MAX_STALLS,
  });
  let lastError = '';
  worker.on('error', (e) => {
    // While Redis is away, the client retries and reports the same error on each try: report it once.
    if (firstLine(e) !== lastError) log(`worker: ${firstLine(e)}`);
    lastError = firstLine(e);
  });
  worker.on('completed', () => (lastError = ''));
  await worker.waitUntilReady();
  let settle: { resolve(): void; reject(e: Error): void } = { resolve: () => undefined, reject: () => undefined };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined); // a caller that never looks at `done` must not get an unhandled rejection
  // `boundMs`: with Redis gone, BullMQ's close would wait for it forever, so the give-up path waits a bounded time; a
  // plain close waits for the running runs, as asked.
  const shutdown = async (force: boolean, boundMs?: number) => {
    watch.stop();
    const closing = worker.close(force);
    await (boundMs === undefined ? closing : Promise.race([closing, new Promise((r) => setTimeout(r, boundMs).unref())]));
    await pool.destroy();
  };
  const giveUpMs = o.giveUpMs ?? DEFAULT_GIVE_UP_MS;
  const watch = watchRedis(address, giveUpMs, (cause) => {
    const seconds = Math.round(giveUpMs / 1000);
    const message = `lost Redis at ${url} (${cause}) and it did not come back within ${seconds} s; stopped. ` +
      'The runs this worker had keep their checkpoints and resume when a worker takes their jobs again';
    log(`worker: ${message}`);
    void shutdown(true, Math.min(stallMs, 5000)).then(() => settle.reject(new IcnnError(message)), (e: unknown) => settle.reject(new IcnnError(`${message} (${firstLine(e)})`)));
  });
  return {
    close: async (force = false) => {
      await shutdown(force);
      settle.resolve();
    },
    done,
  };
}
