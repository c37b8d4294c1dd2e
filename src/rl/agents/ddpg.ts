/**
 * DDPG (Lillicrap et al. 2016), the baseline of §5.4, as in the authors' copy of Simon Ramstedt's implementation
 * (`RL/src/ddpg.py`, `ddpg_nets_dm.py`):
 * - actor μ(s) = tanh(W3 relu(W2 relu(W1 s + b1) + b2) + b3), fan-in uniform init, last layer U(±3e-3);
 * - critic Q(s, a) = W3 relu(W2 [relu(W1 s + b1), a] + b2) + b3 (the action enters at the second layer),
 *   fan-in uniform init, last layer U(±3e-4);
 * - critic loss mean((Q(s, a) − y)²) + l2·Σ½‖θ_Q‖², y = r + γ(1 − terminal)·Q'(s', μ'(s')) from the target
 *   networks; actor loss −mean Q(s, μ(s)) + actorL2·Σ½‖θ_μ‖²;
 * - Adam (ε = 1e-4), critic lr `learningRate` (1e-3), actor lr `actorLearningRate` (1e-4);
 * - soft target updates of both networks with τ after every step.
 * The critic step comes first, then the actor step on the updated critic (the authors run both in one
 * TensorFlow call, where the order is unspecified).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as v from 'valibot';
import { NON_NEGATIVE, POSITIVE } from '../../util/numbers.js';
import { num, optionsSchema, parseOptions } from '../../util/schema.js';
import { Rng } from '../../util/random.js';
import { deriveSeed } from '../noise.js';
import type { Batch } from '../replay.js';
import {
  BaseAgent, COMMON_OPTION_ENTRIES, resolveCommonOptions, type UpdateStats,
} from './agent.js';
import { Adam, cloneVariables, Dense, l2Loss, meanSquaredTd, Mlp, regressionStep, softUpdate, type NamedVariable } from './nets.js';

const DDPG_OPTIONS = optionsSchema({
  ...COMMON_OPTION_ENTRIES,
  /** Adam learning rate of the actor (default 1e-4, the authors' `prate`). */
  actorLearningRate: v.optional(num(POSITIVE)),
  /** L2 weight on the actor's variables (default 0, `pl2norm`). */
  actorL2: v.optional(num(NON_NEGATIVE)),
});
/** Options of the DDPG baseline (§5.4): the common agent options plus the actor's learning rate and L2 weight. */
export type DDPGOptions = v.InferOutput<typeof DDPG_OPTIONS>;
export type ResolvedDDPGOptions = Required<DDPGOptions>;

/** The critic: the action is concatenated to the first hidden layer's output. */
class Critic {
  readonly l1: Dense;
  readonly l2: Dense;
  readonly l3: Dense;

  constructor(name: string, obsDim: number, actDim: number, h: [number, number], rng: Rng) {
    this.l1 = new Dense(`${name}.0`, obsDim, h[0], { kind: 'fanin' }, rng);
    this.l2 = new Dense(`${name}.1`, h[0] + actDim, h[1], { kind: 'fanin' }, rng);
    this.l3 = new Dense(`${name}.2`, h[1], 1, { kind: 'uniform', limit: 3e-4 }, rng);
  }

  get variables(): NamedVariable[] {
    return [...this.l1.variables, ...this.l2.variables, ...this.l3.variables];
  }
}

