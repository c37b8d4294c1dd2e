/**
 * NAF, normalized advantage functions (Gu et al. 2016), the second baseline of §5.4, as the authors'
 * re-implementation (`RL/src/naf.py`, `naf_nets_dm.py`):
 *   Q(s, a) = V(s) + A(s, a),  A(s, a) = −½ (a − μ(s))ᵀ P(s) (a − μ(s)),  P(s) = L(s) L(s)ᵀ,
 * with L lower triangular and a positive diagonal exp(·); V, μ (tanh output) and L are three separate
 * two-hidden-layer ReLU networks on s, drawn from a truncated normal with std `initStd` (0.01), biases 0.
 * The greedy action is μ(s) in closed form. Loss mean((Q(s, a) − y)²) + l2·Σ½‖θ‖², y = r + γ(1 − terminal)·V'(s')
 * with V' an exponential moving average (τ) of V. Adam with ε = 1e-4.
 *
 * `batchNorm` (the authors' `naf_bn`, ./nafBatchNorm.ts) normalizes each network's input and both hidden
 * pre-activations. As in their graph, the target V' shares the online V's normalizations (β and moving averages,
 * one variable scope) and evaluates them in training mode on the s' batch, so its statistics are s'-batch ones and
 * the moving averages move toward both s and s'. Acting uses the moving averages. β is trained, without L2.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as v from 'valibot';
import { POSITIVE } from '../../util/numbers.js';
import { bool, num, optionsSchema, parseOptions } from '../../util/schema.js';
import { Rng } from '../../util/random.js';
import { deriveSeed } from '../noise.js';
import type { Batch } from '../replay.js';
import {
  BaseAgent, COMMON_OPTION_ENTRIES, resolveCommonOptions, type UpdateStats,
} from './agent.js';
import { Adam, cloneVariables, makeVariable, meanSquaredTd, Mlp, regressionStep, softUpdate, type NamedVariable } from './nets.js';
import { nafBatchNorms, type NafBatchNorm } from './nafBatchNorm.js';

const NAF_OPTIONS = optionsSchema({
  ...COMMON_OPTION_ENTRIES,
  /** Std of the truncated-normal weight init (default 0.01, the authors' `initstd`). */
  initStd: v.optional(num(POSITIVE)),
  /** Batch normalization of each network's input and hidden pre-activations (the authors' `naf_bn`; default false). */
  batchNorm: v.optional(bool),
});
/** Options of the NAF baseline (§5.4): the common agent options plus the init std and batch normalization. */
export type NAFOptions = v.InferOutput<typeof NAF_OPTIONS>;
export type ResolvedNAFOptions = Required<NAFOptions>;

/** The pre-activation output of a two-hidden-layer ReLU network, with the authors' optional batch norms (`bn`). */
function mlp(v: tf.Variable[], s: tf.Tensor2D, bn: NafBatchNorm[] | null = null, training = false): tf.Tensor2D {
  const norm = (x: tf.Tensor2D, i: number): tf.Tensor2D => (bn === null ? x : bn[i].apply(x, training));
  const h1 = tf.relu(norm(tf.add(tf.matMul(norm(s, 0), v[0]), v[1]) as tf.Tensor2D, 1)) as tf.Tensor2D;
  const h2 = tf.relu(norm(tf.add(tf.matMul(h1, v[2]), v[3]) as tf.Tensor2D, 2));
  return tf.add(tf.matMul(h2, v[4]), v[5]) as tf.Tensor2D;
}

/** What one forward pass of the three networks gives: Q, and μ and log diag L for the diagnostics. */
interface NafForward {
  q: tf.Tensor1D;
  mu: tf.Tensor2D;
  logDiagL: tf.Tensor2D;
}

