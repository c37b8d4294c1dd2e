/**
 * MuJoCo tasks (mujoco-js, MuJoCo 3.3.8): sizes against the paper's table, reward/observation wiring against the
 * v1 definitions, termination and truncation, seeded determinism (also across wasm memory growth), refusal of bad
 * actions, and a rough speed print.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENV_SPECS, loadMujocoModule, makeEnv, MUJOCO_ENV_NAMES, MujocoEnv, type Env } from '../../../src/rl/envs/index.js';
import { compileModel } from '../../../src/rl/envs/mujocoModule.js';
import { IcnnError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/random.js';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDirFor } from '../../helpers/tmp.js';
import { MUJOCO_DIR } from './helpers.js';

/** §5.4 of the paper: (# state, # action). */
const PAPER_TABLE: Record<string, [number, number]> = {
  InvertedPendulum: [4, 1],
  InvertedDoublePendulum: [11, 1],
  Reacher: [11, 2],
  HalfCheetah: [17, 6],
  Swimmer: [8, 2],
  Hopper: [11, 3],
  Walker2d: [17, 6],
  Ant: [111, 8],
  Humanoid: [376, 17],
  HumanoidStandup: [376, 17],
};

async function make(name: string, options: Parameters<typeof makeEnv>[1] = {}): Promise<MujocoEnv> {
  const env = await makeEnv(name, { mujocoDir: MUJOCO_DIR, ...options });
  assert.ok(env instanceof MujocoEnv);
  return env;
}

function randomActions(env: Env, n: number, seed: number, scale = 1): Float64Array[] {
  const rng = new Rng(seed);
  const lo = env.actionLow;
  const hi = env.actionHigh;
  return Array.from({ length: n }, () => Float64Array.from(lo, (l, j) => scale * (l + (hi[j] - l) * rng.uniform())));
}

const sumSq = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v * v, 0);
const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('observation and action sizes of the ten MuJoCo tasks match the paper table; spaces, limits, dt', async () => {
  assert.deepEqual([...MUJOCO_ENV_NAMES].sort(), Object.keys(PAPER_TABLE).sort());
  const dt: Record<string, number> = {
    InvertedPendulum: 0.04, InvertedDoublePendulum: 0.05, Reacher: 0.02, HalfCheetah: 0.05, Swimmer: 0.04,
    Hopper: 0.008, Walker2d: 0.008, Ant: 0.05, Humanoid: 0.015, HumanoidStandup: 0.015,
  };
  const bound: Record<string, number> = { InvertedPendulum: 3, Humanoid: 0.4, HumanoidStandup: 0.4 };
  for (const name of MUJOCO_ENV_NAMES) {
    const [obsSize, actSize] = PAPER_TABLE[name];
    assert.equal(ENV_SPECS[name].observationSize, obsSize, name);
    assert.equal(ENV_SPECS[name].actionSize, actSize, name);
    assert.equal(ENV_SPECS[name].gymId, `${name}-v1`);
    const env = await make(`${name}-v1`);
    assert.equal(env.name, name);
    assert.equal(env.observationSize, obsSize, `${name} observationSize`);
    assert.equal(env.actionSize, actSize, `${name} actionSize`);
    const obs = env.reset(0);
    assert.equal(obs.length, obsSize, `${name} reset observation`);
    assert.ok(obs.every(Number.isFinite));
    const r = env.step(new Float64Array(actSize));
    assert.equal(r.observation.length, obsSize, `${name} step observation`);
    const b = bound[name] ?? 1;
    assert.deepEqual(Array.from(env.actionLow), new Array(actSize).fill(-b), `${name} action low`);
    assert.deepEqual(Array.from(env.actionHigh), new Array(actSize).fill(b), `${name} action high`);
    assert.ok(env.observationLow.every((v) => v === -Infinity) && env.observationHigh.every((v) => v === Infinity));
    assert.equal(env.maxEpisodeSteps, name === 'Reacher' ? 50 : 1000);
    near(env.dt, dt[name], 1e-12);
    env.close();
  }
});

