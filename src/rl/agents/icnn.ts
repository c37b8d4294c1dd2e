/**
 * Deep Q-learning with an input convex Q-function (§4.5, Algorithm 3), as the authors' `RL/src/icnn.py` runs it.
 *
 * Model. −Q(s, a) = f(s, a) is a PICNN (../../models/picnn.ts) convex in the action a: u-path widths
 * `hidden` = [l1, l2] (ReLU, last u-layer linear), z-path [l1, l2, 1] with leaky ReLU (slope `leakySlope`, 0.01)
 * and a linear output, gate biases initialized to 1, |W^(z)| at init and W^(z) ← max(W^(z), 0) after every step.
 * With the entropy term, Q̃(s, a) = Q(s, a) + w·H((a + 1)/2) (w = `entropyWeight`, 1 as the authors' code,
 * H the binary entropy summed over action coordinates, clipped to [1e-4, 1 − 1e-4] inside).
 *
 * Acting. a*(s) = argmin_{a ∈ [−1,1]^d} f(s, a) − w·H((a+1)/2), by
 * - solver 'adam' (default; the authors' only working path): the library's `argmin(…, { method: 'gd',
 *   optimizer: 'adam', learningRate: innerLearningRate (0.01), entropyWeight: w, domain: { lower: −1, upper: 1 },
 *   init: 0 })`, best iterate kept;
 * - solver 'bundle-entropy' (Algorithm 3 as the paper writes it): `argmin(…, { method: 'bundle-entropy' })` on the
 *   same objective (needs w > 0).
 * Exploration adds OU noise and clips to [−1, 1].
 *
 * Learning (one step on a minibatch):
 *   a'  = argmin of the *target* network's objective at s' (same solver, `targetIterations`),
 *   y   = r + γ(1 − terminal)·Q̃'(s', a')                (Q̃'(s', a') = −(f' − wH)(s', a'), the argmin's objective)
 *   y   ← clip(y, Q̃(s, a) − tdClip, Q̃(s, a) + tdClip)   (tdClip = 1; no gradient through y)
 *   L   = mean((Q̃(s, a) − y)²) + l2·Σ½‖W‖²
 * then Adam (lr 1e-3), projection of W^(z), and the soft target update θ' ← θ' − τ(θ' − θ), all three as loops over
 * flat JavaScript mirrors of the parameters (./flatParams.ts).
 *
 * Deviations from the authors' code, all options:
 * - By default (`innerAdam: 'library'`) inner iterations are a fixed budget (`actIterations`, `targetIterations`;
 *   optional `innerTolerance` stops a row early when its step is below tolerance·diameter) of textbook Adam.
 *   Adam with lr 0.01 moves each coordinate by about 0.01 per iteration, so from a = 0 a budget of k iterations
 *   reaches |a| ≲ 0.01·k: 100 covers the whole box; smaller budgets need a larger `innerLearningRate`, or the
 *   bundle-entropy solver. `innerAdam: 'authors'` runs their update instead (./innerAdam.ts: no second-moment
 *   bias correction, the adaptive stop `innerStop`, TensorFlow's zero entropy gradient outside the clip with
 *   `entropyGradientClip`), the iteration counts then being caps; `warmStart` starts each TD target's argmax from
 *   the last solution for its replay slot when that scores better than a = 0 (./actionCache.ts; the cache is not
 *   part of checkpoints, so a resumed run starts with an empty cache).
 * - `l2` defaults to 0: the authors' coefficient is l2norm·(tflearn's 0.001 weight decay)/(number of layers), about 5e-9.
 * - `batchNorm` (`icnn_bn`) normalizes the first u-layer (tflearn's decay 0.9, ε 1e-5): batch statistics in the
 *   training step, moving averages in the inner argmax (the authors' `is_training(False)` there). The target
 *   network's moving averages follow the online ones through the soft update (theirs are updated by the target's
 *   own training-mode evaluation). The initialization follows tflearn's (truncated normal, std 0.02) by
 *   default (`weightInit`).
 * - Inner problems run on the library's oracle, one native kernel call per evaluation where the addon runs
 *   (../../backend/nativeGatedPath.ts); without it, batch-1 problems (acting) run on a plain-JavaScript oracle over
 *   the network's per-state affine layers (./layerOracle.ts) and minibatches through tfjs ops (`innerEngine`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { PICNN } from '../../models/picnn.js';
import { argmin } from '../../inference/argmin.js';
import { makeDomain } from '../../inference/domain.js';
import { gradientDescent } from '../../inference/gd.js';
import { bundleEntropyMethod } from '../../inference/bundleEntropy.js';
import { fail } from '../../util/errors.js';
import * as v from 'valibot';
import { NON_NEGATIVE, POSITIVE, POSITIVE_INT } from '../../util/numbers.js';
import { bool, num, oneOf, optionsSchema, parseOptions } from '../../util/schema.js';
import { Rng } from '../../util/random.js';
import { deriveSeed } from '../noise.js';
import type { Batch } from '../replay.js';
import {
  BaseAgent, COMMON_OPTION_ENTRIES, resolveCommonOptions, type Transition, type UpdateStats,
} from './agent.js';
import { LayerOracle } from './layerOracle.js';
import { ActionCache } from './actionCache.js';
import { CompactingOracle, INNER_STOP_RULES, innerAdam, type RowOracle } from './innerAdam.js';
import { EnergyOracle } from '../../inference/oracle.js';
import type { Adam, NamedVariable } from './nets.js';
import { ICNNCritic } from './icnnCritic.js';
import { gatedPathKernelActive } from '../../backend/nativeGatedPath.js';

const ICNN_OPTIONS = optionsSchema({
  ...COMMON_OPTION_ENTRIES,
  /** Inner solver for argmin_a −Q̃: 'adam' (default, the authors' code) or 'bundle-entropy' (the paper's Algorithm 3). */
  solver: v.optional(oneOf(['adam', 'bundle-entropy'])),
  /** Adam step on the action (default 0.01). */
  innerLearningRate: v.optional(num(POSITIVE)),
  /** Inner iterations when acting (default 100 for 'adam', 10 for 'bundle-entropy'). */
  actIterations: v.optional(num(POSITIVE_INT)),
  /** Inner iterations for the TD targets (default: actIterations). */
  targetIterations: v.optional(num(POSITIVE_INT)),
  /** Per-row early stop of the inner solver (argmin's tolerance; default 0: run the budget for 'adam', 1e-6 for 'bundle-entropy'). */
  innerTolerance: v.optional(num(NON_NEGATIVE)),
  /** Weight w of the entropy H((a+1)/2) in Q̃ = Q + wH (default 1; 0 allowed with 'adam': plain Q). */
  entropyWeight: v.optional(num(NON_NEGATIVE)),
  /** Negative slope of the z-path leaky ReLU (default 0.01, the authors' `lrelu`). */
  leakySlope: v.optional(num({ min: 0, max: 1 })),
  /** Half-width of the TD-target clip around Q̃(s, a) (default 1; 0 disables clipping). */
  tdClip: v.optional(num(NON_NEGATIVE)),
  /**
   * Initial weights: 'tflearn' (default, the authors' code: every weight matrix from a truncated normal with std 0.02,
   * |·| for W^(z); biases as the PICNN's, gates 1, others 0), so that Q starts near 0; or 'picnn' (the library's
   * PICNN init: LeCun normal, |W| for W^(z)), whose initial Q is of order 10.
   */
  weightInit: v.optional(oneOf(['tflearn', 'picnn'])),
  /**
   * Where inner problems run: 'js' (the plain-JavaScript oracle), 'tfjs' (the library's oracle: one native kernel
   * call per evaluation where the addon runs, ../../backend/nativeGatedPath.ts, else tfjs ops), or 'auto' (default):
   * 'tfjs' when the native kernel is active; otherwise 'js' when rows × (multiply-adds of the z-path per row) ≤ 300 000,
   * i.e. single actions of the paper's 200/200 network and the minibatches of small networks, where tfjs's per-kernel
   * overhead dominates, and 'tfjs' above.
   */
  innerEngine: v.optional(oneOf(['auto', 'tfjs', 'js'])),
  /** Inner Adam of solver 'adam': 'library' (default: textbook Adam, fixed budget) or 'authors' (./innerAdam.ts). */
  innerAdam: v.optional(oneOf(['library', 'authors'])),
  /** Stopping rule of innerAdam 'authors': 'batch' (default, the authors'), 'row' (each row stops on its own), 'none'. */
  innerStop: v.optional(oneOf(INNER_STOP_RULES)),
  /** innerAdam 'authors': zero entropy gradient outside [1e-4, 0.9999], as TensorFlow's clip (default true). */
  entropyGradientClip: v.optional(bool),
  /** innerAdam 'authors': warm-start each TD target's argmax from its replay slot's last solution (default false). */
  warmStart: v.optional(bool),
  /** Batch normalization of the u-path (the authors' `icnn_bn`; default false). */
  batchNorm: v.optional(bool),
  /**
   * Beyond the authors: target smoothing as TD3's (Fujimoto et al., 2018). The TD target evaluates Q̃' at a'* + ε,
   * ε ~ N(0, σ²) per coordinate clipped to ±2.5σ, the sum clipped to [−1, 1], instead of at the maximum a'* itself.
   * Q̃' is concave in a, so this takes off about what the greedy gap adds when the replayed actions lie away from
   * the argmax (../valueGap.ts; docs/results/rl-paper/swimmer-divergence). σ = `targetNoise` (default 0: the
   * authors' target; TD3 uses 0.2).
   */
  targetNoise: v.optional(num(NON_NEGATIVE)),
  /**
   * Beyond the authors: clipped double Q-learning as TD3's (Fujimoto et al., 2018). A second PICNN critic, its own
   * initialization and target network, trained on the same targets; the TD target takes the smaller of the two
   * target critics' Q̃' at the first one's argmax a'*. Two independently initialized critics extrapolate
   * differently away from the replayed actions, so their minimum takes off much of the greedy gap that feeds a
   * runaway (../valueGap.ts; docs/results/rl-paper/swimmer-divergence). Acting uses the first critic. Costs a
   * second training step and one more forward pass per update (default false).
   */
  twinQ: v.optional(bool),
  /**
   * Beyond the authors: a conservative penalty on the greedy gap (CQL's, Kumar et al., 2020, with the exact
   * maximum the ICNN's inner solver gives): the loss adds α·mean(Q̃(s, a*_s) − Q̃(s, a)), a*_s the online network's
   * argmax at the replayed state s (no gradient through a*_s), a the replayed action. It lowers Q̃ at its own
   * maximum and raises it at the actions taken, the gap G that feeds a runaway when it outgrows (1 − γ)·Q̃
   * (../valueGap.ts; docs/results/rl-paper/swimmer-divergence). α = `gapPenalty` (default 0: off); costs one more
   * inner solve per update.
   */
  gapPenalty: v.optional(num(NON_NEGATIVE)),
});
/**
 * Options of the ICNN agent (§4.5, Algorithm 3): the common agent options plus the inner argmax solver and its
 * budgets, the entropy weight, the TD-target clip, the initialization and where inner problems run.
 */