/** Q(s, a) from a critic's variables in the order of `Critic.variables` (so target copies work the same way). */
function criticQ(v: tf.Variable[], s: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor1D {
  const h1 = tf.relu(tf.add(tf.matMul(s, v[0]), v[1])) as tf.Tensor2D;
  const h2 = tf.relu(tf.add(tf.matMul(tf.concat([h1, a], 1), v[2]), v[3])) as tf.Tensor2D;
  const q = tf.add(tf.matMul(h2, v[4]), v[5]);
  return tf.reshape(q, [s.shape[0]]) as tf.Tensor1D;
}

/** μ(s) from an actor's variables in the order of `Mlp.variables`. */
function actorMu(v: tf.Variable[], s: tf.Tensor2D): tf.Tensor2D {
  const h1 = tf.relu(tf.add(tf.matMul(s, v[0]), v[1]));
  const h2 = tf.relu(tf.add(tf.matMul(h1, v[2]), v[3]));
  return tf.tanh(tf.add(tf.matMul(h2, v[4]), v[5])) as tf.Tensor2D;
}

/** Deep deterministic policy gradient (Lillicrap et al. 2016), the baseline of §5.4, as the authors' code runs it. */
export class DDPGAgent extends BaseAgent {
  readonly kind = 'ddpg' as const;
  declare readonly options: Readonly<ResolvedDDPGOptions>;
  private readonly actor: NamedVariable[];
  private readonly critic: NamedVariable[];
  private readonly actorTarget: NamedVariable[];
  private readonly criticTarget: NamedVariable[];
  private readonly actorOpt: Adam;
  private readonly criticOpt: Adam;

  constructor(observationSize: number, actionSize: number, options: DDPGOptions = {}) {
    const where = 'DDPGAgent';
    const o = parseOptions(where, DDPG_OPTIONS, options);
    const common = resolveCommonOptions(o, { adamEpsilon: 1e-4, l2: 1e-4 });
    const resolved: ResolvedDDPGOptions = { ...common, actorLearningRate: o.actorLearningRate ?? 1e-4, actorL2: o.actorL2 ?? 0 };
    super(observationSize, actionSize, resolved);
    const rng = new Rng(deriveSeed(common.seed, 0, 0));
    const h = common.hidden;
    this.actor = new Mlp('actor', [observationSize, h[0], h[1], actionSize], { kind: 'fanin' }, { kind: 'uniform', limit: 3e-3 }, rng).variables;
    this.critic = new Critic('critic', observationSize, actionSize, h, rng).variables;
    this.actorTarget = cloneVariables(this.actor, 'target.');
    this.criticTarget = cloneVariables(this.critic, 'target.');
    this.actorOpt = new Adam(this.vars(this.actor), resolved.actorLearningRate, resolved.adamEpsilon);
    this.criticOpt = new Adam(this.vars(this.critic), resolved.learningRate, resolved.adamEpsilon);
  }

  private vars(list: NamedVariable[]): tf.Variable[] {
    return list.map((v) => v.variable);
  }

  async greedyActions(observations: Float32Array): Promise<Float32Array> {
    this.assertAlive();
    const n = observations.length / this.observationSize;
    const mu = tf.tidy(() => actorMu(this.vars(this.actor), tf.tensor2d(observations, [n, this.observationSize])));
    const out = Float32Array.from(mu.dataSync() as Float32Array);
    mu.dispose();
    return out;
  }

  qValues(observations: Float32Array, actions: Float32Array): Float64Array {
    this.assertAlive();
    const n = observations.length / this.observationSize;
    const q = tf.tidy(() => criticQ(this.vars(this.critic), tf.tensor2d(observations, [n, this.observationSize]), tf.tensor2d(actions, [n, this.actionSize])));
    const out = Float64Array.from(q.dataSync());
    q.dispose();
    return out;
  }

  /** y = r + γ(1 − terminal)·Q'(s', μ'(s')). */
  private targets(t: { r: tf.Tensor1D; s2: tf.Tensor2D; notDone: tf.Tensor1D }): tf.Tensor1D {
    return tf.tidy(() => {
      const a2 = actorMu(this.vars(this.actorTarget), t.s2);
      const q2 = criticQ(this.vars(this.criticTarget), t.s2, a2);
      return tf.add(t.r, tf.mul(this.options.gamma, tf.mul(t.notDone, q2))) as tf.Tensor1D;
    });
  }

  async tdLoss(batch: Batch): Promise<number> {
    this.assertAlive();
    this.checkBatch(batch);
    const t = this.batchTensors(batch);
    try {
      return meanSquaredTd(() => criticQ(this.vars(this.critic), t.s, t.a), () => this.targets(t));
    } finally {
      tf.dispose(Object.values(t));
    }
  }

  protected async train(batch: Batch): Promise<UpdateStats> {
    const t = this.batchTensors(batch);
    const o = this.options;
    try {
      const y = this.targets(t);
      const criticVars = this.vars(this.critic);
      const actorVars = this.vars(this.actor);
      const critic = regressionStep(this.criticOpt, criticVars, o.l2, () => criticQ(criticVars, t.s, t.a), y);
      y.dispose();
      let actorObjective!: tf.Scalar;
      const ag = tf.variableGrads(() => {
        const q = criticQ(criticVars, t.s, actorMu(actorVars, t.s));
        actorObjective = tf.keep(tf.neg(tf.mean(q)) as tf.Scalar);
        return (o.actorL2 > 0 ? tf.add(actorObjective, tf.mul(o.actorL2, l2Loss(actorVars))) : actorObjective) as tf.Scalar;
      }, actorVars);
      this.actorOpt.apply(actorVars.map((v) => ag.grads[v.name]));
      tf.dispose([...Object.values(ag.grads), ...(ag.value === actorObjective ? [] : [ag.value])]);
      softUpdate(this.vars(this.criticTarget), criticVars, o.tau);
      softUpdate(this.vars(this.actorTarget), actorVars, o.tau);
      const stats = { ...critic, actorLoss: actorObjective.dataSync()[0] };
      actorObjective.dispose();
      return stats;
    } finally {
      tf.dispose(Object.values(t));
    }
  }

  protected namedVariables(): NamedVariable[] {
    return [...this.actor, ...this.critic, ...this.actorTarget, ...this.criticTarget];
  }

  protected namedOptimizers(): [string, Adam][] {
    return [['actor', this.actorOpt], ['critic', this.criticOpt]];
  }
}