/** Normalized advantage functions (Gu et al. 2016), the baseline of §5.4, as the authors' code runs it. */
export class NAFAgent extends BaseAgent {
  readonly kind = 'naf' as const;
  declare readonly options: Readonly<ResolvedNAFOptions>;
  private readonly vNet: NamedVariable[];
  private readonly muNet: NamedVariable[];
  private readonly lNet: NamedVariable[];
  private readonly vTarget: NamedVariable[];
  private readonly opt: Adam;
  /** [d, d] strictly-lower-triangular mask and identity. */
  private readonly lowerMask: tf.Variable;
  private readonly eye: tf.Variable;
  /** Batch norms of L, μ and V (`batchNorm`), else null. V' shares V's. */
  private readonly bn: { L: NafBatchNorm[]; mu: NafBatchNorm[]; V: NafBatchNorm[] } | null;

  constructor(observationSize: number, actionSize: number, options: NAFOptions = {}) {
    const where = 'NAFAgent';
    const o = parseOptions(where, NAF_OPTIONS, options);
    const common = resolveCommonOptions(o, { adamEpsilon: 1e-4, l2: 1e-4 });
    const resolved: ResolvedNAFOptions = { ...common, initStd: o.initStd ?? 0.01, batchNorm: o.batchNorm ?? false };
    super(observationSize, actionSize, resolved);
    const rng = new Rng(deriveSeed(common.seed, 0, 0));
    const h = common.hidden;
    const init = { kind: 'normal' as const, std: resolved.initStd };
    const d = actionSize;
    this.lNet = new Mlp('L', [observationSize, h[0], h[1], d * d], init, init, rng).variables;
    this.muNet = new Mlp('mu', [observationSize, h[0], h[1], d], init, init, rng).variables;
    this.vNet = new Mlp('V', [observationSize, h[0], h[1], 1], init, init, rng).variables;
    this.vTarget = cloneVariables(this.vNet, 'target.');
    const widths: [number, number, number] = [observationSize, h[0], h[1]];
    this.bn = resolved.batchNorm ? { L: nafBatchNorms('L', widths), mu: nafBatchNorms('mu', widths), V: nafBatchNorms('V', widths) } : null;
    this.opt = new Adam(this.trainable(), resolved.learningRate, resolved.adamEpsilon);
    const lower = new Float32Array(d * d);
    const eye = new Float32Array(d * d);
    for (let i = 0; i < d; i++) {
      eye[i * d + i] = 1;
      for (let j = 0; j < i; j++) lower[i * d + j] = 1;
    }
    this.lowerMask = makeVariable(tf.tensor2d(lower, [d, d]), false);
    this.eye = makeVariable(tf.tensor2d(eye, [d, d]), false);
  }

  private vars(list: NamedVariable[]): tf.Variable[] {
    return list.map((v) => v.variable);
  }

  /** The L2-penalized weights (W, b of the three networks). */
  private weights(): tf.Variable[] {
    return [...this.vars(this.lNet), ...this.vars(this.muNet), ...this.vars(this.vNet)];
  }

  /** Everything Adam trains: the weights and, with batchNorm, the β of every normalization. */
  private trainable(): tf.Variable[] {
    return [...this.weights(), ...this.bnVariables().filter((v) => v.variable.trainable).map((v) => v.variable)];
  }

  private bnVariables(): NamedVariable[] {
    return this.bn === null ? [] : [...this.bn.L, ...this.bn.mu, ...this.bn.V].flatMap((b) => b.variables);
  }

  private mu(s: tf.Tensor2D, training = false): tf.Tensor2D {
    return tf.tanh(mlp(this.vars(this.muNet), s, this.bn?.mu ?? null, training)) as tf.Tensor2D;
  }

