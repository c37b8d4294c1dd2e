/**
 * Seeded pseudo-random numbers (splitmix32 state update, Box-Muller normals). Model initialization draws from
 * this generator in JavaScript, so a seed gives the same weights on every backend.
 *
 * `deriveSeed` is the library's one seed derivation: every seeded stream that is not a generator's own sequence
 * (fit's per-epoch shuffle, the RL runner's resets, noise and replay sampling) is a seed derived from the run's seed
 * and counters, so that checkpoints store counters rather than generator states.
 */
import { fail } from './errors.js';

/** MurmurHash3's 32-bit finalizer (an avalanche of all 32 bits). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit seed from a seed (any safe integer) and stream/index numbers (non-negative safe integers): MurmurHash3
 * (x86, 32-bit) of their 32-bit words.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  if (!Number.isSafeInteger(seed)) fail(`deriveSeed: seed must be an integer, got ${seed}`);
  let h = 0x2545f491;
  let words = 0;
  const body = (v: number): void => {
    let k = Math.imul(v >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    words++;
  };
  body(seed % 0x100000000);
  body(Math.floor(seed / 0x100000000));
  for (const p of parts) {
    if (!Number.isSafeInteger(p) || p < 0) fail(`deriveSeed: parts must be non-negative integers, got ${p}`);
    body(p % 0x100000000);
    body(Math.floor(p / 0x100000000));
  }
  return fmix32(h ^ (words * 4));
}

/**
 * A seeded generator (splitmix32 with a MurmurHash3 finalizer, Box-Muller normals): the same seed gives the same
 * stream on every platform and backend, which is what makes initialization and the synthetic data reproducible.
 */
export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    return fmix32(this.state) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.uniform();
    while (u <= 1e-300) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A derived generator, so that adding draws in one place does not shift another's stream. */
  fork(): Rng {
    return new Rng(Math.floor(this.uniform() * 4294967296));
  }

  /**
   * n draws from N(mean, std²) as float32.
   *
   * @param n - how many
   * @param mean - the mean (default 0)
   * @param std - the standard deviation (default 1)
   */
  fillNormal(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * n draws from U(lo, hi) as float32.
   *
   * @param n - how many
   * @param lo - lower end (default 0)
   * @param hi - upper end (default 1)
   */
  fillUniform(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }
}