export type ICNNOptions = v.InferOutput<typeof ICNN_OPTIONS>;
/** Options beyond the authors that are left out of the resolved options when off (see `ResolvedICNNOptions`). */
type OptionalWhenOff = 'targetNoise' | 'twinQ' | 'gapPenalty';
/** Options with their defaults; `targetNoise`, `twinQ` and `gapPenalty` only when set, so that agents, checkpoints and results saved before they existed still match. */
export type ResolvedICNNOptions = Required<Omit<ICNNOptions, OptionalWhenOff>> & Pick<ICNNOptions, OptionalWhenOff>;

/** Inner solvers of the ICNN agent's argmax over actions: 'adam' (the authors' code) or 'bundle-entropy' (Algorithm 3, §4.5). */
export const ICNN_SOLVERS = ICNN_OPTIONS.entries.solver.wrapped.options;
/** One of `ICNN_SOLVERS`: the agent's `solver` option. */
export type ICNNSolver = (typeof ICNN_SOLVERS)[number];
/** Where the ICNN agent's inner problems run: 'auto' (by problem size), 'tfjs' or 'js' (the plain-JavaScript oracle). */
export const INNER_ENGINES = ICNN_OPTIONS.entries.innerEngine.wrapped.options;
/** One of `INNER_ENGINES`: the agent's `innerEngine` option. */
export type InnerEngine = (typeof INNER_ENGINES)[number];

