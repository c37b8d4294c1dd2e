/**
 * `icnn rl-inspect DIR`: why an ICNN run's value estimate grows. Loads the run's last checkpoint (a run under way
 * or stopped) and splits the mean TD error of a minibatch of its replay into the reward, the discount and the
 * greedy gap, target lag and next-state parts of ../../rl/valueGap.ts. With `--inner-settings`, it also compares
 * the TD targets' maxima under the settings of the authors' inner Adam (../../rl/targetArgmax.ts): whether the speed
 * options raise the targets.
 *
 *   icnn rl-inspect out/rl/Swimmer/icnn/seed-0 --batch 1024
 *   icnn rl-inspect out/rl/Walker2d/icnn/seed-0 --inner-settings
 */
import { Command } from 'commander';
import { fail } from '../../util/errors.js';
import { NON_NEGATIVE_INT } from '../../util/numbers.js';
import { numberOption } from '../numberOption.js';
import { positiveInt } from './rl.js';
import type { ValueGap } from '../../rl/valueGap.js';
import type { TargetArgmaxSetting } from '../../rl/targetArgmax.js';

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const num = (v: number) => v.toFixed(3);

/** The report of `icnn rl-inspect`: one line per part, the parts summing to the TD error. */
export function formatValueGap(label: string, g: ValueGap): string {
  const γ = g.gamma;
  // Pad by what a terminal shows: Q̃'s combining tilde takes no column.
  const shown = (t: string) => t.replace(/\p{M}/gu, '').length;
  const line = (name: string, value: string, tail = '') => `${name}${' '.repeat(Math.max(1, 52 - shown(name)))}${value.padStart(14)}${tail}`;
  return [
    `${label}, ${g.rows} replayed transitions (means):`,
    line('  Q̃(s, a)', num(g.qTilde)),
    line('  TD error y − Q̃(s, a), before the clip', num(g.tdError), '   = the sum of'),
    line('    r', num(g.reward)),
    line('    −(1 − γ)·Q̃(s, a)', num(g.discount)),
    line('    γ·G,  greedy gap  Q̃(s, a*) − Q̃(s, a)', num(γ * g.greedyGap)),
    line("    γ·ΔT, target lag  Q̃'(s, a'*) − Q̃(s, a*)", num(γ * g.targetLag)),
    line("    γ·ΔS, next state  Q̃'(s', a'*) − Q̃'(s, a'*)", num(γ * g.nextState)),
    line('    −γ·Q̃(s, a) on terminal rows', num(g.terminal)),
    line('  targets clipped at Q̃ + clip / Q̃ − clip', `${pct(g.clippedAbove)} / ${pct(g.clippedBelow)}`),
    line('  clip(y) − Q̃(s, a): what the loss moves Q̃ by', num(g.clippedTdError),
      '   (positive while the TD error is negative: the clip lets the many rows above outvote the few far below)'),
    line('  rows with G > (1 − γ)·Q̃(s, a)', pct(g.gapAboveDiscount),
      '   (there the maximization alone outruns the discount; near 100 % with most targets clipped above: a runaway)'),
    '',
  ].join('\n');
}

/** The report of `--inner-settings`: one line per setting of the inner solver. */
export function formatTargetArgmax(settings: TargetArgmaxSetting[], rows: number, gamma: number): string {
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
  return [
    '',
    `TD-target maxima max_a Q̃'(s', a) by inner-solver setting, on the same ${rows} next states (means; a target moves by γ = ${gamma} × the change):`,
    '| setting | max Q̃\' | − batch stop | higher on | short of the reference | iterations per row (max) |',
    '|---|---:|---:|---:|---:|---:|',
    ...settings.map((s) => `| ${s.name} | ${s.value.toFixed(3)} | ${signed(s.vsBatchStop)} | ${pct(s.higherShare)} | ${s.shortfall.toFixed(4)} | ` +
      `${s.meanIterations.toFixed(1)} (${s.maxIterations}) |`),
    'Warm starts from the same rule\'s own cold solution (the freshest cache a run could hold: an upper bound on what warm starting adds).',
    '',
  ].join('\n');
}

export function rlInspectCommand(): Command {
  return new Command('rl-inspect')
    .description("why an ICNN run's Q̃ grows: the mean TD error of a replayed minibatch split into reward, discount, greedy gap, " +
      "target lag and next state, from the run's last checkpoint (runs keep it until they finish)")
    .argument('<dir>', 'the run directory (icnn rl --out DIR, or DIR/<task>/icnn/<hash> of rl-sweep)')
    .option('--batch <n>', 'transitions to sample from the replay (default 1024)', positiveInt, 1024)
    .option('--seed <n>', 'seed of the sample (default 0)', numberOption(NON_NEGATIVE_INT))
    .option('--inner-settings', "also compare the TD targets' maxima under the inner solver's settings (batch or row stop, warm start, a long reference solve)")
    .option('--json', 'print the numbers as JSON')
    .action(async (dir: string, opts: { batch: number; seed?: number; json?: boolean; innerSettings?: boolean }) => {
      const { loadCheckpointAgent } = await import('../../rl/runner.js');
      const { ICNNAgent } = await import('../../rl/agents/index.js');
      const { valueGap } = await import('../../rl/valueGap.js');
      const { Rng } = await import('../../util/random.js');
      const { agent, env, seed, step } = await loadCheckpointAgent(dir);
      try {
        if (!(agent instanceof ICNNAgent)) fail(`rl-inspect: ${dir} is a ${agent.kind.toUpperCase()} run; the decomposition needs the ICNN agent's argmax`);
        const batch = agent.replay.sample(opts.batch, new Rng(opts.seed ?? 0));
        const g = await valueGap(agent, batch);
        const inner = opts.innerSettings ? await (await import('../../rl/targetArgmax.js')).compareTargetArgmax(agent, batch) : undefined;
        process.stdout.write(opts.json ? `${JSON.stringify({ env, seed, step, ...g, ...(inner ? { innerSettings: inner } : {}) }, null, 2)}\n`
          : formatValueGap(`${env}/icnn seed ${seed} at step ${step}`, g) + (inner ? formatTargetArgmax(inner, batch.size, g.gamma) : ''));
      } finally {
        agent.dispose();
      }
    });
}