test('reward and observation wiring follows the v1 definitions', async () => {
  // HalfCheetah: obs = [qpos[1:], qvel]; reward = Δx/dt − 0.1 Σa².
  const hc = await make('HalfCheetah');
  hc.reset(1);
  for (const a of randomActions(hc, 20, 2)) {
    const x0 = hc.getState().qpos[0];
    const r = hc.step(a);
    const { qpos, qvel } = hc.getState();
    assert.deepEqual(Array.from(r.observation), [...qpos.slice(1), ...qvel]);
    near(r.reward, (qpos[0] - x0) / 0.05 - 0.1 * sumSq(a));
  }
  hc.close();

  // Hopper: obs = [qpos[1:], clip(qvel, ±10)]; reward = Δx/dt + 1 − 1e-3 Σa²; velocities are clipped.
  const hop = await make('Hopper');
  hop.reset(0);
  const q = hop.getState().qpos;
  const obs = hop.setState(q, [12, -30, 0.5, 0, 0, 0]);
  assert.deepEqual(Array.from(obs.slice(5)), [10, -10, 0.5, 0, 0, 0]);
  hop.reset(0);
  const x0 = hop.getState().qpos[0];
  const r = hop.step([0.5, -0.2, 1]);
  near(r.reward, (hop.getState().qpos[0] - x0) / 0.008 + 1 - 1e-3 * (0.25 + 0.04 + 1));
  hop.close();

  // InvertedDoublePendulum: reward = 10 − (0.01 x² + (y − 2)²) − (1e−3 v1² + 5e−3 v2²) with (x, y) the tip site,
  // which (read after mj_step) lags the state by at most one physics substep.
  const idp = await make('InvertedDoublePendulum');
  idp.reset(0);
  idp.setState([0.1, 0.2, -0.3], [0.5, 4, -6]);
  for (const a of [[0.3], [-0.2], [0.1]]) {
    const res = idp.step(a);
    const { qpos, qvel } = idp.getState();
    const { tipX, tipHeight, distPenalty, velPenalty } = res.info as Record<string, number>;
    near(velPenalty, 1e-3 * qvel[1] ** 2 + 5e-3 * qvel[2] ** 2);
    near(distPenalty, 0.01 * tipX ** 2 + (tipHeight - 2) ** 2);
    near(res.reward, 10 - distPenalty - velPenalty);
    assert.ok(velPenalty > 0.01, 'velocities matter');
    const kinX = qpos[0] + 0.6 * Math.sin(qpos[1]) + 0.6 * Math.sin(qpos[1] + qpos[2]);
    const kinY = 0.6 * Math.cos(qpos[1]) + 0.6 * Math.cos(qpos[1] + qpos[2]);
    assert.ok(Math.abs(tipX - kinX) < 0.1 && Math.abs(tipHeight - kinY) < 0.1, `tip (${tipX}, ${tipHeight}) vs (${kinX}, ${kinY})`);
    assert.deepEqual(Array.from(res.observation.slice(0, 5)), [qpos[0], Math.sin(qpos[1]), Math.sin(qpos[2]), Math.cos(qpos[1]), Math.cos(qpos[2])]);
    assert.deepEqual(Array.from(res.observation.slice(5, 8)), Array.from(qvel, (v) => Math.max(-10, Math.min(10, v))));
  }
  idp.close();

  // Reacher: the reward is computed before the physics step, from the previous observation's fingertip − target.
  const reacher = await make('Reacher');
  let prev = reacher.reset(3);
  const goal = reacher.getState().qpos.slice(2);
  assert.ok(Math.abs(goal[0]) <= 0.2 && Math.abs(goal[1]) <= 0.2);
  for (const a of randomActions(reacher, 10, 4)) {
    const res = reacher.step(a);
    near(res.reward, -Math.hypot(prev[8], prev[9], prev[10]) - sumSq(a));
    const s = reacher.getState();
    near(res.observation[0], Math.cos(s.qpos[0]));
    near(res.observation[3], Math.sin(s.qpos[1]));
    assert.deepEqual(Array.from(res.observation.slice(4, 6)), Array.from(goal), 'the target stays put');
    prev = res.observation;
  }
  reacher.close();

  // Ant and Humanoid: the contact forces (cfrc_ext, via mj_rnePostConstraint) reach the observation once feet touch.
  const antEnv = await make('Ant');
  antEnv.reset(0);
  let res = antEnv.step(new Float64Array(8));
  for (let i = 0; i < 20; i++) res = antEnv.step(new Float64Array(8));
  const contact = res.observation.slice(27);
  assert.equal(contact.length, 84);
  assert.ok(contact.some((v) => v !== 0) && contact.every((v) => Math.abs(v) <= 1), 'clipped, non-zero cfrc_ext');
  assert.ok((res.info?.contactCost ?? 0) > 0);
  antEnv.close();
  const hum = await make('Humanoid');
  hum.reset(0);
  let hr = hum.step(new Float64Array(17));
  assert.equal(sumSq(hr.observation.slice(376 - 84)), 0, 'no contact at first');
  for (let i = 0; i < 30 && sumSq(hr.observation.slice(376 - 84)) === 0; i++) hr = hum.step(new Float64Array(17));
  assert.ok(sumSq(hr.observation.slice(376 - 84)) > 0, 'humanoid cfrc_ext once the feet touch');
  near(hr.reward, (hr.info?.linVelCost ?? NaN) - 0 - (hr.info?.quadImpactCost ?? NaN) + 5);
  hum.close();

  // HumanoidStandup: reward = height/timestep − … + 1, with the torso lying at about 0.105.
  const up = await make('HumanoidStandup');
  up.reset(0);
  const ur = up.step(new Float64Array(17));
  near(ur.info?.uphCost ?? NaN, up.getState().qpos[2] / 0.003);
  assert.ok(ur.reward > 25 && ur.reward < 45, `standup reward ${ur.reward}`);
  assert.equal(ur.terminated, false);
  up.close();
});

