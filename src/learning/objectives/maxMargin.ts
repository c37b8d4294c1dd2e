/**
 * Structured max-margin learning (§4.2, Ratliff et al.'s subgradient method): for each example,
 *   loss-augmented inference  y⋆ = argmin_{y ∈ Y} f(x, y) − Δ(y*, y),
 *   hinge ξ = max(0, f(x, y*) − f(x, y⋆) + Δ(y*, y⋆)),   step along ∇_θ f(x, y*) − ∇_θ f(x, y⋆) when violated,
 * plus (λ/2)||θ||² (`l2`). Margins: 'hamming' Δ = Σ_j |y_j − y*_j| for multi-label y* ∈ {0,1}^n, and 'one-hot'
 * Δ = y*ᵀ(1 − y) for multiclass; both are affine in y on the box, so loss-augmented inference stays convex
 * (f − Δ = f + cᵀy + const with c = 2y* − 1, resp. c = y*). It runs on a view of the model whose energy adds the
 * linear term; predictions run the same inference on f alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EnergyModel, type EnergyContext, type ModelConfig, type ModelKind } from '../../models/energyModel.js';
import type { Batch, Objective, StepResult } from './objective.js';
import { argmin, ARGMIN_METHODS, type ArgminMethod } from '../../inference/argmin.js';
import * as v from 'valibot';
import { NON_NEGATIVE, POSITIVE_INT } from '../../util/numbers.js';
import { num, oneOf, optionsSchema, show } from '../../util/schema.js';
import { fail } from '../../util/errors.js';

export type Margin = 'hamming' | 'one-hot';

export const MAX_MARGIN_OPTIONS = optionsSchema({
  margin: v.optional(v.picklist(['hamming', 'one-hot'] as const satisfies readonly Margin[],
    (issue) => `must be 'hamming' or 'one-hot', got ${show(issue.input)}`)),
  /** Inference used for loss augmentation and prediction (default: gd, 50 iterations, on the unit box). */
  inference: v.optional(optionsSchema({
    method: v.optional(oneOf(ARGMIN_METHODS)),
    iterations: v.optional(num(POSITIVE_INT)),
    domain: v.optional(oneOf(['unit-box', 'simplex'])),
  })),
  /** Weight λ of (λ/2)||θ||² (default 0). */
  l2: v.optional(num(NON_NEGATIVE)),
});
export type MaxMarginOptions = v.InferOutput<typeof MAX_MARGIN_OPTIONS>;

interface AugmentedContext extends EnergyContext {
  base: EnergyContext;
}

/** f(x, y) + c_rᵀy for fixed per-row vectors c (the loss-augmented energy). Holds no parameters of its own. */
class LinearlyAugmentedModel extends EnergyModel {
  readonly kind: ModelKind;
  readonly config: ModelConfig;
  readonly xShape: readonly number[];
  readonly yShape: readonly number[];

  constructor(readonly base: EnergyModel, readonly linear: tf.Tensor2D) {
    super(base.positivity, 0);
    this.kind = base.kind;
    this.config = base.config;
    this.xShape = base.xShape;
    this.yShape = base.yShape;
  }

  protected get strongConvexity(): number {
    return 0;
  }

  protected buildContext(x: tf.Tensor2D | null, batch: number, training: boolean): AugmentedContext {
    const base = this.base.context(x, { training, batch });
    return { batch, base, tensors: base.tensors };
  }

  protected networkEnergy(ctx: EnergyContext, y: tf.Tensor2D): tf.Tensor1D {
    const e = this.base.energyFromContext((ctx as AugmentedContext).base, y);
    return tf.add(e, tf.sum(tf.mul(this.linear, y), 1)) as tf.Tensor1D;
  }

  protected describe(): string[] {
    return ['loss-augmented view'];
  }
}

export class MaxMargin implements Objective {
  readonly name = 'max-margin';
  readonly margin: Margin;
  readonly method: ArgminMethod;
  readonly iterations: number;
  readonly domain: 'unit-box' | 'simplex';
  readonly l2: number;

  constructor(o: MaxMarginOptions = {}) {
    this.margin = o.margin ?? 'hamming';
    if (this.margin !== 'hamming' && this.margin !== 'one-hot') fail(`max-margin: unknown margin ${JSON.stringify(this.margin)} (expected 'hamming' or 'one-hot')`);
    this.method = o.inference?.method ?? 'gd';
    if (this.method === 'lp') fail("max-margin: inference method 'lp' cannot run on the loss-augmented energy; use gd, bundle or bundle-entropy");
    this.iterations = o.inference?.iterations ?? 50;
    this.domain = o.inference?.domain ?? (this.margin === 'one-hot' ? 'simplex' : 'unit-box');
    this.l2 = o.l2 ?? 0;
  }

  /** Δ(y*, y) per row as a tensor (y* fixed). */
  private delta(target: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
    if (this.margin === 'hamming') return tf.sum(tf.abs(tf.sub(y, target)), 1) as tf.Tensor1D;
    return tf.sum(tf.mul(target, tf.sub(1, y)), 1) as tf.Tensor1D;
  }

  private async infer(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor2D> {
    const r = await argmin(model, x, { method: this.method, iterations: this.iterations, domain: this.domain, batch });
    return r.y;
  }

  async step(model: EnergyModel, batch: Batch): Promise<StepResult> {
    const rows = batch.y.shape[0];
    const target = batch.y;
    // c with f − Δ = f + cᵀy + const.
    const linear = tf.tidy(() => (this.margin === 'hamming' ? tf.sub(tf.mul(target, 2), 1) : tf.clone(target))) as tf.Tensor2D;
    const augmented = new LinearlyAugmentedModel(model, linear);
    const yStar = await this.infer(augmented, batch.x, rows);
    augmented.dispose();
    linear.dispose();
    const vars = model.trainableVariables;
    const { value, grads } = tf.variableGrads(() => {
      const ctx = model.context(batch.x, { training: true, batch: rows });
      const truth = model.energyFromContext(ctx, target);
      const augmentedEnergy = model.energyFromContext(ctx, yStar);
      const hinge = tf.relu(tf.add(tf.sub(truth, augmentedEnergy), this.delta(target, yStar)));
      let loss = tf.mean(hinge) as tf.Scalar;
      if (this.l2 > 0) loss = tf.add(loss, tf.mul(tf.addN(vars.map((v) => tf.sum(tf.square(v)))), this.l2 / 2)) as tf.Scalar;
      return loss;
    }, vars);
    yStar.dispose();
    const loss = (await value.data())[0];
    value.dispose();
    return { loss, grads };
  }

  async predict(model: EnergyModel, x: tf.Tensor2D | null, batch: number): Promise<tf.Tensor> {
    return this.infer(model, x, batch);
  }
}
