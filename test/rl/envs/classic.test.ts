/** Classic control in TypeScript: hand-computed Gym steps, scripted controllers, episode bookkeeping, bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  angleNormalize,
  CartPoleContinuousEnv,
  makeEnv,
  MountainCarContinuousEnv,
  PendulumEnv,
  type Env,
} from '../../../src/rl/envs/index.js';
import { IcnnError } from '../../../src/util/errors.js';
import { diag, dlqr, feedback, linearize } from './helpers.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

function closeAll(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], tol);
}

test('Pendulum: two steps match the Pendulum-v1 formulas (torque and speed clipping included)', () => {
  const env = new PendulumEnv();
  env.reset(3);
  // Step 1: θ = 2.5 (so angle_normalize matters: 2.5 stays 2.5), θ̇ = −1.2, u = 1.5.
  env.setState([2.5, -1.2]);
  let r = env.step([1.5]);
  const thdot1 = -1.2 + (((3 * 10) / (2 * 1)) * Math.sin(2.5) + (3 / (1 * 1)) * 1.5) * 0.05;
  const th1 = 2.5 + thdot1 * 0.05;
  closeAll(r.observation, [Math.cos(th1), Math.sin(th1), thdot1]);
  close(r.reward, -(2.5 ** 2 + 0.1 * 1.2 ** 2 + 0.001 * 1.5 ** 2));
  assert.equal(r.terminated, false);
  // Step 2: u = −7 is clipped to −2 (cost charged on −2).
  r = env.step([-7]);
  const thdot2 = thdot1 + (15 * Math.sin(th1) + 3 * -2) * 0.05;
  const th2 = th1 + thdot2 * 0.05;
  closeAll(r.observation, [Math.cos(th2), Math.sin(th2), thdot2]);
  const n1 = angleNormalize(th1);
  close(r.reward, -(n1 ** 2 + 0.1 * thdot1 ** 2 + 0.001 * 4));
  // θ = 1 + 2π (normalizes to 1) and θ̇ = 7.9 pushed past the 8 rad/s limit: θ̇' = 8, θ' = θ + 8·dt.
  const th = 1 + 2 * Math.PI;
  assert.ok(7.9 + (15 * Math.sin(th) + 6) * 0.05 > 8.5);
  env.setState([th, 7.9]);
  r = env.step([2]);
  closeAll(r.observation, [Math.cos(th + 8 * 0.05), Math.sin(th + 8 * 0.05), 8]);
  close(r.reward, -((th - 2 * Math.PI) ** 2 + 0.1 * 7.9 ** 2 + 0.001 * 4));
  assert.ok(Math.abs(angleNormalize(-Math.PI) + Math.PI) < 1e-15 && Math.abs(angleNormalize(3 * Math.PI) + Math.PI) < 1e-12);
});

test('MountainCarContinuous: steps match the v0 formulas, incl. the left wall and the goal', () => {
  const env = new MountainCarContinuousEnv();
  const obs0 = env.reset(7);
  assert.ok(obs0[0] >= -0.6 && obs0[0] < -0.4 && obs0[1] === 0);
  env.setState([-0.5, 0.01]);
  let r = env.step([0.7]);
  let v = 0.01 + 0.7 * 0.0015 - 0.0025 * Math.cos(3 * -0.5);
  let p = -0.5 + v;
  closeAll(r.observation, [p, v]);
  close(r.reward, -0.1 * 0.49);
  r = env.step([2]); // clipped to 1
  v = v + 1 * 0.0015 - 0.0025 * Math.cos(3 * p);
  p = p + v;
  closeAll(r.observation, [p, v]);
  close(r.reward, -0.1);
  // Hitting the left wall: position clipped to −1.2, velocity zeroed.
  env.setState([-1.19, -0.05]);
  r = env.step([0]);
  assert.deepEqual(Array.from(r.observation), [-1.2, 0]);
  // Reaching the goal: reward 100 − 0.1 a², terminated.
  env.setState([0.44, 0.05]);
  r = env.step([0.5]);
  assert.equal(r.terminated, true);
  close(r.reward, 100 - 0.1 * 0.25);
  assert.throws(() => env.step([0]), /episode ended.*reset/);
});

test('CartPoleContinuous: two steps match the CartPole-v1 Euler equations with force 10·a', () => {
  const env = new CartPoleContinuousEnv();
  env.reset(0);
  const s0 = [0.1, -0.2, 0.05, 0.3];
  env.setState(s0);
  const step = ([x, xd, th, thd]: number[], a: number): number[] => {
    const force = 10 * a;
    const temp = (force + 0.05 * thd * thd * Math.sin(th)) / 1.1;
    const thacc = (9.8 * Math.sin(th) - Math.cos(th) * temp) / (0.5 * (4 / 3 - (0.1 * Math.cos(th) ** 2) / 1.1));
    const xacc = temp - (0.05 * thacc * Math.cos(th)) / 1.1;
    return [x + 0.02 * xd, xd + 0.02 * xacc, th + 0.02 * thd, thd + 0.02 * thacc];
  };
  const s1 = step(s0, 0.3);
  let r = env.step([0.3]);
  closeAll(r.observation, s1);
  assert.equal(r.reward, 1);
  const s2 = step(s1, -1); // −4 is clipped to −1
  r = env.step([-4]);
  closeAll(r.observation, s2);
  // Termination at |θ| > 12°: the terminating step still pays 1.
  env.setState([0, 0, (12 * Math.PI) / 180 - 1e-4, 0.5]);
  r = env.step([0]);
  assert.equal(r.terminated, true);
  assert.equal(r.reward, 1);
  env.setState([2.39, 1, 0, 0]);
  env.reset();
  env.setState([2.39, 1, 0, 0]);
  assert.equal(env.step([0]).terminated, true, '|x| > 2.4 terminates');
});

test('spaces, sizes and time limits of the classic tasks', async () => {
  const expected: Record<string, [number, number, number, number[], number[]]> = {
    Pendulum: [3, 1, 200, [-2], [2]],
    MountainCarContinuous: [2, 1, 999, [-1], [1]],
    CartPoleContinuous: [4, 1, 500, [-1], [1]],
  };
  for (const [name, [obs, act, steps, lo, hi]] of Object.entries(expected)) {
    const env = await makeEnv(name);
    assert.equal(env.name, name);
    assert.equal(env.observationSize, obs);
    assert.equal(env.actionSize, act);
    assert.equal(env.maxEpisodeSteps, steps);
    assert.deepEqual(Array.from(env.actionLow), lo);
    assert.deepEqual(Array.from(env.actionHigh), hi);
    assert.equal(env.reset().length, obs);
    env.close();
  }
  const pend = await makeEnv('Pendulum-v1');
  assert.deepEqual(Array.from(pend.observationHigh), [1, 1, 8]);
  pend.actionLow[0] = 100; // a copy: the environment keeps its bounds
  assert.deepEqual(Array.from(pend.actionLow), [-2]);
  const cart = await makeEnv('CartPoleContinuous');
  assert.deepEqual(Array.from(cart.observationHigh).map((v) => (Number.isFinite(v) ? +v.toFixed(6) : v)), [4.8, Infinity, 0.418879, Infinity]);
});

test('truncation at the episode limit, seeded determinism, reset semantics', async () => {
  const env = await makeEnv('Pendulum', { seed: 11 });
  assert.throws(() => env.step([0]), (e: unknown) => e instanceof IcnnError && /reset\(\) before the first step/.test(e.message));
  const first = env.reset();
  let last;
  for (let i = 1; i <= 200; i++) {
    last = env.step([Math.sin(i)]);
    assert.equal(last.truncated, i === 200, `step ${i}`);
    assert.equal(last.terminated, false);
  }
  assert.throws(() => env.step([0]), /ended after 200 steps/);
  // Same seed (option or reset argument) → identical trajectories; reset() continues the stream.
  const again = await makeEnv('Pendulum', { seed: 11 });
  assert.deepEqual(again.reset(), first);
  assert.deepEqual(env.reset(11), first);
  assert.notDeepEqual(env.reset(), first);
  assert.notDeepEqual(env.reset(12), first);
  const roll = (e: Env, seed: number) => {
    const out = [Array.from(e.reset(seed))];
    for (let i = 0; i < 50; i++) {
      const r = e.step([Math.cos(i)]);
      out.push([...r.observation, r.reward]);
    }
    return out;
  };
  assert.deepEqual(roll(env, 5), roll(again, 5));
  assert.notDeepEqual(roll(env, 5), roll(again, 6));
  const short = await makeEnv('CartPoleContinuous', { maxEpisodeSteps: 3 });
  short.reset(0);
  assert.deepEqual([0, 1, 2].map(() => short.step([0]).truncated), [false, false, true]);
  short.close();
  assert.throws(() => short.reset(), /closed/);
  short.close();
});

test('bad actions, seeds and options are refused with clear errors; actions are clipped', async () => {
  const env = await makeEnv('CartPoleContinuous');
  env.reset(1);
  const isErr = (re: RegExp) => (e: unknown) => e instanceof IcnnError && re.test(e.message);
  assert.throws(() => env.step([]), isErr(/length 1, got 0/));
  assert.throws(() => env.step([0, 0]), isErr(/length 1, got 2/));
  assert.throws(() => env.step([NaN]), isErr(/action\[0\] must be a finite number, got NaN/));
  assert.throws(() => env.step([Infinity]), isErr(/finite/));
  assert.throws(() => env.step(['1' as unknown as number]), isErr(/finite number/));
  assert.throws(() => env.step(null as unknown as number[]), isErr(/array of 1 numbers/));
  assert.throws(() => env.step('1' as unknown as number[]), isErr(/array of 1 numbers/));
  assert.throws(() => env.reset(-1), isErr(/seed/));
  assert.throws(() => env.reset(1.5), isErr(/seed/));
  await assert.rejects(makeEnv('Pendulum', { seeed: 1 } as never), isErr(/unknown option 'seeed'/));
  await assert.rejects(makeEnv('Pendulum', { maxEpisodeSteps: 0 }), isErr(/maxEpisodeSteps/));
  await assert.rejects(makeEnv('Pendulum-v0'), isErr(/only Pendulum-v1/));
  await assert.rejects(makeEnv('Pendulm'), isErr(/unknown environment 'Pendulm'/));
  // The refused calls did not advance the episode; out-of-range actions equal the bound.
  const a = new PendulumEnv();
  const b = new PendulumEnv();
  a.reset(4);
  b.reset(4);
  assert.deepEqual(a.step([50]), b.step([2]));
  assert.deepEqual(a.step(new Float32Array([-3])), b.step([-2]));
});

/** Energy pumping towards the upright energy, LQR (Pendulum-v1 cost weights) near the top. */
function pendulumController(): (obs: Float64Array) => number {
  const dt = PendulumEnv.dt;
  // θ̈ = 15 sin θ + 3u, linearized at θ = 0 and discretized like the env (semi-implicit Euler).
  const A = [
    [1 + 15 * dt * dt, dt],
    [15 * dt, 1],
  ];
  const B = [[3 * dt * dt], [3 * dt]];
  const K = dlqr(A, B, diag([1, 0.1]), diag([0.001]));
  return (obs) => {
    const th = Math.atan2(obs[1], obs[0]);
    const thd = obs[2];
    const u = feedback(K, [th, thd]);
    if (Math.abs(th) < 1 && Math.abs(u) <= 2.5) return u;
    // E = ½θ̇² + 15(cos θ − 1) is 0 upright at rest; dE/dt = 3uθ̇, so push along θ̇ while E is short of the target.
    const energy = 0.5 * thd * thd + 15 * (Math.cos(th) - 1);
    return Math.max(-2, Math.min(2, 0.2 * (1 - energy) * (thd === 0 ? 1 : thd)));
  };
}

