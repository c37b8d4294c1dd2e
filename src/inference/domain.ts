/**
 * Feasible sets Y for inference ŷ = argmin_{y ∈ Y} f(x, y) (§3): the unit box [0,1]^n (the paper's default,
 * §3.4), any box (handled by affine scaling), the probability simplex (one-hot outputs, §3.4 and §4.2), or
 * all of R^n (gradient descent only).
 */
import { fail } from '../util/errors.js';
import * as v from 'valibot';
import { optionsSchema, parseOptions } from '../util/schema.js';
import { projectOntoSimplex } from '../linalg/simplexProjection.js';

/** A box { lower, upper }: each bound one number for every coordinate or one per coordinate (checked by `bounds`
 * against the dimension, which the schema does not know). */
const bound = v.custom<number | number[]>(() => true);
const BOX = optionsSchema({ lower: bound, upper: bound });
export type BoxSpec = v.InferOutput<typeof BOX>;

/**
 * The feasible set Y of an argmin, as a caller names it: 'unit-box' ([0,1]^n, the default), 'simplex', 'unbounded'
 * (R^n, gradient descent only) or a box `{ lower, upper }` (§3).
 */
export type DomainSpec = 'unit-box' | 'simplex' | 'unbounded' | BoxSpec;

export interface Domain {
  readonly kind: 'box' | 'simplex' | 'unbounded';
  readonly n: number;
  /** Box bounds (kind 'box'). */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  /** Euclidean projection of one row onto the set, in place. */
  project(row: Float64Array): void;
  /** A default starting point (box centre, simplex barycentre, origin). */
  center(): Float64Array;
  /** Diameter (∞ for unbounded), the natural step scale of a first-order method. */
  readonly diameter: number;
  /** Human-readable name. */
  readonly label: string;
}

function bounds(where: string, v: number | number[], n: number, name: string): Float64Array {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(`${where}: domain.${name} must be finite, got ${v}`);
    return new Float64Array(n).fill(v);
  }
  if (!Array.isArray(v) || v.length !== n) fail(`${where}: domain.${name} must be a number or an array of ${n} numbers, got ${JSON.stringify(v)}`);
  v.forEach((e, i) => {
    if (typeof e !== 'number' || !Number.isFinite(e)) fail(`${where}: domain.${name}[${i}] must be a finite number, got ${e}`);
  });
  return Float64Array.from(v);
}

export function makeDomain(where: string, spec: DomainSpec | undefined, n: number): Domain {
  const s = spec ?? 'unit-box';
  if (Array.isArray(s)) fail(`${where}: domain must be 'unit-box', 'simplex', 'unbounded' or { lower, upper }, got the array ${JSON.stringify(s)}`);
  if (typeof s === 'object' && s !== null) parseOptions(`${where}: domain`, BOX, s);
  if (s === 'unit-box' || typeof s === 'object') {
    const lower = s === 'unit-box' ? new Float64Array(n) : bounds(where, s.lower, n, 'lower');
    const upper = s === 'unit-box' ? new Float64Array(n).fill(1) : bounds(where, s.upper, n, 'upper');
    let d2 = 0;
    for (let i = 0; i < n; i++) {
      if (!(lower[i] < upper[i])) fail(`${where}: domain lower must be < upper in every coordinate, got ${lower[i]} ≥ ${upper[i]} at ${i}`);
      d2 += (upper[i] - lower[i]) ** 2;
    }
    return {
      kind: 'box', n, lower, upper, diameter: Math.sqrt(d2), label: s === 'unit-box' ? 'unit-box' : 'box',
      project: (row) => {
        for (let i = 0; i < n; i++) row[i] = Math.min(Math.max(row[i], lower[i]), upper[i]);
      },
      center: () => Float64Array.from(lower, (l, i) => (l + upper[i]) / 2),
    };
  }
  if (s === 'simplex') {
    return {
      kind: 'simplex', n, lower: new Float64Array(n), upper: new Float64Array(n).fill(1), diameter: Math.SQRT2, label: 'simplex',
      project: (row) => {
        projectOntoSimplex(row, row);
      },
      center: () => new Float64Array(n).fill(1 / n),
    };
  }
  if (s === 'unbounded') {
    return {
      kind: 'unbounded', n, lower: new Float64Array(n).fill(-Infinity), upper: new Float64Array(n).fill(Infinity),
      diameter: Infinity, label: 'unbounded',
      project: () => undefined,
      center: () => new Float64Array(n),
    };
  }
  return fail(`${where}: unknown domain ${JSON.stringify(s)} (expected 'unit-box', 'simplex', 'unbounded' or { lower, upper })`);
}
