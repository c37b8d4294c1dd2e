/**
 * The options adapter (src/util/schema.ts): schemas refuse with one IcnnError line naming the path and what was
 * expected, in the API's dialect (`where: path …`, `where: unknown option 'k'`) or a JSON document's
 * (`config.path …`, `config.path.k: unknown key`); numbers follow the strict rules of numbers.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { IcnnError } from '../../src/util/errors.js';
import { FLOAT32_MAX, NON_NEGATIVE, POSITIVE, POSITIVE_INT, numberViolation, type NumberRule } from '../../src/util/numbers.js';
import { arrayOf, bool, nonEmptyString, num, oneOf, optionsSchema, parseOptions, parseWith, pickEntries, show } from '../../src/util/schema.js';
import { Rng } from '../../src/util/random.js';

function refuses(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return true;
  });
}

const INNER = optionsSchema({ steps: num(POSITIVE_INT), rate: v.optional(num(POSITIVE)) });
const OUTER = optionsSchema({
  name: v.optional(nonEmptyString),
  inner: v.optional(INNER),
  widths: v.optional(arrayOf(num(POSITIVE_INT), 'positive integers')),
  mode: v.optional(oneOf(['a', 'b'])),
  flag: v.optional(bool),
});

test('valid options come back unchanged, with only the keys given', () => {
  const input = { name: 'x', inner: { steps: 3 }, widths: [4, 5], mode: 'b' as const, flag: false };
  assert.deepEqual(parseOptions('f', OUTER, input), input);
  assert.deepEqual(parseOptions('f', OUTER, {}), {});
  assert.deepEqual(parseOptions('f', OUTER, undefined), {});
  assert.deepEqual(parseOptions('f', OUTER, null), {});
  const out = parseOptions('f', OUTER, { widths: [1] });
  assert.notEqual(out.widths, undefined);
});

test('API dialect: the path and the expected value are named', () => {
  refuses(() => parseOptions('f', OUTER, { inner: { steps: 0 } }), /^f: inner\.steps must be a positive integer, got 0 \(out of range\)$/);
  refuses(() => parseOptions('f', OUTER, { inner: { steps: 2, rate: -1 } }), /^f: inner\.rate must be a finite number > 0, got -1/);
  refuses(() => parseOptions('f', OUTER, { inner: {} }), /^f: inner\.steps is required$/);
  refuses(() => parseOptions('f', OUTER, { widths: [3, 1.5] }), /^f: widths\[1\] must be a positive integer, got 1\.5 \(not an integer\)$/);
  refuses(() => parseOptions('f', OUTER, { widths: 3 }), /^f: widths must be an array of positive integers, got 3$/);
  refuses(() => parseOptions('f', OUTER, { mode: 'c' }), /^f: mode must be one of 'a', 'b', got "c"$/);
  refuses(() => parseOptions('f', OUTER, { flag: 'yes' }), /^f: flag must be a boolean, got "yes"$/);
  refuses(() => parseOptions('f', OUTER, { name: '' }), /^f: name must be a non-empty string, got ""$/);
  refuses(() => parseOptions('f', OUTER, [1]), /^f: options must be an object, got an array$/);
  refuses(() => parseOptions('f', OUTER, { inner: [1] }), /^f: inner must be an object, got an array$/);
  refuses(() => parseOptions('f', OUTER, { inner: 5 }), /^f: inner must be an object, got 5$/);
});

test('unknown keys are errors listing the known ones, reported before other faults', () => {
  refuses(() => parseOptions('f', OUTER, { nmae: 'x' }), /^f: unknown option 'nmae' \(expected one of: name, inner, widths, mode, flag\)$/);
  refuses(() => parseOptions('f', OUTER, { inner: { steps: 1, stepz: 2 } }), /^f: inner: unknown option 'stepz' \(expected one of: steps, rate\)$/);
  // A bad value and a typo in the same call: the typo is the likelier cause, as with the hand-written checks.
  refuses(() => parseOptions('f', OUTER, { mode: 'c', flg: true }), /unknown option 'flg'/);
  refuses(() => parseOptions('f', OUTER, { inner: { steps: 1, x: 1 }, y: 2 }), /^f: unknown option 'y'/);
});

test('document dialect: paths start at the root', () => {
  const doc = { root: 'config' };
  refuses(() => parseWith(OUTER, { inner: { steps: 1, every: 2 } }, doc), /^config\.inner\.every: unknown key \(expected one of: steps, rate\)$/);
  refuses(() => parseWith(OUTER, { inner: { steps: 1e39 } }, doc), /^config\.inner\.steps must be a positive integer, got 1e\+39 \(beyond the float32 range/);
  refuses(() => parseWith(OUTER, { inner: {} }, doc), /^config\.inner\.steps is required$/);
  refuses(() => parseWith(OUTER, [], doc), /^config must be an object, got an array$/);
});

test('num agrees with numbers.ts on random inputs (property)', () => {
  const rng = new Rng(7);
  const rules: NumberRule[] = [POSITIVE_INT, NON_NEGATIVE, POSITIVE, {}, { min: -1, max: 1, exclusiveMax: true }, { integer: true, min: 0, max: 10 }];
  const specials = [0, -0, 1, -1, 0.5, 10, 11, NaN, Infinity, -Infinity, FLOAT32_MAX, FLOAT32_MAX * 2, -FLOAT32_MAX * 2, 2 ** 53, 1e-40];
  for (const rule of rules) {
    const schema = optionsSchema({ x: num(rule) });
    const values = [...specials, ...Array.from({ length: 200 }, () => (rng.uniform() - 0.5) * 10 ** Math.floor(rng.uniform() * 12 - 4))];
    for (const x of values) {
      const ok = numberViolation(x, rule) === null;
      const r = v.safeParse(schema, { x });
      assert.equal(r.success, ok, `${show(x)} under ${JSON.stringify(rule)}`);
      if (!ok) refuses(() => parseOptions('p', schema, { x }), new RegExp(`^p: x must be .*, got ${show(x).replace(/[+.]/g, '\\$&')} \\(`));
    }
    for (const x of ['1', null, true, [1], {}]) refuses(() => parseOptions('p', schema, { x }), /\(not a number\)$/);
  }
});

test('show names NaN and the infinities (JSON would print null)', () => {
  assert.equal(show(NaN), 'NaN');
  assert.equal(show(-Infinity), '-Infinity');
  assert.equal(show([1, NaN]), '[1,"NaN"]');
  assert.equal(show('a'), '"a"');
  assert.equal(show(undefined), 'undefined');
  assert.equal(show(() => 1), 'a function');
});

test('pickEntries keeps the keys of a sub-schema', () => {
  const entries = { a: v.optional(num({})), b: v.optional(num({})) };
  assert.deepEqual(pickEntries({ a: 1, c: 3, method: 'x' }, entries), { a: 1 });
  assert.deepEqual(pickEntries({}, entries), {});
});
