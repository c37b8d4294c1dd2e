/**
 * Training objectives by name (§4), with their options validated: unknown option names and bad values are refused
 * with the option's path (e.g. `objectiveOptions.stepz`).
 *
 * - 'energy-regression' (§4.1): fit f(x, y) to known energies; no options.
 * - 'unrolled-gd' (§4.4): steps, learningRate, momentum, y0, loss.
 * - 'argmin-bundle-entropy' (§4.3): iterations, loss, lower, upper, entropyWeight.
 * - 'max-margin' (§4.2): ./maxMargin.ts (loss-augmented inference, Hamming or one-hot margin).
 */
import { MaxMargin, type Margin, type MaxMarginOptions } from './maxMargin.js';
import type { Objective } from './objective.js';
import { EnergyRegression } from './energyRegression.js';
import { UnrolledGdObjective } from './unrolledGdObjective.js';
import { ArgminBundleEntropy } from './argminBundleEntropy.js';
import { fail } from '../../util/errors.js';

export type { Objective, Batch, StepResult, StructuredLoss } from './objective.js';

/**
 * The training objectives of §4 by name: energy regression (§4.1), max-margin (§4.2), unrolled GD and argmin differentiation through bundle entropy (§4.3).
 */
export const OBJECTIVE_NAMES = ['energy-regression', 'max-margin', 'unrolled-gd', 'argmin-bundle-entropy'] as const;
export type ObjectiveName = (typeof OBJECTIVE_NAMES)[number];

export interface ObjectiveEntry {
  /** Option names the objective accepts. */
  keys: readonly string[];
  /** Build the objective from options whose keys were checked; `where` prefixes error messages (e.g. 'objectiveOptions'). */
  create(options: Record<string, unknown>, where: string): Objective;
}

function positiveInt(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(`${where} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function finite(where: string, v: unknown, { positive = false } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
    fail(`${where} must be a ${positive ? 'positive' : 'finite'} number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function lossName(where: string, v: unknown): 'mse' | 'bce' {
  if (v !== 'mse' && v !== 'bce') fail(`${where} must be 'mse' or 'bce', got ${JSON.stringify(v)}`);
  return v;
}

/** Copy the options that are present, each checked by its validator. */
function pick(o: Record<string, unknown>, where: string, checks: Record<string, (where: string, v: unknown) => unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, check] of Object.entries(checks)) {
    if (o[k] !== undefined) out[k] = check(`${where}.${k}`, o[k]);
  }
  return out;
}

const BUILT_IN: Record<string, ObjectiveEntry> = {
  'energy-regression': {
    keys: [],
    create: () => new EnergyRegression(),
  },
  'unrolled-gd': {
    keys: ['steps', 'learningRate', 'momentum', 'y0', 'loss'],
    create(o, where) {
      const v = pick(o, where, {
        steps: positiveInt, learningRate: (w, x) => finite(w, x, { positive: true }), momentum: finite, y0: finite, loss: lossName,
      });
      if (v.momentum !== undefined && !((v.momentum as number) >= 0 && (v.momentum as number) < 1)) {
        fail(`${where}.momentum must be in [0, 1), got ${JSON.stringify(v.momentum)}`);
      }
      return new UnrolledGdObjective(v);
    },
  },
  'argmin-bundle-entropy': {
    keys: ['iterations', 'loss', 'lower', 'upper', 'entropyWeight'],
    create(o, where) {
      const v = pick(o, where, {
        iterations: positiveInt, loss: lossName, lower: finite, upper: finite, entropyWeight: (w, x) => finite(w, x, { positive: true }),
      });
      const lower = (v.lower as number | undefined) ?? 0;
      const upper = (v.upper as number | undefined) ?? 1;
      if (!(lower < upper)) fail(`${where}: lower (${lower}) must be below upper (${upper})`);
      return new ArgminBundleEntropy(v);
    },
  },
  'max-margin': {
    keys: ['margin', 'inference', 'l2'],
    create(o, where) {
      const margin = o.margin;
      if (margin !== undefined && margin !== 'hamming' && margin !== 'one-hot') {
        fail(`${where}.margin must be 'hamming' or 'one-hot', got ${JSON.stringify(margin)}`);
      }
      const inference = o.inference as Record<string, unknown> | undefined;
      if (inference !== undefined) {
        if (typeof inference !== 'object' || inference === null) fail(`${where}.inference must be an object`);
        for (const k of Object.keys(inference)) {
          if (!['method', 'iterations', 'domain'].includes(k)) fail(`${where}.inference.${k}: unknown key (expected method, iterations, domain)`);
        }
        if (inference.iterations !== undefined) positiveInt(`${where}.inference.iterations`, inference.iterations);
      }
      const l2 = o.l2 === undefined ? undefined : finite(`${where}.l2`, o.l2);
      if (l2 !== undefined && l2 < 0) fail(`${where}.l2 must be ≥ 0, got ${l2}`);
      return new MaxMargin({ margin: margin as Margin | undefined, inference: inference as MaxMarginOptions['inference'], l2 });
    },
  },
};

const registry = new Map<string, ObjectiveEntry>(Object.entries(BUILT_IN));

/** Make an objective available by name (used by objectives defined outside this file, e.g. max-margin). */
export function registerObjective(name: ObjectiveName, entry: ObjectiveEntry): void {
  registry.set(name, entry);
}

/** Names that `createObjective` can build now. */
export function availableObjectives(): ObjectiveName[] {
  return OBJECTIVE_NAMES.filter((n) => registry.has(n));
}

/**
 * Build an objective by name. `options` are its options (unknown names are refused); `where` names them in errors
 * (default 'objectiveOptions'), e.g. `config.objectiveOptions` gives `config.objectiveOptions.stepz: …`.
 */
export function createObjective(name: unknown, options?: unknown, where = 'objectiveOptions'): Objective {
  if (typeof name !== 'string' || !(OBJECTIVE_NAMES as readonly string[]).includes(name)) {
    fail(`unknown objective ${JSON.stringify(name)} (expected one of: ${OBJECTIVE_NAMES.join(', ')})`);
  }
  const entry = registry.get(name);
  if (!entry) {
    fail(`objective '${name}' is not available yet (its module is not wired into src/learning/objectives/index.ts); ` +
      `available: ${availableObjectives().join(', ')}`);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    fail(`${where} must be an object, got ${Array.isArray(options) ? 'an array' : JSON.stringify(options)}`);
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!entry.keys.includes(key)) {
      const expected = entry.keys.length === 0 ? `'${name}' takes no options` : `expected one of: ${entry.keys.join(', ')}`;
      fail(`${where}.${key}: unknown option of objective '${name}' (${expected})`);
    }
  }
  return entry.create(o, where);
}
