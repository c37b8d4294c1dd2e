/**
 * How high each setting of the authors' inner Adam puts the TD target's maximum, on one minibatch of a run's replay.
 *
 * The TD target of §4.5 is y = r + γ·max_a Q̃'(s', a), the maximum found by the inner solver. A solver that finds
 * higher maxima raises every target, and an estimate that already outruns its discount (../valueGap.ts) would run
 * away faster; this measures whether the speed options of ./agents/icnn.ts (`innerStop: 'row'`, `warmStart`) do
 * that. For each setting, on the same target network and next states:
 *
 * - `batch stop`: the authors' batch-wide adaptive stop from a = 0 (the preset);
 * - `row stop`: each row stops on its own (the same per-row results as the compacting oracle of a run: rows are
 *   independent);
 * - `… + warm start`: the same rule from the better of a = 0 and that rule's own cold solution, the freshest cache
 *   a run could hold (its cache is a few hundred updates old), so an upper bound on what warm starting adds;
 * - `reference`: no stop, `referenceIterations` iterations from the better of a = 0 and the two cold solutions: the
 *   best maximum at hand, against which each setting's shortfall is measured.
 *
 * Values are Q̃'(s', a) = −(f − w·H) at each setting's best iterate (what the agent puts into its targets).
 */
import * as tf from '@tensorflow/tfjs-core';
import { EnergyOracle } from '../inference/oracle.js';
import { fail } from '../util/errors.js';
import type { ICNNAgent } from './agents/icnn.js';
import { innerAdam, type InnerAdamResult, type InnerStopRule } from './agents/innerAdam.js';
import type { Batch } from './replay.js';

/** One setting's maxima on the minibatch (means over its rows). */
export interface TargetArgmaxSetting {
  name: string;
  /** Mean of max Q̃'(s', a) as this setting finds it. */
  value: number;
  /** Mean of (this setting's maximum − the batch stop's): its change of the TD targets is γ times this. */
  vsBatchStop: number;
  /** Share of rows where it finds a higher maximum than the batch stop (by more than 1e-6). */
  higherShare: number;
  /** Mean of (reference maximum − this setting's): how much of the maximum it leaves unfound. */
  shortfall: number;
  /** Iterations per row: mean and max. */
  meanIterations: number;
  maxIterations: number;
}

/**
 * The settings above on the next states of `batch`, in minibatches of the agent's `batchSize` (the batch-wide stop
 * depends on which rows share a minibatch; a last partial one is left out unless it is the only one).
 */
export async function compareTargetArgmax(agent: ICNNAgent, batch: Batch, referenceIterations = 2000): Promise<TargetArgmaxSetting[]> {
  const o = agent.options;
  if (o.solver !== 'adam' || o.innerAdam !== 'authors') {
    fail(`the inner-solver comparison needs the authors' inner Adam (solver 'adam', innerAdam 'authors'; this run has solver '${o.solver}', innerAdam '${o.innerAdam}')`);
  }
  if (batch.size === 0) fail('the inner-solver comparison needs at least one replayed transition (the batch is empty)');
  const size = Math.min(o.batchSize, batch.size);
  const width = agent.observationSize;
  const perChunk: Solutions[] = [];
  for (let start = 0; start + size <= batch.size; start += size) {
    perChunk.push(solveSettings(agent, batch.nextObservations.subarray(start * width, (start + size) * width), size, referenceIterations));
  }
  const names = perChunk[0].map(([name]) => name);
  const joined = names.map((name, k) => [name, concat(perChunk.map((c) => c[k][1]))] as const);
  const batchStop = joined[0][1];
  const reference = joined[joined.length - 1][1];
  return joined.map(([name, r]) => summarize(name, r, batchStop, reference));
}

type Solutions = [string, InnerAdamResult][];

/** Every setting on `rows` next states (one minibatch); the first is the batch stop, the last the reference. */
function solveSettings(agent: ICNNAgent, nextObservations: Float32Array, rows: number, referenceIterations: number): Solutions {
  const o = agent.options;
  const d = agent.actionSize;
  const x = tf.tensor2d(nextObservations, [rows, agent.observationSize]);
  const oracle = new EnergyOracle(agent.target, x, rows);
  try {
    const solve = (stop: InnerStopRule, starts: Float64Array[], cap = o.targetIterations): InnerAdamResult => innerAdam(oracle, starts, {
      learningRate: o.innerLearningRate, cap, entropyWeight: o.entropyWeight, entropyGradientClip: o.entropyGradientClip, stop,
    });
    const zero = new Float64Array(rows * d);
    const batchStop = solve('batch', [zero]);
    const rowStop = solve('row', [zero]);
    return [
      ['batch stop (the authors\')', batchStop],
      ['row stop', rowStop],
      ['batch stop + warm start', solve('batch', [zero, batchStop.actions])],
      ['row stop + warm start', solve('row', [zero, rowStop.actions])],
      [`reference (${referenceIterations} iterations, no stop)`, solve('none', [zero, batchStop.actions, rowStop.actions], referenceIterations)],
    ];
  } finally {
    oracle.dispose();
    x.dispose();
  }
}

/** What summarize reads of a setting's solutions: per-row objectives and iteration counts. */
type Maxima = Pick<InnerAdamResult, 'objective' | 'iterations'>;

/** The per-row results of several minibatches as one. */
function concat(parts: Maxima[]): Maxima {
  return {
    objective: Float64Array.from(parts.flatMap((r) => Array.from(r.objective))),
    iterations: Int32Array.from(parts.flatMap((r) => Array.from(r.iterations))),
  };
}

function summarize(name: string, r: Maxima, batchStop: Maxima, reference: Maxima): TargetArgmaxSetting {
  const n = r.objective.length;
  let value = 0;
  let vs = 0;
  let higher = 0;
  let shortfall = 0;
  let iterations = 0;
  let maxIterations = 0;
  for (let i = 0; i < n; i++) {
    // The solver minimizes f − w·H = −Q̃'.
    const q = -r.objective[i];
    const diff = q - -batchStop.objective[i];
    value += q;
    vs += diff;
    if (diff > 1e-6) higher++;
    shortfall += -reference.objective[i] - q;
    iterations += r.iterations[i];
    maxIterations = Math.max(maxIterations, r.iterations[i]);
  }
  return { name, value: value / n, vsBatchStop: vs / n, higherShare: higher / n, shortfall: shortfall / n, meanIterations: iterations / n, maxIterations };
}
