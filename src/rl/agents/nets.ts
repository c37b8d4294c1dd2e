/**
 * Small building blocks of the baseline agents (DDPG, NAF): dense layers with the authors' initializations,
 * target-network copies, soft (Polyak) updates and L2 penalties. Every variable is created from a seeded
 * generator, so an agent's initial weights are a function of its seed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DenseBlock } from '../../models/blocks.js';
import { truncatedNormal } from '../../models/init.js';
import type { Rng } from '../../util/random.js';

/** A named variable of an agent (the names key checkpoints). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** How a dense layer's weights are drawn. */
export type DenseInit =
  /** U(±1/√fanIn) for W and b (DDPG's `fanin_init`, Lillicrap et al.). */
  | { kind: 'fanin' }
  /** U(±limit) for W and b (DDPG's output layers: 3e-3 for μ, 3e-4 for Q). */
  | { kind: 'uniform'; limit: number }
  /** Truncated normal N(0, std²) cut at 2 std for W, b = 0 (the authors' NAF, `initstd` 0.01). */
  | { kind: 'normal'; std: number };

/** The initial values of a dense layer's W ([inDim, outDim] row-major) and b under `init`, drawn from `rng`. */
function drawDense(init: DenseInit, inDim: number, outDim: number, rng: Rng): { w: Float32Array; b: Float32Array } {
  const n = inDim * outDim;
  if (init.kind === 'fanin') {
    const v = 1 / Math.sqrt(inDim);
    return { w: rng.fillUniform(n, -v, v), b: rng.fillUniform(outDim, -v, v) };
  }
  if (init.kind === 'uniform') return { w: rng.fillUniform(n, -init.limit, init.limit), b: rng.fillUniform(outDim, -init.limit, init.limit) };
  return { w: truncatedNormal(rng, init.std, n), b: new Float32Array(outDim) };
}

/** A dense layer x W + b of the models' block type, with the baselines' initializations and named variables. */
export class Dense extends DenseBlock {
  declare readonly b: tf.Variable;

  constructor(readonly name: string, inDim: number, outDim: number, init: DenseInit, rng: Rng) {
    const { w, b } = drawDense(init, inDim, outDim, rng);
    super(makeVariable(tf.tensor2d(w, [inDim, outDim]), true), makeVariable(tf.tensor1d(b), true));
  }

  get variables(): NamedVariable[] {
    return [{ name: `${this.name}.W`, variable: this.W }, { name: `${this.name}.b`, variable: this.b }];
  }
}

/** A two-hidden-layer ReLU network in → h1 → h2 → out (the shape of every baseline network of §5.4). */
export class Mlp {
  readonly layers: Dense[];

  constructor(readonly name: string, sizes: [number, number, number, number], hiddenInit: DenseInit, outInit: DenseInit, rng: Rng) {
    this.layers = [
      new Dense(`${name}.0`, sizes[0], sizes[1], hiddenInit, rng),
      new Dense(`${name}.1`, sizes[1], sizes[2], hiddenInit, rng),
      new Dense(`${name}.2`, sizes[2], sizes[3], outInit, rng),
    ];
  }

  /** The pre-activation output (linear last layer). */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const h1 = tf.relu(this.layers[0].apply(x)) as tf.Tensor2D;
    const h2 = tf.relu(this.layers[1].apply(h1)) as tf.Tensor2D;
    return this.layers[2].apply(h2);
  }

  get variables(): NamedVariable[] {
    return this.layers.flatMap((l) => l.variables);
  }
}

/** Fresh variables holding copies of `source` (target networks start equal to the online ones). */
export function cloneVariables(source: NamedVariable[], prefix: string): NamedVariable[] {
  return source.map((s) => ({ name: `${prefix}${s.name}`, variable: makeVariable(s.variable.clone(), false) }));
}

/** A variable holding `init`'s values; `init` is disposed. */
export function makeVariable(init: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/** θ' ← θ' − τ(θ' − θ) = (1 − τ)θ' + τθ for every pair (the authors' soft target update). */
export function softUpdate(target: readonly tf.Variable[], source: readonly tf.Variable[], tau: number): void {
  if (target.length !== source.length) throw new Error(`internal: softUpdate of ${target.length} targets from ${source.length} sources`);
  tf.tidy(() => {
    target.forEach((t, i) => {
      t.assign(tau === 1 ? source[i] : tf.sub(t, tf.mul(tf.sub(t, source[i]), tau)));
    });
  });
}

/** Σ ½‖θ‖² over the variables (TensorFlow's `l2_loss`), a scalar. */
export function l2Loss(vars: readonly tf.Variable[]): tf.Scalar {
  return tf.tidy(() => tf.mul(tf.addN(vars.map((v) => tf.sum(tf.square(v)))), 0.5) as tf.Scalar);
}

export function disposeVariables(vars: readonly NamedVariable[]): void {
  for (const v of vars) v.variable.dispose();
}

/** The library's one Adam for variables (TensorFlow 1's update; ../../learning/adam.ts). */
export { Adam } from '../../learning/adam.js';
import type { Adam } from '../../learning/adam.js';

/**
 * One Adam step over `vars` on the regression loss mean((q − y)²) + l2·Σ½‖θ‖² with θ the `penalized` variables
 * (default: all of `vars`; `q` is evaluated inside the gradient tape; `y` is a constant). Returns the TD loss
 * (without the L2 term) and the mean of q.
 */
export function regressionStep(opt: Adam, vars: tf.Variable[], l2: number, q: () => tf.Tensor1D, y: tf.Tensor1D,
  penalized: tf.Variable[] = vars): { loss: number; q: number } {
  let td!: tf.Scalar;
  let meanQ!: tf.Scalar;
  const g = tf.variableGrads(() => {
    const qv = q();
    td = tf.keep(tf.mean(tf.square(tf.sub(qv, y))));
    meanQ = tf.keep(tf.mean(qv));
    return (l2 > 0 ? tf.add(td, tf.mul(l2, l2Loss(penalized))) : td) as tf.Scalar;
  }, vars);
  opt.apply(vars.map((v) => g.grads[v.name]));
  tf.dispose([...Object.values(g.grads), ...(g.value === td ? [] : [g.value])]);
  const out = { loss: td.dataSync()[0], q: meanQ.dataSync()[0] };
  tf.dispose([td, meanQ]);
  return out;
}

/** mean((q − y)²) of one batch's tensors, read back as a number (no gradient). */
export function meanSquaredTd(q: () => tf.Tensor1D, y: () => tf.Tensor1D): number {
  const loss = tf.tidy(() => tf.mean(tf.square(tf.sub(q(), y()))));
  const v = loss.dataSync()[0];
  loss.dispose();
  return v;
}
