/**
 * `npm run bench`: speed of the BibTeX-sized PICNN and the Olivetti ConvPICNN on the active tfjs backend, next to
 * the same models in PyTorch (bench/torch_models.py), run on the same machine in the same run.
 *
 *   npm run bench                 # full run (about 2-3 minutes on 2 cores)
 *   npm run bench -- --quick      # fewer repetitions (about a minute)
 *   npm run bench -- --profile    # also print the kernels that dominate each of our cases (tf.profile)
 *   npm run bench -- --no-torch   # our side only
 *   npm run bench -- --no-check   # skip the TypeScript/PyTorch cross-check of the model equations
 *   npm run bench -- --models picnn,convPicnn --reps 30 --warmup 5 --rounds 5
 *   npm run bench -- --smoke      # plumbing check: tiny models, every case once, results to a temporary directory
 *
 * Our runs and PyTorch's are interleaved case by case, in rounds (ours, torch 1 thread, torch 2 threads, repeat),
 * so that other load on the machine affects both sides alike. Writes bench/results/<model>.json and
 * bench/results/summary.md (each atomically) and prints the summary table. See bench/README.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConvPICNN, PICNN, Rng, VERSION, backendInfo, tf, type EnergyModel } from '../test/helpers/icnn.js';
import {
  ArgReader, Float32Bundle, INSTALL_CMD, PYTHON, TORCH_CONFIGS, TorchWorker, banner, chunks, fmtMs, fmtRatio, kernelSummary, loadAvg, machineInfo, markdownTable,
  reportTorchMissing, profileKernels, WARM_MS, warmFor, resultsDir, runPython, setupNote, shownPath, startTorchWorkers, stopwatch, summarizeTimes, torchAvailable, torchSetupNote,
  workerEnvs, type KernelStat, type RunFlags,
} from './common.js';
import { benchGemm, gemmTable, type GemmResult } from './gemm.js';
import { writeFileAtomic } from '../src/util/atomicFile.js';

const TORCH_SCRIPT = 'torch_bench.py';

// ---- command line -------------------------------------------------------------------------------------------

type ModelName = 'picnn' | 'convPicnn';
const MODEL_NAMES: ModelName[] = ['picnn', 'convPicnn'];

interface Args extends RunFlags {
  check: boolean;
  models: ModelName[];
  reps: number;
}

function usage(msg: string): never {
  console.error(`bench: ${msg}\nusage: npm run bench -- [--quick] [--smoke] [--profile] [--no-torch] [--no-check] ` +
    `[--models ${MODEL_NAMES.join(',')}] [--warmup N] [--reps N] [--rounds N]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, smoke: false, profile: false, torch: true, check: true, models: [...MODEL_NAMES], warmup: -1, reps: -1, rounds: -1 };
  const r = new ArgReader(argv, usage);
  for (let arg = r.next(); arg !== undefined; arg = r.next()) {
    switch (arg) {
      case '--no-check': a.check = false; break;
      case '--reps': a.reps = r.int(1); break;
      case '--models': a.models = r.list(MODEL_NAMES, 'model'); break;
      default: if (!r.runFlag(a)) r.unknown();
    }
  }
  if (a.warmup < 0) a.warmup = a.smoke ? 0 : a.quick ? 1 : 3;
  if (a.reps < 0) a.reps = a.smoke ? 1 : a.quick ? 6 : 20;
  if (a.rounds < 0) a.rounds = a.smoke ? 1 : a.quick ? 2 : 5;
  a.rounds = Math.min(a.rounds, a.reps);
  return a;
}

// ---- models and cases ---------------------------------------------------------------------------------------

interface ModelSpec {
  name: ModelName;
  label: string;
  batch: number;
  build: () => EnergyModel;
}

const SPECS: Record<ModelName, ModelSpec> = {
  picnn: {
    name: 'picnn',
    label: 'PICNN, BibTeX-sized (x 1836, y 159, hidden 600-159, u-path BN), batch 128',
    batch: 128,
    build: () => new PICNN({ xDim: 1836, yDim: 159, hidden: [600, 159], uHidden: [600, 159], batchNorm: true }),
  },
  convPicnn: {
    name: 'convPicnn',
    label: 'ConvPICNN, Olivetti (64×32 halves, DQN convs + FC 512, u-path BN), batch 70',
    batch: 70,
    build: () => new ConvPICNN({ xShape: [64, 32, 1], yShape: [64, 32, 1], absScale: 0.5 }),
  },
};

/** --smoke: the same kinds of model at toy size (torch_bench.py --smoke builds the same ones). */
const SMOKE_SPECS: Record<ModelName, ModelSpec> = {
  picnn: {
    name: 'picnn', label: 'PICNN, smoke size (x 12, y 5, hidden 8-5, u-path BN), batch 4', batch: 4,
    build: () => new PICNN({ xDim: 12, yDim: 5, hidden: [8, 5], uHidden: [8, 5], batchNorm: true }),
  },
  convPicnn: {
    name: 'convPicnn', label: 'ConvPICNN, smoke size (16×8 halves, convs 4@3/2 4@3/1 + FC 16, u-path BN), batch 3', batch: 3,
    build: () => new ConvPICNN({
      xShape: [16, 8, 1], yShape: [16, 8, 1], conv: [{ filters: 4, kernel: 3, stride: 2 }, { filters: 4, kernel: 3, stride: 1 }], fcHidden: [16], absScale: 0.5,
    }),
  },
};

