/**
 * Importing the core changes nothing in tfjs (issue #17): in a fresh Node process, no backend is registered or
 * initialized, no flag is set and no gradient rule is replaced by the import; `await init()` then does all of it,
 * and the async entry points (`fit`) initialize on first use. Each case runs in a child process, a fresh tfjs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChild } from '../helpers/child.js';

/** Run a script in a fresh process; resolves with the JSON of its last stdout line. */
async function runScript(script: string): Promise<Record<string, unknown>> {
  const r = await runChild(script, undefined, 120_000);
  if (r.code !== 0) throw new Error(`child exited ${r.code}: ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

/** A snapshot of tfjs's global state, as the child prints it. */
const SNAPSHOT = `
const OVERRIDDEN = ['BatchMatMul', 'Conv2D', 'Conv2DBackpropInput'];
const snapshot = () => ({
  backendName: tf.engine().backendName ?? null,
  registered: tf.engine().backendNames(),
  kernels: ['cpu', 'wasm', 'webgl'].map((b) => tf.getKernelsForBackend(b).length),
  flags: JSON.stringify(tf.env().flags),
  gradients: OVERRIDDEN.map((k) => tf.getGradient(k)),
});
`;

test('importing the core leaves tfjs untouched; init() then sets it up', async () => {
  const r = await runScript(`
import * as tf from '@tensorflow/tfjs-core';
${SNAPSHOT}
const before = snapshot();
const icnn = await import('./src/index.ts');
const after = snapshot();
const info = await icnn.init({ backend: 'cpu' });
const inited = snapshot();
const model = new icnn.FICNN({ yDim: 2, hidden: [4], seed: 1 });
const e = model.energy(null, [[0.5, -1]]);
console.log(JSON.stringify({
  before: { ...before, gradients: before.gradients.map((g) => g === undefined ? null : 'set') },
  unchanged: after.flags === before.flags && JSON.stringify(after.registered) === JSON.stringify(before.registered) &&
    JSON.stringify(after.kernels) === JSON.stringify(before.kernels) && after.backendName === before.backendName &&
    after.gradients.every((g, i) => g === before.gradients[i]),
  after: { backendName: after.backendName, registered: after.registered, kernels: after.kernels },
  info: { name: info.name },
  inited: { backendName: inited.backendName, prod: tf.env().getBool('PROD'), registered: inited.registered,
    overridden: inited.gradients.every((g, i) => g !== undefined && g !== before.gradients[i]) },
  energy: e.dataSync()[0],
}));
`);
  assert.equal(r.unchanged, true, 'the import changed no flag, backend, kernel or gradient');
  assert.deepEqual(r.after, { backendName: null, registered: [], kernels: [0, 0, 0] }, 'no backend registered or initialized');
  assert.doesNotMatch((r.before as { flags: string }).flags, /PROD/, 'PROD is unset before (and, by the check above, after) the import');
  assert.deepEqual(r.info, { name: 'cpu' });
  const inited = r.inited as { backendName: string; prod: boolean; registered: string[]; overridden: boolean };
  assert.equal(inited.backendName, 'cpu');
  assert.equal(inited.prod, true, 'init sets PROD (silences the tfjs banner)');
  assert.ok(inited.registered.includes('wasm') && inited.registered.includes('cpu'), JSON.stringify(inited.registered));
  assert.equal(inited.overridden, true, 'init registers the gradient overrides');
  assert.ok(Number.isFinite(r.energy), `a model computes after init (energy ${r.energy})`);
});

test('building a model before any backend exists fails in one line that says to call init()', async () => {
  const r = await runScript(`
const icnn = await import('./src/index.ts');
let message = null;
try { new icnn.PICNN({ xDim: 2, yDim: 2, hidden: [4] }); } catch (e) { message = e.message; }
console.log(JSON.stringify({ message }));
`);
  assert.match(String(r.message), /^PICNN: no tensor backend yet: call `await init\(\)`/);
  assert.ok(!String(r.message).includes('\n'));
});

test("fit initializes on first use, keeping a backend the user picked with tfjs", async () => {
  const r = await runScript(`
import * as tf from '@tensorflow/tfjs';
const icnn = await import('./src/index.ts');
await tf.setBackend('cpu');
const before = tf.getGradient('BatchMatMul');
const model = new icnn.FICNN({ yDim: 2, hidden: [8], seed: 3 });
const y = tf.randomUniform([32, 2], -1, 1, 'float32', 5);
const data = { x: null, y, target: tf.sum(tf.square(y), 1) };
const history = await icnn.fit(model, data, { objective: 'energy-regression', epochs: 1, batchSize: 16, seed: 1 });
console.log(JSON.stringify({ backend: tf.getBackend(), overridden: tf.getGradient('BatchMatMul') !== before,
  prod: tf.env().getBool('PROD'), loss: history.epochs[0].trainLoss }));
`);
  assert.equal(r.backend, 'cpu', "fit kept the user's backend");
  assert.equal(r.overridden, true, 'fit registered the gradient overrides first');
  assert.equal(r.prod, true);
  assert.ok(Number.isFinite(r.loss), `one epoch trained (loss ${r.loss})`);
});
