/**
 * The base of every model: a scalar energy f(x, y; θ) per batch row, evaluated in batches.
 *
 * Hot paths (inference, training) split the work in two: `context(x)` runs everything that depends on x only
 * (the u-path of a PICNN, §1.2) once, and `energyFromContext(ctx, y)` evaluates the y-dependent part, as often
 * as an optimizer over y needs. The convenience methods `energy`, `gradY` and `energyAndGradY` validate their
 * inputs (shapes, finiteness) and do both steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { assertFinite, batchShapeOf, toFlatBatch, sizeOf, type BatchInput } from '../util/tensors.js';
import * as v from 'valibot';
import { POSITIVE_INT } from '../util/numbers.js';
import { bool, num, optionsSchema, parseOptions } from '../util/schema.js';
import { absInit, drawFromStd, drawWeights, freeInit, principledConvexInit, filled, type WeightDraw } from './init.js';
import { ParameterStore, type Positivity } from './parameters.js';
import type { ResolvedConvexOptions } from './common.js';
import { modelFromJSON, modelToJSON, type ModelJSON } from './serialization.js';
import { importNodeOnly } from '../util/nodeOnly.js';
import { assertBackendAvailable } from '../backend/backend.js';
import type { AffineStructure, PositiveWeightValues } from './affineStructure.js';
import type { GatedPath } from './gatedPath.js';
import { readValues } from './blocks.js';

/** The model classes: FICNN (§1.1), PICNN (§1.2), ConvPICNN and the FeedForward baseline. */
export type ModelKind = 'FICNN' | 'PICNN' | 'ConvPICNN' | 'FeedForward';

/** What a model computed from x alone. Dispose it when done (or create it inside tf.tidy). */
export interface EnergyContext {
  readonly batch: number;
  /** Every tensor the context holds. */
  readonly tensors: tf.Tensor[];
}

/** Free every tensor of a context made by `EnergyModel.context` (not needed when it was made inside tf.tidy). */
export function disposeContext(ctx: EnergyContext): void {
  tf.dispose(ctx.tensors);
}

/** Batch normalization uses batch statistics and updates its moving averages (default false). */
const training = v.optional(bool);

const ENERGY_OPTIONS = optionsSchema({
  training,
  /** Check inputs for NaN/Infinity (default true). */
  checkFinite: v.optional(bool),
});
/** Options of `energy`, `gradY` and `energyAndGradY`: batch-norm mode (`training`) and the finiteness check of the inputs. */
export type EnergyOptions = v.InferOutput<typeof ENERGY_OPTIONS>;

const CONTEXT_OPTIONS = optionsSchema({
  training,
  /** Rows of the batch when x is null (required then). */
  batch: v.optional(num(POSITIVE_INT)),
});
/** Options of `context`: batch-norm mode (`training`) and the batch size of a model without x. */
export type ContextOptions = v.InferOutput<typeof CONTEXT_OPTIONS>;

/** The disk half of serialization, loaded on first use (Node only) so that the core imports nothing of Node. */
function modelFiles(method: string): Promise<typeof import('./modelFiles.js')> {
  return importNodeOnly('../models/modelFiles.js', `EnergyModel.${method}`);
}

/** A serializable description of a model's configuration (all defaults filled in). */
export type ModelConfig = Record<string, unknown>;

/** The base of every model: a scalar energy f(x, y; θ), its y-gradient, parameters, projection and saving. */
export abstract class EnergyModel {
  abstract readonly kind: ModelKind;
  /** The complete configuration, every default filled in; `fromJSON` rebuilds the same architecture from it. */
  abstract readonly config: ModelConfig;
  /** Shape of one x item ([] width 0 when the model has no x). */
  abstract readonly xShape: readonly number[];
  /** Shape of one y item. */
  abstract readonly yShape: readonly number[];

  protected readonly store: ParameterStore;
  protected readonly rng: Rng;
  private disposed = false;

  /** Std of the truncated-normal weight init (null: LeCun normal); see ConvexOptions.weightStd. */
  private readonly weightStd: number | null;