test('termination rules (Hopper, Walker2d, Ant, Humanoid, the pendulums); terminal steps end the episode', async () => {
  for (const [name, limit] of [['Hopper', 300], ['Walker2d', 300]] as const) {
    const env = await make(name);
    env.reset(0);
    let steps = 0;
    let r;
    do {
      r = env.step(new Float64Array(env.actionSize).fill(-1));
      steps++;
    } while (!r.terminated && !r.truncated);
    assert.equal(r.terminated, true, `${name} falls`);
    assert.ok(steps < limit, `${name} fell after ${steps} steps`);
    const { height, angle } = r.info as { height: number; angle: number };
    if (name === 'Hopper') assert.ok(!(height > 0.7 && Math.abs(angle) < 0.2), `hopper h=${height} a=${angle}`);
    else assert.ok(!(height > 0.8 && height < 2 && angle > -1 && angle < 1), `walker h=${height} a=${angle}`);
    assert.throws(() => env.step(new Float64Array(env.actionSize)), /ended.*reset/);
    env.close();
  }
  // The health rules, checked on the state after every step of random rollouts (many episodes end each way).
  const healthy: Record<string, (q: Float64Array, v: Float64Array) => boolean> = {
    Hopper: (q, v) =>
      [...q, ...v].every(Number.isFinite) && [...q.slice(2), ...v].every((x) => Math.abs(x) < 100) && q[1] > 0.7 && Math.abs(q[2]) < 0.2,
    Walker2d: (q) => q[1] > 0.8 && q[1] < 2.0 && q[2] > -1 && q[2] < 1,
  };
  for (const [name, rule] of Object.entries(healthy)) {
    const env = await make(name);
    const ends = new Set<string>();
    for (let ep = 0; ep < 12; ep++) {
      env.reset(ep);
      const actions = randomActions(env, 300, 100 + ep, ep % 3 === 0 ? 0.3 : 1);
      for (const a of actions) {
        const res = env.step(a);
        const { qpos, qvel } = env.getState();
        assert.equal(res.terminated, !rule(qpos, qvel), `${name} episode ${ep}: h=${qpos[1]} angle=${qpos[2]}`);
        if (res.terminated) {
          ends.add(qpos[1] <= (name === 'Hopper' ? 0.7 : 0.8) ? 'low' : 'angle');
          break;
        }
      }
    }
    assert.ok(ends.size > 0);
    if (name === 'Hopper') {
      // Crouched (thigh folded) but upright: too low at a torso height of 0.65, fine at 0.8.
      for (const [height, done] of [[0.65, true], [0.8, false]] as const) {
        env.reset(0);
        env.setState([0, height, 0, -1.0, 0, 0], new Float64Array(6));
        const res = env.step(new Float64Array(3));
        const { qpos, qvel } = env.getState();
        assert.ok(Math.abs(qpos[2]) < 0.05);
        assert.equal(res.terminated, done, `crouched at ${height}`);
        assert.equal(res.terminated, !rule(qpos, qvel));
      }
    }
    // A walker dropped from above 2 m is unhealthy at once; a hopper has no upper limit.
    env.reset(0);
    const s = env.getState();
    s.qpos[1] = 2.3;
    env.setState(s.qpos, s.qvel);
    assert.equal(env.step(new Float64Array(env.actionSize)).terminated, name === 'Walker2d');
    env.close();
  }

  // A blown-up simulation: MuJoCo warns and resets the state itself; the step reports it in info.
  const hop = await make('Hopper');
  hop.reset(0);
  assert.equal(hop.step([0, 0, 0]).info?.simulationWarnings, undefined);
  hop.setState(hop.getState().qpos, [0, 0, 0, 1e12, 0, 0]);
  const blown = hop.step([0, 0, 0]);
  assert.equal(blown.info?.simulationWarnings, 1);
  assert.ok(Math.abs(hop.getState().qpos[1] - 1.25) < 0.01, 'reset to qpos0 by MuJoCo');
  hop.close();
  const ip = await make('InvertedPendulum');
  ip.reset(0);
  let steps = 0;
  let r;
  do {
    r = ip.step([0.5]);
    steps++;
  } while (!r.terminated);
  assert.ok(Math.abs(r.observation[1]) > 0.2 && steps < 50, `pole angle ${r.observation[1]} after ${steps}`);
  ip.close();
  const idp = await make('InvertedDoublePendulum');
  idp.reset(0);
  steps = 0;
  do {
    r = idp.step([0.2]);
    steps++;
  } while (!r.terminated);
  assert.ok((r.info?.tipHeight ?? 2) <= 1 && steps < 100, `tip ${r.info?.tipHeight} after ${steps}`);
  idp.close();
  // Ant: healthy while 0.2 ≤ torso z ≤ 1; an ant thrown up to z = 1.5 is done at once.
  const antEnv = await make('Ant');
  antEnv.reset(0);
  assert.equal(antEnv.step(new Float64Array(8)).terminated, false);
  const s = antEnv.getState();
  s.qpos[2] = 1.5;
  antEnv.setState(s.qpos, s.qvel);
  assert.equal(antEnv.step(new Float64Array(8)).terminated, true);
  // Humanoid: done when the torso drops below 1.0 (it collapses without control).
  const hum = await make('Humanoid');
  hum.reset(0);
  steps = 0;
  do {
    r = hum.step(new Float64Array(17));
    steps++;
  } while (!r.terminated);
  assert.ok(hum.getState().qpos[2] < 1.0 && steps < 200, `humanoid fell after ${steps}`);
  hum.close();
  antEnv.close();
});

