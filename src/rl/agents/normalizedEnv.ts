/**
 * The agents' view of an environment (the authors' `normalized_env.py`, §4.5): actions live in [−1, 1]^d and are
 * mapped affinely onto the environment's box [low, high]; observation coordinates with finite bounds are mapped
 * onto [−1, 1] the same way, unbounded ones are passed unchanged. Rewards are passed unchanged (the runner scales
 * them by `rewardScale` for learning only, as the authors' `reward_k`).
 *
 * Deviation: the authors rescale every observation coordinate when *any* bound is finite (an infinite bound then
 * turns the coordinate into 0); here each coordinate is rescaled only when both its bounds are finite.
 */
import { fail } from '../../util/errors.js';
import type { Env, StepResult } from '../envs/env.js';

/** The map between normalized actions [−1, 1]^d and an environment's action box. */
export class ActionScaling {
  readonly size: number;
  private readonly center: Float64Array;
  private readonly half: Float64Array;

  constructor(low: ArrayLike<number>, high: ArrayLike<number>) {
    if (low.length !== high.length || low.length === 0) fail(`ActionScaling: low and high must be non-empty and of equal length, got ${low.length} and ${high.length}`);
    this.size = low.length;
    this.center = new Float64Array(this.size);
    this.half = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) {
      if (!Number.isFinite(low[i]) || !Number.isFinite(high[i]) || !(low[i] < high[i])) {
        fail(`ActionScaling: the action box must be finite and non-empty, got [${low[i]}, ${high[i]}] at ${i}`);
      }
      this.center[i] = (low[i] + high[i]) / 2;
      this.half[i] = (high[i] - low[i]) / 2;
    }
  }

  /** [−1, 1] → [low, high] (inputs outside [−1, 1] are clipped first). */
  toEnv(a: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.center[i] + this.half[i] * Math.min(1, Math.max(-1, a[i]));
    return out;
  }

  /** [low, high] → [−1, 1]. */
  fromEnv(u: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = (u[i] - this.center[i]) / this.half[i];
    return out;
  }
}

/** Observation rescaling: coordinates with both bounds finite go to [−1, 1], the others are left as they are. */
export class ObservationScaling {
  readonly size: number;
  private readonly center: Float64Array;
  private readonly half: Float64Array;

  constructor(low: ArrayLike<number>, high: ArrayLike<number>) {
    this.size = low.length;
    this.center = new Float64Array(this.size);
    this.half = new Float64Array(this.size).fill(1);
    for (let i = 0; i < this.size; i++) {
      if (Number.isFinite(low[i]) && Number.isFinite(high[i]) && low[i] < high[i]) {
        this.center[i] = (low[i] + high[i]) / 2;
        this.half[i] = (high[i] - low[i]) / 2;
      }
    }
  }

  /** The observation mapped to [−1, 1] on its bounded coordinates. */
  apply(obs: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = (obs[i] - this.center[i]) / this.half[i];
    return out;
  }
}

/** An environment seen through normalized actions and observations. `inner` is the wrapped environment. */
export class NormalizedEnv implements Env {
  readonly name: string;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly maxEpisodeSteps: number;
  readonly actions: ActionScaling;
  readonly observations: ObservationScaling;

  constructor(readonly inner: Env) {
    this.name = inner.name;
    this.observationSize = inner.observationSize;
    this.actionSize = inner.actionSize;
    this.maxEpisodeSteps = inner.maxEpisodeSteps;
    this.actions = new ActionScaling(inner.actionLow, inner.actionHigh);
    this.observations = new ObservationScaling(inner.observationLow, inner.observationHigh);
  }

  get actionLow(): Float64Array {
    return new Float64Array(this.actionSize).fill(-1);
  }

  get actionHigh(): Float64Array {
    return new Float64Array(this.actionSize).fill(1);
  }

  get observationLow(): Float64Array {
    return this.observations.apply(this.inner.observationLow);
  }

  get observationHigh(): Float64Array {
    return this.observations.apply(this.inner.observationHigh);
  }

  /** Start an episode of the wrapped environment; returns the scaled first observation. */
  reset(seed?: number): Float64Array {
    return this.observations.apply(this.inner.reset(seed));
  }

  /** `action` in [−1, 1]^d (clipped), mapped to the environment's box. */
  step(action: ArrayLike<number>): StepResult {
    if (action === null || typeof action !== 'object' || action.length !== this.actionSize) {
      fail(`${this.name}.step: action must be an array of ${this.actionSize} numbers`);
    }
    for (let i = 0; i < this.actionSize; i++) {
      if (typeof action[i] !== 'number' || !Number.isFinite(action[i])) fail(`${this.name}.step: action[${i}] must be a finite number, got ${String(action[i])}`);
    }
    const r = this.inner.step(this.actions.toEnv(action));
    return { ...r, observation: this.observations.apply(r.observation) };
  }

  close(): void {
    this.inner.close();
  }
}
