/**
 * §5.2: multi-label classification on BibTeX (1836 binary features → 159 labels; 4880 train / 2515 test), the
 * paper's Table 1: a feed-forward baseline against a PICNN, here trained two ways.
 *
 * - Feedforward net (the authors' ff.py): FC 600 + ReLU + batch norm, FC 159, sigmoid, summed binary cross-entropy
 *   with log(σ + 1e-10), weights and biases U(±1/√fan-out).
 *   Written as the linear energy f = −g(x)ᵀy, whose entropy-regularized argmin is σ(−∇_y f) = σ(g(x)) (§1.2, the
 *   "trivial PICNN"), trained with BCE on it: the sigmoid/BCE network (see LinearEnergySigmoid in ./bibtexTask.ts).
 * - PICNN, unrolled GD (the paper's reported setup, icnn-back.py): u-path [600, 159] with ReLU + batch norm, z-path
 *   600 → 159 → 1, the authors' init (truncated normal std 0.02, |W^(z)|, gate biases 0; see BIBTEX_PICNN_INIT);
 *   ŷ = 30 momentum-GD steps from 0.5 (the paper's lr 0.1, momentum 0.3; the script's
 *   default lr is 0.01), MSE(ŷ, y) differentiated through the steps.
 * - PICNN, bundle entropy (icnn_ebundle.py): the same network, ŷ = 10 bundle-entropy iterations, BCE through the
 *   argmin (Prop. 3).
 * All: Adam 1e-3, batch 128, projection after every step. Metrics on the test set after every epoch: the
 * example-averaged F1 (what the authors' `util.macroF1` computes and the paper calls macro-F1) and the
 * label-macro F1 (the usual macro-F1) and micro-F1, ŷ ≥ 0.5. With --seeds, every variant (GD inner lr 0.1 and
 * 0.01, the library-init feed-forward) runs per seed in its own resumable directory (./seedRuns.ts, ./seedTable.ts).
 */
import path from 'node:path';
import { joinEarlierResults, mergedLines } from './seedMerge.js';
import { promises as fs } from 'node:fs';
import { loadBibtex } from '../data/index.js';
import { lineChart, type Series } from '../report/charts.js';
import { writeSvgAsPng } from '../report/png.js';
import { runParallel, siblingModule } from './parallel.js';
import { seedGridAndCollect, type SeedGridTask } from './seedRuns.js';
import {
  finalMean, SEED_TABLE_NOTE, seedAblationTable, seedMainTable, seedResultRows, seedTable, unfinishedLines, writeSeedCurves, type AblationLine, type SeedTableSpec,
} from './seedTable.js';
import {
  BIBTEX_DEFAULT_VARIANT, BIBTEX_LABELS, BIBTEX_MODELS, BIBTEX_VARIANTS, bibtexObjective, bibtexSettings, type BibtexModel, type BibtexRun, type BibtexSettings, type BibtexTask,
} from './bibtexTask.js';
import { markdownTable, selectModels, type ExperimentContext, type ExperimentReport } from './experiment.js';
import { registerExperiment } from './registry.js';

/** Table 1 of the paper (test "macro-F1", i.e. example-averaged F1). */
export const BIBTEX_PAPER = { ff: 0.396, icnn: 0.415, spen: 0.422 } as const;

const PAPER_ROW: Record<BibtexModel, string> = {
  ff: String(BIBTEX_PAPER.ff),
  'picnn-gd': `${BIBTEX_PAPER.icnn} (ICNN)`,
  'picnn-bundle': '(not reported)',
};

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

function best(run: BibtexRun): { value: number; epoch: number } {
  return run.epochs.reduce((b, e) => (e.testExampleF1 > b.value ? { value: e.testExampleF1, epoch: e.epoch } : b), { value: -Infinity, epoch: 0 });
}