test('truncation at the episode limit (Reacher 50, maxEpisodeSteps override) and reset semantics', async () => {
  const reacher = await make('Reacher');
  assert.throws(() => reacher.step([0, 0]), /reset\(\) before the first step/);
  reacher.reset(0);
  for (let i = 1; i <= 50; i++) {
    const r = reacher.step([0.1, -0.1]);
    assert.equal(r.truncated, i === 50, `step ${i}`);
    assert.equal(r.terminated, false);
  }
  assert.throws(() => reacher.step([0, 0]), /ended after 50 steps/);
  const obs = reacher.reset(0);
  assert.ok(obs.every(Number.isFinite));
  assert.equal(reacher.elapsedSteps, 0);
  reacher.close();
  reacher.close();
  assert.throws(() => reacher.reset(), (e: unknown) => e instanceof IcnnError && /closed/.test(e.message));
  assert.throws(() => reacher.getState(), /closed/);

  const hc = await make('HalfCheetah', { maxEpisodeSteps: 7, seed: 3 });
  hc.reset();
  const flags = Array.from({ length: 7 }, () => hc.step(new Float64Array(6)).truncated);
  assert.deepEqual(flags, [false, false, false, false, false, false, true]);
  // reset restores qpos0 + noise of the right size, velocities included (HalfCheetah: U(±0.1), 0.1·N).
  const s = hc.getState();
  hc.reset(9);
  const t = hc.getState();
  assert.notDeepEqual(s.qpos, t.qpos);
  assert.ok(t.qpos.every((v) => Math.abs(v) <= 0.1) && t.qvel.some((v) => v !== 0) && t.qvel.every((v) => Math.abs(v) < 0.6));
  hc.close();
  const hop = await make('Hopper');
  hop.reset(2);
  const h = hop.getState();
  assert.ok(Math.abs(h.qpos[1] - 1.25) <= 0.005 && h.qvel.every((v) => Math.abs(v) <= 0.005));
  hop.close();
});

