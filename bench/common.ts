/**
 * Scaffolding shared by the benchmarks (bench/run.ts, training.ts, inference.ts, rl.ts, gemm.ts): where results go,
 * the PyTorch side (interpreter, its 1- and 2-thread configurations, one-shot runs and `--serve` workers, the float32
 * bundles that carry our weights to it), timing statistics, tf.profile summaries, machine info and markdown output.
 * The Python half of this module is bench/torch_common.py. See bench/README.md.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { VERSION, tf, type BackendInfo } from '../test/helpers/icnn.js';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.join(BENCH_DIR, 'results');

/** Debian's interpreter, which has python3-torch (override with ICNN_BENCH_PYTHON). */
export const PYTHON = process.env.ICNN_BENCH_PYTHON ?? '/usr/bin/python3';
/** Environment of every Python process: no __pycache__ written into bench/. */
const PY_ENV = { PYTHONDONTWRITEBYTECODE: '1' };
export const INSTALL_CMD = 'apt-get update && apt-get install -y --no-install-recommends python3-torch python3-numpy libopenblas0-pthread';

// ---- results ------------------------------------------------------------------------------------------------

/**
 * Where a benchmark writes its results: bench/results, or with --smoke a fresh temporary directory, so that a
 * plumbing check never overwrites the measured results that are kept in the repository.
 */
export function resultsDir(smoke: boolean): string {
  return smoke ? fs.mkdtempSync(path.join(os.tmpdir(), 'icnn-bench-smoke-')) : RESULTS_DIR;
}

/** `dir/file` as printed after "wrote": relative to the working directory for bench/results. */
export function shownPath(dir: string, file: string): string {
  return dir === RESULTS_DIR ? path.join(path.relative(process.cwd(), dir), file) : path.join(dir, file);
}

// ---- command line -------------------------------------------------------------------------------------------

/** The options that `npm run bench` and `npm run bench:training` share (warmup, rounds: -1 until given). */
export interface RunFlags {
  quick: boolean;
  /** Toy sizes and one run of everything on both sides; results go to a temporary directory. */
  smoke: boolean;
  profile: boolean;
  torch: boolean;
  warmup: number;
  rounds: number;
}

/**
 * Reads a benchmark's command line left to right: `next()` gives the next option, `int`/`number`/`list` read its
 * value; a bad value goes to the script's `usage` (which prints the message and its usage line, and exits).
 */
export class ArgReader {
  private i = -1;
  private option = '';

  constructor(private readonly argv: string[], private readonly usage: (msg: string) => never) {}

  next(): string | undefined {
    this.option = this.argv[++this.i];
    return this.option;
  }

  /** The option's value as given. */
  value(): string | undefined {
    return this.argv[++this.i];
  }

