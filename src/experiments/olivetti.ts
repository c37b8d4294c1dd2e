/**
 * §5.3: Olivetti face completion, the paper's Table 2. A convolutional PICNN (the DQN architecture and init of the
 * authors' completion scripts; see OlivettiVariant) predicts the left half of a face y from the mirrored right half
 * x; ŷ is the minimizer of f(x, ·) found by
 * - bundle entropy, 5 iterations, trained by argmin differentiation with MSE (icnn_ebundle.py --nBundleIter 5);
 * - unrolled momentum GD, 5 steps, lr 0.01, momentum 0.9, trained through the steps with MSE (icnn.back.py; the
 *   paper implies five steps, the script default is 30);
 * - the same GD with the non-negativity constraint dropped (no |W| init, no projection): the nonconvex ablation.
 * Both inference procedures start from the mean training left half. Data: the first 350 images train, the last 50
 * test. Adam 1e-3, batch 70. Metric: test MSE on the 0–255 scale, mean((255(ŷ − y))²).
 * With --seeds, every variant (GD with 5 and 30 steps, one-change ablations) runs per seed in its own resumable
 * directory and the report gives each row over seeds (./seedRuns.ts, ./seedTable.ts).
 */
import path from 'node:path';
import { joinEarlierResults, mergedLines } from './seedMerge.js';
import { promises as fs } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { loadOlivetti, olivettiCompletionSplit, OLIVETTI_SIZE, type CompletionSet } from '../data/index.js';
import { lineChart, type Series } from '../report/charts.js';
import { writeSvgAsPng } from '../report/png.js';
import { runParallel, siblingModule } from './parallel.js';
import { seedGridAndCollect, type SeedGridTask } from './seedRuns.js';
import {
  finalMean, SEED_TABLE_NOTE, seedAblationTable, seedMainTable, seedResultRows, seedTable, unfinishedLines, writeSeedCurves, type AblationLine, type SeedTableSpec,
} from './seedTable.js';
import {
  mse255, OLIVETTI_DEFAULT_VARIANT, OLIVETTI_LABELS, OLIVETTI_METHODS, OLIVETTI_VARIANTS, olivettiSettings, type OlivettiMethod,
  type OlivettiRun, type OlivettiSettings, type OlivettiTask,
} from './olivettiTask.js';
import { markdownTable, selectModels, type ExperimentContext, type ExperimentReport } from './experiment.js';
import { registerExperiment } from './registry.js';

/** Table 2 of the paper (test MSE, 0–255 scale; FCN and dilated CNN are the thesis's later baselines). */
export const OLIVETTI_PAPER = {
  spn: 942.0, dilatedCnn: 800.0, fcn: 795.4, 'bundle-entropy': 833.0, gd: 872.0, nonconvex: 850.9,
} as const;

