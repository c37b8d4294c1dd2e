/**
 * `npm run bench:training`: training throughput (examples/s) of the four objectives on the BibTeX-sized PICNN,
 * next to PyTorch doing the same unrolled-GD training step (bench/torch_training.py), on the same machine in the
 * same run.
 *
 *   npm run bench:training                  # full run (about 2-3 minutes on 2 cores)
 *   npm run bench:training -- --quick       # fewer steps (about a minute)
 *   npm run bench:training -- --profile     # also tf.profile one step of each objective (kernels vs the rest)
 *   npm run bench:training -- --no-torch    # our side only
 *   npm run bench:training -- --objectives unrolled-gd,max-margin --rounds 3 --warmup 1
 *   npm run bench:training -- --smoke       # plumbing check: toy-size PICNN, one step each, results to a temporary directory
 *
 * A training step is what src/learning/fit.ts does per minibatch: `objective.step(model, batch)`, Adam's
 * `applyGradients` (learning rate 1e-3), `model.project()`. Rounds alternate: every objective's steps, then
 * PyTorch 1 thread, then PyTorch 2 threads, so that other load on the machine affects every column alike.
 * Writes bench/results/training.json and bench/results/training.md (each atomically) and prints the table.
 * See bench/README.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PICNN, Rng, VERSION, backendInfo, createObjective, tf, type Batch, type Objective } from '../test/helpers/icnn.js';
import { writeFileAtomic } from '../src/util/atomicFile.js';
import { defaultAdam } from '../src/learning/fusedAdam.js';
import {
  ArgReader, Float32Bundle, INSTALL_CMD, PYTHON, banner, fmtMs as fmt, fmtRatio as fmtX, kernelSummary, loadAvg, machineInfo, markdownTable, median,
  reportTorchMissing, profileKernels, r3, WARM_MS, warmFor, resultsDir, setupNote, shownPath, startTorchWorkers, stopwatch, summarizeTimes, torchAvailable,
  torchSetupNote, workerEnvs, type KernelStat, type RunFlags, type TorchEnv, type TorchWorker,
} from './common.js';
import { benchGemm, gemmTable } from './gemm.js';

const TORCH_SCRIPT = 'torch_training.py';

/** The model, the minibatch size and how many distinct minibatches are used in turn. */
interface Setup {
  model: { xDim: number; yDim: number; hidden: number[]; uHidden: number[]; batchNorm: boolean; seed: number };
  batch: number;
  numBatches: number;
}

const FULL: Setup = { model: { xDim: 1836, yDim: 159, hidden: [600, 159], uHidden: [600, 159], batchNorm: true, seed: 1 }, batch: 128, numBatches: 4 };
/** --smoke: the same PICNN layout at toy size. */
const SMOKE: Setup = { model: { xDim: 12, yDim: 5, hidden: [8, 5], uHidden: [8, 5], batchNorm: true, seed: 1 }, batch: 4, numBatches: 2 };
const X_DENSITY = 0.04;
const Y_DENSITY = 0.015;
const ADAM_LR = 1e-3;

// ---- objectives ---------------------------------------------------------------------------------------------

type ObjectiveKey = 'energy-regression' | 'unrolled-gd' | 'argmin-bundle-entropy' | 'max-margin';

interface ObjectiveSpec {
  key: ObjectiveKey;
  options: Record<string, unknown>;
  /** What the options mean, for the table. */
  label: string;
  /** Timed steps per round (cheap objectives take more). */
  perRound: number;
}

const OBJECTIVES: ObjectiveSpec[] = [
  { key: 'energy-regression', options: {}, label: 'energy-regression (random energy targets)', perRound: 6 },
  { key: 'unrolled-gd', options: { steps: 30, learningRate: 0.1, momentum: 0.3 }, label: 'unrolled-gd (30 steps, lr 0.1, momentum 0.3, MSE)', perRound: 3 },
  { key: 'argmin-bundle-entropy', options: { iterations: 10, loss: 'bce' }, label: 'argmin-bundle-entropy (10 iterations, BCE)', perRound: 2 },
  { key: 'max-margin', options: {}, label: 'max-margin (default: Hamming margin, gd 50 iterations)', perRound: 3 },
];
const KEYS = OBJECTIVES.map((o) => o.key);