type CaseName = 'forward' | 'fwdBwd' | 'gradY' | 'secondOrder';
const CASES: { name: CaseName; label: string }[] = [
  { name: 'forward', label: 'forward' },
  { name: 'fwdBwd', label: 'fwd+bwd (∇θ, ∇y)' },
  { name: 'gradY', label: '∇y only (gradY)' },
  { name: 'secondOrder', label: '2nd order ∇θ(∇y f·v)' },
];

interface Inputs {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  /** y as a variable, so that one variableGrads pass returns ∇_θ and ∇_y together. */
  yVar: tf.Variable<tf.Rank.R2>;
  v: tf.Tensor2D;
}

function makeInputs(model: EnergyModel, batch: number, seed: number): Inputs {
  const rng = new Rng(seed);
  const x = tf.tensor2d(rng.fillUniform(batch * model.xDim, 0, 1), [batch, model.xDim]);
  const y = tf.tensor2d(rng.fillUniform(batch * model.yDim, 0, 1), [batch, model.yDim]);
  const v = tf.tensor2d(rng.fillNormal(batch * model.yDim), [batch, model.yDim]);
  return { x, y, v, yVar: tf.variable(y, true) as tf.Variable<tf.Rank.R2> };
}

function disposeInputs(inp: Inputs): void {
  tf.dispose([inp.x, inp.y, inp.v, inp.yVar]);
}

/**
 * One run of a case. The wasm and cpu backends execute kernels synchronously, so when the function returns the
 * work is done; reading the (small) result with dataSync also forces completion on asynchronous backends.
 */
function caseFn(model: EnergyModel, inp: Inputs, name: CaseName): () => void {
  const { x, y, yVar, v } = inp;
  const vars = model.trainableVariables;
  switch (name) {
    case 'forward':
      return () => {
        const e = tf.tidy(() => model.energyFromContext(model.context(x), y));
        e.dataSync();
        e.dispose();
      };
    case 'fwdBwd':
      return () => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(model.energyFromContext(model.context(x, { training: true }), yVar)) as tf.Scalar, [...vars, yVar]);
        value.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
      };
    case 'gradY':
      return () => {
        const g = model.gradY(x, y, { checkFinite: false });
        g.dataSync();
        g.dispose();
      };
    case 'secondOrder':
      return () => {
        const { value, grads } = tf.variableGrads(() => {
          const ctx = model.context(x, { training: true });
          const gy = tf.grad((yy: tf.Tensor) => tf.sum(model.energyFromContext(ctx, yy as tf.Tensor2D)))(y);
          return tf.sum(tf.mul(gy, v)) as tf.Scalar;
        }, vars);
        value.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
      };
  }
}

// ---- timing -------------------------------------------------------------------------------------------------