const ENTROPY_CLIP = 1e-4;
/** Random stream of `targetNoise` (the base agent uses 1 and 2). */
const STREAM_TARGET_NOISE = 5;
/** `targetNoise`'s per-coordinate clip, in units of σ (TD3: 0.5 at σ = 0.2). */
const TARGET_NOISE_CLIP = 2.5;
/** The inner Adam's step size α (the authors' `icnn.py`). */
const DEFAULT_INNER_LR = 0.01;
/** 'auto' engine: plain JS below this many z-path multiply-adds per inner iteration (≈ 0.3 ms in V8). */
const AUTO_JS_MACS = 300_000;

/** Identity forward, zero gradient (TensorFlow's stop_gradient). */
const stopGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
}));

/** Σ_j H((a_j + 1)/2) per row, the argument clipped to [1e-4, 1 − 1e-4] (the authors' `entropy`). */
export function actionEntropy(a: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const p = tf.clipByValue(tf.div(tf.add(a, 1), 2), ENTROPY_CLIP, 1 - ENTROPY_CLIP);
    const q = tf.sub(1, p);
    return tf.neg(tf.sum(tf.add(tf.mul(p, tf.log(p)), tf.mul(q, tf.log(q))), 1)) as tf.Tensor1D;
  });
}

/** The result of the inner maximization of Q over actions for a batch of states. */
export interface InnerSolution {
  /** The minimizers a* [rows × d], in [−1, 1]. */
  actions: Float32Array;
  /** f(s, a*) − w·H(a*) per row (= −Q̃(s, a*)). */
  objective: Float64Array;
  /** Iterations used (the largest over rows). */
  iterations: number;
  /** Iterations used, mean over rows. */
  meanIterations: number;
}

