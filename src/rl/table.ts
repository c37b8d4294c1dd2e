/**
 * The paper's RL tables (§5.4: Table 3, maximum test reward; plus the final and cumulative test rewards the same
 * script produced) and a markdown table of our runs beside them.
 *
 * Our cell for (task, agent): the statistic of each seed's run (`RlMetrics`), then mean ± standard deviation over
 * seeds and the best seed. The paper's cell is the best of 50 random hyperparameter samples (one seed each), so
 * "best" is the closer comparison; its budgets are those of `PAPER_BUDGETS` (../runner.ts).
 */
import { fail } from '../util/errors.js';
import type { AgentKind } from './agents/index.js';
import type { RlResult } from './runner.js';

/** The statistics of the paper's RL tables (§5.4): maximum, final and cumulative test reward. */
export type PaperStatistic = 'maxTestReward' | 'finalTestReward' | 'cumulativeTestReward';

/** Values from the thesis' `icnn/rl.tables/*.table.tex` (digest §5.4), by our environment names. */
export const PAPER_RL_TABLES: Readonly<Record<PaperStatistic, Readonly<Record<string, Readonly<Record<AgentKind, number>>>>>> = Object.freeze({
  maxTestReward: {
    Ant: { ddpg: 1000.0, naf: 999.03, icnn: 1056.29 },
    HalfCheetah: { ddpg: 2909.77, naf: 2575.16, icnn: 3822.99 },
    Hopper: { ddpg: 1501.33, naf: 1100.43, icnn: 831.0 },
    Humanoid: { ddpg: 524.09, naf: 5000.68, icnn: 433.38 },
    HumanoidStandup: { ddpg: 134265.96, naf: 116399.05, icnn: 141217.38 },
    InvertedDoublePendulum: { ddpg: 9358.81, naf: 9359.59, icnn: 9359.41 },
    InvertedPendulum: { ddpg: 1000.0, naf: 1000.0, icnn: 1000.0 },
    Reacher: { ddpg: -6.1, naf: -6.31, icnn: -5.08 },
    Swimmer: { ddpg: 49.79, naf: 69.71, icnn: 64.89 },
    Walker2d: { ddpg: 1604.18, naf: 1007.25, icnn: 298.21 },
  },
  finalTestReward: {
    Ant: { ddpg: 994.74, naf: 990.87, icnn: 998.0 },
    HalfCheetah: { ddpg: 2909.77, naf: 2269.25, icnn: 3822.99 },
    Hopper: { ddpg: 1152.97, naf: 1011.67, icnn: 795.77 },
    Humanoid: { ddpg: 479.72, naf: 5000.49, icnn: 403.81 },
    HumanoidStandup: { ddpg: 124997.94, naf: 95120.29, icnn: 119767.8 },
    InvertedDoublePendulum: { ddpg: 9358.73, naf: 9359.52, icnn: 9359.22 },
    InvertedPendulum: { ddpg: 1000.0, naf: 1000.0, icnn: 1000.0 },
    Reacher: { ddpg: -9.05, naf: -7.86, icnn: -6.33 },
    Swimmer: { ddpg: 45.86, naf: 67.98, icnn: 64.89 },
    Walker2d: { ddpg: 1598.43, naf: 627.33, icnn: 281.35 },
  },
  cumulativeTestReward: {
    Ant: { ddpg: 90576.87, naf: 90330.65, icnn: 90538.84 },
    HalfCheetah: { ddpg: 106926.34, naf: 175046.2, icnn: 149577.46 },
    Hopper: { ddpg: 66105.64, naf: 76982.78, icnn: 36100.99 },
    Humanoid: { ddpg: 41285.19, naf: 454527.64, icnn: 31443.53 },
    HumanoidStandup: { ddpg: 11343255.05, naf: 8302013.69, icnn: 7249633.66 },
    InvertedDoublePendulum: { ddpg: 441470.36, naf: 343260.01, icnn: 454978.14 },
    InvertedPendulum: { ddpg: 40041.6, naf: 45957.0, icnn: 60925.9 },
    Reacher: { ddpg: -947.54, naf: -830.51, icnn: -653.46 },
    Swimmer: { ddpg: 3086.95, naf: 4179.95, icnn: 3270.46 },
    Walker2d: { ddpg: 71788.42, naf: 50018.29, icnn: 22823.69 },
  },
});

/** One cell of an RL table: an environment and agent, and each seed's statistic. */
export interface TableCell {
  env: string;
  agent: AgentKind;
  /** The statistic of each seed's run (null: the run had ≤ 10 tests). */
  values: (number | null)[];
  seeds: number[];
  steps: number;
}