/** Wall-clock and CPU times of a case's timed runs (see common.summarizeTimes). */
type Timing = ReturnType<typeof summarize>;

interface OurTiming extends Timing {
  /** tf.memory().numTensors before the first (warm-up) run, and after every run. */
  numTensorsBefore: number;
  numTensorsAfter: number[];
  numTensorsConstant: boolean;
}

const summarize = (times: number[], cpu: number[]) => summarizeTimes(times, cpu, { reps: times.length });

/** Runs of our case, recording wall and CPU time, and numTensors after each. */
function runOurs(fn: () => void, n: number, times: number[] | null, cpu: number[] | null, counts: number[]): void {
  for (let i = 0; i < n; i++) {
    const read = stopwatch();
    fn();
    const { wallMs, cpuMs } = read();
    if (times) times.push(wallMs);
    if (cpu) cpu.push(cpuMs);
    counts.push(tf.memory().numTensors);
  }
}

interface ProfileResult {
  totalKernelMs: number;
  byKernel: KernelStat[];
  /** The slowest individual kernel calls with their input shapes. */
  slowest: { kernel: string; ms: number; inputShapes: string }[];
}

/** Kernel times of one run of a case: the fastest of 3 profiled runs per kernel call. */
async function profileCase(fn: () => void): Promise<ProfileResult> {
  return kernelSummary(await profileKernels(fn, 3), 15);
}

// ---- cross-check of the model equations against PyTorch ----------------------------------------------------

/**
 * Export a freshly built model's weights, inputs and a few of its results (batch 16) so that
 * `torch_bench.py --check` can evaluate the PyTorch model on the same weights and compare.
 */