  constructor(positivity: Positivity, seed: number, weightStd: number | null = null) {
    assertBackendAvailable(new.target.name);
    this.store = new ParameterStore(positivity);
    this.rng = new Rng(seed);
    this.weightStd = weightStd;
  }

  /** Width of a flattened x (0: the model takes no x). */
  get xDim(): number {
    return this.xShape.length === 0 ? 0 : sizeOf(this.xShape);
  }

  /** Width of a flattened y. */
  get yDim(): number {
    return sizeOf(this.yShape);
  }

  /** Convex in y by construction (false only for the nonconvex ablation or a joint feed-forward energy). */
  get isConvex(): boolean {
    return this.store.positivity !== 'none';
  }

  get positivity(): Positivity {
    return this.store.positivity;
  }

  /** Variables an optimizer should update. */
  get trainableVariables(): tf.Variable[] {
    this.assertAlive();
    return this.store.trainable();
  }

  /** Number of trainable scalars. */
  get numParameters(): number {
    return this.trainableVariables.reduce((n, v) => n + v.size, 0);
  }

  /** All named parameters (trainable and batch-norm state), for serialization and inspection. */
  parameters(): { name: string; role: string; variable: tf.Variable }[] {
    this.assertAlive();
    return this.store.list();
  }

  /** Restore feasibility after an optimizer step (W^(z) ← max(W^(z), 0) under 'clip'; a no-op otherwise). */
  project(): void {
    this.assertAlive();
    this.store.project();
  }

  /** Smallest effective W^(z) entry; ≥ 0 whenever the model is convex. */
  minConvexWeight(): number {
    return this.store.minConvexWeight();
  }