async function curves(runs: BibtexRun[], s: BibtexSettings): Promise<string> {
  const panels = {
    ex: 'test example-F1 (the paper\'s "macro-F1")',
    label: 'test label-macro F1',
    train: `train example-F1 (first ${s.trainEvalRows} rows)`,
  };
  const last = Math.max(...runs.map((r) => r.epochs.length));
  const series: Series[] = [];
  for (const r of runs) {
    const name = BIBTEX_LABELS[r.model];
    series.push({ name, panel: panels.ex, points: r.epochs.map((e) => [e.epoch, e.testExampleF1]) });
    series.push({ name, panel: panels.label, points: r.epochs.map((e) => [e.epoch, e.testLabelMacroF1]) });
    series.push({ name, panel: panels.train, points: r.epochs.map((e) => [e.epoch, e.trainExampleF1]) });
  }
  const paper: [string, number][] = [
    [`paper: feedforward ${BIBTEX_PAPER.ff}`, BIBTEX_PAPER.ff], [`paper: ICNN ${BIBTEX_PAPER.icnn}`, BIBTEX_PAPER.icnn],
    [`paper: SPEN ${BIBTEX_PAPER.spen}`, BIBTEX_PAPER.spen],
  ];
  for (const [name, v] of paper) series.push({ name, panel: panels.ex, points: [[1, v], [Math.max(2, last), v]] });
  return lineChart({
    title: 'BibTeX multi-label classification (§5.2): learning curves',
    subtitle: `${s.quick ? 'QUICK MODE (tiny subset), not comparable with the paper; ' : ''}dashed: the paper's final test values (Table 1)`,
    xLabel: 'epoch', yLabel: 'F1', series, dashed: paper.map(([n]) => n), width: 380, height: 300, markPoints: last <= 30,
  });
}

/** The splits cut to the settings' sizes. */
async function bibtexData(ctx: ExperimentContext, s: BibtexSettings) {
  const data = await loadBibtex({ dataDir: ctx.dataDir, ...(ctx.verify === false ? { verify: false } : {}) });
  const xDim = data.featureNames.length;
  const yDim = data.labelNames.length;
  const subset = (d: { x: Float32Array; y: Float32Array; n: number }, n: number) => {
    const m = Math.min(n, d.n);
    return { x: d.x.slice(0, m * xDim), y: d.y.slice(0, m * yDim), n: m };
  };
  return { xDim, yDim, train: subset(data.train, s.nTrain), test: subset(data.test, s.nTest) };
}

