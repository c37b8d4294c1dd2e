/**
 * Options declared once: every options object of the API, the JSON configs and the CLI is a valibot schema, its
 * TypeScript type is inferred from it (`v.InferOutput`), and `parseOptions` turns the first valibot issue into the
 * library's one-line IcnnError naming the path and what was expected (issue #17). The leaf schemas below carry
 * their own message ("must be a positive integer, got 0"); numbers go through the strict rules of `numbers.ts`
 * (finite, within float32) so that the API refuses what the CLI refuses.
 */
import * as v from 'valibot';
import { fail } from './errors.js';
import { describeRule, numberViolation, type NumberRule } from './numbers.js';

/** A value as a message shows it: NaN and ±Infinity by name (JSON would print null), functions as such. */
export function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return JSON.stringify(value, (_k, e: unknown) => (typeof e === 'number' && !Number.isFinite(e) ? String(e) : e)) ?? 'an array';
  return JSON.stringify(value) ?? String(value);
}

/** A number checked against `rule` (finite, within float32, then the rule), with the reason in the message;
 * `context` qualifies the rule ("for 'bundle-entropy'"). */
export function num(rule: NumberRule, context?: string) {
  const expected = context === undefined ? describeRule(rule) : `${describeRule(rule)} ${context}`;
  return v.custom<number>((x) => typeof x === 'number' && numberViolation(x, rule) === null, (issue) => {
    const why = typeof issue.input === 'number' ? numberViolation(issue.input, rule) : 'not a number';
    return `must be ${expected}, got ${show(issue.input)} (${why})`;
  });
}

/** One of the listed strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return v.picklist(values, (issue) => `must be one of ${values.map((a) => `'${a}'`).join(', ')}, got ${show(issue.input)}`);
}

export const bool = v.boolean((issue) => `must be a boolean, got ${show(issue.input)}`);

export const nonEmptyString = v.pipe(
  v.string((issue) => `must be a non-empty string, got ${show(issue.input)}`),
  v.minLength(1, 'must be a non-empty string, got ""'),
);

/** An array of `item`s (the item's messages name the index, e.g. `hidden[1]`). */
export function arrayOf<T extends v.GenericSchema>(item: T, what: string) {
  return v.array(item, (issue) => `must be an array of ${what}, got ${show(issue.input)}`);
}

/** A function (callbacks such as onProgress). */
export function func<T extends (...args: never[]) => unknown>() {
  return v.custom<T>((x) => typeof x === 'function', (issue) => `must be a function, got ${show(issue.input)}`);
}

/** Any value that passes `check` (tensors, data sources), refused with `must be ${what}`. */
export function instance<T>(check: (x: unknown) => boolean, what: string) {
  return v.custom<T>(check, (issue) => `must be ${what}, got ${issue.input === null ? 'null' : typeof issue.input}`);
}

/** The keys of `entries` that `value` holds (to hand a sub-options object on, such as gd's part of argmin's). */
export function pickEntries<E extends v.ObjectEntries>(value: object, entries: E): Partial<{ [K in keyof E]: v.InferOutput<E[K]> }> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k in entries)) as Partial<{ [K in keyof E]: v.InferOutput<E[K]> }>;
}

/** Marks the message of an unknown-key issue, so that the adapter can phrase it as the caller's dialect says. */
const UNKNOWN_KEY = 'unknown key; expected one of: ';

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * A strict options object: unknown keys are errors listing the known ones (a typo must not be silently ignored),
 * an array or a non-object is refused as such, and a missing required key is named.
 */
export function optionsSchema<const E extends v.ObjectEntries>(entries: E) {
  const known = Object.keys(entries).join(', ');
  const schema = v.pipe(
    v.custom<Record<string, unknown>>(isPlainObject, (issue) => `must be an object, got ${Array.isArray(issue.input) ? 'an array' : show(issue.input)}`),
    v.strictObject(entries, (issue) => (issue.expected === 'never' ? `${UNKNOWN_KEY}${known}` : 'is required')),
  );
  return Object.assign(schema, { entries });
}

/** Any strict options schema made by `optionsSchema` (its entries are listed in unknown-key messages). */
export type OptionsSchema = v.GenericSchema<unknown, Record<string, unknown>> & { entries: v.ObjectEntries };

/** The options type of an entries object (for entries that are only spread into other schemas). */
export type OptionsOf<E extends v.ObjectEntries> = v.InferOutput<v.StrictObjectSchema<E, undefined>>;

/** How errors read: the API's `where: path must be …` / `where: unknown option 'k'`, or a JSON document's
 * `config.path must be …` / `config.path.k: unknown key`. */
export type Dialect = { where: string } | { root: string };

function pathOf(issue: v.BaseIssue<unknown>): string[] {
  return (issue.path ?? []).map((p) => (typeof p.key === 'number' ? `[${p.key}]` : String(p.key)));
}

function join(parts: readonly string[]): string {
  return parts.reduce((s, p) => (p.startsWith('[') || s === '' ? s + p : `${s}.${p}`), '');
}

function render(issue: v.BaseIssue<unknown>, dialect: Dialect): string {
  const parts = pathOf(issue);
  if (issue.message.startsWith(UNKNOWN_KEY)) {
    const expected = issue.message.slice(UNKNOWN_KEY.length);
    const key = parts[parts.length - 1];
    const parent = join(parts.slice(0, -1));
    if ('root' in dialect) return `${join([dialect.root, ...parts])}: unknown key (expected one of: ${expected})`;
    return `${dialect.where}: ${parent === '' ? '' : `${parent}: `}unknown option '${key}' (expected one of: ${expected})`;
  }
  if ('root' in dialect) return `${join([dialect.root, ...parts])} ${issue.message}`;
  return parts.length === 0 ? `${dialect.where}: options ${issue.message}` : `${dialect.where}: ${join(parts)} ${issue.message}`;
}

/** The issue to report: an unknown key first (the likeliest typo, as before schemas), else the first found. */
function firstIssue(issues: readonly v.BaseIssue<unknown>[]): v.BaseIssue<unknown> {
  const unknown = issues.filter((i) => i.message.startsWith(UNKNOWN_KEY));
  if (unknown.length === 0) return issues[0];
  return unknown.reduce((a, b) => ((b.path?.length ?? 0) < (a.path?.length ?? 0) ? b : a));
}

/** Parse `input` with `schema` or fail with one line naming the path and the expected value. */
export function parseWith<S extends v.GenericSchema>(schema: S, input: unknown, dialect: Dialect): v.InferOutput<S> {
  const r = v.safeParse(schema, input);
  if (r.success) return r.output;
  fail(render(firstIssue(r.issues), dialect));
}

/** Parse an API options argument (undefined or null mean none given). */
export function parseOptions<S extends v.GenericSchema>(where: string, schema: S, input: unknown): v.InferOutput<S> {
  return parseWith(schema, input ?? {}, { where });
}
