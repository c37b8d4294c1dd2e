/**
 * The one strict number parser of the command line and the config files. Every numeric input is a decimal written
 * in full: no empty string, no hex (`0x10`), no `Infinity`/`NaN`, nothing beyond float32 (the tensors are float32,
 * so 1e39 would silently become Infinity there). Errors name the flag or field and say what was expected.
 */
import { fail } from './errors.js';

/** Largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A decimal written in full (what every parser here accepts). */
export const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export interface NumberRule {
  integer?: boolean;
  /** Smallest allowed value (inclusive unless `exclusiveMin`). */
  min?: number;
  exclusiveMin?: boolean;
  max?: number;
  exclusiveMax?: boolean;
}

export const POSITIVE_INT: NumberRule = { integer: true, min: 1 };
export const NON_NEGATIVE_INT: NumberRule = { integer: true, min: 0 };
export const POSITIVE: NumberRule = { min: 0, exclusiveMin: true };
export const NON_NEGATIVE: NumberRule = { min: 0 };
export const ANY: NumberRule = {};

/** What `rule` expects, for messages ("a positive integer", "a number in (0, 1)"). */
export function describeRule(rule: NumberRule): string {
  if (rule.integer && rule.min === 1 && rule.max === undefined) return 'a positive integer';
  if (rule.integer && rule.min === 0 && rule.max === undefined) return 'a non-negative integer';
  if (!rule.integer && rule.min === 0 && rule.max === undefined) return rule.exclusiveMin ? 'a finite number > 0' : 'a finite number ≥ 0';
  const kind = rule.integer ? 'an integer' : 'a finite number';
  if (rule.min === undefined && rule.max === undefined) return rule.integer ? kind : `${kind} within float32 range`;
  const lo = rule.min === undefined ? '(-∞' : `${rule.exclusiveMin ? '(' : '['}${rule.min}`;
  const hi = rule.max === undefined ? '∞)' : `${rule.max}${rule.exclusiveMax ? ')' : ']'}`;
  return `${kind} in ${lo}, ${hi}`;
}

/** The reason `v` breaks `rule`, or null when it is fine. */
export function numberViolation(v: number, rule: NumberRule): string | null {
  if (!Number.isFinite(v)) return 'not a finite number';
  if (Math.abs(v) > FLOAT32_MAX) return 'beyond the float32 range (±3.4e38)';
  if (rule.integer && !Number.isSafeInteger(v)) return 'not an integer';
  if (rule.min !== undefined && (rule.exclusiveMin ? !(v > rule.min) : !(v >= rule.min))) return 'out of range';
  if (rule.max !== undefined && (rule.exclusiveMax ? !(v < rule.max) : !(v <= rule.max))) return 'out of range';
  return null;
}

/** A decimal within float32 range, or null (for row parsers that report the line themselves). */
export function parseFiniteNumber(text: string): number | null {
  const t = text.trim();
  if (!DECIMAL.test(t)) return null;
  const n = Number(t);
  return numberViolation(n, ANY) === null ? n : null;
}

/** Parse `text` for `name` (a flag such as `--seed` or a field such as `config.epochs`) or fail with one line. */
export function parseNumberArg(name: string, text: string, rule: NumberRule = ANY): number {
  const t = text.trim();
  const n = DECIMAL.test(t) ? Number(t) : NaN;
  const why = DECIMAL.test(t) ? numberViolation(n, rule) : 'not a decimal number';
  if (why !== null) fail(`${name} must be ${describeRule(rule)}, got ${JSON.stringify(text.slice(0, 40))} (${why})`);
  return n;
}

/** A number already parsed (from JSON) for `name`: checked against `rule`, finite and within float32. */
export function checkNumber(name: string, v: unknown, rule: NumberRule = ANY): number {
  const why = typeof v !== 'number' ? 'not a number' : numberViolation(v, rule);
  if (why !== null) fail(`${name} must be ${describeRule(rule)}, got ${JSON.stringify(v) ?? String(v)} (${why})`);
  return v as number;
}

/** JSON text with every number checked finite: NaN and ±Infinity would be printed as null, hiding them. */
export function stringifyFinite(what: string, value: unknown, space?: number): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) fail(`${what}: ${key === '' ? 'the value' : `'${key}'`} is ${v}, not a finite number; nothing was written`);
    return v;
  }, space);
}

/**
 * Whether a solver's failure comes from values out of range (messages of the LP, bundle and dual solvers, which
 * name their internal variables): callers replace it with a message in the user's terms.
 */
export function isOutOfRangeMessage(message: string): boolean {
  return /\bis (NaN|[-+]?Infinity)\b|\[\d+\] must be a (finite )?number|passModel|HiGHS/.test(message);
}
