/**
 * One Q-function of the ICNN agent (§4.5): the online PICNN f = −Q, convex in the action, its target network θ',
 * their Adam and the flat mirrors that step them (./flatParams.ts). The agent holds one critic, or two with its
 * `twinQ` option (./icnn.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { PICNN, type PICNNOptions } from '../../models/picnn.js';
import { truncatedNormal } from '../../models/init.js';
import { Rng } from '../../util/random.js';
import { Adam, softUpdate, type NamedVariable } from './nets.js';
import { FlatParams } from './flatParams.js';

export interface ICNNCriticOptions {
  /** 'tflearn': every weight matrix from a truncated normal with std 0.02, |·| for W^(z) (the authors'); 'picnn': the PICNN's own. */
  weightInit: 'tflearn' | 'picnn';
  /** Seed of the 'tflearn' draws (the PICNN's own seed is in its options). */
  initSeed: number;
  learningRate: number;
  adamEpsilon: number;
}

interface Pair {
  name: string;
  online: tf.Variable;
  target: tf.Variable;
}

/** An online PICNN and its target, initialized equal, stepped by Adam + projection + soft update. */
export class ICNNCritic {
  readonly model: PICNN;
  readonly target: PICNN;
  readonly opt: Adam;
  /** Every (online, target) variable pair, batch-norm statistics included. */
  private readonly pairs: Pair[];
  /** Batch-norm statistics: soft-updated by tfjs; everything else goes through `flat`. */
  private readonly statePairs: Pair[];
  private readonly flat: FlatParams;

  constructor(config: PICNNOptions, o: ICNNCriticOptions) {
    this.model = new PICNN(config);
    this.target = new PICNN(config);
    if (o.weightInit === 'tflearn') this.initTflearn(o.initSeed);
    const targetParams = new Map(this.target.parameters().map((p) => [p.name, p.variable]));
    this.pairs = this.model.parameters().map((p) => {
      const t = targetParams.get(p.name);
      if (t === undefined) throw new Error(`internal: target PICNN lacks ${p.name}`);
      t.assign(p.variable);
      return { name: p.name, online: p.variable, target: t };
    });
    const roles = new Map(this.model.parameters().map((p) => [p.name, p.role]));
    const trained = this.pairs.filter((p) => roles.get(p.name) !== 'state');
    this.statePairs = this.pairs.filter((p) => roles.get(p.name) === 'state');
    this.opt = new Adam(trained.map((p) => p.online), o.learningRate, o.adamEpsilon);
    this.flat = new FlatParams(trained.map((p) => ({ ...p, convex: roles.get(p.name) === 'convex' })), this.opt);
  }

  /** The authors' tflearn init: weight matrices from a truncated normal with std 0.02, |·| on the convex ones. */
  private initTflearn(seed: number): void {
    const rng = new Rng(seed);
    tf.tidy(() => {
      for (const p of this.model.parameters()) {
        if (p.role === 'state' || !/\.W/.test(p.name)) continue;
        // Drawn here rather than through PICNN's weightStd so that the agent's seeds keep their own stream.
        const w = truncatedNormal(rng, 0.02, p.variable.size);
        if (p.role === 'convex') for (let i = 0; i < w.length; i++) w[i] = Math.abs(w[i]);
        p.variable.assign(tf.tensor(w, p.variable.shape, 'float32'));
      }
    });
  }

  /** The trained (non-state) online variables, in the optimizer's order. */
  get trainedVariables(): tf.Variable[] {
    return this.opt.variables as tf.Variable[];
  }

  /** The online weight matrices (the l2 penalty's). */
  weights(): tf.Variable[] {
    return this.model.parameters().filter((p) => p.role !== 'state' && /\.W/.test(p.name)).map((p) => p.variable);
  }

  /** Adam on `grads` (one per trained variable, in order), projection of W^(z), soft updates of θ' at rate `tau`. */
  step(grads: readonly tf.Tensor[], tau: number): void {
    this.flat.step(grads, tau);
    if (this.statePairs.length > 0) softUpdate(this.statePairs.map((p) => p.target), this.statePairs.map((p) => p.online), tau);
  }

  /** Online variables under `${onlinePrefix}.name`, target ones under `${targetPrefix}.name` (checkpoint names). */
  namedVariables(onlinePrefix: string, targetPrefix: string): NamedVariable[] {
    return [
      ...this.pairs.map((p) => ({ name: `${onlinePrefix}.${p.name}`, variable: p.online })),
      ...this.pairs.map((p) => ({ name: `${targetPrefix}.${p.name}`, variable: p.target })),
    ];
  }

  /** Reload the flat mirrors after the variables were written from outside (a checkpoint load). */
  sync(): void {
    this.flat.sync();
  }

  dispose(): void {
    this.model.dispose();
    this.target.dispose();
  }
}
