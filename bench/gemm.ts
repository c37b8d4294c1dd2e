/**
 * GEMM GFLOP/s on the BibTeX PICNN's matmul shapes (batch 128): ours through `tf.matMul` on the wasm backend (the
 * native kernels when active, so tfjs's dispatch is included), the wasm backend's own kernel (XNNPACK) for
 * reference, and OpenBLAS through PyTorch (`torch.mm`, bench/torch_bench.py --gemm) at 1 and 2 threads, in the same
 * run. Used by `npm run bench` and `npm run bench:training`.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, setBackend, tf } from '../test/helpers/icnn.js';
import { disableNativeKernels, enableNativeKernels } from '../src/backend/nativeKernels.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface GemmShape {
  label: string;
  m: number;
  k: number;
  n: number;
}

/** The PICNN's products (x 1836, u 600-159, z 600-159, y 159, batch 128): forward, and weight gradients xᵀ·dy. */
export const PICNN_GEMM_SHAPES: GemmShape[] = [
  { label: 'x-path forward', m: 128, k: 1836, n: 600 },
  { label: 'x-path weight gradient', m: 1836, k: 128, n: 600 },
  { label: 'z-path forward', m: 128, k: 600, n: 159 },
  { label: 'y-path forward / inner GD step', m: 128, k: 159, n: 600 },
  { label: 'z-path weight gradient', m: 600, k: 128, n: 159 },
];

export interface GemmResult extends GemmShape {
  /** GFLOP/s (2mkn / median time). */
  ours: number;
  /** The wasm backend's own kernel; null when the native kernels are not active (then `ours` is that kernel). */
  wasm: number | null;
  torch1: number | null;
  torch2: number | null;
  loadAvg: number[];
}

function gflops(s: GemmShape, ms: number): number {
  return Number(((2 * s.m * s.k * s.n) / (ms * 1e6)).toFixed(1));
}

function medianMs(fn: () => void, minTotalMs: number): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 10 || performance.now() - start < minTotalMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

function timeOurs(s: GemmShape, minTotalMs: number): number {
  const a = tf.randomUniform([s.m, s.k]);
  const b = tf.randomUniform([s.k, s.n]);
  const ms = medianMs(() => tf.matMul(a, b).dispose(), minTotalMs);
  tf.dispose([a, b]);
  return gflops(s, ms);
}

/** OpenBLAS through PyTorch at `threads` threads; null (with the reason printed) when PyTorch cannot run. */
function timeTorch(python: string, shapes: GemmShape[], threads: number): number[] | null {
  const env = threads === 1
    ? { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' }
    : { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
  const spec = shapes.map((s) => `${s.m},${s.k},${s.n}`).join(';');
  const r = spawnSync(python, [path.join(HERE, 'torch_bench.py'), '--gemm', spec, '--threads', String(threads)], {
    encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
  });
  if (r.status !== 0) {
    console.log(`GEMM: PyTorch (${threads} thread(s)) failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    return null;
  }
  return (JSON.parse(r.stdout) as { gflops: number[] }).gflops;
}

export async function benchGemm(python: string | null, shapes = PICNN_GEMM_SHAPES, minTotalMs = 300): Promise<GemmResult[]> {
  const previous = backendInfo().name;
  await setBackend('wasm');
  const nativeOn = backendInfo().native.enabled;
  const results: GemmResult[] = [];
  const torch1 = python === null ? null : timeTorch(python, shapes, 1);
  const torch2 = python === null ? null : timeTorch(python, shapes, 2);
  shapes.forEach((s, i) => {
    const ours = timeOurs(s, minTotalMs);
    let wasm: number | null = null;
    if (nativeOn) {
      disableNativeKernels('bench: plain wasm reference');
      wasm = timeOurs(s, minTotalMs);
      enableNativeKernels();
    }
    results.push({ ...s, ours, wasm, torch1: torch1?.[i] ?? null, torch2: torch2?.[i] ?? null, loadAvg: os.loadavg().map((l) => Number(l.toFixed(2))) });
  });
  await setBackend(previous);
  return results;
}

function pct(a: number, b: number | null): string {
  return b === null ? '–' : `${Math.round((100 * a) / b)} %`;
}

/** Markdown table of `benchGemm`'s results. */
export function gemmTable(results: GemmResult[]): string {
  const n = backendInfo().native;
  const oursLabel = n.enabled ? `ours (native ${n.isa}, ${n.threads} threads)` : 'ours (wasm)';
  const header = ['shape m×k·k×n', 'use', `${oursLabel} GFLOP/s`, 'wasm XNNPACK GFLOP/s', 'OpenBLAS 1-thread', 'ours / OpenBLAS 1', 'OpenBLAS 2-thread',
    'ours / OpenBLAS 2', 'load avg'];
  const rows = results.map((r) => [`${r.m}×${r.k}·${r.k}×${r.n}`, r.label, String(r.ours), r.wasm === null ? '–' : String(r.wasm),
    r.torch1 === null ? '–' : String(r.torch1), pct(r.ours, r.torch1), r.torch2 === null ? '–' : String(r.torch2), pct(r.ours, r.torch2),
    r.loadAvg[0].toFixed(2)]);
  return [`| ${header.join(' | ')} |`, `|---|---|${header.slice(2).map(() => '---:').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
