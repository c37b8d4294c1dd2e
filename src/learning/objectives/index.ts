/**
 * Training objectives by name (§4), with their options validated: unknown option names and bad values are refused
 * with the option's path (e.g. `objectiveOptions.stepz`).
 *
 * - 'energy-regression' (§4.1): fit f(x, y) to known energies; no options.
 * - 'unrolled-gd' (§4.4): steps, learningRate, momentum, y0, loss.
 * - 'argmin-bundle-entropy' (§4.3): iterations, loss, lower, upper, entropyWeight.
 * - 'max-margin' (§4.2): ./maxMargin.ts (loss-augmented inference, Hamming or one-hot margin).
 */
import { MAX_MARGIN_OPTIONS, MaxMargin } from './maxMargin.js';
import type { Objective } from './objective.js';
import { EnergyRegression } from './energyRegression.js';
import { UNROLLED_GD_OPTIONS, UnrolledGdObjective } from './unrolledGdObjective.js';
import { ARGMIN_BUNDLE_ENTROPY_OPTIONS, ArgminBundleEntropy, type ArgminBundleEntropyOptions } from './argminBundleEntropy.js';
import { fail } from '../../util/errors.js';
import { optionsSchema, parseWith, type OptionsSchema } from '../../util/schema.js';

export type { Objective, Batch, StepResult, StructuredLoss } from './objective.js';

/**
 * The training objectives of §4 by name: energy regression (§4.1), max-margin (§4.2), unrolled GD and argmin differentiation through bundle entropy (§4.3).
 */
export const OBJECTIVE_NAMES = ['energy-regression', 'max-margin', 'unrolled-gd', 'argmin-bundle-entropy'] as const;
export type ObjectiveName = (typeof OBJECTIVE_NAMES)[number];

export interface ObjectiveEntry {
  /** The objective's options (a strict schema of `optionsSchema`; its entries are the option names). */
  schema: OptionsSchema;
  /** Build the objective from options the schema parsed; `where` prefixes error messages (e.g. 'objectiveOptions'). */
  create(options: Record<string, unknown>, where: string): Objective;
}

const BUILT_IN: Record<string, ObjectiveEntry> = {
  'energy-regression': {
    schema: optionsSchema({}),
    create: () => new EnergyRegression(),
  },
  'unrolled-gd': {
    schema: UNROLLED_GD_OPTIONS,
    create: (o) => new UnrolledGdObjective(o),
  },
  'argmin-bundle-entropy': {
    schema: ARGMIN_BUNDLE_ENTROPY_OPTIONS,
    create(o: ArgminBundleEntropyOptions, where) {
      const lower = o.lower ?? 0;
      const upper = o.upper ?? 1;
      if (!(lower < upper)) fail(`${where}: lower (${lower}) must be below upper (${upper})`);
      return new ArgminBundleEntropy(o);
    },
  },
  'max-margin': {
    schema: MAX_MARGIN_OPTIONS,
    create: (o) => new MaxMargin(o),
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
  const keys = Object.keys(entry.schema.entries);
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) {
      const expected = keys.length === 0 ? `'${name}' takes no options` : `expected one of: ${keys.join(', ')}`;
      fail(`${where}.${key}: unknown option of objective '${name}' (${expected})`);
    }
  }
  return entry.create(parseWith(entry.schema, o, { root: where }), where);
}