/** The tfjs oracle of `net` over the rows `subset` of the observations `x`. */
function tfjsOracle(net: PICNN, x: tf.Tensor2D, subset: Int32Array): EnergyOracle {
  if (subset.length === x.shape[0]) return new EnergyOracle(net, x, subset.length);
  const xs = tf.tidy(() => tf.gather(x, tf.tensor1d(subset, 'int32')) as tf.Tensor2D);
  try {
    return new EnergyOracle(net, xs, subset.length);
  } finally {
    xs.dispose();
  }
}

/** Max and mean of per-row iteration counts. */
function iterationStats(perRow: ArrayLike<number>): { iterations: number; meanIterations: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < perRow.length; i++) {
    max = Math.max(max, perRow[i]);
    sum += perRow[i];
  }
  return { iterations: max, meanIterations: perRow.length ? sum / perRow.length : 0 };
}

/**
 * Mean over the `rows` rows of w·Σ_j H((a_j + 1)/2), clipped as `actionEntropy`: the entropy's share of Q̃'(s', a*)
 * in the TD target. Beside the minibatch's mean reward it tells whether Q̃ is driven by the reward or by the
 * entropy bonus (whose own fixed point is w·d·ln 2 / (1 − γ) at most).
 */
export function meanEntropyBonus(actions: ArrayLike<number>, rows: number, weight: number): number {
  if (rows === 0 || weight === 0) return 0;
  let sum = 0;
  for (let i = 0; i < actions.length; i++) {
    const p = Math.min(Math.max((actions[i] + 1) / 2, ENTROPY_CLIP), 1 - ENTROPY_CLIP);
    sum -= p * Math.log(p) + (1 - p) * Math.log(1 - p);
  }
  return (weight * sum) / rows;
}

/** Fraction of action coordinates with |a| > 0.99 (argmaxes pinned at the box edge: a collapse diagnostic). */
export function saturatedFraction(actions: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < actions.length; i++) if (Math.abs(actions[i]) > 0.99) n++;
  return actions.length ? n / actions.length : 0;
}

/** The options of ./innerAdam.ts, refused where they would be ignored. */
function resolveInnerAdamOptions(where: string, o: ICNNOptions, solver: ICNNSolver) {
  const innerAdamKind = o.innerAdam ?? 'library';
  const authors = solver === 'adam' && innerAdamKind === 'authors';
  // The values a resolved agent reports for options its mode ignores are accepted back, so that the agentOptions
  // of a results.json or checkpoint build the same agent; any other value there is refused as having no effect.
  const inert = { innerStop: 'batch', entropyGradientClip: false, warmStart: false } as const;
  for (const key of ['innerStop', 'entropyGradientClip', 'warmStart'] as const) {
    if (o[key] !== undefined && o[key] !== inert[key] && !authors) fail(`${where}: ${key} applies to solver 'adam' with innerAdam 'authors' only`);
  }
  if (authors && o.innerTolerance !== undefined && o.innerTolerance !== 0) fail(`${where}: innerTolerance does not apply to innerAdam 'authors' (it stops by innerStop)`);
  return {
    innerAdam: innerAdamKind,
    innerStop: o.innerStop ?? 'batch',
    entropyGradientClip: o.entropyGradientClip ?? authors,
    warmStart: o.warmStart ?? false,
  };
}

