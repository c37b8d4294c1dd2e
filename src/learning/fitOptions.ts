/**
 * The option groups that `fit` and the `icnn train` config share, declared once as schemas (no tfjs here, so
 * that the CLI can check a config before loading the engine).
 */
import * as v from 'valibot';
import { NON_NEGATIVE, POSITIVE_INT } from '../util/numbers.js';
import { arrayOf, nonEmptyString, num, oneOf, optionsSchema } from '../util/schema.js';

/** Early stopping (fit's `earlyStopping` and the train config's), declared once. */
export const EARLY_STOPPING_OPTIONS = optionsSchema({
  /** Epochs without improvement before stopping. */
  patience: num(POSITIVE_INT),
  /** Metric to watch: a validation metric name or 'trainLoss' (default: exampleF1 / mse with validation data, else trainLoss). */
  metric: v.optional(nonEmptyString),
  /** Whether smaller or larger is better (default: 'min' for losses and errors, 'max' otherwise). */
  mode: v.optional(oneOf(['min', 'max'])),
  /** An improvement must exceed this (default 0). */
  minDelta: v.optional(num(NON_NEGATIVE)),
});
/** fit's `earlyStopping` option: stop after `patience` epochs without an improvement of the watched metric. */
export type EarlyStoppingOptions = v.InferOutput<typeof EARLY_STOPPING_OPTIONS>;

/** Checkpointing (fit's `checkpoint` and the train config's), declared once. */
export const CHECKPOINT_OPTIONS = optionsSchema({
  /** Checkpoint root directory (see ./checkpoint.ts). */
  dir: nonEmptyString,
  /** Also checkpoint every this many steps (checkpoints are always written at the end of every epoch). */
  everySteps: v.optional(num(POSITIVE_INT)),
  /** Checkpoints kept (default 2). */
  keep: v.optional(num(POSITIVE_INT)),
});
/** fit's `checkpoint` option: the root directory, an optional step interval (besides every epoch end) and how many to keep. */
export type CheckpointOptions = v.InferOutput<typeof CHECKPOINT_OPTIONS>;

/** The options `fit` and the train config share, declared once (spread into both schemas). */
export const SHARED_FIT_ENTRIES = {
  /** Total epochs (a resumed run continues up to this many). */
  epochs: num(POSITIVE_INT),
  /** Rows per minibatch for in-memory data (default 32). */
  batchSize: v.optional(num(POSITIVE_INT)),
  /** Seed of the shuffle (default 0). The model's initialization has its own seed. */
  seed: v.optional(num({ integer: true })),
  /** Only these validation metrics (default: all that apply). */
  metrics: v.optional(arrayOf(nonEmptyString, 'metric names')),
  /** Threshold of the multi-label metrics (default 0.5). */
  threshold: v.optional(num({ min: 0, exclusiveMin: true, max: 1, exclusiveMax: true })),
  /** Rows per prediction batch during validation (default 256). */
  evalBatchSize: v.optional(num(POSITIVE_INT)),
  earlyStopping: v.optional(EARLY_STOPPING_OPTIONS),
  checkpoint: v.optional(CHECKPOINT_OPTIONS),
  /** Continue from a checkpoint: its root directory (LATEST is followed) or one checkpoint directory. */
  resume: v.optional(nonEmptyString),
};
