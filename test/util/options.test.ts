/** Option checks: every refusal is an IcnnError naming the caller, the option, what was expected and what came. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IcnnError } from '../../src/util/errors.js';
import { checkIntArray, checkNonNegativeInt, checkNumberInRange, checkOneOf, checkOptionKeys, checkPositiveInt } from '../../src/util/options.js';

function throwsIcnn(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'IcnnError');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('checkOptionKeys', () => {
  checkOptionKeys('f', { a: 1, b: undefined }, ['a', 'b', 'c']);
  checkOptionKeys('f', undefined, ['a']);
  checkOptionKeys('f', null, ['a']);
  throwsIcnn(() => checkOptionKeys('Model', { a: 1, z: 2 }, ['a', 'b']), /^Model: unknown option 'z' \(expected one of: a, b\)$/);
  throwsIcnn(() => checkOptionKeys('Model', [1] as never, ['a']), /^Model: options must be an object, got an array$/);
  throwsIcnn(() => checkOptionKeys('Model', 3 as never, ['a']), /got number/);
});

test('checkPositiveInt and checkNonNegativeInt', () => {
  assert.equal(checkPositiveInt('f', 'n', 3), 3);
  assert.equal(checkNonNegativeInt('f', 'n', 0), 0);
  for (const bad of [0, -1, 1.5, NaN, Infinity, '3', null, undefined]) {
    throwsIcnn(() => checkPositiveInt('Model', 'width', bad), /^Model: width must be a positive integer, got /);
  }
  throwsIcnn(() => checkPositiveInt('M', 'w', '3'), /got "3"/);
  for (const bad of [-1, 0.5, '0']) throwsIcnn(() => checkNonNegativeInt('M', 'xDim', bad), /xDim must be a non-negative integer/);
});

test('checkIntArray', () => {
  assert.deepEqual(checkIntArray('f', 'h', [1, 2]), [1, 2]);
  assert.deepEqual(checkIntArray('f', 'h', []), []);
  const input = [4, 5];
  const out = checkIntArray('f', 'h', input);
  assert.notEqual(out, input, 'returns a copy');
  throwsIcnn(() => checkIntArray('f', 'h', [], { allowEmpty: false }), /h must not be empty/);
  throwsIcnn(() => checkIntArray('M', 'hidden', [4, -2]), /^M: hidden\[1\] must be a positive integer, got -2$/);
  throwsIcnn(() => checkIntArray('M', 'hidden', '4,2'), /hidden must be an array of positive integers, got "4,2"/);
});

test('checkNumberInRange', () => {
  assert.equal(checkNumberInRange('f', 'a', 0, 0, 1), 0);
  assert.equal(checkNumberInRange('f', 'a', 1, 0, 1), 1);
  for (const bad of [-0.01, 1.01, NaN, Infinity, '0.5']) {
    throwsIcnn(() => checkNumberInRange('M', 'leakySlope', bad, 0, 1), /^M: leakySlope must be a number in \[0, 1\], got /);
  }
});

test('checkOneOf', () => {
  assert.equal(checkOneOf('f', 'mode', 'b', ['a', 'b'] as const), 'b');
  throwsIcnn(() => checkOneOf('M', 'mode', 'c', ['a', 'b'] as const), /^M: mode must be one of 'a', 'b', got "c"$/);
  throwsIcnn(() => checkOneOf('M', 'mode', 1, ['a']), /got 1/);
});
