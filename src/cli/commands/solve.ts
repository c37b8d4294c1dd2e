/**
 * `icnn solve --model DIR --x FILE`: inference ŷ(x) = argmin_{y ∈ Y} f(x, y) (§3) with a saved model, for a batch
 * of x read from CSV or JSON; prints a table or JSON, and `--out` writes the ŷ rows as CSV (atomically).
 *
 * Input files: CSV or JSON rows of x (see ../rows.ts), each of the model's x width. Models without x (an FICNN with
 * xDim 0) take `--batch N` instead of `--x`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { IcnnError, fail } from '../../util/errors.js';
import { ANY, POSITIVE_INT, isOutOfRangeMessage, parseFiniteNumber, stringifyFinite } from '../../util/numbers.js';
import { numberOption } from '../numberOption.js';
import { parseRows, readInputText } from '../rows.js';
import { probeOutputFile } from '../../util/outputDir.js';
import type { EnergyModel } from '../../models/energyModel.js';
import type { Tensor2D } from '@tensorflow/tfjs-core';

export type DomainArg = 'unit-box' | 'simplex' | 'unbounded' | { lower: number; upper: number };

interface SolveOptions {
  model: string;
  x?: string;
  batch?: number;
  method: string;
  iterations?: number;
  domain: DomainArg;
  learningRate?: number;
  momentum?: number;
  json?: boolean;
  out?: string;
  show: number;
}

const positiveInt = numberOption(POSITIVE_INT);
const finiteNumber = numberOption(ANY);
const parseNumber = parseFiniteNumber;

/** `unit-box`, `simplex`, `unbounded`, or `L:U` (the box [L, U]^n). */
export function parseDomain(v: string): DomainArg {
  if (v === 'unit-box' || v === 'simplex' || v === 'unbounded') return v;
  const m = /^([^:]+):([^:]+)$/.exec(v);
  const lower = m ? parseNumber(m[1]) : null;
  const upper = m ? parseNumber(m[2]) : null;
  if (lower === null || upper === null) throw new InvalidArgumentError('expected unit-box, simplex, unbounded or L:U (a box, e.g. -1:1, with finite bounds within float32 range).');
  if (!(lower < upper)) throw new InvalidArgumentError(`the box L:U needs L < U, got ${lower}:${upper}.`);
  return { lower, upper };
}

/** Shortest decimal that reads back as the same float32. */
function f32(v: number): number {
  for (let p = 6; p < 9; p++) {
    const r = Number(v.toPrecision(p));
    if (Math.fround(r) === Math.fround(v)) return r;
  }
  return Number(v.toPrecision(9));
}

