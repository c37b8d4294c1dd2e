/**
 * Scripted controllers on the MuJoCo pendulums: discrete LQR on a finite-difference linearization of one env step
 * (through setState/step), acting on the observation only. A working controller checks the dynamics, the action
 * scaling, the observation layout and the reward/termination rules together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEnv, MujocoEnv } from '../../../src/rl/envs/index.js';
import { diag, dlqr, feedback, linearizeMujoco, MUJOCO_DIR } from './helpers.js';

async function make(name: string): Promise<MujocoEnv> {
  const env = await makeEnv(name, { mujocoDir: MUJOCO_DIR });
  assert.ok(env instanceof MujocoEnv);
  return env;
}

function episode(env: MujocoEnv, seed: number, policy: (obs: Float64Array) => number) {
  let obs = env.reset(seed);
  let ret = 0;
  let steps = 0;
  for (;;) {
    const r = env.step([policy(obs)]);
    ret += r.reward;
    steps++;
    obs = r.observation;
    if (r.terminated || r.truncated) return { ret, steps, terminated: r.terminated };
  }
}

test('LQR keeps InvertedPendulum up for the full 1000 steps (return 1000)', async () => {
  const env = await make('InvertedPendulum');
  const { A, B } = linearizeMujoco(env, [0, 0], [0]);
  const K = dlqr(A, B, diag([1, 1, 1, 1]), diag([1]));
  // obs = [x, θ, ẋ, θ̇] is the state.
  for (const seed of [0, 1, 2]) {
    const { ret, steps, terminated } = episode(env, seed, (obs) => feedback(K, obs));
    assert.equal(terminated, false, `seed ${seed}`);
    assert.equal(steps, 1000);
    assert.equal(ret, 1000);
  }
  // Within the paper's normalized action range [−1, 1] as well.
  const { ret } = episode(env, 3, (obs) => Math.max(-1, Math.min(1, feedback(K, obs))));
  assert.equal(ret, 1000);
  env.close();
});

test('LQR keeps InvertedDoublePendulum up for the full 1000 steps (return ≈ 9360, the task maximum)', async () => {
  const env = await make('InvertedDoublePendulum');
  const { A, B } = linearizeMujoco(env, [0, 0, 0], [0]);
  const K = dlqr(A, B, diag([1, 1, 1, 1, 1, 1]), diag([1]));
  // obs = [x, sin θ1, sin θ2, cos θ1, cos θ2, clip(v, ±10) (3), constraint forces (3)] → state [x, θ1, θ2, v].
  const policy = (obs: Float64Array) =>
    feedback(K, [obs[0], Math.atan2(obs[1], obs[3]), Math.atan2(obs[2], obs[4]), obs[5], obs[6], obs[7]]);
  const returns: number[] = [];
  for (const seed of [0, 1, 2]) {
    const { ret, steps, terminated } = episode(env, seed, policy);
    assert.equal(terminated, false, `seed ${seed}`);
    assert.equal(steps, 1000);
    returns.push(ret);
  }
  console.log(`InvertedDoublePendulum LQR returns: ${returns.map((r) => r.toFixed(2)).join(', ')} (1000 steps each)`);
  // Alive bonus 10 per step minus small distance/velocity penalties (paper's best: 9359.59).
  for (const r of returns) assert.ok(r > 9300 && r < 10000, `return ${r}`);
  env.close();
});