// ---- a greyscale PNG encoder, for the face grid ------------------------------------------------------------

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit greyscale PNG of `values` in [0, 1] (row-major h × w), each pixel drawn as a `zoom` × `zoom` block. */
export function greyPng(values: ArrayLike<number>, h: number, w: number, zoom = 1): Buffer {
  const W = w * zoom;
  const H = h * zoom;
  const raw = Buffer.alloc(H * (W + 1));
  for (let r = 0; r < H; r++) {
    raw[r * (W + 1)] = 0;
    for (let c = 0; c < W; c++) {
      const v = values[Math.floor(r / zoom) * w + Math.floor(c / zoom)];
      raw[r * (W + 1) + 1 + c] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0);
  ihdr.writeUInt32BE(H, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** A 64 × 64 face: `left` (64 × 32, or null for a grey mask) beside the un-mirrored right half `x` (64 × 32, mirrored). */
function face(left: ArrayLike<number> | null, x: ArrayLike<number>): Float32Array {
  const half = OLIVETTI_SIZE / 2;
  const img = new Float32Array(OLIVETTI_SIZE * OLIVETTI_SIZE);
  for (let r = 0; r < OLIVETTI_SIZE; r++) {
    for (let c = 0; c < half; c++) {
      img[r * OLIVETTI_SIZE + c] = left === null ? 0.5 : left[r * half + c];
      img[r * OLIVETTI_SIZE + half + c] = x[r * half + (half - 1 - c)];
    }
  }
  return img;
}

const escapeXml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Rows: test faces; columns: the given half, the truth, each method's completion (left half predicted). */
function faceGridSvg(test: CompletionSet, shown: number[], runs: OlivettiRun[], firstTestImage: number, quick: boolean): string {
  const half = OLIVETTI_SIZE / 2;
  const item = OLIVETTI_SIZE * half;
  const zoom = 2;
  const size = OLIVETTI_SIZE * zoom;
  const gap = 8;
  const left = 120;
  const top = 92;
  const columns: { title: string; sub: string; image: (k: number) => Float32Array }[] = [
    { title: 'given (right half)', sub: 'left half masked', image: (k) => face(null, test.x.subarray(k * item, (k + 1) * item)) },
    { title: 'truth', sub: 'original image', image: (k) => face(test.y.subarray(k * item, (k + 1) * item), test.x.subarray(k * item, (k + 1) * item)) },
    ...runs.map((r) => ({
      title: OLIVETTI_LABELS[r.method].replace('ICNN: ', ''),
      sub: `test MSE ${r.testMse.toFixed(1)}`,
      image: (k: number) => face(r.predictions.subarray(k * item, (k + 1) * item), test.x.subarray(k * item, (k + 1) * item)),
    })),
  ];
  const title = `Olivetti face completion (§5.3): left half predicted from the right${quick ? ' (QUICK MODE)' : ''}`;
  // At least as wide as the title (17 px bold DejaVu Sans: under 9.5 px a character), which one method alone is not.
  const width = Math.max(left + columns.length * (size + gap) + gap, Math.ceil(title.length * 9.5) + 2 * gap);
  const height = top + shown.length * (size + gap) + gap;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${gap}" y="24" font-family="DejaVu Sans" font-size="17" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${gap}" y="44" font-family="DejaVu Sans" font-size="12" fill="#555">${escapeXml('each completion = predicted left half beside the given right half; MSE on the 0–255 scale over the whole test set')}</text>`,
  ];
  columns.forEach((col, j) => {
    const cx = left + j * (size + gap) + size / 2;
    parts.push(`<text x="${cx}" y="${top - 24}" text-anchor="middle" font-family="DejaVu Sans" font-size="13" font-weight="bold">${escapeXml(col.title)}</text>`);
    parts.push(`<text x="${cx}" y="${top - 9}" text-anchor="middle" font-family="DejaVu Sans" font-size="11" fill="#555">${escapeXml(col.sub)}</text>`);
  });
  shown.forEach((k, i) => {
    const y = top + i * (size + gap);
    const image = firstTestImage + k;
    parts.push(`<text x="${left - 10}" y="${y + size / 2}" text-anchor="end" font-family="DejaVu Sans" font-size="12">${escapeXml(`image ${image}`)}</text>`);
    parts.push(`<text x="${left - 10}" y="${y + size / 2 + 16}" text-anchor="end" font-family="DejaVu Sans" font-size="11" fill="#555">${escapeXml(`person ${Math.floor(image / 10)}`)}</text>`);
    columns.forEach((col, j) => {
      const png = greyPng(col.image(k), OLIVETTI_SIZE, OLIVETTI_SIZE, zoom).toString('base64');
      const x = left + j * (size + gap);
      parts.push(`<image x="${x}" y="${y}" width="${size}" height="${size}" xlink:href="data:image/png;base64,${png}"/>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

async function curves(runs: OlivettiRun[], s: OlivettiSettings, meanBaseline: number): Promise<string> {
  const last = Math.max(2, ...runs.map((r) => r.epochs.length));
  const series: Series[] = runs.map((r) => ({ name: OLIVETTI_LABELS[r.method], points: r.epochs.map((e) => [e.epoch, e.testMse]) }));
  const refs: [string, number][] = [
    [`paper: bundle entropy ${OLIVETTI_PAPER['bundle-entropy']}`, OLIVETTI_PAPER['bundle-entropy']],
    [`paper: GD ${OLIVETTI_PAPER.gd}`, OLIVETTI_PAPER.gd],
    [`paper: nonconvex ${OLIVETTI_PAPER.nonconvex}`, OLIVETTI_PAPER.nonconvex],
    [`paper: SPN ${OLIVETTI_PAPER.spn}`, OLIVETTI_PAPER.spn],
    [`mean training left half ${meanBaseline.toFixed(1)}`, meanBaseline],
  ];
  for (const [name, v] of refs) series.push({ name, points: [[1, v], [last, v]] });
  return lineChart({
    title: 'Olivetti face completion (§5.3): test MSE per epoch',
    subtitle: `${s.quick ? 'QUICK MODE, not comparable with the paper; ' : ''}0–255 scale; dashed: Table 2 and the mean face`,
    xLabel: 'epoch', yLabel: 'test MSE (0–255 scale)', series, dashed: refs.map(([n]) => n), markPoints: last <= 60,
  });
}

/** The data of a run: the split cut to the settings' sizes, the mean training left half and its test MSE. */
async function olivettiData(ctx: ExperimentContext, s: OlivettiSettings) {
  const data = await loadOlivetti({ dataDir: ctx.dataDir, ...(ctx.verify === false ? { verify: false } : {}) });
  const split = olivettiCompletionSplit(data.images);
  const item = split.itemShape[0] * split.itemShape[1] * split.itemShape[2];
  const subset = (d: CompletionSet, n: number): CompletionSet => {
    const m = Math.min(n, d.n);
    return { x: d.x.slice(0, m * item), y: d.y.slice(0, m * item), n: m };
  };
  const train = subset(split.train, s.nTrain);
  const test = subset(split.test, s.nTest);
  const meanY = new Float32Array(item);
  for (let i = 0; i < train.n; i++) for (let j = 0; j < item; j++) meanY[j] += train.y[i * item + j] / train.n;
  const meanBaseline = mse255(Array.from({ length: test.n * item }, (_, k) => meanY[k % item]), test.y);
  return { split, train, test, meanY, meanBaseline };
}

export async function runOlivetti(ctx: ExperimentContext): Promise<ExperimentReport> {
  if (ctx.seeds !== undefined || ctx.collectOnly) return olivettiSeeds(ctx);
  const start = Date.now();
  const s = olivettiSettings(ctx.quick, ctx.epochs);
  const { split, train, test, meanY, meanBaseline } = await olivettiData(ctx, s);
  ctx.log(`olivetti: ${train.n} training and ${test.n} test faces; ${s.epochs} epochs; mean-face baseline test MSE ${meanBaseline.toFixed(1)}`);
  // Per-epoch lines from the workers (long runs only): tail -f <outDir>/progress.log.
  const progressFile = ctx.quick ? null : path.join(ctx.outDir, 'progress.log');
  if (progressFile !== null) {
    await fs.writeFile(progressFile, '');
    ctx.log(`olivetti: per-epoch progress in ${progressFile}`);
  }
  const methods = selectModels('olivetti', ctx, OLIVETTI_METHODS);
  const tasks: OlivettiTask[] = methods.map((method) => ({
    variant: OLIVETTI_DEFAULT_VARIANT[method], seed: ctx.seed, settings: s, itemShape: split.itemShape, train, test, meanY, progressFile,
  }));
  // One worker per method (each trains on one thread of the wasm backend).
  const runs = await runParallel<OlivettiTask, OlivettiRun>(siblingModule(import.meta.url, 'olivettiTask'), tasks, {
    concurrency: tasks.length,
    onResult: (i) => ctx.log(`olivetti: ${OLIVETTI_LABELS[methods[i]]} done`),
  });
  for (const r of runs) {
    ctx.log(`olivetti: ${OLIVETTI_LABELS[r.method]}: test MSE ${r.testMse.toFixed(1)} after ${r.epochs.length} epochs (${r.seconds.toFixed(0)} s)`);
  }
  const firstTestImage = split.train.n;
  const count = Math.min(10, test.n);
  const shown = Array.from({ length: count }, (_, i) => Math.floor((i * test.n) / count));
  const figures = ['olivetti-faces.png', 'olivetti-curves.png'];
  await writeSvgAsPng(path.join(ctx.outDir, figures[0]), faceGridSvg(test, shown, runs, firstTestImage, ctx.quick), { scale: 1 });
  await writeSvgAsPng(path.join(ctx.outDir, figures[1]), await curves(runs, s, meanBaseline), { scale: 1.5 });

  const best = (r: OlivettiRun) => r.epochs.reduce((b, e) => (e.testMse < b.value ? { value: e.testMse, epoch: e.epoch } : b), { value: Infinity, epoch: 0 });
  const rows: (string | number)[][] = [
    ['Sum-Product Network (Poon & Domingos 2011)', OLIVETTI_PAPER.spn.toFixed(1), '—', '—', '—', '—'],
    ['FCN baseline (thesis only)', OLIVETTI_PAPER.fcn.toFixed(1), '—', '—', '—', '—'],
    ['Dilated CNN baseline (thesis only)', OLIVETTI_PAPER.dilatedCnn.toFixed(1), '—', '—', '—', '—'],
    ...runs.map((r) => {
      const b = best(r);
      return [OLIVETTI_LABELS[r.method], OLIVETTI_PAPER[r.method].toFixed(1), r.testMse.toFixed(1), `${b.value.toFixed(1)} (${b.epoch})`,
        `${r.epochs.length} (${olivettiSettings(false).epochs})`, `${r.seconds.toFixed(0)} s`];
    }),
    ['mean training left half (trivial baseline, this run)', '—', meanBaseline.toFixed(1), '—', '—', '—'],
  ];
  const table = markdownTable(['method', 'paper MSE', 'test MSE (final)', 'best test MSE (epoch)', 'epochs (authors\' script)', 'wall time'], rows);
  const wallSeconds = (Date.now() - start) / 1000;
  const convLine = s.conv === null
    ? 'the DQN layers 32@8×8/4, 64@4×4/2, 64@3×3/1 (\'same\' padding)'
    : s.conv.map((c) => `${c.filters}@${c.kernel}×${c.kernel}/${c.stride}`).join(', ');
  const markdown = [
    '',
    '## Test MSE (0–255 scale; lower is better)',
    '',
    table,
    '',
    '"Final" is the last epoch (the authors evaluated once per epoch; the paper does not say which epoch its numbers',
    'come from); "best" picks an epoch by its test score, so it is optimistic. GD predictions are y_N unclipped, as in',
    `the authors' code; clipped to [0, 1] they give ${runs.filter((r) => r.method !== 'bundle-entropy').map((r) => `${r.method} ${r.testMseClipped.toFixed(1)}`).join(', ')}.`,
    '',
    `![test completions](${figures[0]})`,
    '',
    `![test MSE per epoch](${figures[1]})`,
    '',
    '## Setup',
    '',
    `${train.n} training and ${test.n} test faces${s.quick ? ' (quick mode: subsets and a small network)' : ' (images 0–349 / 350–399)'}, x = the right`,
    'half mirrored, y = the left half, pixel values /255. Convolutional PICNN: conv layers ' + convLine + ',',
    `then FC [${s.fcHidden.join(', ')}] → 1; ReLU + batch norm on the x-path; ${AUTHORS_MODEL_TEXT}; |W|·${s.absScale} on W^(z);`,
    'projection after every step (not for the nonconvex ablation, which also skips the |W| init).',
    `Adam lr ${s.learningRate}, batch ${s.batchSize} (a fresh permutation each epoch; the authors sampled with replacement), ${s.epochs} epochs`,
    `(the authors: 50). Bundle entropy: ${s.bundleIterations} iterations on [0, 1]^2048, MSE through the argmin (Prop. 3). GD: ${s.gd.steps}`,
    `steps, lr ${s.gd.learningRate}, momentum ${s.gd.momentum}, MSE on y_${s.gd.steps}, differentiated through the steps. Both start from the mean`,
    'training left half.',
    '',
    markdownTable(['method', 'parameters', 'convex in y', 'Adam steps', 'seconds', 's / epoch'],
      runs.map((r) => [OLIVETTI_LABELS[r.method], r.parameters, r.isConvex ? 'yes' : 'no', r.steps, r.seconds.toFixed(0), (r.seconds / Math.max(1, r.epochs.length)).toFixed(1)])),
    '',
    markdownTable(['method', 'epoch', 'train MSE', 'test MSE', 'seconds'],
      runs.flatMap((r) => r.epochs.map((e) => [OLIVETTI_LABELS[r.method], e.epoch, e.trainMse.toFixed(1), e.testMse.toFixed(1), e.seconds.toFixed(1)]))),
  ].join('\n');
  return {
    name: 'Olivetti face completion (paper §5.3)',
    markdown, table, figures, wallSeconds,
    results: {
      settings: s, paper: OLIVETTI_PAPER, data: { train: train.n, test: test.n }, meanFaceBaselineMse: meanBaseline, shownTestImages: shown.map((k) => firstTestImage + k),
      runs: runs.map(({ predictions: _p, ...rest }) => rest),
    },
  };
}

const AUTHORS_MODEL_TEXT = "the authors' model: gate biases 0, conv weights uniform scaling (variance 1/fan-in), FC weights " +
  'truncated normal std 0.02, an FC gate (flattened map onto itself, 2048 → 2048) on the first FC z-layer, and bundle entropy ' +
  'trained with batch statistics in batch norm (inner solve and Prop. 3 surrogate), moving statistics at test time';

const MAIN_VARIANTS = ['bundle-entropy', 'gd-5', 'gd-30', 'nonconvex-5', 'nonconvex-30'];

const OLIVETTI_ABLATIONS: AblationLine[] = [
  { variant: 'bundle-entropy.library-init', reference: 'bundle-entropy', change: "bundle entropy: the authors' init → the library's (LeCun normal, gate biases 1)" },
  { variant: 'bundle-entropy.conv-gate', reference: 'bundle-entropy', change: 'bundle entropy: FC gate on the first FC layer → 3×3 conv gate' },
  { variant: 'bundle-entropy.moving-stats', reference: 'bundle-entropy', change: 'bundle entropy: batch statistics in training → moving statistics' },
  { variant: 'gd-5.library-init', reference: 'gd-5', change: "GD (5 steps): the authors' init → the library's" },
  { variant: 'bundle-entropy-30', reference: 'bundle-entropy', change: 'bundle entropy: 5 → 30 iterations (icnn_ebundle.py default)' },
  { variant: 'gd-30', reference: 'gd-5', change: 'GD: 5 → 30 inner steps' },
  { variant: 'nonconvex-30', reference: 'nonconvex-5', change: 'nonconvex GD: 5 → 30 inner steps' },
];

/** What results.json's rows measure (an earlier file given to --merge must say the same). */
const OLIVETTI_METRIC = 'test MSE, 0–255 scale';

const OLIVETTI_TABLE: SeedTableSpec = {
  metric: 'testMse', lowerIsBetter: true, digits: 1, alsoShow: [{ key: 'trainMse', label: 'train MSE' }],
  paper: (method, setting) => (setting.startsWith("authors' model") ? OLIVETTI_PAPER[method as OlivettiMethod] ?? null : null),
  label: (method) => OLIVETTI_LABELS[method as OlivettiMethod] ?? method,
};

/** `reproduce olivetti --seeds …` (and `--collect`): the variant grid over seeds, then the tables. */
async function olivettiSeeds(ctx: ExperimentContext): Promise<ExperimentReport> {
  const start = Date.now();
  const records = await seedGridAndCollect<OlivettiTask & SeedGridTask>(ctx, 'olivetti', OLIVETTI_VARIANTS.map((v) => v.id),
    siblingModule(import.meta.url, 'olivettiTask'), async (progressFile) => {
      const s = olivettiSettings(ctx.quick, ctx.epochs);
      const { split, train, test, meanY } = await olivettiData(ctx, s);
      return (variant, seed, runDir) => ({ variant, seed, settings: s, itemShape: split.itemShape, train, test, meanY, progressFile, runDir });
    });
  const { table: t, merged } = await joinEarlierResults(seedTable(records, OLIVETTI_TABLE), ctx.mergeFrom, OLIVETTI_METRIC, OLIVETTI_TABLE);
  const table = seedMainTable(t, OLIVETTI_TABLE, MAIN_VARIANTS);
  const figure = await writeSeedCurves(path.join(ctx.outDir, 'olivetti-seed-curves.png'), records, MAIN_VARIANTS, 'testMse', {
    title: 'Olivetti face completion (§5.3): test MSE per epoch, mean over complete seeds', subtitle: '0–255 scale; dashed: Table 2',
    yLabel: 'test MSE (0–255 scale)',
    paper: (['bundle-entropy', 'gd', 'nonconvex'] as const).map((m) => [`paper: ${m} ${OLIVETTI_PAPER[m]}`, OLIVETTI_PAPER[m]]),
  });
  const be = finalMean(t, 'bundle-entropy');
  const targets = [5, 30].map((k) => {
    const gd = finalMean(t, `gd-${k}`);
    const nc = finalMean(t, `nonconvex-${k}`);
    return be === null || gd === null || nc === null ? `- order with ${k} GD steps: not all rows finished`
      : `- order with ${k} GD steps (paper: bundle entropy < nonconvex < GD): ${be.toFixed(1)} / ${nc.toFixed(1)} / ${gd.toFixed(1)} → ` +
        `${be < nc && nc < gd ? 'holds' : 'does not hold'}`;
  });
  const markdown = [
    '',
    '## Test MSE over seeds (0–255 scale; lower is better)',
    '',
    table,
    '',
    ...SEED_TABLE_NOTE,
    'Paper: Table 2 (given on the rows of the authors\' model).',
    ...unfinishedLines(t),
    ...mergedLines(merged),
    '',
    '## Targets (final-epoch means)',
    '',
    `- bundle entropy ≤ ${OLIVETTI_PAPER['bundle-entropy']}: ${be === null ? 'not finished' : `${be.toFixed(1)} → ${be <= OLIVETTI_PAPER['bundle-entropy'] ? 'met' : 'missed'}`}`,
    ...targets,
    '',
    '## Ablations (one change each against its reference row)',
    '',
    seedAblationTable(t, OLIVETTI_TABLE, OLIVETTI_ABLATIONS),
    '',
    `![test MSE per epoch](${figure})`,
    '',
    '## Setup',
    '',
    `Convolutional PICNN, ${AUTHORS_MODEL_TEXT}; settings of each run in its run.json. Runs: ${records.length} ` +
      `(${records.filter((r) => r.complete).length} complete) under ${path.join(ctx.outDir, 'runs')}.`,
  ].join('\n');
  return {
    name: 'Olivetti face completion over seeds (paper §5.3)', markdown, table, figures: [figure], wallSeconds: (Date.now() - start) / 1000,
    results: { rows: seedResultRows(t), unfinished: t.unfinished, metric: OLIVETTI_METRIC, ...(merged.length > 0 ? { merged } : {}) },
  };
}

registerExperiment('olivetti', 'convolutional PICNN face completion: bundle entropy, GD, nonconvex (§5.3)', runOlivetti);
