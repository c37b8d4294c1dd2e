/**
 * GEMM GFLOP/s on the BibTeX PICNN's matmul shapes (batch 128): ours through `tf.matMul` on the wasm backend (the
 * native kernels when active, so tfjs's dispatch is included), the wasm backend's own kernel (XNNPACK) for
 * reference, and OpenBLAS through PyTorch (`torch.mm`, bench/torch_bench.py --gemm) at 1 and 2 threads, in the same
 * run. Used by `npm run bench` and `npm run bench:training`.
 */
import * as os from 'node:os';
import { backendInfo, setBackend, tf } from '../test/helpers/icnn.js';
import { disableNativeKernels, enableNativeKernels } from '../src/backend/nativeKernels.js';
import { runPython, torchThreadEnv } from './common.js';

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

/** --smoke: two small products, to check the plumbing. */
const SMOKE_GEMM_SHAPES: GemmShape[] = [
  { label: 'smoke forward', m: 4, k: 12, n: 8 },
  { label: 'smoke weight gradient', m: 12, k: 4, n: 8 },
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
function timeTorch(shapes: GemmShape[], threads: number): number[] | null {
  const spec = shapes.map((s) => `${s.m},${s.k},${s.n}`).join(';');
  try {
    return (runPython('torch_bench.py', ['--gemm', spec, '--threads', String(threads)], torchThreadEnv(threads)) as { gflops: number[] }).gflops;
  } catch (e) {
    console.log(`GEMM: PyTorch (${threads} thread(s)) failed: ${(e as Error).message}`);
    return null;
  }
}

/**
 * GFLOP/s of the PICNN's shapes (--smoke: SMOKE_GEMM_SHAPES, minimal repetitions): ours, the wasm kernel's and, when
 * `torch`, OpenBLAS's through PyTorch at 1 and 2 threads.
 */
export async function benchGemm(torch: boolean, smoke = false): Promise<GemmResult[]> {
  const shapes = smoke ? SMOKE_GEMM_SHAPES : PICNN_GEMM_SHAPES;
  const minTotalMs = smoke ? 0 : 300;
  const previous = backendInfo().name;
  await setBackend('wasm');
  const nativeOn = backendInfo().native.enabled;
  const results: GemmResult[] = [];
  const torch1 = torch ? timeTorch(shapes, 1) : null;
  const torch2 = torch ? timeTorch(shapes, 2) : null;
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
