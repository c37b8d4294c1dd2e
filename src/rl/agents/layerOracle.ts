/**
 * A first-order oracle f(x, y), ∇_y f(x, y) for a ReLU / leaky-ReLU PICNN with x fixed, evaluated in plain
 * JavaScript (float64) from the per-row affine layers s_i = A_i z_i + B_i y + c_i of ../../inference/lpStructure.ts.
 *
 * Why: the ICNN agent picks one action per environment step by ~30-100 iterations of Adam over a (§4.5). Through
 * tfjs each iteration is a batch-1 forward and backward pass of ~40 small kernels, dominated by per-kernel
 * overhead (≈1.5 ms on wasm); here one iteration is two 200×200 matrix-vector products (≈0.1 ms). For large
 * batches (the TD targets) the tfjs oracle is faster and is used instead.
 *
 * It has the shape of ../../inference/oracle.ts's `EnergyOracle` (batch, n, evaluations, evaluate, energy,
 * dispose), so the library's own optimizers (`gradientDescent` with optimizer 'adam', `bundleEntropyMethod`)
 * run on it unchanged: the same Adam as `argmin(..., { method: 'gd', optimizer: 'adam' })`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EnergyModel } from '../../models/energyModel.js';
import type { EnergyOracle } from '../../inference/oracle.js';
import { extractLpStructure, type LpLayer } from '../../inference/lpStructure.js';

/** f(s, a) and ∇_a f of a PICNN per row in float64 JavaScript, from its affine layer structure at fixed states. */
export class LayerOracle {
  readonly batch: number;
  readonly n: number;
  evaluations = 0;
  private readonly rows: LpLayer[][];
  private readonly slope: number;
  private readonly alpha: number;
  /** Scratch for one row: pre-activations s_i, activations g(s_i), and ∂f/∂s_i per layer. */
  private readonly pre: Float64Array[];
  private readonly act: Float64Array[];
  private readonly delta: Float64Array[];

  constructor(model: EnergyModel, x: tf.Tensor2D, batch: number) {
    const structure = extractLpStructure(model, x, batch);
    this.batch = batch;
    this.n = structure.yDim;
    this.slope = structure.leakySlope;
    this.alpha = structure.strongConvexity;
    this.rows = Array.from({ length: batch }, (_, r) => structure.layers(r));
    this.pre = structure.widths.map((m) => new Float64Array(m));
    this.act = structure.widths.map((m) => new Float64Array(m));
    this.delta = structure.widths.map((m) => new Float64Array(m));
  }

  /** The library's optimizers take an `EnergyOracle`; this class has the same public shape. */
  asEnergyOracle(): EnergyOracle {
    return this as unknown as EnergyOracle;
  }

  /** f and ∇_y f per row; rows with `active[r] === 0` are skipped (left 0), so converged rows cost nothing. */
  evaluate(y: Float64Array, active?: Uint8Array): { energy: Float64Array; grad: Float64Array } {
    this.evaluations++;
    const energy = new Float64Array(this.batch);
    const grad = new Float64Array(this.batch * this.n);
    for (let r = 0; r < this.batch; r++) {
      if (active !== undefined && !active[r]) continue;
      energy[r] = this.forward(this.rows[r], y, r * this.n);
      this.backward(this.rows[r], grad, y, r * this.n);
    }
    return { energy, grad };
  }

  /** f at y for every row, without the gradient. */
  energy(y: Float64Array): Float64Array {
    this.evaluations++;
    const out = new Float64Array(this.batch);
    for (let r = 0; r < this.batch; r++) out[r] = this.forward(this.rows[r], y, r * this.n);
    return out;
  }

  /** Nothing to free (plain arrays); present for the oracle interface. */
  dispose(): void {}

  /** Fills `this.pre` with the pre-activations s_i and `this.act` with g(s_i) for the row y[off … off + n); returns f. */
  private forward(layers: LpLayer[], y: Float64Array, off: number): number {
    const n = this.n;
    const a = this.slope;
    const last = layers.length - 1;
    for (let i = 0; i <= last; i++) {
      const L = layers[i];
      const s = this.pre[i];
      const z = i > 0 ? this.act[i - 1] : null;
      const A = L.A;
      const B = L.B;
      const zDim = L.zDim;
      for (let k = 0; k < L.outDim; k++) {
        let v = L.c[k];
        for (let j = 0; j < n; j++) v += B[k * n + j] * y[off + j];
        if (A !== null && z !== null) {
          const base = k * zDim;
          for (let j = 0; j < zDim; j++) v += A[base + j] * z[j];
        }
        s[k] = v;
      }
      if (i < last) {
        const out = this.act[i];
        for (let k = 0; k < L.outDim; k++) out[k] = s[k] > 0 ? s[k] : a * s[k];
      }
    }
    let f = this.pre[last][0];
    if (this.alpha > 0) {
      let sq = 0;
      for (let j = 0; j < n; j++) sq += y[off + j] * y[off + j];
      f += (this.alpha / 2) * sq;
    }
    return f;
  }

  /** ∇_y f into g[off … off + n) (after `forward` on the same row). */
  private backward(layers: LpLayer[], g: Float64Array, y: Float64Array, off: number): void {
    const n = this.n;
    const a = this.slope;
    const last = layers.length - 1;
    let delta = this.delta[last]; // ∂f/∂s_i
    delta[0] = 1;
    for (let j = 0; j < n; j++) g[off + j] = 0;
    for (let i = last; i >= 0; i--) {
      const L = layers[i];
      const B = L.B;
      for (let k = 0; k < L.outDim; k++) {
        const d = delta[k];
        if (d === 0) continue;
        for (let j = 0; j < n; j++) g[off + j] += B[k * n + j] * d;
      }
      if (i === 0 || L.A === null) break;
      const prev = this.pre[i - 1];
      const next = this.delta[i - 1];
      next.fill(0);
      const A = L.A;
      const zDim = L.zDim;
      for (let k = 0; k < L.outDim; k++) {
        const d = delta[k];
        if (d === 0) continue;
        const base = k * zDim;
        for (let j = 0; j < zDim; j++) next[j] += A[base + j] * d;
      }
      for (let j = 0; j < zDim; j++) if (!(prev[j] > 0)) next[j] *= a;
      delta = next;
    }
    if (this.alpha > 0) for (let j = 0; j < n; j++) g[off + j] += this.alpha * y[off + j];
  }
}