/** The ICNN Q-learning agent (§4.5): −Q(s, a) is a PICNN convex in a, whose argmin over actions is the policy. */
export class ICNNAgent extends BaseAgent {
  readonly kind = 'icnn' as const;
  declare readonly options: Readonly<ResolvedICNNOptions>;
  /** The critics: one, or two with `twinQ` (the first acts and chooses a'*). */
  private readonly critics: ICNNCritic[];
  /** Multiply-adds of one z-path evaluation (one row), for the 'auto' engine. */
  private readonly zPathMacs: number;
  /** Last TD-target argmax per replay slot (`warmStart`). */
  private readonly cache: ActionCache;

  constructor(observationSize: number, actionSize: number, options: ICNNOptions = {}) {
    const where = 'ICNNAgent';
    const o = parseOptions(where, ICNN_OPTIONS, options);
    const common = resolveCommonOptions(o, { adamEpsilon: 1e-8, l2: 0 });
    const solver = o.solver ?? 'adam';
    const actIterations = o.actIterations ?? (solver === 'adam' ? 100 : 10);
    const entropyWeight = o.entropyWeight ?? 1;
    if (solver === 'bundle-entropy' && !(entropyWeight > 0)) fail(`${where}: solver 'bundle-entropy' needs entropyWeight > 0, got ${entropyWeight}`);
    // 0.01 is what a resolved agent reports either way (see resolveInnerAdamOptions), so it is accepted back.
    if (solver === 'bundle-entropy' && o.innerLearningRate !== undefined && o.innerLearningRate !== DEFAULT_INNER_LR) {
      fail(`${where}: innerLearningRate applies to solver 'adam' only`);
    }
    const resolved: ResolvedICNNOptions = {
      ...common,
      solver,
      innerLearningRate: o.innerLearningRate ?? DEFAULT_INNER_LR,
      actIterations,
      targetIterations: o.targetIterations ?? actIterations,
      innerTolerance: o.innerTolerance ?? (solver === 'adam' ? 0 : 1e-6),
      entropyWeight,
      leakySlope: o.leakySlope ?? 0.01,
      tdClip: o.tdClip ?? 1,
      innerEngine: o.innerEngine ?? 'auto',
      weightInit: o.weightInit ?? 'tflearn',
      ...resolveInnerAdamOptions(where, o, solver),
      batchNorm: o.batchNorm ?? false,
      ...(o.targetNoise ? { targetNoise: o.targetNoise } : {}),
      ...(o.twinQ ? { twinQ: true } : {}),
      ...(o.gapPenalty ? { gapPenalty: o.gapPenalty } : {}),
    };
    super(observationSize, actionSize, resolved);
    const h = common.hidden;
    // Critic k draws its PICNN from seed stream (0, 2k) and its tflearn weights from (0, 2k + 1): the first
    // critic's streams are those of the agent before `twinQ` existed.
    this.critics = Array.from({ length: resolved.twinQ ? 2 : 1 }, (_, k) => new ICNNCritic({
      xDim: observationSize, yDim: actionSize, hidden: [h[0], h[1]], uHidden: [h[0], h[1]],
      activation: 'leaky-relu', leakySlope: resolved.leakySlope, seed: deriveSeed(common.seed, 0, 2 * k),
      ...(resolved.batchNorm ? { batchNorm: true } : {}),
    }, {
      weightInit: resolved.weightInit, initSeed: deriveSeed(common.seed, 0, 2 * k + 1), learningRate: resolved.learningRate, adamEpsilon: resolved.adamEpsilon,
    }));
    const d = actionSize;
    this.zPathMacs = h[0] * d + h[1] * (h[0] + d) + (h[1] + d);
    this.cache = new ActionCache(d);
  }

  /** f = −Q of the (first) critic, convex in the action: the policy's network. */
  get model(): PICNN {
    return this.critics[0].model;
  }

  /** The (first) critic's target network θ'. */
  get target(): PICNN {
    return this.critics[0].target;
  }

  override observe(t: Transition): void {
    this.cache.invalidate(this.replay.nextSlot);
    super.observe(t);
  }

