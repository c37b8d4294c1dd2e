/**
 * The 2-D toy classification sets of §5.1, equivalent in distribution to scikit-learn's generators as the paper's
 * `synthetic-cls/icnn.py` calls them (not bit-equal: the random stream is `Rng`, not numpy's):
 *
 * - moons: `make_moons(noise=0.3)`;
 * - circles: `make_circles(noise=0.2, factor=0.5)` with labels flipped (`1 - y`: outer circle 1, inner 0);
 * - linear: `make_classification(n_features=2, n_informative=2, n_redundant=0, n_clusters_per_class=1)` plus
 *   `2·U(0,1)` noise on both coordinates.
 *
 * All return 100 points by default, shuffled, with x n×2 row-major and y ∈ {0, 1}.
 */
import { Rng } from '../util/random.js';
import * as v from 'valibot';
import { NON_NEGATIVE, POSITIVE_INT } from '../util/numbers.js';
import { bool, num, optionsSchema, parseOptions } from '../util/schema.js';
import { fail } from '../util/errors.js';

/** A 2-D binary classification set (§5.1): n points x (n × 2, row-major) and labels y ∈ {0, 1}. */
export interface Synthetic2D {
  /** n × 2, row-major. */
  x: Float32Array;
  /** n labels, 0 or 1. */
  y: Float32Array;
  n: number;
}

/** Entries shared by the three generators. */
const n = v.optional(num(POSITIVE_INT));
const noise = v.optional(num(NON_NEGATIVE));
/** Any finite seed (the Rng hashes it). */
const seed = v.optional(num({}));


/** numpy.linspace(start, stop, num, endpoint). */
function linspace(start: number, stop: number, num: number, endpoint = true): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (endpoint ? num - 1 : num);
  return Array.from({ length: num }, (_, i) => start + i * step);
}

/** Shuffle the points (sklearn.utils.shuffle), then add N(0, noise²) to every coordinate. */
function finish(xs: number[], ys: number[], labels: number[], rng: Rng, noise: number): Synthetic2D {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k];
    x[2 * k] = xs[i] + (noise > 0 ? noise * rng.normal() : 0);
    x[2 * k + 1] = ys[i] + (noise > 0 ? noise * rng.normal() : 0);
    y[k] = labels[i];
  }
  return { x, y, n };
}

const MOONS_OPTIONS = optionsSchema({ n, noise, seed });
/** Options of `makeMoons`: `n` points (default 100), Gaussian `noise` std (default 0.3, §5.1) and `seed` (default 0). */
export type MoonsOptions = v.InferOutput<typeof MOONS_OPTIONS>;

/** Two interleaving half circles (`make_moons`): label 0 the upper moon, 1 the lower one. */
export function makeMoons(options: MoonsOptions = {}): Synthetic2D {
  const where = 'makeMoons';
  const { n = 100, noise = 0.3, seed = 0 } = parseOptions(where, MOONS_OPTIONS, options);
  const rng = new Rng(seed);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const xs: number[] = [];
  const ys: number[] = [];
  const labels: number[] = [];
  for (const t of linspace(0, Math.PI, nOut)) {
    xs.push(Math.cos(t));
    ys.push(Math.sin(t));
    labels.push(0);
  }
  for (const t of linspace(0, Math.PI, nIn)) {
    xs.push(1 - Math.cos(t));
    ys.push(1 - Math.sin(t) - 0.5);
    labels.push(1);
  }
  return finish(xs, ys, labels, rng, noise);
}

const CIRCLES_OPTIONS = optionsSchema({
  n,
  noise,
  /** Radius of the inner circle relative to the outer one, in [0, 1). */
  factor: v.optional(num({ min: 0, max: 1, exclusiveMax: true })),
  seed,
  /** The paper's `1 - y`: outer circle 1, inner 0 (default true; false gives scikit-learn's labels). */
  flipLabels: v.optional(bool),
});
/**
 * Options of `makeCircles`: `n` (default 100), Gaussian `noise` std (default 0.2, §5.1), the inner radius `factor`
 * (default 0.5), `flipLabels` and `seed` (default 0).
 */
export type CirclesOptions = v.InferOutput<typeof CIRCLES_OPTIONS>;

/** A circle inside a circle (`make_circles`), labels flipped as in the paper's code. */
export function makeCircles(options: CirclesOptions = {}): Synthetic2D {
  const where = 'makeCircles';
  const { n = 100, noise = 0.2, factor = 0.5, seed = 0, flipLabels: flip = true } = parseOptions(where, CIRCLES_OPTIONS, options);
  const rng = new Rng(seed);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const xs: number[] = [];
  const ys: number[] = [];
  const labels: number[] = [];
  for (const t of linspace(0, 2 * Math.PI, nOut, false)) {
    xs.push(Math.cos(t));
    ys.push(Math.sin(t));
    labels.push(flip ? 1 : 0);
  }
  for (const t of linspace(0, 2 * Math.PI, nIn, false)) {
    xs.push(factor * Math.cos(t));
    ys.push(factor * Math.sin(t));
    labels.push(flip ? 0 : 1);
  }
  return finish(xs, ys, labels, rng, noise);
}