function fmt(v: number | undefined, digits = 6): string {
  if (v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e6 ? v.toFixed(digits) : v.toExponential(3);
}

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((s, c) => (c === r.length - 1 ? s : s.padEnd(w[c]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function solveCommand(): Command {
  return new Command('solve')
    .description('inference: ŷ = argmin_y f(x, y) for each row of x, with a saved model')
    .requiredOption('--model <dir>', 'directory written by model.save()')
    .option('--x <file>', 'rows of x: CSV (one row per line, optional header) or JSON (array of rows)')
    .option('--batch <n>', 'number of problems for a model that takes no x (default 1)', positiveInt)
    .addOption(new Option('--method <name>', 'gd, bundle, bundle-entropy or lp').default('gd'))
    .option('--iterations <n>', 'iteration budget per row (default: 100 for gd and bundle, 30 for bundle-entropy)', positiveInt)
    .option('--domain <set>', 'unit-box, simplex, unbounded, or L:U for the box [L, U]^n', parseDomain, 'unit-box' as DomainArg)
    .option('--learning-rate <lr>', "gd: momentum steps with this learning rate (the paper's §3.2 update) instead of normalized steps", finiteNumber)
    .option('--momentum <mu>', 'gd: momentum (default 0.9 with --learning-rate)', finiteNumber)
    .option('--json', 'print JSON: method, y rows, energy, lowerBound, gap, iterations')
    .option('--out <file>', 'write the ŷ rows as CSV (one row per line, no header), atomically')
    .option('--show <n>', 'rows shown in the table (default 20)', positiveInt, 20)
    .action(async (opts: SolveOptions) => runSolve(opts));
}

function nonFiniteMessage(method: string, row: number | string): string {
  return `--method ${method}: row ${row}: the energy, its gradient or the solution is not finite (float32 overflow); scale x or the --domain bounds down`;
}

/** The first row whose y or energies are not finite, or null. */
function firstNonFinite(y: ArrayLike<number>, width: number, ...perRow: (ArrayLike<number> | undefined)[]): number | null {
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) return Math.floor(i / width);
  for (const a of perRow) {
    if (a === undefined) continue;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  }
  return null;
}

/** The first row whose energy or its gradient at the domain's centre is not finite, or null. */
function firstNonFiniteRow(model: EnergyModel, x: Tensor2D | null, rows: number, domain: DomainArg): number | null {
  const centre = domain === 'unit-box' ? 0.5 : domain === 'simplex' ? 1 / model.yDim : domain === 'unbounded' ? 0 : (domain.lower + domain.upper) / 2;
  const y = Array.from({ length: rows }, () => new Array<number>(model.yDim).fill(centre));
  const { energy, grad } = model.energyAndGradY(x, y);
  try {
    return firstNonFinite(grad.dataSync(), model.yDim, energy.dataSync());
  } finally {
    energy.dispose();
    grad.dispose();
  }
}

async function runSolve(opts: SolveOptions): Promise<void> {
  const { ready } = await import('../../backend/backend.js');
  await ready();
  const { ARGMIN_METHODS, argmin } = await import('../../inference/argmin.js');
  if (!(ARGMIN_METHODS as readonly string[]).includes(opts.method)) {
    fail(`--method: unknown method '${opts.method}' (expected one of: ${ARGMIN_METHODS.join(', ')})`);
  }
  const method = opts.method as (typeof ARGMIN_METHODS)[number];
  if ((opts.learningRate !== undefined || opts.momentum !== undefined) && method !== 'gd') {
    fail(`--learning-rate and --momentum apply to --method gd only (got --method ${method})`);
  }
  if (opts.out !== undefined) await probeOutputFile('--out', opts.out);
  const tf = await import('@tensorflow/tfjs');
  const { loadModel } = await import('../../models/modelFiles.js');
  const model = await loadModel(opts.model);
  let x: import('@tensorflow/tfjs').Tensor2D | null = null;
  let result: Awaited<ReturnType<typeof argmin>> | null = null;
  try {
    let N: number;
    if (model.xDim === 0) {
      if (opts.x !== undefined) fail(`--x: this ${model.kind} takes no x (xDim 0); use --batch N for the number of problems`);
      N = opts.batch ?? 1;
    } else {
      if (opts.x === undefined) fail(`--x <file> is required: this ${model.kind} takes x of width ${model.xDim}`);
      if (opts.batch !== undefined) fail(`--batch is for models that take no x; this ${model.kind} takes its batch from the rows of --x`);
      const label = `--x ${opts.x}`;
      const flat = parseRows(await readInputText(opts.x, label), opts.x, model.xDim, { label, name: 'x' });
      N = flat.length / model.xDim;
      x = tf.tensor2d(flat, [N, model.xDim]);
    }
    const gd = opts.learningRate !== undefined || opts.momentum !== undefined
      ? { optimizer: 'momentum' as const, learningRate: opts.learningRate ?? 0.01, momentum: opts.momentum ?? 0.9 }
      : {};
    const t0 = performance.now();
    try {
      result = await argmin(model, x, {
        method, domain: opts.domain, ...(opts.iterations !== undefined ? { iterations: opts.iterations } : {}),
        ...(x === null ? { batch: N } : {}), ...gd,
      });
    } catch (e) {
      // A solver fed non-finite energies fails inside (e.g. an LP's bounds): say so in the user's terms.
      const row = firstNonFiniteRow(model, x, N, opts.domain);
      if (row !== null) fail(nonFiniteMessage(method, row));
      const message = (e as Error).message;
      if (isOutOfRangeMessage(message)) fail(nonFiniteMessage(method, /row (\d+)/.exec(message)?.[1] ?? '?'));
      if (e instanceof IcnnError) throw e;
      fail(`--method ${method} failed: ${message}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const n = model.yDim;
    const yFlat = result.y.dataSync();
    const badRow = firstNonFinite(yFlat, n, result.energy, result.objective, result.lowerBound);
    if (badRow !== null) fail(nonFiniteMessage(method, badRow));
    const yRows = Array.from({ length: N }, (_, r) => Array.from(yFlat.subarray(r * n, (r + 1) * n), f32));
    const domainLabel = typeof opts.domain === 'string' ? opts.domain : `${opts.domain.lower}:${opts.domain.upper}`;
    if (opts.out !== undefined) {
      const { writeFileAtomic } = await import('../../util/atomicFile.js');
      await writeFileAtomic(opts.out, yRows.map((r) => r.join(',')).join('\n') + '\n');
    }
    const r = result;
    if (opts.json) {
      const arr = (a: ArrayLike<number> | undefined) => (a === undefined ? null : Array.from(a));
      process.stdout.write(`${stringifyFinite('solve --json', {
        method, model: model.kind, domain: domainLabel, rows: N, yDim: n,
        y: yRows, energy: arr(r.energy), objective: arr(r.objective), lowerBound: arr(r.lowerBound), gap: arr(r.gap),
        iterations: arr(r.iterations), evaluations: r.evaluations, seconds,
      })}\n`);
      return;
    }
    const shown = Math.min(N, opts.show);
    const k = Math.min(n, 5);
    const header = ['row', 'energy f(ŷ)'];
    if (r.objective) header.push('f − H');
    if (r.lowerBound) header.push(r.objective ? 'lower bound (f − H)' : 'lower bound', 'gap');
    header.push('iters', `ŷ[0..${k - 1}]${n > k ? ` (of ${n})` : ''}`);
    const body = [];
    for (let i = 0; i < shown; i++) {
      const row = [String(i), fmt(r.energy[i])];
      if (r.objective) row.push(fmt(r.objective[i]));
      if (r.lowerBound && r.gap) row.push(fmt(r.lowerBound[i]), fmt(r.gap[i]));
      row.push(String(r.iterations[i]), yRows[i].slice(0, k).map((v) => v.toFixed(4)).join(' ') + (n > k ? ' …' : ''));
      body.push(row);
    }
    const lines = [
      `${model.kind} (x width ${model.xDim}, y width ${n}): method ${method}, domain ${domainLabel}, ${N} row${N === 1 ? '' : 's'}, ` +
        `${r.evaluations} batched evaluation${r.evaluations === 1 ? '' : 's'}, ${seconds.toFixed(2)} s`,
      table(header, body),
    ];
    if (shown < N) lines.push(`… ${N - shown} more rows (--show N, --json or --out FILE for all)`);
    if (r.objective) lines.push(`bundle-entropy minimizes f − H(ŷ) (H: ${opts.domain === 'simplex' ? 'the entropy −Σ ŷ log ŷ' : 'the binary entropy of each coordinate'}); its lower bound and gap are for f − H.`);
    if (!r.lowerBound) lines.push(`${method} gives no lower bound, so no optimality gap.`);
    if (opts.out !== undefined) lines.push(`wrote ŷ (${N} × ${n}) to ${opts.out}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    x?.dispose();
    result?.y.dispose();
    model.dispose();
  }
}