/** Count, mean, standard deviation and best of a set of per-seed values. */
export interface SummaryStats {
  n: number;
  mean: number | null;
  std: number | null;
  best: number | null;
}

/**
 * Count, mean, standard deviation and best of per-seed values, ignoring missing (null) ones.
 *
 * @param values - one value per seed, null where a run had no statistic
 * @returns the summary
 */
export function summarize(values: readonly (number | null)[]): SummaryStats {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { n: 0, mean: null, std: null, best: null };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { n: v.length, mean, std, best: Math.max(...v) };
}

/** Cells from run results (grouped by env and agent, seeds in order). */
export function cellsFromResults(results: readonly RlResult[], statistic: PaperStatistic = 'maxTestReward'): TableCell[] {
  const cells = new Map<string, TableCell>();
  for (const r of results) {
    const key = `${r.env}\u0000${r.agent}`;
    let c = cells.get(key);
    if (!c) {
      c = { env: r.env, agent: r.agent, values: [], seeds: [], steps: r.steps };
      cells.set(key, c);
    }
    if (c.steps !== r.steps) fail(`rl-table: ${r.env}/${r.agent} has runs of ${c.steps} and ${r.steps} steps; one budget per cell`);
    c.values.push(r.metrics[statistic]);
    c.seeds.push(r.seed);
  }
  return [...cells.values()];
}

function fmt(v: number | null): string {
  if (v === null) return '–';
  const a = Math.abs(v);
  return a >= 1e5 ? v.toExponential(3) : v.toFixed(2);
}

/**
 * A markdown table: one row per environment, per agent our mean ± std (best) over seeds next to the paper's value.
 * `agents` fixes the column order.
 */
export function formatRlTable(cells: readonly TableCell[], options: { statistic?: PaperStatistic; agents?: readonly AgentKind[] } = {}): string {
  const statistic = options.statistic ?? 'maxTestReward';
  const agents = options.agents ?? (['ddpg', 'naf', 'icnn'] as const).filter((a) => cells.some((c) => c.agent === a));
  const envs = [...new Set(cells.map((c) => c.env))];
  const paper = PAPER_RL_TABLES[statistic];
  const label: Record<AgentKind, string> = { ddpg: 'DDPG', naf: 'NAF', icnn: 'ICNN' };
  const header = ['Task', 'steps', ...agents.flatMap((a) => [`${label[a]} ours: mean ± std (best) [n]`, `${label[a]} paper`])];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const env of envs) {
    const row = [env];
    const steps = new Set(cells.filter((c) => c.env === env).map((c) => c.steps));
    row.push([...steps].join(', '));
    for (const a of agents) {
      const c = cells.find((x) => x.env === env && x.agent === a);
      if (!c) {
        row.push('not run');
      } else {
        const s = summarize(c.values);
        row.push(s.n === 0 ? `– (≤ 10 tests) [0/${c.values.length}]` : `${fmt(s.mean)} ± ${fmt(s.std)} (${fmt(s.best)}) [${s.n}]`);
      }
      const p = paper[env]?.[a];
      row.push(p === undefined ? '–' : fmt(p));
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The full markdown document written by `icnn rl-table`. */
export function rlTableMarkdown(results: readonly RlResult[], options: { agents?: readonly AgentKind[]; notes?: string[] } = {}): string {
  const out = ['# Continuous control: ours next to the paper (§5.4)', ''];
  const stats: [PaperStatistic, string][] = [
    ['maxTestReward', 'Maximum test reward (Table 3): max over training of the rolling mean (window 10) of the test returns'],
    ['finalTestReward', 'Final test reward: the last value of that rolling mean'],
    ['cumulativeTestReward', 'Cumulative test reward: the sum of that rolling mean'],
  ];
  for (const [stat, title] of stats) {
    out.push(`## ${title}`, '', formatRlTable(cellsFromResults(results, stat), { statistic: stat, agents: options.agents }), '');
  }
  out.push('Ours: one cell per (task, agent), mean ± sample std over seeds, (best seed), [seeds with > 10 tests]. ' +
    "Paper: the best of 50 random hyperparameter samples (thesis tables, all tasks v1), with the paper's budgets; " +
    'ours use the budgets and hyperparameters listed below, so the comparison is indicative only.', '');
  for (const n of options.notes ?? []) out.push(`- ${n}`);
  return `${out.join('\n')}\n`;
}
