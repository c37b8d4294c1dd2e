/** The demo page's input checks (demo/src/checks.ts): what the page refuses, and with which message. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNetworkSize, checkTrainingSet, MAX_LAYERS, MAX_PARAMETERS, messageOf, parseHidden, parseNumber } from '../../demo/src/checks.js';
// The page imports the core entry, and so does this test: 'icnn' is the built package (dist/) here, as in examples/.
import { FICNN, IcnnError, init, PICNN, Rng } from 'icnn';

test('parseHidden reads comma-separated positive widths and refuses anything else', () => {
  assert.deepEqual(parseHidden('64, 64'), [64, 64]);
  assert.deepEqual(parseHidden(' 8 '), [8]);
  for (const bad of ['', '64,', '0', '-3', '2.5', 'a,b', '64 64']) {
    assert.throws(() => parseHidden(bad), (e: Error) => e instanceof IcnnError && /hidden layers must be positive integers/.test(e.message), bad);
  }
  assert.throws(() => parseHidden(Array(MAX_LAYERS + 1).fill('4').join(',')), /at most 6 hidden layers/);
});

test('parseNumber accepts exactly the numbers in range (integers where asked)', () => {
  const rng = new Rng(3);
  for (let i = 0; i < 200; i++) {
    const v = (rng.uniform() - 0.5) * 40;
    const inRange = v >= -10 && v <= 10;
    if (inRange) assert.equal(parseNumber('v', String(v), -10, 10), v);
    else assert.throws(() => parseNumber('v', String(v), -10, 10), /v must be a number in \[-10, 10\]/);
  }
  assert.throws(() => parseNumber('steps', '2.5', 1, 10, { integer: true }), /steps must be an integer/);
  assert.throws(() => parseNumber('x', '  ', 0, 1), /got " {2}"/);
  assert.throws(() => parseNumber('x', 'NaN', 0, 1));
});

test('checkTrainingSet refuses no points and a single class, accepts both classes', () => {
  assert.throws(() => checkTrainingSet([]), /no training points/);
  const one = [{ x0: 0, x1: 0, label: 1 }, { x0: 1, x1: 1, label: 1 }];
  assert.throws(() => checkTrainingSet(one), /all 2 points are of class 1/);
  checkTrainingSet([...one, { x0: 2, x1: 2, label: 0 }]);
});

test('checkNetworkSize bounds the parameter count of the models the page builds', async () => {
  await init({ backend: 'cpu' });
  // The estimate must not undercount the real models (else "too large" would let a larger one through).
  for (const hidden of [[8], [64, 64], [200, 200], [32, 16, 8]]) {
    const estimate = checkNetworkSize(3, hidden);
    for (const model of [new FICNN({ xDim: 2, yDim: 1, hidden }), new PICNN({ xDim: 2, yDim: 1, hidden })]) {
      assert.ok(model.numParameters <= estimate, `${model.kind} [${hidden}]: ${model.numParameters} > estimate ${estimate}`);
      model.dispose();
    }
  }
  assert.throws(() => checkNetworkSize(3, [4000, 4000]), (e: Error) => e instanceof IcnnError && /network too large/.test(e.message) &&
    e.message.includes(MAX_PARAMETERS.toLocaleString('en-US')));
});

test('messageOf shows library errors as they are and marks any other error', () => {
  assert.equal(messageOf(new IcnnError('bad x')), 'bad x');
  assert.equal(messageOf(new TypeError('oops')), 'unexpected error: oops');
  assert.equal(messageOf('thrown string'), 'unexpected error: thrown string');
});