  /**
   * argmin_{a ∈ [−1,1]^d} f(s, a) − w·H((a+1)/2) for each row of `observations`, on `net` (the online network or
   * the target), with the configured solver and `iterations`.
   */
  async solve(net: PICNN, observations: Float32Array, iterations: number, warmStart?: Float64Array): Promise<InnerSolution> {
    const o = this.options;
    const rows = observations.length / this.observationSize;
    const d = this.actionSize;
    const engine = o.innerEngine !== 'auto' ? o.innerEngine
      : gatedPathKernelActive() || rows * this.zPathMacs > AUTO_JS_MACS ? 'tfjs' : 'js';
    const x = tf.tensor2d(observations, [rows, this.observationSize]);
    try {
      if (o.solver === 'adam' && o.innerAdam === 'authors') {
        // tfjs evaluates the whole batch per call: with the row rule, compact it as rows stop.
        const oracle: RowOracle & { dispose(): void } = engine === 'js' ? new LayerOracle(net, x, rows)
          : o.innerStop === 'row' ? new CompactingOracle(rows, d, (subset) => tfjsOracle(net, x, subset), (current, positions) => current.rows(positions))
            : new EnergyOracle(net, x, rows);
        try {
          const starts = [new Float64Array(rows * d), ...(warmStart ? [warmStart] : [])];
          const r = innerAdam(oracle, starts, {
            learningRate: o.innerLearningRate, cap: iterations, entropyWeight: o.entropyWeight, entropyGradientClip: o.entropyGradientClip, stop: o.innerStop,
          });
          return { actions: Float32Array.from(r.actions), objective: r.objective, ...iterationStats(r.iterations) };
        } finally {
          oracle.dispose();
        }
      }
      if (engine === 'js') {
        const oracle = new LayerOracle(net, x, rows).asEnergyOracle();
        const domain = makeDomain('ICNNAgent', { lower: -1, upper: 1 }, d);
        const y0 = new Float64Array(rows * d);
        if (o.solver === 'adam') {
          const r = gradientDescent(oracle, domain, y0, iterations, o.innerTolerance, {
            optimizer: 'adam', learningRate: o.innerLearningRate, entropyWeight: o.entropyWeight,
          });
          return { actions: Float32Array.from(r.y), objective: r.objective ?? r.energy, ...iterationStats(r.iterations) };
        }
        const r = bundleEntropyMethod(oracle, domain, y0, iterations, o.innerTolerance, o.entropyWeight);
        return { actions: Float32Array.from(r.y), objective: r.objective, ...iterationStats(r.iterations) };
      }
      const r = await argmin(net, x, o.solver === 'adam'
        ? {
          method: 'gd', optimizer: 'adam', learningRate: o.innerLearningRate, entropyWeight: o.entropyWeight,
          domain: { lower: -1, upper: 1 }, iterations, tolerance: o.innerTolerance, init: 0,
        }
        : { method: 'bundle-entropy', entropyWeight: o.entropyWeight, domain: { lower: -1, upper: 1 }, iterations, tolerance: o.innerTolerance, init: 0 });
      const actions = Float32Array.from(r.y.dataSync() as Float32Array);
      r.y.dispose();
      return { actions, objective: r.objective ?? r.energy, ...iterationStats(r.iterations) };
    } finally {
      x.dispose();
    }
  }

  async greedyActions(observations: Float32Array): Promise<Float32Array> {
    this.assertAlive();
    return (await this.solve(this.model, observations, this.options.actIterations)).actions;
  }

  /** Q(s, a) = −f(s, a), without the entropy term (of the online network, or of `net`). */
  qValues(observations: Float32Array, actions: Float32Array, net: PICNN = this.model): Float64Array {
    this.assertAlive();
    const n = observations.length / this.observationSize;
    const f = tf.tidy(() => net.energy(tf.tensor2d(observations, [n, this.observationSize]), tf.tensor2d(actions, [n, this.actionSize])));
    const out = Float64Array.from(f.dataSync(), (v) => -v);
    f.dispose();
    return out;
  }

  /** Q̃(s, a) = Q(s, a) + w·H((a+1)/2) per row (of the online network, or of `net`). */
  qTildeValues(observations: Float32Array, actions: Float32Array, net: PICNN = this.model): Float64Array {
    const n = observations.length / this.observationSize;
    const q = this.qValues(observations, actions, net);
    if (this.options.entropyWeight === 0) return q;
    const h = tf.tidy(() => actionEntropy(tf.tensor2d(actions, [n, this.actionSize])));
    const hv = h.dataSync();
    h.dispose();
    return q.map((v, i) => v + this.options.entropyWeight * hv[i]);
  }

