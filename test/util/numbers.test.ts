/** The one strict number parser (src/util/numbers.ts): accepts decimals within float32, refuses the rest naming the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOAT32_MAX, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, checkNumber, parseFiniteNumber, parseNumberArg, stringifyFinite } from '../../src/util/numbers.js';
import { numberOption } from '../../src/cli/numberOption.js';
import { IcnnError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/random.js';

test('decimals within float32 read back as Number() reads them (random values, both signs, all exponents)', () => {
  const rng = new Rng(7);
  for (let i = 0; i < 2000; i++) {
    const v = (rng.uniform() - 0.5) * 10 ** Math.floor(rng.uniform() * 76 - 38);
    for (const text of [String(v), v.toExponential(), v.toFixed(3)]) {
      assert.equal(parseFiniteNumber(text), Number(text), text);
      assert.equal(parseNumberArg('--x', text), Number(text), text);
    }
  }
  assert.equal(parseFiniteNumber(String(FLOAT32_MAX)), FLOAT32_MAX);
  assert.equal(parseFiniteNumber(' 1.5 '), 1.5);
});

test('hex, empty, non-finite and beyond-float32 text is refused, with the flag or field named', () => {
  for (const bad of ['0x10', '', ' ', 'Infinity', '-Infinity', 'NaN', '1e39', '-3.5e38', '1e999', '1,5', '1_000', '0b1', '++1', '.']) {
    assert.equal(parseFiniteNumber(bad), null, bad);
    assert.throws(() => parseNumberArg('--seed', bad), (e: Error) => e instanceof IcnnError && e.message.startsWith('--seed must be '), bad);
  }
  assert.throws(() => parseNumberArg('--seed', '-5', NON_NEGATIVE_INT), /--seed must be a non-negative integer, got "-5" \(out of range\)/);
  assert.throws(() => parseNumberArg('--epochs', '2.5', POSITIVE_INT), /--epochs must be a positive integer, got "2\.5" \(not an integer\)/);
  assert.throws(() => numberOption(POSITIVE)('0'), /expected a finite number > 0 \(out of range\)/);
  assert.throws(() => checkNumber('config.lr', 1e39, POSITIVE), /config\.lr must be a finite number > 0, got 1e\+39 \(beyond the float32 range/);
  assert.throws(() => checkNumber('config.lr', '1'), /config\.lr must be .* \(not a number\)/);
  assert.equal(checkNumber('config.lr', 0.5, POSITIVE), 0.5);
});

test('stringifyFinite refuses NaN and infinities instead of printing null, naming the key', () => {
  assert.equal(stringifyFinite('out', { a: [1, 2], b: null }), '{"a":[1,2],"b":null}');
  assert.throws(() => stringifyFinite('solve --json', { energy: [1, NaN] }), /solve --json: '1' is NaN, not a finite number; nothing was written/);
  assert.throws(() => stringifyFinite('history', { loss: Infinity }), /history: 'loss' is Infinity/);
});
