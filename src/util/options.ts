import { fail } from './errors.js';

/** Refuse option keys that the callee does not know (a typo must not be silently ignored). */
export function checkOptionKeys(where: string, options: object | undefined | null, allowed: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    fail(`${where}: options must be an object, got ${Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      fail(`${where}: unknown option '${key}' (expected one of: ${allowed.join(', ')})`);
    }
  }
}

export function checkPositiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    fail(`${where}: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkNonNegativeInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    fail(`${where}: ${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkIntArray(where: string, name: string, v: unknown, { allowEmpty = true } = {}): number[] {
  if (!Array.isArray(v)) fail(`${where}: ${name} must be an array of positive integers, got ${JSON.stringify(v)}`);
  if (!allowEmpty && v.length === 0) fail(`${where}: ${name} must not be empty`);
  v.forEach((e, i) => checkPositiveInt(where, `${name}[${i}]`, e));
  return [...(v as number[])];
}

export function checkNumberInRange(where: string, name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    fail(`${where}: ${name} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkOneOf<T extends string>(where: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(`${where}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}