  /** The option's value: an integer in [min, max]. */
  int(min: number, max = Infinity): number {
    const v = Number(this.argv[++this.i]);
    if (!Number.isInteger(v) || v < min || v > max) {
      this.usage(`${this.option} needs an integer ${max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`}, got ${this.argv[this.i]}`);
    }
    return v;
  }

  /** The option's value: a finite number ≥ min. */
  number(min: number): number {
    const v = Number(this.argv[++this.i]);
    if (!Number.isFinite(v) || v < min) this.usage(`${this.option} needs a number ≥ ${min}, got ${this.argv[this.i]}`);
    return v;
  }

  /** The option's value: a non-empty comma-separated list of `allowed` names (a `what` each), in the order given. */
  list<T extends string>(allowed: readonly T[], what: string): T[] {
    const list = (this.argv[++this.i] ?? '').split(',').filter((s) => s !== '');
    for (const m of list) if (!(allowed as readonly string[]).includes(m)) this.usage(`unknown ${what} '${m}'`);
    if (list.length === 0) this.usage(`${this.option} needs a comma-separated list`);
    return list as T[];
  }

  /** Reads the current option into `a` if it is one of RunFlags'; false if it is not. */
  runFlag(a: RunFlags): boolean {
    switch (this.option) {
      case '--quick': a.quick = true; return true;
      case '--smoke': a.smoke = true; return true;
      case '--profile': a.profile = true; return true;
      case '--no-torch': a.torch = false; return true;
      case '--warmup': a.warmup = this.int(0); return true;
      case '--rounds': a.rounds = this.int(1); return true;
      default: return false;
    }
  }

  /** The option was not recognized. */
  unknown(): never {
    return this.usage(this.option === '--help' || this.option === '-h' ? 'help' : `unknown argument '${this.option}'`);
  }
}

// ---- PyTorch ------------------------------------------------------------------------------------------------

/**
 * OpenBLAS's kernel set for this CPU, from the instruction-set flags in /proc/cpuinfo: 'SkylakeX' with AVX-512
 * (F, BW, DQ, VL), 'Haswell' with AVX2 + FMA, else none (OpenBLAS's own detection). OpenBLAS 0.3.21 (Debian 12)
 * detects some newer Xeons (model name "Intel(R) Xeon(R) Processor") as Prescott and runs SSE3 kernels: 20-35
 * GFLOP/s per thread on the bench's shapes against 168 with SkylakeX, measured 2026-12-06. Comparing against that
 * crippled PyTorch would flatter us, so the bench names the kernel set unless OPENBLAS_CORETYPE is already set.
 */
export function openblasCoreType(): string | null {
  if (process.env.OPENBLAS_CORETYPE) return process.env.OPENBLAS_CORETYPE;
  let flags: Set<string>;
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    flags = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return null;
  }
  if (['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f))) return 'SkylakeX';
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return null;
}

/**
 * Environment of a PyTorch process with `threads` threads. Single-threaded PyTorch is the target comparison. For two
 * threads, torch's OpenMP pool (convolutions, element-wise ops) and OpenBLAS's own pthread pool (matmuls) both get 2
 * threads; OMP_WAIT_POLICY=PASSIVE keeps idle OpenMP workers from spinning on the cores that OpenBLAS needs (the
 * two pools otherwise oversubscribe). OPENBLAS_CORETYPE as `openblasCoreType`.
 */
export function torchThreadEnv(threads: number): Record<string, string> {
  const n = String(threads);
  const core = openblasCoreType();
  const env = { OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n, ...(core ? { OPENBLAS_CORETYPE: core } : {}) };
  return threads === 1 ? env : { ...env, OMP_WAIT_POLICY: 'PASSIVE' };
}

export interface TorchConfig {
  key: 'torch1' | 'torch2';
  label: string;
  threads: number;
  env: Record<string, string>;
}

export const TORCH_CONFIGS: TorchConfig[] = [
  { key: 'torch1', label: 'torch 1 thread', threads: 1, env: torchThreadEnv(1) },
  { key: 'torch2', label: 'torch 2 threads', threads: 2, env: torchThreadEnv(2) },
];

/** What the worker reports first (torch_common.environment, plus what the script adds). */
export type TorchEnv = Record<string, unknown> & { torch: string; blasLibraries: string[] };

export function torchAvailable(): { ok: boolean; detail: string } {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', env: { ...process.env, ...PY_ENV } });
  if (r.error) return { ok: false, detail: `${PYTHON}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, detail: (r.stderr || '').trim().split('\n').slice(-1)[0] || `exit ${r.status}` };
  return { ok: true, detail: r.stdout.trim() };
}

/** Says that PyTorch cannot run (`detail`: torchAvailable's) and how to install it; returns the note for the results. */
export function reportTorchMissing(detail: string): string {
  const note = `PyTorch is not importable by ${PYTHON} (${detail})`;
  console.log(`\n${note}.\nInstall Debian's PyTorch and OpenBLAS (as root, about a minute):\n  ${INSTALL_CMD}\nContinuing with our side only.\n`);
  return note;
}

/** One run of bench/`script` with `args`: its stdout, parsed as one JSON document. Throws with the end of stderr. */
export function runPython(script: string, args: string[], env: Record<string, string>, timeoutMs?: number): unknown {
  const r = spawnSync(PYTHON, [path.join(BENCH_DIR, script), ...args], {
    encoding: 'utf8', env: { ...process.env, ...PY_ENV, ...env }, maxBuffer: 64 << 20, timeout: timeoutMs,
  });
  if (r.error) throw new Error(`${PYTHON} bench/${script}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${PYTHON} bench/${script} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout);
}

/** A `bench/<script> --serve` process (torch_common.serve): one JSON request line in, one JSON answer line out. */
export class TorchWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';
  env: TorchEnv | null = null;

  constructor(private readonly script: string, readonly config: TorchConfig, args: string[]) {
    this.proc = spawn(PYTHON, [path.join(BENCH_DIR, script), '--serve', '--threads', String(config.threads), ...args], {
      env: { ...process.env, ...PY_ENV, ...config.env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.lines = readline.createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  /** Sends `req` (none: reads the first line) and returns the answer; an answered error throws, named by `what`. */
  async request(req: Record<string, unknown> | null, what = ''): Promise<Record<string, unknown>> {
    if (req) this.proc.stdin.write(`${JSON.stringify(req)}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error(`${this.config.label}: ${this.script} exited (code ${this.proc.exitCode}):\n${this.stderr}`);
    const a = JSON.parse(r.value) as Record<string, unknown>;
    if (typeof a.error === 'string') throw new Error(`${this.config.label}${what}: ${a.error}`);
    return a;
  }

  async start(): Promise<TorchEnv> {
    this.env = (await this.request(null)) as TorchEnv;
    return this.env;
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin.end(`${JSON.stringify({ quit: true })}\n`);
    await exited;
  }
}

/**
 * Untimed work each side does right before its timed runs of a round, ours and PyTorch's alike (torch_common.time_runs'
 * warm_ms). Two effects call for it. OpenBLAS's pthread workers spin for about 2^28 cycles (its THREAD_TIMEOUT,
 * ~0.1 s) after each call before they sleep, so our runs right after PyTorch's shared the cores with that spinning
 * (2026-12-06: PICNN forward + backward 39-42 ms there, 30 ms without PyTorch). And a core that has idled runs the next
 * tens of ms slowly on this VM: the PICNN forward took 14-16 ms in 4 runs after a 300 ms sleep, 9-10 ms back to back,
 * and 7-8 ms after 300 ms of untimed runs (tmp measurements, 2026-12-07). Waiting out the spinning by sleeping, as
 * this bench did until then, put every round of ours after an idle gap and PyTorch's after our busy runs.
 */
export const WARM_MS = 300;

/** Call `fn` (untimed) until WARM_MS have passed, at least once. */
export async function warmFor(fn: () => unknown): Promise<void> {
  const start = performance.now();
  do await fn(); while (performance.now() - start < WARM_MS);
}

/** One started worker per TORCH_CONFIGS entry (those that fail to start are reported and left out). */
export async function startTorchWorkers(script: string, args: string[]): Promise<TorchWorker[]> {
  const workers: TorchWorker[] = [];
  for (const cfg of TORCH_CONFIGS) {
    const w = new TorchWorker(script, cfg, args);
    try {
      const env = await w.start();
      workers.push(w);
      if (!env.blasLibraries.some((l) => l.includes('openblas'))) {
        console.log(`warning: PyTorch is not using OpenBLAS (${env.blasLibraries.join(', ') || 'no BLAS library found'}); ` +
          `reference BLAS is ~20x slower. Install libopenblas0-pthread:\n  ${INSTALL_CMD}`);
      }
    } catch (e) {
      console.log(`PyTorch (${cfg.label}) did not start: ${(e as Error).message}`);
      await w.close().catch(() => undefined);
    }
  }
  return workers;
}

/** The workers' configurations and environments, as recorded in the results. */
export function workerEnvs(workers: TorchWorker[]): Record<string, unknown> {
  return Object.fromEntries(workers.map((w) => [w.config.key, { label: w.config.label, env: w.config.env, ...w.env }]));
}

/** The notes line on the PyTorch side: version, interpreter, BLAS libraries, thread settings. */
export function torchSetupNote(env: TorchEnv | null | undefined): string {
  const blas = (env?.blasLibraries ?? []).filter((l) => /lib(open)?blas/.test(path.basename(l)))
    .map((l) => `${path.basename(path.dirname(l))}/${path.basename(l)}`).join(', ');
  return `PyTorch ${env?.torch} (${PYTHON}, BLAS: ${blas || 'unknown'}). 1 thread: torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1. ` +
    '2 threads: set_num_threads(2), OPENBLAS_NUM_THREADS=2, OMP_WAIT_POLICY=PASSIVE. ' +
    `OpenBLAS kernels: ${openblasCoreType() ?? "OpenBLAS's own CPU detection"} (OPENBLAS_CORETYPE; see openblasCoreType in bench/common.ts).`;
}

/**
 * Named float32 arrays laid end to end, written as `<stem>.bin` with a manifest `<stem>.json` of their offsets:
 * how our weights, inputs and results reach PyTorch (read by torch_common.load_bundle).
 */
export class Float32Bundle {
  private readonly parts: Float32Array[] = [];
  private readonly tensors: Record<string, { offset: number; size: number }> = {};
  private offset = 0;