test('seeded determinism: same seed → identical trajectories, also across wasm memory growth', async () => {
  const mj = await loadMujocoModule();
  for (const name of ['HalfCheetah', 'Hopper', 'Ant', 'Reacher']) {
    const a = await make(name, { seed: 5 });
    const b = await make(name);
    const actions = randomActions(a, 60, 8);
    const roll = async (env: MujocoEnv, seed: number | undefined, growAt = -1): Promise<number[][]> => {
      const out = [Array.from(seed === undefined ? env.reset() : env.reset(seed))];
      for (const [i, act] of actions.entries()) {
        if (i === growAt) await growWasmMemory(mj);
        const r = env.step(act);
        out.push([...r.observation, r.reward, Number(r.terminated)]);
        if (r.terminated || r.truncated) break;
      }
      return out;
    };
    const ref = await roll(a, undefined);
    assert.deepEqual(await roll(b, 5), ref, `${name}: seed option vs reset(seed)`);
    assert.deepEqual(await roll(a, 5), ref, `${name}: reset(5) again`);
    assert.notDeepEqual((await roll(b, 6))[0], ref[0], `${name}: another seed`);
    assert.deepEqual(await roll(b, 5, 30), ref, `${name}: a rollout interrupted by wasm memory growth`);
    a.close();
    b.close();
  }
});

/** Compile large models until wasm memory grows (which detaches every existing view), then free them. */
async function growWasmMemory(mj: Awaited<ReturnType<typeof loadMujocoModule>>): Promise<void> {
  const probe = compileModel(mj, '<mujoco><worldbody><body><joint type="slide"/><geom size="0.1"/></body></worldbody></mujoco>', 'probe');
  const view = probe.data.qpos as Float64Array;
  const length = (): number => view.length; // a detached view reads as length 0
  assert.equal(length(), 1);
  const envs: MujocoEnv[] = [];
  while (length() !== 0 && envs.length < 200) envs.push(await make('Humanoid'));
  assert.equal(length(), 0, 'wasm memory grew');
  for (const e of envs) e.close();
  probe.data.delete();
  probe.model.delete();
}

test('bad actions are refused; out-of-range actions are clipped to the actuator range', async () => {
  const hc = await make('HalfCheetah');
  hc.reset(0);
  const isErr = (re: RegExp) => (e: unknown) => e instanceof IcnnError && re.test(e.message);
  assert.throws(() => hc.step([0, 0, 0]), isErr(/HalfCheetah.step: action must have length 6, got 3/));
  assert.throws(() => hc.step([0, 0, 0, NaN, 0, 0]), isErr(/action\[3\] must be a finite number, got NaN/));
  assert.throws(() => hc.setState([0], [0]), isErr(/lengths 9\/9/));
  await assert.rejects(makeEnv('HalfCheetah-v4', { mujocoDir: MUJOCO_DIR }), isErr(/only HalfCheetah-v1/));
  await assert.rejects(makeEnv('HalfCheetah', { mujocoDir: MUJOCO_DIR, modelSet: 'v2' as never }), isErr(/modelSet/));
  const other = await make('HalfCheetah');
  other.reset(0);
  const big = hc.step([5, -5, 1.5, -0.5, 0.2, 100]);
  const clipped = other.step([1, -1, 1, -0.5, 0.2, 1]);
  assert.deepEqual(big, clipped);
  hc.close();
  other.close();
  const ip = await make('InvertedPendulum');
  const ip2 = await make('InvertedPendulum');
  ip.reset(1);
  ip2.reset(1);
  assert.deepEqual(ip.step([10]), ip2.step([3]), 'InvertedPendulum is clipped at ±3');
  ip.close();
  ip2.close();
});

