/**
 * Seeded pseudo-random numbers (splitmix32 state update, Box-Muller normals). Model initialization draws from
 * this generator in JavaScript, so a seed gives the same weights on every backend.
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
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
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