  /**
   * Q̃(s, a) of `net` as a tensor (differentiable in its variables), for each of `actions` (one state context, so
   * batch norm sees the batch once).
   */
  private qTilde(net: PICNN, s: tf.Tensor2D, actions: tf.Tensor2D[], training = false): tf.Tensor1D[] {
    const ctx = net.context(s, { training });
    try {
      return actions.map((a) => {
        const q = tf.neg(net.energyFromContext(ctx, a));
        return (this.options.entropyWeight === 0 ? q : tf.add(q, tf.mul(this.options.entropyWeight, actionEntropy(a)))) as tf.Tensor1D;
      });
    } finally {
      tf.dispose(ctx.tensors);
    }
  }

  /**
   * Q̃'(s', ·) of the TD target per row: at the target network's argmax a'* (its objective), or with `targetNoise`
   * at a'* + ε (see the option), the noise drawn from the seed and the update count so that a resumed run repeats it;
   * with `twinQ`, the smaller of the two target critics' values there.
   */
  private nextValues(batch: Batch, next: InnerSolution): Float64Array {
    const sigma = this.options.targetNoise ?? 0;
    let actions = next.actions;
    let values: Float64Array;
    if (sigma === 0) {
      values = Float64Array.from(next.objective, (v) => -v);
    } else {
      const rng = new Rng(deriveSeed(this.options.seed, STREAM_TARGET_NOISE, this.updateCount));
      const clip = TARGET_NOISE_CLIP * sigma;
      actions = Float32Array.from(next.actions, (a) => Math.min(1, Math.max(-1, a + Math.min(clip, Math.max(-clip, sigma * rng.normal())))));
      values = this.qTildeValues(batch.nextObservations, actions, this.target);
    }
    for (const critic of this.critics.slice(1)) {
      const other = this.qTildeValues(batch.nextObservations, actions, critic.target);
      for (let i = 0; i < values.length; i++) values[i] = Math.min(values[i], other[i]);
    }
    return values;
  }

  /**
   * The TD targets of a batch: Q̃(s, a) now, the raw target r + γ(1 − terminal)·Q̃'(s', a') and the target after
   * clipping to Q̃(s, a) ± tdClip, with a' the target network's inner solution.
   */
  async targets(batch: Batch): Promise<{ qTilde: Float64Array; raw: Float64Array; clipped: Float64Array; nextActions: Float32Array; iterations: number }> {
    this.assertAlive();
    this.checkBatch(batch);
    const next = await this.solve(this.target, batch.nextObservations, this.options.targetIterations);
    const { gamma, tdClip } = this.options;
    const nextValue = this.nextValues(batch, next);
    const raw = new Float64Array(batch.size);
    for (let i = 0; i < batch.size; i++) raw[i] = batch.rewards[i] + (batch.terminals[i] > 0 ? 0 : gamma * nextValue[i]);
    const qTilde = this.qTildeValues(batch.observations, batch.actions);
    const clipped = raw.map((y, i) => (tdClip > 0 ? Math.min(qTilde[i] + tdClip, Math.max(qTilde[i] - tdClip, y)) : y));
    return { qTilde, raw, clipped, nextActions: next.actions, iterations: next.iterations };
  }

  async tdLoss(batch: Batch): Promise<number> {
    const { qTilde, clipped } = await this.targets(batch);
    let s = 0;
    for (let i = 0; i < batch.size; i++) s += (qTilde[i] - clipped[i]) ** 2;
    return s / batch.size;
  }

