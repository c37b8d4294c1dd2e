/** Option checks: every refusal is an IcnnError naming the caller, the option, what was expected and what came. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IcnnError } from '../../src/util/errors.js';
import { checkOneOf, checkPositiveInt } from '../../src/util/options.js';

function throwsIcnn(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'IcnnError');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('checkPositiveInt', () => {
  assert.equal(checkPositiveInt('f', 'n', 3), 3);
  for (const bad of [0, -1, 1.5, NaN, Infinity, '3', null, undefined]) {
    throwsIcnn(() => checkPositiveInt('Model', 'width', bad), /^Model: width must be a positive integer, got /);
  }
  throwsIcnn(() => checkPositiveInt('M', 'w', '3'), /got "3"/);
});

test('checkOneOf', () => {
  assert.equal(checkOneOf('f', 'mode', 'b', ['a', 'b'] as const), 'b');
  throwsIcnn(() => checkOneOf('M', 'mode', 'c', ['a', 'b'] as const), /^M: mode must be one of 'a', 'b', got "c"$/);
  throwsIcnn(() => checkOneOf('M', 'mode', 1, ['a']), /got 1/);
});