  /**
   * Q(s, a) = V(s) + A(s, a), A(s, a) = −½‖L(s)ᵀ(a − μ(s))‖² (the authors' row vector (a − μ)ᵀL, then its squared
   * norm), with μ(s) and the log-diagonal of L(s) for the diagnostics.
   */
  private forward(s: tf.Tensor2D, a: tf.Tensor2D, training = false): NafForward {
    const n = s.shape[0];
    const d = this.actionSize;
    const raw = tf.reshape(mlp(this.vars(this.lNet), s, this.bn?.L ?? null, training), [n, d, d]);
    const diag = tf.sum(tf.mul(raw, this.eye), 2) as tf.Tensor2D; // [n, d]
    const L = tf.add(tf.mul(raw, this.lowerMask), tf.mul(tf.expandDims(tf.exp(diag), 1), this.eye)); // [n, d, d]
    const mu = this.mu(s, training);
    const delta = tf.reshape(tf.sub(a, mu), [n, 1, d]);
    const h = tf.reshape(tf.matMul(delta, L as tf.Tensor3D), [n, d]);
    const advantage = tf.mul(-0.5, tf.sum(tf.square(h), 1));
    const v = tf.reshape(mlp(this.vars(this.vNet), s, this.bn?.V ?? null, training), [n]);
    return { q: tf.add(v, advantage) as tf.Tensor1D, mu, logDiagL: diag };
  }

  private q(s: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor1D {
    return this.forward(s, a).q;
  }

  async greedyActions(observations: Float32Array): Promise<Float32Array> {
    this.assertAlive();
    const n = observations.length / this.observationSize;
    const mu = tf.tidy(() => this.mu(tf.tensor2d(observations, [n, this.observationSize])));
    const out = Float32Array.from(mu.dataSync() as Float32Array);
    mu.dispose();
    return out;
  }

  qValues(observations: Float32Array, actions: Float32Array): Float64Array {
    this.assertAlive();
    const n = observations.length / this.observationSize;
    const q = tf.tidy(() => this.q(tf.tensor2d(observations, [n, this.observationSize]), tf.tensor2d(actions, [n, this.actionSize])));
    const out = Float64Array.from(q.dataSync());
    q.dispose();
    return out;
  }

  /** y = r + γ(1 − terminal)·V'(s'); with batchNorm, V' runs V's normalizations in training mode on the s' batch. */
  private targets(t: { r: tf.Tensor1D; s2: tf.Tensor2D; notDone: tf.Tensor1D }, training = false): tf.Tensor1D {
    return tf.tidy(() => {
      const v2 = tf.reshape(mlp(this.vars(this.vTarget), t.s2, this.bn?.V ?? null, training), [t.s2.shape[0]]);
      return tf.add(t.r, tf.mul(this.options.gamma, tf.mul(t.notDone, v2))) as tf.Tensor1D;
    });
  }

  async tdLoss(batch: Batch): Promise<number> {
    this.assertAlive();
    this.checkBatch(batch);
    const t = this.batchTensors(batch);
    try {
      return meanSquaredTd(() => this.q(t.s, t.a), () => this.targets(t));
    } finally {
      tf.dispose(Object.values(t));
    }
  }

  protected async train(batch: Batch): Promise<UpdateStats> {
    const t = this.batchTensors(batch);
    const o = this.options;
    let muNorm: tf.Scalar | undefined;
    let logDiagL: tf.Scalar | undefined;
    try {
      const y = this.targets(t, o.batchNorm);
      const stats = regressionStep(this.opt, this.trainable(), o.l2, () => {
        const f = this.forward(t.s, t.a, o.batchNorm);
        muNorm = tf.keep(tf.mean(tf.norm(f.mu, 'euclidean', 1)) as tf.Scalar);
        logDiagL = tf.keep(tf.mean(f.logDiagL) as tf.Scalar);
        return f.q;
      }, y, this.weights());
      y.dispose();
      softUpdate(this.vars(this.vTarget), this.vars(this.vNet), o.tau);
      return { ...stats, muNorm: (muNorm as tf.Scalar).dataSync()[0], logDiagL: (logDiagL as tf.Scalar).dataSync()[0] };
    } finally {
      tf.dispose([muNorm, logDiagL].filter((x) => x !== undefined));
      tf.dispose(Object.values(t));
    }
  }

  protected namedVariables(): NamedVariable[] {
    return [...this.lNet, ...this.muNet, ...this.vNet, ...this.vTarget, ...this.bnVariables()];
  }

  protected namedOptimizers(): [string, Adam][] {
    return [['q', this.opt]];
  }

  protected override disposeExtra(): void {
    this.lowerMask.dispose();
    this.eye.dispose();
  }
}
