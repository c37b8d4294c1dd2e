/** OU noise, derived seeds, and the normalized view of an environment (action/observation scaling). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrnsteinUhlenbeckNoise, deriveSeed } from '../../src/rl/noise.js';
import { ActionScaling, NormalizedEnv, ObservationScaling } from '../../src/rl/agents/normalizedEnv.js';
import { PendulumEnv, CartPoleContinuousEnv } from '../../src/rl/envs/index.js';

test('OU noise follows n ← n − θn + σε, restarts at 0, and is a function of its seed', () => {
  const a = new OrnsteinUhlenbeckNoise(2, { theta: 0.15, sigma: 0.1 }, 7);
  const b = new OrnsteinUhlenbeckNoise(2, { theta: 0.15, sigma: 0.1 }, 7);
  const xs = Array.from({ length: 5 }, () => a.sample());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.sample()));
  a.reset(7);
  assert.deepEqual([...a.value], [0, 0]);
  assert.deepEqual(a.sample(), xs[0]);
  // First step from 0 is σε, so |n| is small; θ = 1 gives white noise with std σ.
  const white = new OrnsteinUhlenbeckNoise(1, { theta: 1, sigma: 0.5 }, 1);
  let s2 = 0;
  for (let i = 0; i < 20000; i++) s2 += white.sample()[0] ** 2;
  assert.ok(Math.abs(Math.sqrt(s2 / 20000) - 0.5) < 0.02);
});

test('OU noise has the AR(1) stationary std σ/√(1 − (1 − θ)²) and mean reversion', () => {
  const n = new OrnsteinUhlenbeckNoise(1, { theta: 0.15, sigma: 0.1 }, 3);
  for (let i = 0; i < 200; i++) n.sample();
  let s = 0;
  let s2 = 0;
  let lag = 0;
  let prev = n.value[0];
  const N = 60000;
  for (let i = 0; i < N; i++) {
    const v = n.sample()[0];
    s += v;
    s2 += v * v;
    lag += v * prev;
    prev = v;
  }
  const std = Math.sqrt(s2 / N - (s / N) ** 2);
  const expected = 0.1 / Math.sqrt(1 - 0.85 ** 2);
  assert.ok(Math.abs(std - expected) / expected < 0.08, `std ${std} vs ${expected}`);
  assert.ok(Math.abs(lag / s2 - 0.85) < 0.03, `lag-1 autocorrelation ${lag / s2}`);
});

test('OU options are checked', () => {
  assert.throws(() => new OrnsteinUhlenbeckNoise(1, { theta: 1.5 }), /theta must be a number in \[0, 1\]/);
  assert.throws(() => new OrnsteinUhlenbeckNoise(1, { sigma: -1 }), /sigma/);
});

test('deriveSeed gives distinct, stable 32-bit seeds per stream and index', () => {
  const seen = new Set<number>();
  for (let s = 0; s < 3; s++) for (let stream = 0; stream < 5; stream++) for (let i = 0; i < 200; i++) seen.add(deriveSeed(s, stream, i));
  assert.equal(seen.size, 3 * 5 * 200);
  assert.equal(deriveSeed(1, 2, 3), deriveSeed(1, 2, 3));
  for (const v of seen) assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
  assert.throws(() => deriveSeed(0, -1), /non-negative integers/);
});

test('actions are scaled [−1, 1] ↔ [low, high] and clipped; bounded observations to [−1, 1]', () => {
  const s = new ActionScaling([-2, 0], [2, 10]);
  assert.deepEqual([...s.toEnv([-1, 1])], [-2, 10]);
  assert.deepEqual([...s.toEnv([0.5, 0])], [1, 5]);
  assert.deepEqual([...s.toEnv([3, -7])], [2, 0]);
  assert.deepEqual([...s.fromEnv(s.toEnv([0.25, -0.75]))], [0.25, -0.75]);
  assert.throws(() => new ActionScaling([0], [Infinity]), /finite/);
  const o = new ObservationScaling([-1, -Infinity, 0], [1, Infinity, 8]);
  assert.deepEqual([...o.apply([0.5, 123, 8])], [0.5, 123, 1]);
});

test('NormalizedEnv: the pendulum sees a ∈ [−1, 1] as torque 2a, and θ̇ scaled by 1/8', () => {
  const raw = new PendulumEnv();
  const env = new NormalizedEnv(raw);
  const o = env.reset(3);
  assert.deepEqual([...env.actionLow], [-1]);
  assert.deepEqual([...env.actionHigh], [1]);
  const state = raw.getState();
  assert.ok(Math.abs(o[2] - state[1] / 8) < 1e-12);
  const twin = new PendulumEnv();
  twin.reset(3);
  const r = env.step([0.5]);
  const t = twin.step([1.0]);
  assert.equal(r.reward, t.reward);
  assert.ok(Math.abs(r.observation[2] - t.observation[2] / 8) < 1e-12);
  // Unbounded coordinates (cart-pole velocities) pass unchanged.
  const cp = new NormalizedEnv(new CartPoleContinuousEnv());
  const c = cp.reset(1);
  assert.ok(Number.isFinite(c[1]));
  assert.throws(() => env.step([NaN]), /finite/);
});
