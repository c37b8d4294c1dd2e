/**
 * Exploration noise and seeded random streams for the continuous-control agents (§4.5).
 *
 * Ornstein-Uhlenbeck noise as the authors' code computes it (DDPG, NAF and ICNN agents alike):
 *   n ← n − θ·n + σ·ε,  ε ~ N(0, I),  n reset to 0 at the start of every episode,
 * added to the greedy action in [−1, 1]^d, after which the action is clipped to [−1, 1] (defaults θ = 0.15,
 * σ = 0.1).
 *
 * `deriveSeed(seed, ...parts)` gives an independent 32-bit seed per (run seed, stream, index), e.g. one generator
 * per episode for the noise and per update for replay sampling. Every random draw of a run is a function of
 * the run's seed and counters that checkpoints store, so a resumed run continues exactly as an uninterrupted one.
 */
import { fail } from '../util/errors.js';
import { checkPositiveInt } from '../util/options.js';
import { Rng } from '../util/random.js';

/** The library's one seed derivation (../util/random.ts). */
export { deriveSeed } from '../util/random.js';

/** Options of `OrnsteinUhlenbeckNoise`. */
export interface OrnsteinUhlenbeckOptions {
  /** Mean reversion θ (default 0.15); 0 gives a random walk, 1 white noise. */
  theta?: number;
  /** Scale σ of the Gaussian increments (default 0.1). */
  sigma?: number;
}

/** Ornstein–Uhlenbeck exploration noise (temporally correlated), as DDPG, NAF and the ICNN agent use. */
export class OrnsteinUhlenbeckNoise {
  readonly size: number;
  readonly theta: number;
  readonly sigma: number;
  private readonly state: Float64Array;
  private rng: Rng;

  constructor(size: number, options: OrnsteinUhlenbeckOptions = {}, seed = 0) {
    this.size = checkPositiveInt('OrnsteinUhlenbeckNoise', 'size', size);
    this.theta = checkNoiseParameter('theta', options.theta ?? 0.15, 1);
    this.sigma = checkNoiseParameter('sigma', options.sigma ?? 0.1, Infinity);
    this.state = new Float64Array(size);
    this.rng = new Rng(seed);
  }

  /** Back to n = 0; with a seed, the increments restart from that seed's stream. */
  reset(seed?: number): void {
    this.state.fill(0);
    if (seed !== undefined) this.rng = new Rng(seed);
  }

  /** Advance one step and return the new noise (a copy). */
  sample(): Float64Array {
    for (let i = 0; i < this.size; i++) this.state[i] += -this.theta * this.state[i] + this.sigma * this.rng.normal();
    return this.state.slice();
  }

  /** The current noise without advancing (a copy). */
  get value(): Float64Array {
    return this.state.slice();
  }
}

function checkNoiseParameter(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) {
    fail(`OrnsteinUhlenbeckNoise: ${name} must be a number in [0, ${max === Infinity ? '∞)' : `${max}]`}, got ${JSON.stringify(v)}`);
  }
  return v;
}