const LINEAR_OPTIONS = optionsSchema({
  n,
  seed,
  /** Fraction of labels replaced by a random class (`flip_y`, default 0.01). */
  flipY: v.optional(num({ min: 0, max: 1 })),
  /** Amplitude of the uniform noise added afterwards (default 2: `X += 2·U(0,1)`). */
  uniformNoise: noise,
});
/** Options of `makeLinear`: `n` (default 100), `seed` (default 0), label noise `flipY` and the added `uniformNoise` (§5.1). */
export type LinearOptions = v.InferOutput<typeof LINEAR_OPTIONS>;

/**
 * `make_classification(n_features=2, n_informative=2, n_redundant=0, n_clusters_per_class=1)` + `2·U(0,1)`: one
 * Gaussian cluster per class around two distinct random vertices of {-1, 1}², each with a random linear map
 * (entries U(-1, 1)) applied to standard normal points; 1% of the labels are re-drawn at random.
 */
export function makeLinear(options: LinearOptions = {}): Synthetic2D {
  const where = 'makeLinear';
  const { n = 100, seed = 0, flipY = 0.01, uniformNoise = 2 } = parseOptions(where, LINEAR_OPTIONS, options);
  const rng = new Rng(seed);
  const nClasses = 2;
  const dim = 2;
  // Cluster sizes: n // 2 each, the remainder to the first clusters.
  const sizes = Array.from({ length: nClasses }, (_, k) => Math.floor(n / nClasses) + (k < n % nClasses ? 1 : 0));
  // Distinct hypercube vertices (sampled without replacement), scaled to {-class_sep, +class_sep} with class_sep 1.
  const vertices = Array.from({ length: 2 ** dim }, (_, i) => i);
  for (let i = 0; i < nClasses; i++) {
    const j = i + rng.int(vertices.length - i);
    [vertices[i], vertices[j]] = [vertices[j], vertices[i]];
  }
  const centroids = vertices.slice(0, nClasses).map((v) => Array.from({ length: dim }, (_, d) => (((v >> d) & 1) === 1 ? 1 : -1)));
  const xs: number[] = [];
  const ys: number[] = [];
  const labels: number[] = [];
  for (let k = 0; k < nClasses; k++) {
    const z = Array.from({ length: sizes[k] }, () => [rng.normal(), rng.normal()]);
    // A = 2·U(0,1) − 1 (dim × dim); rows of the cluster become z·A + centroid.
    const A = [
      [2 * rng.uniform() - 1, 2 * rng.uniform() - 1],
      [2 * rng.uniform() - 1, 2 * rng.uniform() - 1],
    ];
    for (const [z0, z1] of z) {
      xs.push(z0 * A[0][0] + z1 * A[1][0] + centroids[k][0]);
      ys.push(z0 * A[0][1] + z1 * A[1][1] + centroids[k][1]);
      labels.push(k % nClasses);
    }
  }
  for (let i = 0; i < n; i++) {
    if (rng.uniform() < flipY) labels[i] = rng.int(nClasses);
  }
  const out = finish(xs, ys, labels, rng, 0);
  for (let i = 0; i < 2 * n; i++) out.x[i] += uniformNoise * rng.uniform();
  return out;
}

/** The three §5.1 data sets by name, with the paper's parameters. */
export type SyntheticName = 'moons' | 'circles' | 'linear';

const SYNTHETIC_OPTIONS = optionsSchema({ n, seed });
/** Options of `makeSynthetic`: only `n` and `seed`; every other parameter is the paper's for that set (§5.1). */
export type SyntheticOptions = v.InferOutput<typeof SYNTHETIC_OPTIONS>;

/** One of the three §5.1 sets by name, with the paper's parameters (`makeMoons`, `makeCircles` or `makeLinear`). */
export function makeSynthetic(name: SyntheticName, options: SyntheticOptions = {}): Synthetic2D {
  parseOptions('makeSynthetic', SYNTHETIC_OPTIONS, options);
  switch (name) {
    case 'moons':
      return makeMoons(options);
    case 'circles':
      return makeCircles(options);
    case 'linear':
      return makeLinear(options);
    default:
      return fail(`makeSynthetic: name must be one of 'moons', 'circles', 'linear', got ${JSON.stringify(name)}`);
  }
}