test('close() frees the model and data: creating and closing environments does not grow wasm memory', async () => {
  const mj = await loadMujocoModule();
  const cycle = async () => {
    const envs = await Promise.all([make('Humanoid'), make('Ant'), make('Humanoid')]);
    for (const e of envs) {
      e.reset(0);
      e.step(new Float64Array(e.actionSize));
      e.close();
    }
  };
  for (let i = 0; i < 3; i++) await cycle(); // reach the steady-state heap size
  const probe = compileModel(mj, '<mujoco><worldbody><body><joint type="slide"/><geom size="0.1"/></body></worldbody></mujoco>', 'probe');
  const view = probe.data.qpos as Float64Array;
  for (let i = 0; i < 25; i++) await cycle();
  assert.equal(view.length, 1, 'no growth: the probe view is still attached');
  probe.data.delete();
  probe.model.delete();
});

test('model files that MuJoCo 3 cannot use are refused with clear errors', async (t) => {
  const dir = tempDirFor(t);
  mkdirSync(path.join(dir, 'gymnasium'));
  // The v1 hopper (global coordinates) in place of the Gymnasium one: MuJoCo 3 refuses it.
  copyFileSync(path.join(MUJOCO_DIR, 'hopper.xml'), path.join(dir, 'gymnasium', 'hopper.xml'));
  await assert.rejects(
    makeEnv('Hopper', { mujocoDir: dir, verify: false }),
    (e: unknown) => e instanceof IcnnError && /MuJoCo could not compile hopper\.xml: mjXError/.test(e.message),
  );
  // Another task's model: wrong number of actuators.
  copyFileSync(path.join(MUJOCO_DIR, 'inverted_pendulum.xml'), path.join(dir, 'half_cheetah.xml'));
  await assert.rejects(makeEnv('HalfCheetah', { mujocoDir: dir, verify: false }), /has 1 actuators .* expected 6/);
  writeFileSync(path.join(dir, 'reacher.xml'), '<mujoco><worldbody>');
  await assert.rejects(makeEnv('Reacher', { mujocoDir: dir, verify: false }), /not well-formed XML/);
});

test("the 'gymnasium' model set loads the same tasks with the same sizes", async () => {
  for (const name of ['InvertedPendulum', 'Humanoid', 'Walker2d']) {
    const env = await make(name, { modelSet: 'gymnasium' });
    assert.match(env.modelPath, /gymnasium/);
    assert.equal(env.reset(0).length, PAPER_TABLE[name][0]);
    env.close();
  }
  const v1 = await make('HalfCheetah');
  assert.doesNotMatch(v1.modelPath, /gymnasium/, 'v1 files where MuJoCo 3 compiles them');
  v1.close();
  const hop = await make('Hopper');
  assert.match(hop.modelPath, /gymnasium/, 'the v1 hopper does not compile in MuJoCo 3');
  hop.close();
});

test('speed (printed, not asserted)', async () => {
  const lines: string[] = [];
  for (const name of MUJOCO_ENV_NAMES) {
    const env = await make(name);
    const actions = randomActions(env, 64, 1);
    const run = (n: number) => {
      env.reset(0);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const r = env.step(actions[i & 63]);
        if (r.terminated || r.truncated) env.reset();
      }
      return performance.now() - t0;
    };
    run(200);
    const n = name === 'HalfCheetah' ? 3000 : 600;
    const ms = run(n);
    lines.push(`${name} ${((n / ms) * 1000).toFixed(0)} steps/s (${((ms / n) * 1000).toFixed(0)} µs/step, frame skip ${env.frameSkip})`);
    env.close();
  }
  console.log(`MuJoCo env speed: ${lines.join('; ')}`);
});
