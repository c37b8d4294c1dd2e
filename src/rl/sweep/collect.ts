/**
 * The best run of each (task, agent) cell of a sweep: the paper's statistic (each cell of Table 3 is the best of
 * 50 random hyperparameter samples, icnn-paper.md §5.4) next to mean ± sd over the cell's runs, with the settings
 * that gave it and its learning curve.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { RlResult } from '../runner.js';
import { summarize } from '../table.js';

export interface BestRun {
  env: string;
  agent: string;
  /** Runs in the cell, and how many have the statistic (> 10 tests). */
  runs: number;
  values: number[];
  best: RlResult;
  dir: string;
  /** The sweep's record of the run (run.json), when the run came from icnn rl-sweep. */
  sweep: { sample: number; hash: string; rewardScale: number; agentOptions: Record<string, unknown> } | null;
}

/** Per cell, the run with the largest max test reward; cells where no run has > 10 tests are left out. */
export async function bestRuns(results: readonly RlResult[], dirs: ReadonlyMap<RlResult, string>): Promise<BestRun[]> {
  const cells = new Map<string, RlResult[]>();
  for (const r of results) cells.set(`${r.env}\u0000${r.agent}`, [...(cells.get(`${r.env}\u0000${r.agent}`) ?? []), r]);
  const out: BestRun[] = [];
  for (const runs of cells.values()) {
    const scored = runs.filter((r) => r.metrics.maxTestReward !== null && Number.isFinite(r.metrics.maxTestReward));
    if (scored.length === 0) continue;
    const best = scored.reduce((a, b) => ((b.metrics.maxTestReward as number) > (a.metrics.maxTestReward as number) ? b : a));
    const dir = dirs.get(best) ?? '';
    out.push({ env: best.env, agent: best.agent, runs: runs.length, values: scored.map((r) => r.metrics.maxTestReward as number), best, dir, sweep: await readRunRecord(dir) });
  }
  return out;
}

async function readRunRecord(dir: string): Promise<BestRun['sweep']> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, 'run.json'), 'utf8')) as BestRun['sweep'];
  } catch {
    return null;
  }
}

function short(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(3);
  if (Array.isArray(v)) return `[${v.map(short).join(', ')}]`;
  return JSON.stringify(v);
}

function settingsText(b: BestRun): string {
  const options = b.sweep?.agentOptions ?? (({ seed: _seed, ...rest }) => rest)(b.best.agentOptions);
  const rewardScale = b.sweep?.rewardScale ?? b.best.rewardScale;
  return [`rewardScale ${short(rewardScale)}`, ...Object.entries(options).map(([k, v]) => `${k} ${short(v)}`)].join(', ');
}

/** One learning-curve chart per task: the test returns and their rolling mean of the best run of each agent. */
export async function writeBestCurves(best: readonly BestRun[], outDir: string): Promise<Map<string, string>> {
  const { lineChart, writeSvgAsPng } = await import('../../report/index.js');
  const files = new Map<string, string>();
  for (const env of [...new Set(best.map((b) => b.env))]) {
    const cells = best.filter((b) => b.env === env);
    const finite = (points: (readonly [number, number])[]) => points.filter(([, y]) => Number.isFinite(y));
    const series = cells.flatMap((b) => {
      const r = b.best;
      const label = b.agent.toUpperCase();
      return [
        { name: `${label} test return`, points: finite(r.tests.map((t) => [t.step, t.reward] as const)) },
        { name: `${label} rolling mean (${r.metrics.window})`, points: finite(r.metrics.rolling.map((v, i) => [r.tests[i + r.metrics.window - 1].step, v] as const)) },
      ];
    }).filter((s) => s.points.length > 0);
    if (series.length === 0) continue;
    const svg = await lineChart({
      title: `${env}: the best run of each agent`, subtitle: cells.map((b) => `${b.agent.toUpperCase()} best of ${b.runs}`).join(', '),
      xLabel: 'training steps', yLabel: 'return (raw reward)', series, markPoints: false, dashed: series.filter((s) => s.name.endsWith('test return')).map((s) => s.name),
    });
    const file = path.join(outDir, 'best-curves', `${env}.png`);
    await writeSvgAsPng(file, svg);
    files.set(env, path.relative(outDir, file));
  }
  return files;
}

/** A markdown section: per cell the best of N next to mean ± sd, the best run's settings, its directory and chart. */
export function bestRunsMarkdown(best: readonly BestRun[], outDir: string, curves: ReadonlyMap<string, string>): string {
  const lines = [
    '## Best run per cell (the paper\'s statistic: best of N)', '',
    '| Task | Agent | best of N (max test reward) | mean ± sd [n] | seed | sample | settings of the best run | run |',
    '|---|---|---:|---:|---:|---:|---|---|',
  ];
  for (const b of best) {
    const s = summarize(b.values);
    lines.push(`| ${b.env} | ${b.agent.toUpperCase()} | ${(s.best as number).toFixed(2)} (of ${b.runs}) | ${(s.mean as number).toFixed(2)} ± ${(s.std as number).toFixed(2)} [${s.n}] | ` +
      `${b.best.seed} | ${b.sweep?.sample ?? '–'} | ${settingsText(b)} | ${b.dir ? path.relative(outDir, b.dir) : '–'} |`);
  }
  lines.push('');
  for (const [env, file] of curves) lines.push(`![${env}: learning curves of the best runs](${file})`, '');
  return lines.join('\n');
}