test('energy shaping + LQR swings up and holds Pendulum: average return > −200 over 5 seeds', () => {
  const policy = pendulumController();
  const env = new PendulumEnv();
  const episode = (seed: number) => {
    let obs = env.reset(seed);
    let ret = 0;
    for (;;) {
      const r = env.step([policy(obs)]);
      ret += r.reward;
      obs = r.observation;
      if (r.truncated) return { ret, final: obs };
    }
  };
  const five = [0, 1, 2, 3, 4].map(episode);
  for (const { final } of five) assert.ok(final[0] > 0.999 && Math.abs(final[2]) < 0.05, `upright at the end: ${final}`);
  const avg = five.reduce((s, e) => s + e.ret, 0) / 5;
  const avg100 = Array.from({ length: 100 }, (_, s) => episode(1000 + s).ret).reduce((a, b) => a + b, 0) / 100;
  console.log(`Pendulum swing-up: returns ${five.map((e) => e.ret.toFixed(1)).join(', ')}; mean ${avg.toFixed(1)} (100 other seeds: ${avg100.toFixed(1)})`);
  assert.ok(avg > -200, `average return ${avg}`);
});

test('LQR balances CartPoleContinuous for the full 500 steps', () => {
  const env = new CartPoleContinuousEnv();
  env.reset(0);
  const { A, B } = linearize(
    (x, u) => {
      env.setState(x);
      return Array.from(env.step(u).observation);
    },
    [0, 0, 0, 0],
    [0],
  );
  const K = dlqr(A, B, diag([1, 1, 10, 1]), diag([0.1]));
  for (const seed of [0, 1, 2]) {
    let obs = env.reset(seed);
    let ret = 0;
    let end;
    do {
      end = env.step([feedback(K, obs)]);
      ret += end.reward;
      obs = end.observation;
    } while (!end.terminated && !end.truncated);
    assert.equal(ret, 500, `seed ${seed}`);
    assert.equal(end.terminated, false);
    assert.ok(Math.abs(obs[0]) < 0.1 && Math.abs(obs[2]) < 0.01, `centred at the end: ${obs}`);
  }
  // Without control the pole falls: termination well before the limit.
  env.reset(0);
  let steps = 0;
  while (!env.step([0]).terminated) steps++;
  assert.ok(steps < 200, `fell after ${steps} steps`);
});

test('pushing along the velocity drives MountainCarContinuous to the goal', () => {
  const env = new MountainCarContinuousEnv();
  for (const seed of [0, 1]) {
    let obs = env.reset(seed);
    let ret = 0;
    let r;
    do {
      r = env.step([obs[1] >= 0 ? 1 : -1]);
      ret += r.reward;
      obs = r.observation;
    } while (!r.terminated && !r.truncated);
    assert.equal(r.terminated, true);
    assert.ok(obs[0] >= 0.45);
    assert.equal(r.reward, 100 - 0.1);
    assert.ok(ret > 80, `return ${ret}`);
  }
});