  /** Free the model's variables. */
  dispose(): void {
    if (this.disposed) return;
    this.store.dispose();
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  // ---- to implement -------------------------------------------------------------------------------------

  /** Everything that depends on x only. `x` is [N, xDim] (null when xDim = 0); `batch` is N. */
  protected abstract buildContext(x: tf.Tensor2D | null, batch: number, training: boolean): EnergyContext;

  /** The network's energy for y [N, yDim] (without the strongly convex term). */
  protected abstract networkEnergy(ctx: EnergyContext, y: tf.Tensor2D): tf.Tensor1D;

  /** Coefficient α of (α/2)·||y||²; 0 for none. */
  protected abstract get strongConvexity(): number;

  /** Human-readable architecture lines for `summary()`. */
  protected abstract describe(): string[];

  /**
   * The per-row affine maps s_i = A_i z_i + B_i y + c_i with x fixed (§3.1; ./affineStructure.ts), for exact LP
   * inference. `x` is [batch, xDim] (already validated; null for a model without x). Null for a model that has no
   * such structure (the default).
   */
  affineStructure(x: tf.Tensor2D | null, batch: number): AffineStructure | null {
    void x;
    void batch;
    return null;
  }

  // ---- hot path -----------------------------------------------------------------------------------------

  /** Compute the x-only part once. `x` is [N, xDim] (null when the model takes no x, then `batch` is required). */
  context(x: tf.Tensor2D | null, options: ContextOptions = {}): EnergyContext {
    this.assertAlive();
    parseOptions(`${this.kind}.context`, CONTEXT_OPTIONS, options);
    const batch = x === null ? options.batch : x.shape[0];
    if (batch === undefined || !Number.isInteger(batch) || batch <= 0) {
      fail(`${this.kind}.context: the batch size must be given as options.batch when x is null, got ${JSON.stringify(batch)}`);
    }
    return this.buildContext(x, batch, options.training ?? false);
  }

  /** Energy per row for y [N, yDim] given a context of the same N. No validation: meant for inner loops. */
  energyFromContext(ctx: EnergyContext, y: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const e = this.networkEnergy(ctx, y);
      const alpha = this.strongConvexity;
      if (alpha === 0) return e;
      return tf.add(e, tf.mul(tf.sum(tf.square(y), 1), alpha / 2)) as tf.Tensor1D;
    });
  }

  /** Energy and ∇_y f per row for y [N, yDim] given a context (no validation; for solvers' inner loops). */
  energyAndGradFromContext(ctx: EnergyContext, y: tf.Tensor2D): { energy: tf.Tensor1D; grad: tf.Tensor2D } {
    // valueAndGrad of a vector output seeds dy with ones: each row's gradient is that row's ∇_y f.
    const { value, grad } = tf.valueAndGrad((yy: tf.Tensor) => this.energyFromContext(ctx, yy as tf.Tensor2D))(y);
    return { energy: value as tf.Tensor1D, grad: grad as tf.Tensor2D };
  }

  /**
   * The z-path at a context's x as tensors, for hand-written passes over it (./gatedPath.ts): a PICNN with a
   * piecewise-linear activation has one; other models, and a PICNN with softplus, return null.
   */
  gatedPath(_ctx: EnergyContext): GatedPath | null {
    return null;
  }

  // ---- validated convenience API ------------------------------------------------------------------------

  /** One energy per batch row: f(x, y; θ). Pass `null` for x when the model takes no x. */
  energy(x: BatchInput | null, y: BatchInput, options: EnergyOptions = {}): tf.Tensor1D {
    return this.withInputs('energy', x, y, options, (ctx, yFlat) => this.energyFromContext(ctx, yFlat));
  }

  /** ∇_y f(x, y; θ) per row, shaped like `y`. */
  gradY(x: BatchInput | null, y: BatchInput, options: EnergyOptions = {}): tf.Tensor {
    const { energy, grad } = this.energyAndGradY(x, y, options);
    energy.dispose();
    return grad;
  }

  /** Energy and ∇_y f in one pass; the gradient is shaped like `y`. */
  energyAndGradY(x: BatchInput | null, y: BatchInput, options: EnergyOptions = {}): { energy: tf.Tensor1D; grad: tf.Tensor } {
    const yShape = batchShapeOf(y);
    let energy: tf.Tensor1D | null = null;
    const grad = this.withInputs('energyAndGradY', x, y, options, (ctx, yFlat) => {
      const { energy: value, grad: g } = this.energyAndGradFromContext(ctx, yFlat);
      energy = tf.keep(value);
      return yShape !== null && yShape.length !== 2 ? tf.reshape(g, yShape) : g;
    });
    return { energy: energy as unknown as tf.Tensor1D, grad };
  }

  private withInputs<T extends tf.Tensor>(method: string, x: BatchInput | null, y: BatchInput, options: EnergyOptions,
    fn: (ctx: EnergyContext, yFlat: tf.Tensor2D) => T): T {
    this.assertAlive();
    const where = `${this.kind}.${method}`;
    parseOptions(where, ENERGY_OPTIONS, options);
    const check = options.checkFinite ?? true;
    return tf.tidy(() => {
      const yFlat = toFlatBatch(where, 'y', y, this.yShape);
      let xFlat: tf.Tensor2D | null = null;
      if (this.xDim === 0) {
        if (x !== null && x !== undefined) fail(`${where}: this ${this.kind} takes no x (xDim 0); pass null for x`);
      } else {
        if (x === null || x === undefined) fail(`${where}: x is required (expected shape [N, ${this.xShape.join(', ')}]), got ${x}`);
        xFlat = toFlatBatch(where, 'x', x, this.xShape);
        if (xFlat.shape[0] !== yFlat.shape[0]) {
          fail(`${where}: x and y must have the same number of rows, got x ${xFlat.shape[0]} and y ${yFlat.shape[0]}`);
        }
      }
      if (check) {
        if (xFlat) assertFinite(where, 'x', xFlat);
        assertFinite(where, 'y', yFlat);
      }
      const ctx = this.buildContext(xFlat, yFlat.shape[0], options.training ?? false);
      try {
        return fn(ctx, yFlat);
      } finally {
        disposeContext(ctx);
      }
    });
  }

  /** The model as one JSON document: kind, full config and base64 weights (with their sha256). */
  toJSON(): ModelJSON {
    this.assertAlive();
    return modelToJSON(this);
  }

  /** Save to a directory (model.json + weights file), atomically: a killed save leaves the previous model intact. */
  async save(dir: string): Promise<void> {
    this.assertAlive();
    await (await modelFiles('save')).saveModel(this, dir);
  }

  /** Load a model saved with `save`; refuses truncated, corrupted or mismatched files, and other model kinds. */
  static async load<T extends EnergyModel>(this: abstract new (...args: never[]) => T, dir: string): Promise<T> {
    return expectKind(this, await (await modelFiles('load')).loadModel(dir), `load(${dir})`);
  }

  /** Rebuild a model from `toJSON()` output (object or string). */
  static fromJSON<T extends EnergyModel>(this: abstract new (...args: never[]) => T, json: unknown): T {
    return expectKind(this, modelFromJSON(json), 'fromJSON');
  }

  /** A multi-line description: kind, shapes, convexity, layers and parameter counts. */
  summary(): string {
    const lines = [
      `${this.kind}  (x: [${this.xShape.join(', ')}], y: [${this.yShape.join(', ')}])`,
      `  convex in y: ${this.isConvex ? 'yes' : 'NO'}  (positivity: ${this.positivity})`,
      ...this.describe().map((l) => `  ${l}`),
    ];
    const params = this.parameters();
    const width = Math.max(...params.map((p) => p.name.length), 4);
    lines.push(`  ${'name'.padEnd(width)}  ${'shape'.padEnd(16)} role`);
    for (const p of params) {
      lines.push(`  ${p.name.padEnd(width)}  ${`[${p.variable.shape.join(', ')}]`.padEnd(16)} ${p.role}`);
    }
    lines.push(`  trainable parameters: ${this.numParameters.toLocaleString('en-US')}`);
    return lines.join('\n');
  }

  // ---- helpers for subclasses ---------------------------------------------------------------------------

  protected assertAlive(): void {
    if (this.disposed) fail(`${this.kind}: the model has been disposed`);
  }

  /** An unconstrained weight: LeCun normal or `weightStd`'s truncated normal, unless `draw` says otherwise. */
  protected addFreeWeight(name: string, shape: number[], fanIn: number, draw?: WeightDraw): tf.Variable {
    const count = sizeOf(shape);
    return this.store.add(name, 'free', shape, draw ? drawWeights(this.rng, draw, fanIn, count) : freeInit(this.rng, fanIn, count, this.weightStd));
  }

  protected addConstant(name: string, shape: number[], value: number): tf.Variable {
    return this.store.add(name, 'free', shape, filled(sizeOf(shape), value));
  }

  /**
   * A convex-path weight W^(z) (and the bias of its layer when `biasName` is given, which the principled scheme
   * shifts). Under positivity 'none' it is drawn like a free weight (no |W|, no projection: the ablation). Returns the
   * weight's variable and the bias's (null without `biasName`).
   */
  protected addConvexWeight(name: string, shape: number[], fanIn: number, o: ResolvedConvexOptions, biasName?: string,
    draw: WeightDraw = drawFromStd(this.weightStd)): { weight: tf.Variable; bias: tf.Variable | null } {
    const count = sizeOf(shape);
    let values: Float32Array;
    let biasValue = 0;
    if (o.positivity === 'none') {
      values = drawWeights(this.rng, draw, fanIn, count);
    } else if (o.init === 'principled') {
      const slope = o.activation === 'leaky-relu' ? o.leakySlope : 0;
      const { weights, bias } = principledConvexInit(this.rng, fanIn, count, { leakySlope: slope });
      values = weights;
      biasValue = bias;
    } else {
      values = absInit(this.rng, fanIn, count, o.absScale, null, draw);
    }
    const weight = this.store.add(name, 'convex', shape, values);
    const bias = biasName ? this.addConstant(biasName, [shape[shape.length - 1]], biasValue) : null;
    return { weight, bias };
  }

  /** The effective values of every convex-path weight W^(z), by parameter name (for the affine structure's checks). */
  protected positiveWeightValues(): PositiveWeightValues[] {
    return this.store.list().filter((p) => p.role === 'convex')
      .map((p) => ({ name: p.name, values: readValues(() => this.store.value(p.name)) }));
  }
}

function expectKind<T extends EnergyModel>(cls: abstract new (...args: never[]) => T, model: EnergyModel, where: string): T {
  if (model instanceof cls) return model;
  const kind = model.kind;
  model.dispose();
  return fail(`${cls.name}.${where}: the file holds a ${kind}, not a ${cls.name}`);
}
