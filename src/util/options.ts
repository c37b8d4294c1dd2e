/** Checks of single arguments (not options objects: those are schemas, see ./schema.ts). */
import { fail } from './errors.js';

export function checkPositiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    fail(`${where}: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkOneOf<T extends string>(where: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(`${where}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}
