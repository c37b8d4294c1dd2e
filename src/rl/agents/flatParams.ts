/**
 * The online and target parameters of an agent's network as two flat float32 arrays mirrored in JavaScript, so
 * that one training step's Adam update, the projection W^(z) ← max(W^(z), 0) of the convex weights (§4.5) and the
 * soft target update θ' ← θ' − τ(θ' − θ) are three loops over one array each, followed by one upload per variable
 * (in place on the wasm heap where no other tensor shares the variable's data, ../../backend/inPlaceWrite.ts),
 * instead of (read, update, write) per variable for Adam plus one kernel per convex weight and three per target
 * variable (≈ 100 small tfjs calls for the 25 tensors of the paper's PICNN).
 *
 * The mirrors are the source of truth between steps: after anything else writes the variables (a checkpoint
 * load), call `sync()`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { writeInPlace } from '../../backend/inPlaceWrite.js';
import { nativeSoftUpdate } from '../../backend/nativeSoftUpdate.js';
import type { Adam } from './nets.js';

export interface FlatPair {
  online: tf.Variable;
  target: tf.Variable;
  /** Projected onto W ≥ 0 after each step. */
  convex: boolean;
}

/**
 * An agent network's online and target parameters as flat float32 mirrors, for fused Adam, projection and target updates.
 */
export class FlatParams {
  readonly online: Float32Array;
  readonly target: Float32Array;
  private readonly offsets: number[];
  private readonly convexRanges: [number, number][];

  /** `opt` must be an Adam over exactly the online variables of `pairs`, in the same order. */
  constructor(private readonly pairs: readonly FlatPair[], private readonly opt: Adam) {
    if (opt.variables.length !== pairs.length || opt.variables.some((v, i) => v !== pairs[i].online)) throw new Error('internal: FlatParams needs an Adam over the online variables, in order');
    this.offsets = [];
    let total = 0;
    for (const p of pairs) {
      this.offsets.push(total);
      total += p.online.size;
    }
    this.online = new Float32Array(total);
    this.target = new Float32Array(total);
    this.convexRanges = pairs.flatMap((p, i) => (p.convex ? [[this.offsets[i], this.offsets[i] + p.online.size] as [number, number]] : []));
    this.sync();
  }

  /** Reload both mirrors from the variables. */
  sync(): void {
    this.pairs.forEach((p, i) => {
      this.online.set(p.online.dataSync() as Float32Array, this.offsets[i]);
      this.target.set(p.target.dataSync() as Float32Array, this.offsets[i]);
    });
  }

  /** Adam on `grads` (one per pair, not disposed), projection, soft update with rate `tau`, then upload. */
  step(grads: readonly tf.Tensor[], tau: number): void {
    const flat = tf.tidy(() => tf.concat(grads.map((g) => tf.reshape(g, [-1]))));
    const g = flat.dataSync() as Float32Array;
    flat.dispose();
    this.opt.step(g, this.online);
    const w = this.online;
    for (const [a, b] of this.convexRanges) for (let k = a; k < b; k++) if (w[k] < 0) w[k] = 0;
    const t = this.target;
    const native = nativeSoftUpdate();
    if (native !== null) native(t, w, tau);
    else for (let k = 0; k < t.length; k++) t[k] -= tau * (t[k] - w[k]);
    this.upload();
  }

  private upload(): void {
    this.pairs.forEach((p, i) => {
      const a = this.offsets[i];
      for (const [variable, values] of [[p.online, this.online], [p.target, this.target]] as const) {
        if (writeInPlace(variable, values.subarray(a, a + variable.size))) continue;
        // A copy: a backend may keep the array it is given (cpu does), and the mirrors change in place.
        const next = tf.tensor(values.slice(a, a + variable.size), variable.shape, 'float32');
        variable.assign(next);
        next.dispose();
      }
    });
  }
}
