/**
 * First-order oracle over a batch: f(x_r, y_r) and ∇_y f(x_r, y_r) for every row r, on float64 arrays.
 * The x-only part of the network (the context, §1.2's u-path) is computed once per inference call. Where the native
 * z-path of a PICNN is active (../backend/nativeGatedPath.ts), each evaluation is one call of the addon on the wasm
 * heap (`GatedPathEvaluator`, no tfjs kernel in between); elsewhere it is the model's tfjs ops (on the wasm backend with
 * the native kernels, the same floats to the bit).
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeContext, type EnergyContext, type EnergyModel } from '../models/energyModel.js';
import type { GatedPath } from '../models/gatedPath.js';
import { gatedPathEvaluator, gatedPathFitsKernel, gatedPathKernelActive, type GatedPathEvaluator } from '../backend/nativeGatedPath.js';

/** The context's z-path for the native kernel, its tensors held by the oracle (clones: shared data), or null. */
function nativePath(model: EnergyModel, ctx: EnergyContext, batch: number): GatedPath | null {
  if (!gatedPathKernelActive()) return null;
  // A scope rather than tf.tidy, which cannot return null: what gatedPath creates (W^(z) under 'softplus') is freed.
  tf.engine().startScope();
  try {
    const path = model.gatedPath(ctx);
    if (path === null || !gatedPathFitsKernel(path, batch)) return null;
    const keep = <T extends tf.Tensor | null>(t: T): T => (t === null ? t : (tf.keep(tf.clone(t)) as T));
    return { ...path, layers: path.layers.map((l) => ({
      yGate: keep(l.yGate), passthrough: keep(l.passthrough), uTerm: keep(l.uTerm), zGate: keep(l.zGate), convex: keep(l.convex),
    })) };
  } finally {
    tf.engine().endScope();
  }
}

export class EnergyOracle {
  readonly batch: number;
  readonly n: number;
  /** Number of batched oracle calls so far (each evaluates every row once). */
  evaluations = 0;
  /** The context (null for an oracle made by `rows`, whose evaluations are native). */
  private readonly ctx: EnergyContext | null;
  /** The z-path for the native kernel, when it runs here. */
  private readonly path: GatedPath | null;
  /** Its evaluations, one addon call each. */
  private readonly direct: GatedPathEvaluator | null;

  /**
   * `training`: the context in training mode (batch statistics in batch norm; see ArgminOptions.training). `path`
   * (for `rows`): the z-path for the native kernel, already at these rows and owned by the new oracle; no context.
   */
  constructor(readonly model: EnergyModel, x: tf.Tensor2D | null, batch: number, training = false, path?: GatedPath) {
    this.batch = batch;
    this.n = model.yDim;
    this.ctx = path === undefined ? model.context(x, { batch, training }) : null;
    this.path = path ?? nativePath(model, this.ctx as EnergyContext, batch);
    this.direct = this.path === null ? null : gatedPathEvaluator(this.path, batch, this.n);
  }

  /**
   * The same oracle over some of its rows (`positions`, indices into this one's), or null where its evaluations are
   * not native. The per-row terms of the z-path are gathered from this one's instead of a new context being computed
   * from x: an inner solve that stops rows as they converge narrows its oracle several times per solve.
   */
  rows(positions: Int32Array): EnergyOracle | null {
    if (this.path === null || this.direct === null) return null;
    const path = this.path;
    // Rows copied in JavaScript: tf.gather on the wasm backend took 0.9 ms for 128 of 256 rows of width 200 (a whole
    // new context 1.2 ms), the copy a few microseconds. The weights are shared (clones).
    const rowsOf = <T extends tf.Tensor2D | null>(t: T): T => {
      if (t === null) return t;
      const [, width] = t.shape;
      const all = t.dataSync() as Float32Array;
      const out = new Float32Array(positions.length * width);
      positions.forEach((r, i) => out.set(all.subarray(r * width, (r + 1) * width), i * width));
      return tf.keep(tf.tensor2d(out, [positions.length, width])) as T;
    };
    const shared = <T extends tf.Tensor2D | null>(t: T): T => (t === null ? t : (tf.keep(tf.clone(t)) as T));
    const layers = path.layers.map((l) => ({
      yGate: rowsOf(l.yGate), passthrough: shared(l.passthrough), uTerm: rowsOf(l.uTerm), zGate: rowsOf(l.zGate), convex: shared(l.convex),
    }));
    return new EnergyOracle(this.model, null, positions.length, false, { ...path, layers });
  }

  /** Whether evaluations run as one native kernel call each (../backend/nativeGatedPath.ts). */
  get native(): boolean {
    return this.direct !== null;
  }

  /** Energies [N] and gradients [N·n] (row-major) at the rows of y [N·n]. */
  evaluate(y: Float64Array): { energy: Float64Array; grad: Float64Array } {
    this.evaluations++;
    if (this.direct !== null) {
      const r = this.direct.evaluate(y, true);
      return { energy: r.energy, grad: r.grad as Float64Array };
    }
    const ctx = this.context();
    const [e, g] = tf.tidy(() => {
      const yt = tf.tensor2d(Float32Array.from(y), [this.batch, this.n]);
      const r = this.model.energyAndGradFromContext(ctx, yt);
      return [r.energy, r.grad];
    });
    const energy = Float64Array.from(e.dataSync());
    const grad = Float64Array.from(g.dataSync());
    tf.dispose([e, g]);
    return { energy, grad };
  }

  /** Energies only. */
  energy(y: Float64Array): Float64Array {
    if (this.direct !== null) return this.direct.evaluate(y, false).energy;
    const ctx = this.context();
    const e = tf.tidy(() => {
      const yt = tf.tensor2d(Float32Array.from(y), [this.batch, this.n]);
      return this.model.energyFromContext(ctx, yt);
    });
    const out = Float64Array.from(e.dataSync());
    e.dispose();
    return out;
  }

  private context(): EnergyContext {
    if (this.ctx === null) throw new Error('EnergyOracle: an oracle made by rows() evaluates natively only');
    return this.ctx;
  }

  dispose(): void {
    if (this.ctx !== null) disposeContext(this.ctx);
    this.direct?.dispose();
    if (this.path !== null) tf.dispose(this.path.layers.flatMap((l) => [l.yGate, l.passthrough, l.uTerm, l.zGate, l.convex].filter((t) => t !== null)));
  }
}