function exportForCheck(spec: ModelSpec, dir: string): void {
  const model = spec.build();
  const n = 16;
  const inp = makeInputs(model, n, 7);
  const bundle = new Float32Bundle();
  // Weights first: the training-mode calls below update the batch-norm moving averages.
  bundle.putParameters(model);
  bundle.put('__x', inp.x.dataSync() as Float32Array);
  bundle.put('__y', inp.y.dataSync() as Float32Array);
  bundle.put('__v', inp.v.dataSync() as Float32Array);
  const { energy: eEval, grad: gy } = model.energyAndGradY(inp.x, inp.y);
  bundle.put('__energyEval', eEval.dataSync() as Float32Array);
  bundle.put('__gradYEval', gy.dataSync() as Float32Array);
  const vars = model.trainableVariables;
  const eTrain = tf.tidy(() => model.energyFromContext(model.context(inp.x, { training: true }), inp.y));
  bundle.put('__energyTrain', eTrain.dataSync() as Float32Array);
  const norm = (grads: tf.NamedTensorMap): number => {
    let s = 0;
    for (const g of Object.values(grads)) {
      const d = g.dataSync();
      for (let i = 0; i < d.length; i++) s += d[i] * d[i];
    }
    return Math.sqrt(s);
  };
  const g1 = tf.variableGrads(() => tf.sum(model.energyFromContext(model.context(inp.x, { training: true }), inp.y)) as tf.Scalar, vars);
  const thetaGradNorm = norm(g1.grads);
  const g2 = tf.variableGrads(() => {
    const ctx = model.context(inp.x, { training: true });
    const g = tf.grad((yy: tf.Tensor) => tf.sum(model.energyFromContext(ctx, yy as tf.Tensor2D)))(inp.y);
    return tf.sum(tf.mul(g, inp.v)) as tf.Scalar;
  }, vars);
  const secondOrderNorm = norm(g2.grads);
  tf.dispose([eEval, gy, eTrain, g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
  disposeInputs(inp);
  model.dispose();
  bundle.write(dir, spec.name, { batch: n, thetaGradNorm, secondOrderNorm });
}

/** Our timings of one case next to PyTorch's, in the order `torch_bench.py --serve` answers them. */
async function torchTime(w: TorchWorker, model: ModelName, kase: CaseName, warmup: number, reps: number):
  Promise<{ times: number[]; cpuTimes: number[]; parameters: number }> {
  return (await w.request({ model, case: kase, warmup, reps, warmMs: reps > 0 ? WARM_MS : 0 }, `, ${model} ${kase}`)) as { times: number[]; cpuTimes: number[]; parameters: number };
}

// ---- main ---------------------------------------------------------------------------------------------------

interface ModelResult {
  parameters: number;
  torchParameters: number | null;
  cases: Partial<Record<CaseName, { ours: OurTiming; torch1: Timing | null; torch2: Timing | null }>>;
  profile?: Partial<Record<CaseName, ProfileResult>>;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const specs = args.smoke ? SMOKE_SPECS : SPECS;
  const info = backendInfo();
  const machine = { ...machineInfo(), platform: `${os.platform()} ${os.release()}` };
  const loadAtStart = loadAvg();
  console.log(banner('bench', info, machine));
  console.log(`per case: ${args.warmup} warm-up runs, then ${args.reps} timed runs in ${args.rounds} round(s) interleaved with PyTorch; ` +
    `median${args.quick ? ' (--quick)' : ''}${args.smoke ? ' (--smoke: toy sizes, a plumbing check, not a measurement)' : ''}`);
  if (loadAtStart[0] > 0.5) {
    console.log(`note: load average ${loadAtStart.join(' ')} at start: other processes share the cores, timings will be noisy`);
  }

  // PyTorch available?
  let torchNote = '';
  let torchOk = false;
  if (args.torch) {
    const t = torchAvailable();
    torchOk = t.ok;
    if (!t.ok) {
      torchNote = reportTorchMissing(t.detail);
    } else {
      console.log(`PyTorch ${t.detail} (${PYTHON})`);
    }
  } else {
    torchNote = 'PyTorch skipped (--no-torch)';
  }

  // Cross-check first, on fresh models: both sides must compute the same function.
  let check: Record<string, Record<string, number>> | null = null;
  if (torchOk && args.check) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icnn-bench-'));
    try {
      for (const m of args.models) exportForCheck(specs[m], dir);
      check = runPython(TORCH_SCRIPT, ['--check', dir, ...(args.smoke ? ['--smoke'] : [])], TORCH_CONFIGS[0].env) as Record<string, Record<string, number>>;
    } catch (e) {
      console.log(`cross-check could not run: ${(e as Error).message}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    for (const [m, r] of Object.entries(check ?? {})) {
      const worst = Math.max(...Object.values(r));
      if (!(worst <= 1e-3)) process.exitCode = 1; // the two implementations disagree: the comparison is void
      console.log(`cross-check ${m} (same weights in PyTorch, batch 16): max relative difference ${worst.toExponential(1)} ` +
        `(${Object.entries(r).map(([k, v]) => `${k.replace(/RelErr$/, '')} ${v.toExponential(1)}`).join(', ')})${worst > 1e-3 ? '  <-- MISMATCH' : ''}`);
    }
  }

  // PyTorch workers, one per thread configuration (idle while we run: they block on stdin).
  const workers = torchOk ? await startTorchWorkers(TORCH_SCRIPT, args.smoke ? ['--smoke'] : []) : [];
  if (torchOk) {
    if (workers.length === 0) {
      torchOk = false;
      torchNote = 'torch_bench.py failed to start';
    }
  }

  const results: Partial<Record<ModelName, ModelResult>> = {};
  try {
    for (const m of args.models) {
      const spec = specs[m];
      const model = spec.build();
      const inp = makeInputs(model, spec.batch, 1);
      const res: ModelResult = { parameters: model.numParameters, torchParameters: null, cases: {} };
      console.log(`\n${spec.label}: ${res.parameters.toLocaleString('en-US')} trainable parameters`);
      for (const c of CASES) {
        const fn = caseFn(model, inp, c.name);
        const before = tf.memory().numTensors;
        const counts: number[] = [];
        const ours: number[] = [];
        const oursCpu: number[] = [];
        const theirs: Record<string, { wall: number[]; cpu: number[] }> = {};
        runOurs(fn, args.warmup, null, null, counts);
        for (const w of workers) {
          const r = await torchTime(w, m, c.name, args.warmup, 0);
          res.torchParameters = r.parameters;
          theirs[w.config.key] = { wall: [], cpu: [] };
        }
        for (const n of chunks(args.reps, args.rounds)) {
          await warmFor(fn);
          runOurs(fn, n, ours, oursCpu, counts);
          for (const w of workers) {
            const r = await torchTime(w, m, c.name, 0, n);
            theirs[w.config.key].wall.push(...r.times);
            theirs[w.config.key].cpu.push(...r.cpuTimes);
          }
        }
        const o: OurTiming = {
          ...summarize(ours, oursCpu), numTensorsBefore: before, numTensorsAfter: counts, numTensorsConstant: counts.every((k) => k === before),
        };
        const t1 = theirs.torch1 ? summarize(theirs.torch1.wall, theirs.torch1.cpu) : null;
        const t2 = theirs.torch2 ? summarize(theirs.torch2.wall, theirs.torch2.cpu) : null;
        res.cases[c.name] = { ours: o, torch1: t1, torch2: t2 };
        const leak = o.numTensorsConstant ? 'numTensors constant' : `numTensors ${before} -> ${counts.at(-1)} after ${counts.length} runs: LEAK`;
        console.log(`  ${c.label.padEnd(22)} ours ${fmtMs(o.medianMs).padStart(6)} ms` +
          (t1 ? `   torch1 ${fmtMs(t1.medianMs).padStart(6)} ms (${fmtRatio(o.medianMs, t1.medianMs)})` : '') +
          (t2 ? `   torch2 ${fmtMs(t2.medianMs).padStart(6)} ms (${fmtRatio(o.medianMs, t2.medianMs)})` : '') +
          (t1 ? `   CPU-time ratio ${fmtRatio(o.cpuMedianMs, t1.cpuMedianMs)}` : '') + `   [${leak}]`);
      }
      if (args.profile) {
        res.profile = {};
        for (const c of CASES) {
          const p = await profileCase(caseFn(model, inp, c.name));
          res.profile[c.name] = p;
          console.log(`\n  profile ${m} ${c.name}: ${p.totalKernelMs.toFixed(1)} ms in kernels (fastest of 3 profiled runs per kernel call)`);
          for (const k of p.byKernel.slice(0, 10)) {
            console.log(`    ${k.kernel.padEnd(22)} ${k.totalMs.toFixed(2).padStart(8)} ms  ${String(k.calls).padStart(4)} calls`);
          }
          console.log('    slowest calls:');
          for (const k of p.slowest.slice(0, 8)) console.log(`      ${k.kernel.padEnd(20)} ${k.ms.toFixed(2).padStart(8)} ms  ${k.inputShapes}`);
        }
      }
      results[m] = res;
      disposeInputs(inp);
      model.dispose();
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  const loadAtEnd = loadAvg();
  console.log('\nGEMM on the PICNN\'s shapes (ours, the wasm backend\'s own kernel, OpenBLAS via PyTorch):');
  const gemm: GemmResult[] = await benchGemm(torchOk, args.smoke);

  // Results.
  const out = resultsDir(args.smoke);
  const date = new Date().toISOString();
  const torchEnvs = workerEnvs(workers);
  const env = {
    date, icnn: VERSION, backend: info, machine: { ...machine, loadAvgAtStart: loadAtStart, loadAvgAtEnd: loadAtEnd },
    torch: torchOk ? torchEnvs : { unavailable: torchNote, install: INSTALL_CMD },
    warmup: args.warmup, reps: args.reps, rounds: args.rounds, quick: args.quick,
  };
  const rows: string[][] = [];
  const leaks: string[] = [];
  const paramNotes: string[] = [];
  for (const m of args.models) {
    const r = results[m];
    if (!r) continue;
    const equal = r.torchParameters === null ? null : r.torchParameters === r.parameters;
    if (equal === false) {
      console.log(`ERROR: parameter counts differ for ${m}: ours ${r.parameters}, PyTorch ${r.torchParameters}`);
      process.exitCode = 1;
    }
    paramNotes.push(`${m} ${r.parameters.toLocaleString('en-US')}` +
      (r.torchParameters === null ? '' : ` (PyTorch ${r.torchParameters.toLocaleString('en-US')}: ${equal ? 'equal' : 'DIFFERENT'})`));
    const cases: Record<string, unknown> = {};
    for (const c of CASES) {
      const t = r.cases[c.name];
      if (!t) continue;
      const a = t.torch1?.medianMs;
      const b = t.torch2?.medianMs;
      rows.push([`${m} ${c.label}`, fmtMs(t.ours.medianMs), fmtMs(a), fmtRatio(t.ours.medianMs, a), fmtMs(b), fmtRatio(t.ours.medianMs, b),
        fmtRatio(t.ours.cpuMedianMs, t.torch1?.cpuMedianMs)]);
      if (!t.ours.numTensorsConstant) {
        leaks.push(`${m} ${c.name} (+${(t.ours.numTensorsAfter.at(-1) ?? 0) - t.ours.numTensorsBefore} in ${t.ours.numTensorsAfter.length} runs)`);
      }
      const ratio = (x: number, y: number | undefined) => (y === undefined ? null : Number((x / y).toFixed(3)));
      cases[c.name] = {
        ...t, ratioTorch1: ratio(t.ours.medianMs, a), ratioTorch2: ratio(t.ours.medianMs, b),
        // Ratios of the fastest runs: less sensitive to other load on a shared machine.
        ratioTorch1Min: ratio(t.ours.minMs, t.torch1?.minMs), ratioTorch2Min: ratio(t.ours.minMs, t.torch2?.minMs),
        ratioTorch1Cpu: ratio(t.ours.cpuMedianMs, t.torch1?.cpuMedianMs),
      };
    }
    const doc = {
      model: m, label: specs[m].label, batch: specs[m].batch,
      parameters: { ours: r.parameters, torch: r.torchParameters, equal },
      crossCheck: check?.[m] ?? null, cases, profile: r.profile ?? null, env, gemm,
    };
    await writeFileAtomic(path.join(out, `${m}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  }

  const header = ['case', 'ours ms', 'torch 1-thread ms', 'ratio', 'torch 2-thread ms', 'ratio', 'ratio 1-thread, CPU time'];
  const table = markdownTable(header, rows);
  const t1env = workers.find((w) => w.config.key === 'torch1')?.env ?? workers[0]?.env;
  const notes = [
    `${setupNote(date, info, machine)}.`,
    torchOk ? torchSetupNote(t1env) : `${torchNote}. Install: \`${INSTALL_CMD}\`.`,
    `Per case: ${args.warmup} warm-up run(s), then the median of ${args.reps} runs, taken in ${args.rounds} round(s)${workers.length > 0 ? ' interleaved with PyTorch\'s' : ''}, each side's timed runs of a round after ${WARM_MS} ms of untimed ones (common.ts, WARM_MS). ` +
      'Ratio = ours / PyTorch (lower is better), of median wall-clock times; the last column divides median CPU times ' +
      '(user + system, per process) of ours and single-threaded PyTorch, which other load on the machine inflates less. ' +
      `Load average (1, 5, 15 min) ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end.`,
    `Trainable parameters: ${paramNotes.join('; ')}.`,
    `tf.memory().numTensors constant across runs: ${leaks.length === 0 ? 'yes, in every case' : `no, it grows in ${leaks.join(', ')}`}.`,
    check ? `Cross-check (same weights in PyTorch, batch 16; energies, ∇y, |∇θ|, |∇θ(∇y f·v)|): max relative difference ` +
      `${Math.max(...Object.values(check).flatMap((r) => Object.values(r))).toExponential(1)}.` : '',
  ].filter((s) => s !== '');
  const gemmMd = gemmTable(gemm);
  const summary = `# Benchmark: icnn (tfjs) vs PyTorch\n\n${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\n` +
    `## GEMM GFLOP/s on the PICNN's shapes\n\n${gemmMd}\n`;
  await writeFileAtomic(path.join(out, 'summary.md'), summary);
  const written = [...args.models.map((m) => `${m}.json`), 'summary.md'].map((f) => shownPath(out, f));
  console.log(`\n${table}\n\n${notes.join('\n')}\n\n${gemmMd}\n\nwrote ${written.join(', ')}`);
}

await main();