  protected async train(batch: Batch): Promise<UpdateStats> {
    const o = this.options;
    const slots = o.warmStart ? batch.indices : undefined;
    const next = await this.solve(this.target, batch.nextObservations, o.targetIterations, slots ? this.cache.starts(slots).start : undefined);
    if (slots) this.cache.store(slots, next.actions);
    const nextValue = this.nextValues(batch, next);
    const raw = new Float32Array(batch.size);
    for (let i = 0; i < batch.size; i++) raw[i] = batch.rewards[i] + (batch.terminals[i] > 0 ? 0 : o.gamma * nextValue[i]);
    const t = this.batchTensors(batch);
    const y = tf.tensor1d(raw);
    // gapPenalty: the online argmax at the replayed states, a constant of the step.
    const aStar = o.gapPenalty ? tf.tensor2d((await this.solve(this.model, batch.observations, o.targetIterations)).actions, [batch.size, this.actionSize]) : undefined;
    try {
      // Every critic fits the same targets; the diagnostics are the first's (the acting one).
      const [first] = this.critics.map((critic) => this.fitCritic(critic, t.s, t.a, y, aStar));
      return {
        loss: first.loss, q: first.q, clippedFraction: first.clipped / batch.size,
        targetIterations: next.iterations, innerIterations: next.meanIterations, saturatedFraction: saturatedFraction(next.actions),
        entropy: meanEntropyBonus(next.actions, batch.size, o.entropyWeight), reward: batch.rewards.reduce((a, b) => a + b, 0) / batch.size,
        ...(first.greedyGap !== undefined ? { greedyGap: first.greedyGap } : {}),
      };
    } finally {
      tf.dispose([y, ...Object.values(t), ...(aStar ? [aStar] : [])]);
    }
  }

  /**
   * One step of `critic` on mean((Q̃(s, a) − y)²) + l2·Σ½‖W‖², y clipped to Q̃(s, a) ± tdClip (no gradient through
   * it): Adam, projection and soft target update. Returns the TD loss, the mean Q̃ and the number of clipped targets.
   */
  private fitCritic(critic: ICNNCritic, s: tf.Tensor2D, a: tf.Tensor2D, y: tf.Tensor1D, aStar?: tf.Tensor2D): { loss: number; q: number; clipped: number; greedyGap?: number } {
    const o = this.options;
    const vars = critic.trainedVariables;
    const weights = critic.weights();
    let td!: tf.Scalar;
    let meanQ!: tf.Scalar;
    let clippedCount!: tf.Scalar;
    let gap: tf.Scalar | undefined;
    try {
      const g = tf.variableGrads(() => {
        const [q, qAtStar] = this.qTilde(critic.model, s, aStar ? [a, aStar] : [a], o.batchNorm);
        let target: tf.Tensor1D = y;
        if (o.tdClip > 0) {
          const qs = stopGradient(q) as tf.Tensor1D;
          target = tf.minimum(tf.maximum(y, tf.sub(qs, o.tdClip)), tf.add(qs, o.tdClip)) as tf.Tensor1D;
          clippedCount = tf.keep(tf.sum(tf.cast(tf.notEqual(target, y), 'float32')));
        } else {
          clippedCount = tf.keep(tf.scalar(0));
        }
        td = tf.keep(tf.mean(tf.square(tf.sub(q, target))));
        meanQ = tf.keep(tf.mean(q));
        const terms: tf.Scalar[] = [td];
        if (qAtStar !== undefined) {
          // α·mean(Q̃(s, a*_s) − Q̃(s, a)): see the option gapPenalty.
          gap = tf.keep(tf.mean(tf.sub(qAtStar, q))) as tf.Scalar;
          terms.push(tf.mul(o.gapPenalty ?? 0, gap));
        }
        if (o.l2 > 0) terms.push(tf.mul(o.l2, tf.mul(0.5, tf.addN(weights.map((w) => tf.sum(tf.square(w)))))));
        return terms.length === 1 ? td : tf.addN(terms) as tf.Scalar;
      }, vars);
      critic.step(vars.map((v) => g.grads[v.name]), o.tau);
      tf.dispose([...Object.values(g.grads), ...(g.value === td ? [] : [g.value])]);
      return {
        loss: td.dataSync()[0], q: meanQ.dataSync()[0], clipped: clippedCount.dataSync()[0],
        ...(gap !== undefined ? { greedyGap: gap.dataSync()[0] } : {}),
      };
    } finally {
      tf.dispose([td, meanQ, clippedCount, gap].filter((v) => v !== undefined));
    }
  }

  protected namedVariables(): NamedVariable[] {
    // The first critic keeps the names it had before `twinQ` existed, so that earlier agent files still load.
    return this.critics.flatMap((c, k) => c.namedVariables(k === 0 ? 'q' : `q${k + 1}`, k === 0 ? 'target' : `target${k + 1}`));
  }

  protected namedOptimizers(): [string, Adam][] {
    return this.critics.map((c, k) => [k === 0 ? 'q' : `q${k + 1}`, c.opt]);
  }

  override async load(file: string): Promise<void> {
    await super.load(file);
    for (const c of this.critics) c.sync();
  }

  protected override disposeResources(): void {
    for (const c of this.critics) c.dispose();
  }
}
