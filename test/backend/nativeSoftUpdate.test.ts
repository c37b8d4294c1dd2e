/**
 * The native soft target update (src/backend/nativeSoftUpdate.ts, native/src/soft_update.cc) used by the RL agents'
 * flat parameter mirrors: FlatParams steps with the addon on and off give the same floats to the bit, and the hook
 * follows the addon on and off. Skipped, with the reason, when the addon is not active.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendInfo, disableNativeKernels, enableNativeKernels, setBackend, tf } from '../helpers/icnn.js';
import { FlatParams } from '../../src/rl/agents/flatParams.js';
import { Adam } from '../../src/rl/agents/nets.js';
import { nativeSoftUpdate } from '../../src/backend/nativeSoftUpdate.js';
import { Rng } from '../../src/util/random.js';

const native = backendInfo().native;
const skip = native.enabled ? false : `native addon not active: ${native.reason}`;

/** Four FlatParams steps (τ = 0.01, values over 40 orders of magnitude) from fixed values: the target mirror. */
function targetsAfterSteps(seed: number): Float32Array {
  const rng = new Rng(seed);
  const shapes = [[300, 7], [7], [1000]];
  const make = () => shapes.map((s) => tf.tidy(() => tf.variable(tf.tensor(rng.fillNormal(s.reduce((a, b) => a * b, 1)).map((v, k) => v * 10 ** (-(k % 41))), s))));
  const online = make();
  const target = make();
  const flat = new FlatParams(online.map((v, i) => ({ online: v, target: target[i], convex: i === 0 })), new Adam(online, 1e-3, 1e-8));
  for (let step = 0; step < 4; step++) {
    const grads = shapes.map((s) => tf.tensor(rng.fillNormal(s.reduce((a, b) => a * b, 1)), s));
    flat.step(grads, 0.01);
    tf.dispose(grads);
  }
  const out = Float32Array.from(flat.target);
  tf.dispose([...online, ...target]);
  return out;
}

test('native soft update equals the JavaScript loop bit for bit', { skip }, async () => {
  await setBackend('wasm');
  assert.notEqual(nativeSoftUpdate(), null, 'the addon sets the native update');
  const withNative = targetsAfterSteps(5);
  try {
    disableNativeKernels('test');
    assert.equal(nativeSoftUpdate(), null, 'disabled: the JavaScript loop');
    const withJs = targetsAfterSteps(5);
    assert.deepEqual(Array.from(withNative), Array.from(withJs));
  } finally {
    enableNativeKernels();
  }
  assert.notEqual(nativeSoftUpdate(), null, 'enabled again');
});
