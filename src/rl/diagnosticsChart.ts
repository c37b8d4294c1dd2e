/**
 * diagnostics.png beside learning-curve.png: the test returns and, per training episode, the means of the agent's
 * update statistics (results.json's `train[].updates`), one panel each, on the same step axis, so that a collapse
 * can be read against what the Q-function did at the time: for ICNN the TD loss, mean Q̃, the share of TD targets
 * clipped, the share of argmax coordinates at the box edge (|a*| > 0.99), the inner iterations, and the entropy
 * bonus w·H(a'*) beside the mean scaled reward (which of the two Q̃ is made of), and at test points the greedy gap
 * against the discount (runRl's `valueGapRows`); for NAF ‖μ(s)‖
 * and the mean log-diagonal of L(s) (a collapsing P(s) shows there first).
 */
import type { RlResult } from './runner.js';

/** Panel titles of the known statistics (others keep their key). */
export const DIAGNOSTIC_LABELS: Readonly<Record<string, string>> = Object.freeze({
  loss: 'TD loss',
  q: 'mean Q (ICNN: Q̃ with the entropy) of the minibatch',
  clippedFraction: 'share of TD targets clipped',
  saturatedFraction: "share of |a'*| > 0.99",
  innerIterations: 'inner iterations (mean over rows)',
  targetIterations: 'inner iterations (max over rows)',
  entropy: "mean w·H(a'*) in the TD target",
  reward: 'mean scaled reward of the minibatch',
  greedyGap: 'greedy gap Q̃(s, a*) − Q̃(s, a) (gapPenalty)',
  muNorm: '‖μ(s)‖',
  logDiagL: 'mean log diag L(s)',
  actorLoss: 'actor loss',
});

/** The panels' series: test returns, then one per statistic in the order first seen. */
export function diagnosticSeries(r: RlResult): { name: string; panel: string; points: [number, number][] }[] {
  const keys: string[] = [];
  for (const e of r.train) for (const k of Object.keys(e.updates ?? {})) if (!keys.includes(k)) keys.push(k);
  return [
    { name: 'test return', panel: 'test return (raw reward)', points: r.tests.map((p) => [p.step, p.reward]) },
    ...keys.map((k) => ({
      name: DIAGNOSTIC_LABELS[k] ?? k, panel: DIAGNOSTIC_LABELS[k] ?? k,
      points: r.train.filter((e) => e.updates?.[k] !== undefined).map((e) => [e.step, e.updates?.[k] as number] as [number, number]),
    })),
    ...valueGapSeries(r),
  ];
}

/**
 * From the tests' `valueGap` (ICNN runs): the greedy gap as a share of Q̃ beside the discount's 1 − γ (the first
 * above the second on most rows is a runaway's signature, ./valueGap.ts), and the share of rows where it is.
 */
function valueGapSeries(r: RlResult): { name: string; panel: string; points: [number, number][] }[] {
  const tests = r.tests.filter((p) => p.valueGap !== undefined && p.valueGap.qTilde !== 0);
  if (tests.length === 0) return [];
  const panel = 'greedy gap G / Q̃ at test points';
  return [
    { name: 'G / Q̃', panel, points: tests.map((p) => [p.step, (p.valueGap?.greedyGap ?? 0) / (p.valueGap?.qTilde ?? 1)]) },
    { name: '1 − γ', panel, points: tests.map((p) => [p.step, 1 - (p.valueGap?.gamma ?? 0)]) },
    { name: 'share of rows with G > (1 − γ)Q̃', panel: 'share of rows with G > (1 − γ)Q̃', points: tests.map((p) => [p.step, p.valueGap?.gapAboveDiscount ?? 0]) },
  ];
}

/**
 * Write a PNG of a run's test returns and training diagnostics (TD loss, Q, …) against steps.
 *
 * @param file - the PNG to write
 * @param r - the run's results
 */
export async function writeDiagnosticsChart(file: string, r: RlResult): Promise<void> {
  const { lineChart, writeSvgAsPng } = await import('../report/index.js');
  const series = diagnosticSeries(r);
  const svg = await lineChart({
    title: `${r.env}: ${r.agent.toUpperCase()} diagnostics per training episode`, subtitle: `seed ${r.seed}, ${r.steps} steps`,
    xLabel: 'training steps', yLabel: '', series, markPoints: false, width: 240, height: 200, panelColumns: 5,
  });
  await writeSvgAsPng(file, svg);
}