// ---- command line -------------------------------------------------------------------------------------------

/** --smoke: a toy-size model, one step of each objective on both sides. */
interface Args extends RunFlags {
  objectives: ObjectiveKey[];
}

function usage(msg: string): never {
  console.error(`bench:training: ${msg}\nusage: npm run bench:training -- [--quick] [--smoke] [--profile] [--no-torch] ` +
    `[--objectives ${KEYS.join(',')}] [--warmup N] [--rounds N]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, smoke: false, profile: false, torch: true, objectives: [...KEYS], warmup: -1, rounds: -1 };
  const r = new ArgReader(argv, usage);
  for (let arg = r.next(); arg !== undefined; arg = r.next()) {
    switch (arg) {
      case '--objectives': {
        const list = r.list(KEYS, 'objective');
        a.objectives = KEYS.filter((k) => list.includes(k));
        break;
      }
      default: if (!r.runFlag(a)) r.unknown();
    }
  }
  if (a.warmup < 0) a.warmup = a.quick || a.smoke ? 1 : 2;
  if (a.rounds < 0) a.rounds = a.smoke ? 1 : a.quick ? 2 : 5;
  return a;
}

// ---- data ---------------------------------------------------------------------------------------------------

interface Data {
  setup: Setup;
  batches: { x: tf.Tensor2D; y: tf.Tensor2D; target: tf.Tensor1D }[];
  /** The same batches as flat float32 arrays (for the PyTorch side). */
  raw: { x: Float32Array; y: Float32Array }[];
}

/** Sparse binary x (bag-of-words-like), sparse binary y targets, random energy targets (energy regression). */
function makeData(setup: Setup, seed: number): Data {
  const { model: MODEL_OPTIONS, batch: BATCH, numBatches: NUM_BATCHES } = setup;
  const rng = new Rng(seed);
  const binary = (n: number, p: number) => Float32Array.from(rng.fillUniform(n, 0, 1), (u) => (u < p ? 1 : 0));
  const batches: Data['batches'] = [];
  const raw: Data['raw'] = [];
  for (let b = 0; b < NUM_BATCHES; b++) {
    const x = binary(BATCH * MODEL_OPTIONS.xDim, X_DENSITY);
    const y = binary(BATCH * MODEL_OPTIONS.yDim, Y_DENSITY);
    raw.push({ x, y });
    batches.push({
      x: tf.tensor2d(x, [BATCH, MODEL_OPTIONS.xDim]), y: tf.tensor2d(y, [BATCH, MODEL_OPTIONS.yDim]),
      target: tf.tensor1d(rng.fillNormal(BATCH)),
    });
  }
  return { setup, batches, raw };
}

const density = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;

// ---- training steps ---------------------------------------------------------------------------------------

/** One objective's model, optimizer and step counter: a training loop as fit.ts runs it, minus data handling. */
class Trainer {
  readonly model: PICNN;
  readonly objective: Objective;
  readonly optimizer = defaultAdam(ADAM_LR); // fit's default: tfjs's Adam, fused where the native kernel is on
  private k = 0;

  constructor(readonly spec: ObjectiveSpec, private readonly data: Data) {
    this.model = new PICNN(data.setup.model);
    this.objective = createObjective(spec.key, spec.options);
  }

  /** objective.step + Adam + projection, as fit.ts (without its finiteness checks). Returns the loss. */
  async step(opts: { gradNorm?: boolean } = {}): Promise<{ loss: number; gradNorm: number | null; updateMs: number }> {
    const batch = this.data.batches[this.k++ % this.data.batches.length];
    const r = await this.objective.step(this.model, batch);
    let gradNorm: number | null = null;
    let t0 = performance.now();
    try {
      if (opts.gradNorm) {
        const s = tf.tidy(() => tf.addN(Object.values(r.grads).map((g) => tf.sum(tf.square(g)))));
        gradNorm = Math.sqrt(s.dataSync()[0]);
        s.dispose();
        t0 = performance.now();
      }
      // Positional, as fit.ts: Adam keeps its slots by the index of each variable in this list.
      this.optimizer.applyGradients(this.model.trainableVariables.map((v) => ({ name: v.name, tensor: r.grads[v.name] })) as
        { name: string; tensor: tf.Tensor }[]);
    } finally {
      tf.dispose(Object.values(r.grads));
    }
    this.model.project();
    return { loss: r.loss, gradNorm, updateMs: performance.now() - t0 };
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** Export the fresh model's weights and the batches for torch_training.py --dir. */
function exportForTorch(model: PICNN, data: Data, dir: string): void {
  const bundle = new Float32Bundle();
  bundle.putParameters(model);
  data.raw.forEach((b, i) => {
    bundle.put(`__x${i}`, b.x);
    bundle.put(`__y${i}`, b.y);
  });
  bundle.write(dir, 'model', { config: model.config, batch: data.setup.batch, batches: data.raw.length });
}

// ---- timing -------------------------------------------------------------------------------------------------

/** Steps per second expressed as examples/s of a `batch`-row minibatch. */
const summarize = (times: number[], cpu: number[], batch: number) =>
  summarizeTimes(times, cpu, { steps: times.length, examplesPerSecond: r3((batch * 1000) / median(times)) });
type Timing = ReturnType<typeof summarize>;

interface ProfileResult {
  /** Wall time of the (last) profiled step (objective.step only) and the part of it spent in tfjs kernels. */
  stepMs: number;
  totalKernelMs: number;
  kernelCalls: number;
  /** BatchMatMul work (2·m·k·n per call, untransposed as this library calls it) and its rate. */
  matmulGflop: number;
  matmulGflopPerSecond: number;
  byKernel: KernelStat[];
  slowest: { kernel: string; ms: number; inputShapes: string }[];
}

/** tf.profile of one objective.step (gradients disposed, not applied), twice; each kernel call keeps its faster time. */
async function profileStep(t: Trainer, batch: Batch): Promise<ProfileResult> {
  let stepMs = 0;
  const kernels = await profileKernels(async () => {
    const t0 = performance.now();
    const r = await t.objective.step(t.model, batch);
    stepMs = performance.now() - t0;
    tf.dispose(Object.values(r.grads));
  }, 2);
  let flop = 0;
  let matmulMs = 0;
  for (const k of kernels) {
    if (k.name === 'BatchMatMul' && k.inputShapes.length === 2) {
      const [a, b] = k.inputShapes;
      flop += 2 * a.reduce((p, d) => p * d, 1) * b[b.length - 1];
      matmulMs += k.ms;
    }
  }
  const { totalKernelMs, byKernel, slowest } = kernelSummary(kernels, 12);
  return {
    stepMs: r3(stepMs), totalKernelMs, kernelCalls: kernels.length,
    matmulGflop: r3(flop / 1e9), matmulGflopPerSecond: r3(matmulMs > 0 ? flop / 1e6 / matmulMs : 0),
    byKernel: byKernel.slice(0, 25), slowest,
  };
}

/** `torch_training.py --serve`: {check} takes one step and answers its loss and |∇θ|; {warmup, reps} times steps. */
const torchCheck = async (w: TorchWorker) => (await w.request({ check: true })) as { loss: number; gradNorm: number };
const torchTime = async (w: TorchWorker, warmup: number, reps: number) =>
  (await w.request({ warmup, reps, warmMs: reps > 0 ? WARM_MS : 0 })) as { times: number[]; cpuTimes: number[]; losses: number[] };

// ---- main ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t00 = performance.now();
  const setup = args.smoke ? SMOKE : FULL;
  const { model: MODEL_OPTIONS, batch: BATCH, numBatches: NUM_BATCHES } = setup;
  const info = backendInfo();
  const machine = machineInfo();
  const loadAtStart = loadAvg();
  // --smoke: one step of each objective per round.
  const specs = OBJECTIVES.filter((o) => args.objectives.includes(o.key)).map((o) => (args.smoke ? { ...o, perRound: 1 } : o));
  console.log(banner('bench:training', info, machine));
  console.log(`${args.smoke ? 'smoke-size (--smoke: a plumbing check, not a measurement)' : 'BibTeX-sized'} PICNN, batch ${BATCH}; ${args.warmup} warm-up step(s) per objective, then ${args.rounds} round(s) of ` +
    `${specs.map((s) => `${s.perRound} ${s.key}`).join(', ')} step(s)${args.torch ? ', each round followed by PyTorch\'s unrolled-gd steps' : ''}`);
  if (loadAtStart[0] > 0.5 * machine.cores) {
    console.log(`note: load average ${loadAtStart.join(' ')} at start: other processes share the cores, wall-clock timings will be noisy`);
  }

  const data = makeData(setup, 2);
  const trainers = specs.map((s) => new Trainer(s, data));
  const parameters = trainers[0].model.numParameters;

  // PyTorch: the same initial weights and batches as our unrolled-gd model (all our models start identical).
  let torchNote = '';
  let workers: TorchWorker[] = [];
  const ugTrainer = trainers.find((t) => t.spec.key === 'unrolled-gd');
  let dir: string | null = null;
  if (!args.torch) torchNote = 'PyTorch skipped (--no-torch)';
  else if (!ugTrainer) torchNote = 'PyTorch skipped (unrolled-gd not among the objectives)';
  else {
    const t = torchAvailable();
    if (!t.ok) {
      torchNote = reportTorchMissing(t.detail);
    } else {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icnn-bench-training-'));
      exportForTorch(ugTrainer.model, data, dir);
      workers = await startTorchWorkers(TORCH_SCRIPT, ['--dir', dir]);
      if (workers.length === 0) torchNote = 'torch_training.py failed to start';
      else console.log(`PyTorch ${t.detail} (${PYTHON})`);
    }
  }

  const ours = new Map<ObjectiveKey, { wall: number[]; cpu: number[]; losses: number[]; update: number[] }>();
  const theirs = new Map<string, { wall: number[]; cpu: number[]; losses: number[] }>();
  const warmupLosses = new Map<ObjectiveKey, number[]>();
  let check: Record<string, number> | null = null;
  const counts: number[] = [];
  let tensorsBefore = 0;
  const profiles: Partial<Record<ObjectiveKey, ProfileResult>> = {};
  try {
    // Warm-up. Our unrolled-gd model's first step and PyTorch's are the same step on the same weights and batch:
    // compare loss and |∇θ|.
    for (const t of trainers) {
      const losses: number[] = [];
      for (let i = 0; i < args.warmup; i++) {
        const first = i === 0 && t === ugTrainer && workers.length > 0;
        const r = await t.step({ gradNorm: first });
        losses.push(r.loss);
        if (first) {
          const c = await torchCheck(workers[0]);
          check = {
            oursLoss: r.loss, torchLoss: c.loss, lossRelDiff: Math.abs(r.loss - c.loss) / Math.abs(c.loss),
            oursGradNorm: r.gradNorm!, torchGradNorm: c.gradNorm, gradNormRelDiff: Math.abs(r.gradNorm! - c.gradNorm) / Math.abs(c.gradNorm),
          };
          console.log(`same first unrolled-gd step in PyTorch (same weights and batch): loss ${r.loss.toExponential(4)} vs ${c.loss.toExponential(4)} ` +
            `(relative difference ${check.lossRelDiff.toExponential(1)}), |∇θ| ${r.gradNorm!.toExponential(4)} vs ${c.gradNorm.toExponential(4)} ` +
            `(${check.gradNormRelDiff.toExponential(1)})`);
        }
      }
      warmupLosses.set(t.spec.key, losses);
      ours.set(t.spec.key, { wall: [], cpu: [], losses: [], update: [] });
    }
    for (const w of workers) {
      // The 1-thread worker has taken its first step already (the check).
      await torchTime(w, Math.max(0, args.warmup - (w === workers[0] && check ? 1 : 0)), 0);
      theirs.set(w.config.key, { wall: [], cpu: [], losses: [] });
    }
    tensorsBefore = tf.memory().numTensors;

    const perRoundTorch = ugTrainer?.spec.perRound ?? 2;
    for (let round = 0; round < args.rounds; round++) {
      for (const t of trainers) {
        const rec = ours.get(t.spec.key)!;
        await warmFor(() => t.step()); // untimed steps (their losses are not recorded), as PyTorch's warmMs
        for (let i = 0; i < t.spec.perRound; i++) {
          const read = stopwatch();
          const r = await t.step();
          const { wallMs, cpuMs } = read();
          rec.wall.push(wallMs);
          rec.cpu.push(cpuMs);
          rec.losses.push(r.loss);
          rec.update.push(r.updateMs);
          counts.push(tf.memory().numTensors);
        }
      }
      for (const w of workers) {
        const r = await torchTime(w, 0, perRoundTorch);
        const rec = theirs.get(w.config.key)!;
        rec.wall.push(...r.times);
        rec.cpu.push(...r.cpuTimes);
        rec.losses.push(...r.losses);
      }
      console.log(`  round ${round + 1}/${args.rounds}: ` + trainers.map((t) => `${t.spec.key} ${fmt(median(ours.get(t.spec.key)!.wall.slice(-t.spec.perRound)))} ms`).join(', ') +
        workers.map((w) => `, ${w.config.label} ${fmt(median(theirs.get(w.config.key)!.wall.slice(-perRoundTorch)))} ms`).join('') +
        `  (load ${loadAvg()[0]})`);
    }

    if (args.profile) {
      for (const t of trainers) {
        const p = await profileStep(t, data.batches[0]);
        profiles[t.spec.key] = p;
        console.log(`\n  profile ${t.spec.key}: step ${p.stepMs.toFixed(0)} ms, ${p.totalKernelMs.toFixed(0)} ms in ${p.kernelCalls} tfjs kernel calls ` +
          `(${((100 * p.totalKernelMs) / p.stepMs).toFixed(0)} %); BatchMatMul ${p.matmulGflop.toFixed(2)} GFLOP at ${p.matmulGflopPerSecond.toFixed(1)} GFLOP/s`);
        for (const k of p.byKernel.slice(0, 8)) console.log(`    ${k.kernel.padEnd(22)} ${k.totalMs.toFixed(1).padStart(8)} ms  ${String(k.calls).padStart(6)} calls`);
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  const loadAtEnd = loadAvg();
  console.log('\nGEMM on the PICNN\'s shapes (ours, the wasm backend\'s own kernel, OpenBLAS via PyTorch):');
  const gemm = await benchGemm(workers.length > 0, args.smoke);
  const gemmMd = gemmTable(gemm);
  const numTensorsConstant = counts.every((c) => c === tensorsBefore);

  // ---- results
  const t1 = theirs.get('torch1');
  const t2 = theirs.get('torch2');
  const torch1 = t1 && t1.wall.length > 0 ? summarize(t1.wall, t1.cpu, BATCH) : null;
  const torch2 = t2 && t2.wall.length > 0 ? summarize(t2.wall, t2.cpu, BATCH) : null;
  const rows: Record<string, unknown>[] = [];
  const table: string[][] = [];
  for (const t of trainers) {
    const rec = ours.get(t.spec.key)!;
    const o = summarize(rec.wall, rec.cpu, BATCH);
    const isUg = t.spec.key === 'unrolled-gd';
    const ratio = (theirsT: Timing | null) => (isUg && theirsT ? r3(o.medianMs / theirsT.medianMs) : null);
    rows.push({
      objective: t.spec.key, options: t.spec.options, label: t.spec.label, ours: o,
      // Part of each step spent in Adam's applyGradients + model.project() (the rest: objective.step).
      updateMedianMs: r3(median(rec.update)),
      losses: { warmup: warmupLosses.get(t.spec.key), timed: rec.losses.map((l) => Number(l.toPrecision(6))) },
      ...(isUg ? {
        torch1, torch2, ratioTorch1: ratio(torch1), ratioTorch2: ratio(torch2),
        ratioTorch1Cpu: torch1 ? r3(o.cpuMedianMs / torch1.cpuMedianMs) : null,
        torchLosses: { torch1: t1?.losses, torch2: t2?.losses },
      } : {}),
      profile: profiles[t.spec.key] ?? null,
    });
    table.push([
      t.spec.label, fmt(o.medianMs), fmt(o.cpuMedianMs), fmt(o.examplesPerSecond),
      isUg && torch1 ? fmt(torch1.examplesPerSecond) : '–', isUg && torch1 ? fmtX(o.medianMs, torch1.medianMs) : '–',
      isUg && torch2 ? fmt(torch2.examplesPerSecond) : '–', isUg && torch2 ? fmtX(o.medianMs, torch2.medianMs) : '–',
      isUg && torch1 ? fmtX(o.cpuMedianMs, torch1.cpuMedianMs) : '–',
    ]);
  }
  const header = ['objective', 'ours ms/step', 'ours CPU ms/step', 'ours examples/s', 'torch 1-thread examples/s', 'ratio', 'torch 2-thread examples/s', 'ratio',
    'ratio 1-thread, CPU time'];
  const md = markdownTable(header, table);
  const date = new Date().toISOString();
  // torch_training.py reports the parameter count of its model with its environment.
  const w1 = (workers.find((w) => w.config.key === 'torch1')?.env ?? workers[0]?.env) as (TorchEnv & { parameters: number }) | undefined;
  const seconds = (performance.now() - t00) / 1000;
  const notes = [
    `${setupNote(date, info, machine)}; ${seconds.toFixed(0)} s in all.`,
    `Model \`new PICNN(${JSON.stringify(MODEL_OPTIONS).replace(/"/g, '').replace(/,/g, ', ').replace(/:/g, ': ')})\`, ${parameters.toLocaleString('en-US')} ` +
      `trainable parameters${w1 ? ` (PyTorch ${w1.parameters.toLocaleString('en-US')}: ${w1.parameters === parameters ? 'equal' : 'DIFFERENT'})` : ''}; ` +
      `batch ${BATCH}; ${NUM_BATCHES} minibatches used in turn: sparse binary x (density ${density(data.raw[0].x).toFixed(3)}), ` +
      `binary y targets (density ${density(data.raw[0].y).toFixed(3)}), standard normal energy targets for energy regression.`,
    'A step: `objective.step(model, batch)` + Adam `applyGradients` (lr 1e-3) + `model.project()`, as src/learning/fit.ts (without its ' +
      'finiteness checks). PyTorch (bench/torch_training.py): the same unrolled-GD step (30 momentum steps with create_graph=True, ' +
      'MSE on y_30, backward, Adam, W^(z) clamped ≥ 0), starting from our weights on the same batches.',
    torch1 || torch2 ? torchSetupNote(w1) : `${torchNote}.`,
    check ? `Same step, same weights and batch: first-step loss ours ${check.oursLoss.toExponential(4)}, PyTorch ${check.torchLoss.toExponential(4)} ` +
      `(relative difference ${check.lossRelDiff.toExponential(1)}); |∇θ| ${check.oursGradNorm.toExponential(4)} vs ${check.torchGradNorm.toExponential(4)} ` +
      `(${check.gradNormRelDiff.toExponential(1)}).` : '',
    `${args.warmup} warm-up step(s) per objective, then ${args.rounds} alternating round(s) (each objective's steps, PyTorch 1 thread, PyTorch 2 threads), each side's timed steps after ${WARM_MS} ms of untimed ones (common.ts, WARM_MS); ` +
      `medians of ${specs.map((s) => `${s.perRound * args.rounds} (${s.key})`).join(', ')}${torch1 ? ` and ${torch1.steps} (PyTorch)` : ''} steps. ` +
      'examples/s = batch / median step time. Ratio = ours / PyTorch time per step (lower is better; = PyTorch examples/s ÷ ours); ' +
      'the last column divides median CPU times (user + system, per process) of ours and 1-thread PyTorch, which other load inflates less. ' +
      `Load average (1, 5, 15 min) ${loadAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end.`,
    `tf.memory().numTensors after every timed step: ${numTensorsConstant ? `constant (${tensorsBefore})` : `NOT constant: ${tensorsBefore} → ${counts.at(-1)} (leak)`}.`,
  ].filter((s) => s !== '');
  const profileMd: string[] = [];
  for (const t of trainers) {
    const p = profiles[t.spec.key];
    if (!p) continue;
    const cpu = median(ours.get(t.spec.key)!.cpu);
    profileMd.push(`- ${t.spec.key}: tfjs kernels ${fmt(p.totalKernelMs)} ms in ${p.kernelCalls.toLocaleString('en-US')} calls ` +
      `(the median step takes ${fmt(cpu)} ms of CPU time; the profiled objective.step took ${fmt(p.stepMs)} ms); ` +
      `BatchMatMul ${p.matmulGflop.toFixed(2)} GFLOP at ${p.matmulGflopPerSecond.toFixed(1)} GFLOP/s; ` +
      p.byKernel.slice(0, 6).map((k) => `${k.kernel} ${fmt(k.totalMs)} ms (${k.calls})`).join(', ') + '.');
  }
  const updates = trainers.map((t) => `${t.spec.key} ${fmt(median(ours.get(t.spec.key)!.update))}`).join(', ');
  const summary = `# Training throughput: icnn (tfjs) vs PyTorch\n\nGenerated by \`npm run bench:training\` (bench/training.ts).\n\n${md}\n\n` +
    `${notes.map((n) => `- ${n}`).join('\n')}\n- Of each step, Adam's applyGradients + model.project() take (median ms): ${updates}; the rest is objective.step.\n` +
    (profileMd.length > 0 ? `\n## Profile\n\ntf.profile of one objective.step per objective (gradients not applied), twice; each kernel call keeps its ` +
      `faster time. Kernel times only (wall clock, so inflated when other processes take the core): ` +
      `the JavaScript around them (op dispatch, autodiff tape, the bundle-entropy solver) is the rest of the step.\n\n${profileMd.join('\n')}\n` : '') +
    `\n## GEMM GFLOP/s on the PICNN's shapes\n\n${gemmMd}\n`;
  const doc = {
    model: MODEL_OPTIONS, parameters, torchParameters: w1?.parameters ?? null, batch: BATCH, numBatches: NUM_BATCHES,
    xDensity: density(data.raw[0].x), yDensity: density(data.raw[0].y), adamLearningRate: ADAM_LR,
    objectives: rows, check, gemm, numTensors: { before: tensorsBefore, afterEachStep: counts, constant: numTensorsConstant },
    env: {
      date, icnn: VERSION, backend: info, machine: { ...machine, loadAvgAtStart: loadAtStart, loadAvgAtEnd: loadAtEnd },
      torch: workers.length > 0 ? workerEnvs(workers) :
        { unavailable: torchNote, install: INSTALL_CMD },
      warmup: args.warmup, rounds: args.rounds, quick: args.quick, seconds: r3(seconds),
    },
  };
  const out = resultsDir(args.smoke);
  await writeFileAtomic(path.join(out, 'training.json'), `${JSON.stringify(doc, null, 2)}\n`);
  await writeFileAtomic(path.join(out, 'training.md'), summary);
  for (const t of trainers) t.dispose();
  for (const b of data.batches) tf.dispose([b.x, b.y, b.target]);
  console.log(`\n${md}\n\n${notes.join('\n')}\nAdam + project (median ms): ${updates}\n\n${gemmMd}\n\nwrote ${shownPath(out, 'training.json')}, ${shownPath(out, 'training.md')}`);
}

await main();
