/**
 * The native TensorFlow 1 Adam step (src/backend/nativeFlatAdam.ts, native/src/adam.cc `adamTf1Step`) used by the
 * library's Adam (src/learning/adam.ts, the RL agents' optimizer): the same floats as the JavaScript loop, to the bit,
 * over several steps on sizes below and above the threaded chunk (65,536), with gradients spread over 60 orders of
 * magnitude so that some moments round to subnormal float32; and the hook follows the addon on and off. Skipped, with
 * the reason, when the addon is not active.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendInfo, disableNativeKernels, enableNativeKernels, setBackend, tf } from '../helpers/icnn.js';
import { Adam } from '../../src/learning/adam.js';
import { nativeFlatAdam } from '../../src/backend/nativeFlatAdam.js';
import { Rng } from '../../src/util/random.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

/** Five steps of an Adam over variables of `sizes` from fixed values and gradients: the final params, m and v. */
function run(sizes: number[], seed: number) {
  const rng = new Rng(seed);
  const vars = sizes.map((n) => tf.variable(tf.zeros([n])));
  const total = sizes.reduce((a, b) => a + b, 0);
  const opt = new Adam(vars, 1e-3, 1e-8);
  const params = rng.fillNormal(total);
  for (let step = 0; step < 5; step++) {
    const grad = Float32Array.from(rng.fillNormal(total), (g, k) => g * 10 ** (-(k % 61)));
    opt.step(grad, params);
  }
  const state = opt.getState();
  tf.dispose(vars);
  return { params, m: state.m, v: state.v };
}

test('native TF1 Adam equals the JavaScript loop bit for bit, across the threaded chunk', { skip }, async () => {
  await setBackend('wasm');
  const sizes = [1, 7, 70_000, 200_003];
  assert.notEqual(nativeFlatAdam(), null, 'the addon sets the native step');
  const withNative = run(sizes, 4);
  try {
    disableNativeKernels('test');
    assert.equal(nativeFlatAdam(), null, 'disabled: the JavaScript loop');
    const withJs = run(sizes, 4);
    assert.deepEqual(withNative.params, withJs.params, 'params');
    withNative.m.forEach((m, i) => assert.deepEqual(m, withJs.m[i], `m of variable ${i}`));
    withNative.v.forEach((v, i) => assert.deepEqual(v, withJs.v[i], `v of variable ${i}`));
    const subnormal = withJs.v.some((v) => v.some((x) => x !== 0 && Math.abs(x) < 1.1754943508222875e-38));
    assert.ok(subnormal, 'not vacuous: some second moments are subnormal float32');
  } finally {
    enableNativeKernels();
  }
  assert.notEqual(nativeFlatAdam(), null, 'enabled again');
});
