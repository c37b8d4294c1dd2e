/** The package's icnn/rl entry (src/rl/index.ts) exposes the continuous-control API (README's example). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as rl from '../../src/rl/index.js';

test("icnn/rl: makeEnv, rl.runRl and the paper's tables are exported", async () => {
  assert.equal(typeof rl.runRl, 'function');
  assert.equal(typeof rl.makeEnv, 'function');
  assert.ok(rl.PAPER_RL_TABLES !== undefined);
  const env = await rl.makeEnv('Pendulum', { seed: 3 });
  const obs = env.reset();
  assert.equal(obs.length, env.observationSize);
  assert.equal(env.actionSize, 1);
});
