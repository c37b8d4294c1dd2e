/**
 * Why an ICNN agent's Q̃ grows: its mean TD error split into exact parts, on a minibatch of its own replay.
 *
 * The TD target of §4.5 as the authors' `RL/src/icnn.py` builds it is y = r + γ·Q̃'(s', a'*), with
 * Q̃ = Q + w·H((a+1)/2), a'* the target network's argmax at s' and y clipped to Q̃(s, a) ± tdClip. For a row that is
 * not terminal,
 *
 *   y − Q̃(s, a) = r − (1 − γ)·Q̃(s, a) + γ·(G + ΔT + ΔS),
 *     G  = Q̃(s, a*) − Q̃(s, a)           greedy gap: how far the online argmax at s lies above the replayed action
 *     ΔT = Q̃'(s, a'*) − Q̃(s, a*)         target lag: the target network's maximum at s minus the online one
 *     ΔS = Q̃'(s', a'*) − Q̃'(s, a'*)      next state: the target's maximum from s to s'
 *
 * and for a terminal row y − Q̃ = r − (1 − γ)·Q̃ − γ·Q̃ (the last part reported as `terminal`). A stable estimate
 * has these in balance; when G stays above (1 − γ)·Q̃ on most rows, the targets sit above Q̃ + tdClip and the
 * estimate runs away however the clip bounds each step (docs/results/rl-paper/swimmer-divergence/). The target
 * here is the authors', at a'* itself; an agent with `targetNoise` (smoothed) or `twinQ` (the smaller of two critics)
 * trains on targets below it.
 */
import type { ICNNAgent } from './agents/icnn.js';
import type { Batch } from './replay.js';

/** Means over the rows of a minibatch; `tdError` = reward + discount + γ·(greedyGap + targetLag + nextState) + terminal. */
export interface ValueGap {
  rows: number;
  gamma: number;
  /** Q̃(s, a) of the online network at the replayed action. */
  qTilde: number;
  /** r (scaled, as stored). */
  reward: number;
  /** −(1 − γ)·Q̃(s, a). */
  discount: number;
  /** G, over non-terminal rows' share (0 on terminal rows). */
  greedyGap: number;
  /** ΔT (0 on terminal rows). */
  targetLag: number;
  /** ΔS (0 on terminal rows). */
  nextState: number;
  /** −γ·Q̃(s, a) on terminal rows, 0 elsewhere. */
  terminal: number;
  /** y − Q̃(s, a) before the clip. */
  tdError: number;
  /**
   * clip(y) − Q̃(s, a): what the squared loss actually moves Q̃ by (its gradient is −2× this per row). With most
   * rows clipped this follows the balance of rows above and below (a median, not a mean), so it can be positive
   * while `tdError` is negative: a few rows far below (terminal ones, a lagging target) then pull Q̃ down by at
   * most tdClip each, and the many rows a little above push it up.
   */
  clippedTdError: number;
  /** Shares of rows whose target was clipped down to Q̃ + tdClip (above) or up to Q̃ − tdClip (below). */
  clippedAbove: number;
  clippedBelow: number;
  /** Share of rows with G > (1 − γ)·Q̃(s, a): where the maximization alone outruns the discount. */
  gapAboveDiscount: number;
}

/**
 * The decomposition above on `batch` (the agent's own minibatch, e.g. `agent.replay.sample(...)`), with the inner
 * solver and budgets of the agent's options (`targetIterations`). Leaves the agent unchanged.
 */
export async function valueGap(agent: ICNNAgent, batch: Batch): Promise<ValueGap> {
  const { gamma, tdClip, targetIterations } = agent.options;
  const n = batch.size;
  const qTilde = agent.qTildeValues(batch.observations, batch.actions);
  const onlineAtS = await agent.solve(agent.model, batch.observations, targetIterations);
  const targetAtS = await agent.solve(agent.target, batch.observations, targetIterations);
  const targetAtNext = await agent.solve(agent.target, batch.nextObservations, targetIterations);
  const sum = {
    qTilde: 0, reward: 0, discount: 0, greedyGap: 0, targetLag: 0, nextState: 0, terminal: 0, tdError: 0, clippedTdError: 0, clippedAbove: 0, clippedBelow: 0, gapAboveDiscount: 0,
  };
  for (let i = 0; i < n; i++) {
    const q = qTilde[i];
    const r = batch.rewards[i];
    const terminal = batch.terminals[i] > 0;
    // The inner solvers minimize f − w·H = −Q̃, so each objective is −Q̃ at that solver's argmax.
    const gap = -onlineAtS.objective[i] - q;
    const y = terminal ? r : r + gamma * -targetAtNext.objective[i];
    sum.qTilde += q;
    sum.reward += r;
    sum.discount += -(1 - gamma) * q;
    if (terminal) {
      sum.terminal += -gamma * q;
    } else {
      sum.greedyGap += gap;
      sum.targetLag += -targetAtS.objective[i] + onlineAtS.objective[i];
      sum.nextState += -targetAtNext.objective[i] + targetAtS.objective[i];
    }
    sum.tdError += y - q;
    sum.clippedTdError += tdClip > 0 ? Math.min(tdClip, Math.max(-tdClip, y - q)) : y - q;
    if (tdClip > 0 && y > q + tdClip) sum.clippedAbove++;
    if (tdClip > 0 && y < q - tdClip) sum.clippedBelow++;
    if (gap > (1 - gamma) * q) sum.gapAboveDiscount++;
  }
  const mean = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, n > 0 ? v / n : 0])) as typeof sum;
  return { rows: n, gamma, ...mean };
}