  put(name: string, data: Float32Array): void {
    this.tensors[name] = { offset: this.offset, size: data.length };
    this.parts.push(data);
    this.offset += data.length;
  }

  /** Every parameter of the model under its own name. */
  putParameters(model: { parameters(): { name: string; variable: tf.Variable }[] }): void {
    for (const p of model.parameters()) this.put(p.name, p.variable.dataSync() as Float32Array);
  }

  /** Writes the two files; `manifest` holds what else the Python side needs (batch, config, ...). */
  write(dir: string, stem: string, manifest: Record<string, unknown>): void {
    const bin = Buffer.concat(this.parts.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
    fs.writeFileSync(path.join(dir, `${stem}.bin`), bin);
    fs.writeFileSync(path.join(dir, `${stem}.json`), JSON.stringify({ ...manifest, totalFloats: this.offset, tensors: this.tensors }));
  }
}

// ---- timing -------------------------------------------------------------------------------------------------

export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const r3 = (t: number): number => Number(t.toFixed(3));

/**
 * Statistics of timed runs (ms, rounded to µs), `extra` placed after the range. The CPU time (user + system) of the
 * process per run equals the wall time for single-threaded code on an idle machine and is not inflated by other
 * processes taking the cores, so it compares 1-thread runs fairly on a busy machine (for PyTorch with 2 threads it
 * adds up both threads: not a duration).
 */
export function summarizeTimes<E extends Record<string, number>>(times: number[], cpu: number[], extra: E) {
  return {
    medianMs: r3(median(times)), minMs: r3(Math.min(...times)), maxMs: r3(Math.max(...times)), ...extra,
    timesMs: times.map(r3), cpuMedianMs: r3(median(cpu)), cpuTimesMs: cpu.map(r3),
  };
}

/** Starts a wall clock and a process CPU clock; the returned function reads both (ms since the start). */
export function stopwatch(): () => { wallMs: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { wallMs, cpuMs: (c.user + c.system) / 1000 };
  };
}

/** Split `reps` runs into `rounds` nearly equal chunks. */
export function chunks(reps: number, rounds: number): number[] {
  return Array.from({ length: rounds }, (_, i) => Math.floor((reps * (i + 1)) / rounds) - Math.floor((reps * i) / rounds));
}

// ---- kernel profiles ----------------------------------------------------------------------------------------

export interface KernelCall {
  name: string;
  ms: number;
  inputShapes: number[][];
}

export interface KernelStat {
  kernel: string;
  calls: number;
  totalMs: number;
}

/**
 * The kernel calls of `fn` under tf.profile, profiled `repeats` times: when the calls come in the same order every
 * time, each keeps its fastest time, which filters out preemption by other processes.
 */
export async function profileKernels(fn: () => void | Promise<void>, repeats: number): Promise<KernelCall[]> {
  let kernels: KernelCall[] = [];
  for (let r = 0; r < repeats; r++) {
    const info = await tf.profile(fn);
    const now = info.kernels.map((k) => ({ name: k.name, ms: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0, inputShapes: k.inputShapes }));
    const same = kernels.length === now.length && kernels.every((k, i) => k.name === now[i].name);
    kernels = same ? kernels.map((k, i) => ({ ...k, ms: Math.min(k.ms, now[i].ms) })) : now;
  }
  return kernels;
}

/** Kernel time in all, per kernel (slowest first) and the `slowest` individual calls with their input shapes. */
export function kernelSummary(kernels: KernelCall[], slowest: number): {
  totalKernelMs: number; byKernel: KernelStat[]; slowest: { kernel: string; ms: number; inputShapes: string }[];
} {
  const by = new Map<string, KernelStat>();
  for (const k of kernels) {
    const s = by.get(k.name) ?? { kernel: k.name, calls: 0, totalMs: 0 };
    s.calls += 1;
    s.totalMs += k.ms;
    by.set(k.name, s);
  }
  const byKernel = [...by.values()].sort((a, b) => b.totalMs - a.totalMs).map((s) => ({ ...s, totalMs: r3(s.totalMs) }));
  return {
    totalKernelMs: r3(byKernel.reduce((t, s) => t + s.totalMs, 0)),
    byKernel,
    slowest: kernels.map((k) => ({ kernel: k.name, ms: k.ms, inputShapes: JSON.stringify(k.inputShapes) }))
      .sort((a, b) => b.ms - a.ms).slice(0, slowest).map((k) => ({ ...k, ms: r3(k.ms) })),
  };
}

// ---- machine and output -------------------------------------------------------------------------------------

export const loadAvg = (): number[] => os.loadavg().map((l) => Number(l.toFixed(2)));

export function machineInfo(): { cpu: string; cores: number; node: string } {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version };
}

/** The first line a benchmark prints: versions, backend, machine. */
export function banner(name: string, info: BackendInfo, machine: { cpu: string; cores: number; node: string }): string {
  return `icnn ${VERSION} ${name}: tfjs ${info.tfjsVersion}, backend ${info.name} (threads ${info.threads}, SIMD ${info.simd}), ` +
    `${machine.cores}× ${machine.cpu}, node ${machine.node}`;
}

/** The start of the notes under a results table: date, versions, backend, machine. */
export function setupNote(date: string, info: BackendInfo, machine: { cpu: string; cores: number; node: string }): string {
  return `${date}; icnn ${VERSION}, tfjs ${info.tfjsVersion}, ${info.name} backend (${info.threads} thread${info.threads === 1 ? '' : 's'}, ` +
    `SIMD ${info.simd}); ${machine.cores}× ${machine.cpu}; node ${machine.node}`;
}

export const fmtMs = (ms: number | undefined): string => (ms === undefined ? '–' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
export const fmtRatio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}×`);

/** A markdown table: the first column left-aligned, the others right-aligned. */
export function markdownTable(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}