export async function runBibtex(ctx: ExperimentContext): Promise<ExperimentReport> {
  if (ctx.seeds !== undefined || ctx.collectOnly) return bibtexSeeds(ctx);
  const start = Date.now();
  const s = bibtexSettings(ctx.quick, ctx.epochs);
  const models = selectModels('bibtex', ctx, BIBTEX_MODELS);
  const { xDim, yDim, train, test } = await bibtexData(ctx, s);
  ctx.log(`bibtex: ${train.n} training and ${test.n} test rows, ${xDim} features, ${yDim} labels; epochs ` +
    models.map((m) => `${m} ${s.epochs[m]}`).join(', '));
  // Per-epoch lines from the workers (long runs only): tail -f <outDir>/progress.log.
  const progressFile = ctx.quick ? null : path.join(ctx.outDir, 'progress.log');
  if (progressFile !== null) {
    await fs.writeFile(progressFile, '');
    ctx.log(`bibtex: per-epoch progress in ${progressFile}`);
  }
  // One worker per model (each trains on one thread of the wasm backend); the costliest start first.
  const order: BibtexModel[] = (['picnn-bundle', 'picnn-gd', 'ff'] as const).filter((m) => models.includes(m));
  const tasks: BibtexTask[] = order.map((model) => ({
    variant: BIBTEX_DEFAULT_VARIANT[model], seed: ctx.seed, settings: s, xDim, yDim, train, test, progressFile,
  }));
  const done = await runParallel<BibtexTask, BibtexRun>(siblingModule(import.meta.url, 'bibtexTask'), tasks, {
    concurrency: tasks.length,
    onResult: (i) => ctx.log(`bibtex: ${BIBTEX_LABELS[order[i]]} done`),
  });
  const runs = models.map((m) => done[order.indexOf(m)]);
  for (const r of runs) {
    const f = r.epochs[r.epochs.length - 1];
    ctx.log(`bibtex: ${BIBTEX_LABELS[r.model]}: test example-F1 ${fmt(f.testExampleF1)}, micro-F1 ${fmt(f.testMicroF1)}, label-macro F1 ${fmt(f.testLabelMacroF1)} ` +
      `after ${r.epochs.length} epochs (${r.seconds.toFixed(0)} s)`);
  }
  const figureFile = 'bibtex-curves.png';
  await writeSvgAsPng(path.join(ctx.outDir, figureFile), await curves(runs, s), { scale: 1.5 });

  const paperEpochs = bibtexSettings(false).epochs;
  const header = ['method', 'paper (test "macro-F1")', 'test example-F1 (final)', 'test micro-F1 (final)', 'test label-macro F1 (final)', 'best test example-F1 (epoch)',
    'epochs (authors\' script)', 'wall time'];
  const rows = runs.map((r) => {
    const f = r.epochs[r.epochs.length - 1];
    const b = best(r);
    return [BIBTEX_LABELS[r.model], PAPER_ROW[r.model], fmt(f.testExampleF1), fmt(f.testMicroF1), fmt(f.testLabelMacroF1), `${fmt(b.value)} (${b.epoch})`,
      `${r.epochs.length} (${paperEpochs[r.model]})`, `${r.seconds.toFixed(0)} s`];
  });
  rows.push(['SPEN (Belanger & McCallum 2016)', String(BIBTEX_PAPER.spen), '—', '—', '—', '—', '—', '—']);
  const table = markdownTable(header, rows);
  const wallSeconds = (Date.now() - start) / 1000;
  const r = (m: BibtexModel) => runs[models.indexOf(m)];
  const objectiveLine = (m: BibtexModel) => {
    const o = bibtexObjective(m, s);
    return `${BIBTEX_LABELS[m]}: objective '${o.name}' ${JSON.stringify(o.options)}, ${r(m).parameters} parameters, ` +
      `${r(m).steps} Adam steps, ${r(m).seconds.toFixed(0)} s (${fmt(r(m).seconds / Math.max(1, r(m).epochs.length), 1)} s per epoch incl. evaluation)`;
  };
  const markdown = [
    '',
    '## Test F1 (ŷ ≥ 0.5)',
    '',
    table,
    '',
    'The paper\'s "macro-F1" is what the authors\' `util.macroF1` computes: sklearn\'s macro F1 on the transposed',
    'matrices, i.e. the F1 of each example averaged over examples (example-F1). The label-macro F1 (mean over the',
    '159 labels) is the usual macro-F1 and is much lower on this data (many rare labels). "Final" is the last epoch,',
    'as the paper reports; "best" picks an epoch by its test score, so it is optimistic.',
    '',
    `![learning curves](${figureFile})`,
    '',
    '## Setup',
    '',
    `${train.n} training and ${test.n} test examples${s.quick ? ' (quick mode: subsets)' : ''}; Adam lr ${s.learningRate}, batch ${s.batchSize}`,
    '(each epoch a fresh permutation; the authors sampled batches with replacement), projection of W^(z) after every step,',
    `batch norm on the x-path. Epochs run: ${models.map((m) => `${BIBTEX_LABELS[m]} ${r(m).epochs.length}`).join(', ')}; the authors' scripts:`,
    `${paperEpochs.ff} (ff.py), ${paperEpochs['picnn-gd']} (icnn-back.py), ${paperEpochs['picnn-bundle']} (icnn_ebundle.py).`,
    '',
    ...models.map((m) => `- ${objectiveLine(m)}`),
    '',
    `Networks: feed-forward hidden [${s.ffHidden.join(', ')}]; PICNN z-path [${s.picnnHidden.join(', ')}] → 1, u-path`,
    `[${s.picnnUHidden.join(', ')}] (last u-layer linear), |W^(z)| at init; ` +
    (['picnn-gd', 'picnn-bundle'] as const).map((m) => {
      const i = s.picnnInit[m];
      return `${BIBTEX_LABELS[m]}: ${i.weightStd === null ? 'LeCun normal' : `truncated normal std ${i.weightStd} (the authors')`} weights, gate biases ${i.gateBias}`;
    }).join('; ') + '. Unrolled GD uses the paper\'s inference',
    `setting (${s.gd.steps} steps, lr ${s.gd.learningRate}, momentum ${s.gd.momentum}, from ${s.gd.y0}; the script default lr is 0.01).`,
    'The bundle-entropy PICNN is the authors\' icnn_ebundle.py setup, which the paper does not report.',
    'The feed-forward baseline is ff.py: σ(g(x)) with batch norm in training mode, weights and biases U(±1/√fan-out), BCE',
    'with log(σ + 1e-10) summed over the batch (the library\'s \'argmin-bundle-entropy\' objective with 1 iteration gives the',
    'same ŷ but runs batch norm on its moving statistics while training, which trained this network poorly).',
    'Micro-F1 pools the counts over the whole test matrix; the authors\' scripts scored it before their commit d956176.',
    'With batch norm after the ReLU, the batch mean of each logit is its output bias, which Adam moves by about lr = 1e-3',
    'per step, so this baseline needs many epochs to reach the labels\' low base rates (the authors ran 100).',
    '',
    markdownTable(['method', 'epoch', 'train loss', 'test example-F1', 'test label-macro F1', 'test Hamming acc.', 'train example-F1', 'seconds'],
      runs.flatMap((run) => run.epochs.map((e) => [BIBTEX_LABELS[run.model], e.epoch, fmt(e.trainLoss, 4), fmt(e.testExampleF1, 4),
        fmt(e.testLabelMacroF1, 4), fmt(e.testHammingAccuracy, 4), fmt(e.trainExampleF1, 4), e.seconds.toFixed(1)]))),
  ].join('\n');
  return {
    name: 'BibTeX multi-label classification (paper §5.2)',
    markdown, table, figures: [figureFile], wallSeconds,
    results: { settings: s, paper: BIBTEX_PAPER, data: { train: train.n, test: test.n, features: xDim, labels: yDim }, runs },
  };
}

const BIBTEX_MAIN_VARIANTS = ['ff', 'picnn-gd-0.1', 'picnn-gd-0.01', 'picnn-bundle'];

const BIBTEX_ABLATIONS: AblationLine[] = [
  { variant: 'picnn-gd-0.01', reference: 'picnn-gd-0.1', change: 'PICNN unrolled GD: inner lr 0.1 (paper text) → 0.01 (icnn-back.py default)' },
  { variant: 'ff.library', reference: 'ff', change: "feed-forward: ff.py's init and summed BCE → the library's LeCun init and stable mean BCE" },
];

/** What results.json's rows measure (an earlier file given to --merge must say the same). */
const BIBTEX_METRIC = 'test example-F1 on [0, 1]';

const BIBTEX_TABLE: SeedTableSpec = {
  metric: 'exampleF1', lowerIsBetter: false, digits: 3,
  alsoShow: [{ key: 'microF1', label: 'micro-F1' }, { key: 'labelMacroF1', label: 'label-macro F1' }, { key: 'trainExampleF1', label: 'train(sub) example-F1' }],
  paper: (method, setting) => (setting.startsWith('library') ? null : method === 'ff' ? BIBTEX_PAPER.ff : method === 'picnn-gd' ? BIBTEX_PAPER.icnn : null),
  label: (method) => BIBTEX_LABELS[method as BibtexModel] ?? method,
};

/** `reproduce bibtex --seeds …` (and `--collect`): the variant grid over seeds, then the tables. */
async function bibtexSeeds(ctx: ExperimentContext): Promise<ExperimentReport> {
  const start = Date.now();
  const records = await seedGridAndCollect<BibtexTask & SeedGridTask>(ctx, 'bibtex', BIBTEX_VARIANTS.map((v) => v.id),
    siblingModule(import.meta.url, 'bibtexTask'), async (progressFile) => {
      const s = bibtexSettings(ctx.quick, ctx.epochs);
      const { xDim, yDim, train, test } = await bibtexData(ctx, s);
      return (variant, seed, runDir) => ({ variant, seed, settings: s, xDim, yDim, train, test, progressFile, runDir });
    });
  const { table: t, merged } = await joinEarlierResults(seedTable(records, BIBTEX_TABLE), ctx.mergeFrom, BIBTEX_METRIC, BIBTEX_TABLE);
  const table = seedMainTable(t, BIBTEX_TABLE, BIBTEX_MAIN_VARIANTS);
  const figure = await writeSeedCurves(path.join(ctx.outDir, 'bibtex-seed-curves.png'), records, BIBTEX_MAIN_VARIANTS, 'exampleF1', {
    title: 'BibTeX (§5.2): test example-F1 per epoch, mean over complete seeds', subtitle: 'dashed: Table 1', yLabel: 'test example-F1',
    paper: [[`paper: feedforward ${BIBTEX_PAPER.ff}`, BIBTEX_PAPER.ff], [`paper: ICNN ${BIBTEX_PAPER.icnn}`, BIBTEX_PAPER.icnn]],
  });
  const ff = finalMean(t, 'ff');
  const targets = ['picnn-gd-0.1', 'picnn-gd-0.01'].map((v) => {
    const m = finalMean(t, v);
    return m === null ? `- ${v}: not finished` : `- ${v}: ${m.toFixed(3)} → ≥ ${BIBTEX_PAPER.icnn}: ${m >= BIBTEX_PAPER.icnn ? 'met' : 'missed'}; ` +
      `above the feed-forward baseline${ff === null ? ' (not finished)' : ` ${ff.toFixed(3)}: ${m > ff ? 'yes' : 'no'}`}`;
  });
  const markdown = [
    '',
    '## Test example-F1 over seeds (the paper\'s "macro-F1"; higher is better)',
    '',
    table,
    '',
    ...SEED_TABLE_NOTE,
    'Micro-F1 pools the counts over the whole test matrix (the authors\' score before their commit d956176); label-macro',
    'F1 averages over the 159 labels. Paper: Table 1.',
    ...unfinishedLines(t),
    ...mergedLines(merged),
    '',
    '## Targets (final-epoch means, example-F1)',
    '',
    ...targets,
    '',
    '## Ablations (one change each against its reference row)',
    '',
    seedAblationTable(t, BIBTEX_TABLE, BIBTEX_ABLATIONS),
    '',
    `![test example-F1 per epoch](${figure})`,
    '',
    `Runs: ${records.length} (${records.filter((r) => r.complete).length} complete) under ${path.join(ctx.outDir, 'runs')}; settings in each run.json.`,
  ].join('\n');
  return {
    name: 'BibTeX multi-label classification over seeds (paper §5.2)', markdown, table, figures: [figure], wallSeconds: (Date.now() - start) / 1000,
    results: { rows: seedResultRows(t), unfinished: t.unfinished, metric: BIBTEX_METRIC, ...(merged.length > 0 ? { merged } : {}) },
  };
}

registerExperiment('bibtex', 'feed-forward and PICNN (unrolled GD, bundle entropy) on BibTeX multi-label (§5.2)', runBibtex);
