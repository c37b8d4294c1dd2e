/**
 * The ten Gym v1 MuJoCo tasks of the paper's Table (§5.4), from the definitions in
 * shared/data/mujoco/PROVENANCE.md (read from openai/gym @ 0c91364c). Notation: q = qpos, v = qvel, a = the
 * (clipped) action, dt = timestep · frameSkip; "before"/"after" = around the frameSkip physics steps.
 */
import type { Rng } from '../../util/random.js';
import type { MujocoSim, MujocoTask } from './mujocoEnv.js';

/** The MuJoCo tasks of §5.4. */
export const MUJOCO_ENV_NAMES = [
  'InvertedPendulum',
  'InvertedDoublePendulum',
  'Reacher',
  'HalfCheetah',
  'Swimmer',
  'Hopper',
  'Walker2d',
  'Ant',
  'Humanoid',
  'HumanoidStandup',
] as const;
/** One of `MUJOCO_ENV_NAMES`. */
export type MujocoEnvName = (typeof MUJOCO_ENV_NAMES)[number];

function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function sumSquares(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

function allFinite(...arrays: ArrayLike<number>[]): boolean {
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** x[i] += U(lo, hi) for every i. */
function addUniform(x: Float64Array, rng: Rng, lo: number, hi: number): void {
  for (let i = 0; i < x.length; i++) x[i] += lo + (hi - lo) * rng.uniform();
}

function addNormal(x: Float64Array, rng: Rng, std: number): void {
  for (let i = 0; i < x.length; i++) x[i] += std * rng.normal();
}

/** Fills a new observation of a fixed size from scalars and (optionally clipped) slices; `done` checks the size. */
class ObsWriter {
  readonly out: Float64Array;
  private k = 0;
  constructor(size: number) {
    this.out = new Float64Array(size);
  }
  push(x: number): this {
    this.out[this.k++] = x;
    return this;
  }
  range(a: ArrayLike<number>, start = 0, end = a.length, bound = Infinity): this {
    for (let i = start; i < end; i++) this.out[this.k++] = bound === Infinity ? a[i] : clip(a[i], -bound, bound);
    return this;
  }
  done(): Float64Array {
    if (this.k !== this.out.length) throw new Error(`observation has ${this.k} entries, expected ${this.out.length}`);
    return this.out;
  }
}

/** Forward progress of qpos[0] over one env step, for the planar walkers and the swimmer. */
function rootXStep(sim: MujocoSim, action: Float64Array): { before: number; after: number } {
  const before = sim.views().qpos[0];
  sim.simulate(action);
  return { before, after: sim.views().qpos[0] };
}

const invertedPendulum: MujocoTask = {
  name: 'InvertedPendulum',
  gymId: 'InvertedPendulum-v1',
  file: 'inverted_pendulum.xml',
  frameSkip: 2,
  maxEpisodeSteps: 1000,
  observationSize: 4,
  actionSize: 1,
  contactForces: false,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.01, 0.01);
    addUniform(v, rng, -0.01, 0.01);
  },
  observe(sim) {
    const { qpos, qvel } = sim.views();
    return new ObsWriter(4).range(qpos).range(qvel).done();
  },
  step(sim, action) {
    sim.simulate(action);
    const observation = this.observe(sim);
    const terminated = !(allFinite(observation) && Math.abs(observation[1]) <= 0.2);
    return { observation, reward: 1.0, terminated };
  },
};

const invertedDoublePendulum: MujocoTask = {
  name: 'InvertedDoublePendulum',
  gymId: 'InvertedDoublePendulum-v1',
  file: 'inverted_double_pendulum.xml',
  frameSkip: 5,
  maxEpisodeSteps: 1000,
  observationSize: 11,
  actionSize: 1,
  contactForces: false,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.1, 0.1);
    addNormal(v, rng, 0.1);
  },
  observe(sim) {
    const { qpos, qvel, qfrc_constraint } = sim.views();
    return new ObsWriter(11)
      .push(qpos[0])
      .push(Math.sin(qpos[1]))
      .push(Math.sin(qpos[2]))
      .push(Math.cos(qpos[1]))
      .push(Math.cos(qpos[2]))
      .range(qvel, 0, 3, 10)
      .range(qfrc_constraint, 0, 3, 10)
      .done();
  },
  step(sim, action) {
    sim.simulate(action);
    const observation = this.observe(sim);
    const tip = 3 * sim.siteId('tip');
    const { site_xpos, qvel } = sim.views();
    const x = site_xpos[tip];
    const y = site_xpos[tip + 2];
    const distPenalty = 0.01 * x * x + (y - 2) ** 2;
    const velPenalty = 1e-3 * qvel[1] ** 2 + 5e-3 * qvel[2] ** 2;
    const reward = 10 - distPenalty - velPenalty;
    return { observation, reward, terminated: y <= 1, info: { distPenalty, velPenalty, tipX: x, tipHeight: y } };
  },
};

function fingertipMinusTarget(sim: MujocoSim): [number, number, number] {
  const f = 3 * sim.bodyId('fingertip');
  const t = 3 * sim.bodyId('target');
  const c = sim.views().subtree_com;
  return [c[f] - c[t], c[f + 1] - c[t + 1], c[f + 2] - c[t + 2]];
}

const reacher: MujocoTask = {
  name: 'Reacher',
  gymId: 'Reacher-v1',
  file: 'reacher.xml',
  frameSkip: 2,
  maxEpisodeSteps: 50,
  observationSize: 11,
  actionSize: 2,
  contactForces: false,
  resetNoise(sim, q, v, rng) {
    addUniform(q, rng, -0.1, 0.1);
    // v1 draws the goal until ‖g‖ < 2, which U(−0.2, 0.2)² always satisfies.
    let gx: number;
    let gy: number;
    do {
      gx = -0.2 + 0.4 * rng.uniform();
      gy = -0.2 + 0.4 * rng.uniform();
    } while (Math.hypot(gx, gy) >= 2);
    q[sim.nq - 2] = gx;
    q[sim.nq - 1] = gy;
    addUniform(v, rng, -0.005, 0.005);
    v[sim.nv - 2] = 0;
    v[sim.nv - 1] = 0;
  },
  observe(sim) {
    const { qpos, qvel } = sim.views();
    const d = fingertipMinusTarget(sim);
    return new ObsWriter(11)
      .push(Math.cos(qpos[0]))
      .push(Math.cos(qpos[1]))
      .push(Math.sin(qpos[0]))
      .push(Math.sin(qpos[1]))
      .range(qpos, 2, 4)
      .range(qvel, 0, 2)
      .range(d)
      .done();
  },
  step(sim, action) {
    // The reward is computed before the physics step (v1).
    const vec = fingertipMinusTarget(sim);
    const rewardDist = -Math.hypot(vec[0], vec[1], vec[2]);
    const rewardCtrl = -sumSquares(action);
    sim.simulate(action);
    return { observation: this.observe(sim), reward: rewardDist + rewardCtrl, terminated: false, info: { rewardDist, rewardCtrl } };
  },
};

const halfCheetah: MujocoTask = {
  name: 'HalfCheetah',
  gymId: 'HalfCheetah-v1',
  file: 'half_cheetah.xml',
  frameSkip: 5,
  maxEpisodeSteps: 1000,
  observationSize: 17,
  actionSize: 6,
  contactForces: false,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.1, 0.1);
    addNormal(v, rng, 0.1);
  },
  observe(sim) {
    const { qpos, qvel } = sim.views();
    return new ObsWriter(17).range(qpos, 1).range(qvel).done();
  },
  step(sim, action) {
    const { before, after } = rootXStep(sim, action);
    const rewardRun = (after - before) / sim.dt;
    const rewardCtrl = -0.1 * sumSquares(action);
    return { observation: this.observe(sim), reward: rewardRun + rewardCtrl, terminated: false, info: { rewardRun, rewardCtrl } };
  },
};

const swimmer: MujocoTask = {
  name: 'Swimmer',
  gymId: 'Swimmer-v1',
  file: 'swimmer.xml',
  frameSkip: 4,
  maxEpisodeSteps: 1000,
  observationSize: 8,
  actionSize: 2,
  contactForces: false,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.1, 0.1);
    addUniform(v, rng, -0.1, 0.1);
  },
  observe(sim) {
    const { qpos, qvel } = sim.views();
    return new ObsWriter(8).range(qpos, 2).range(qvel).done();
  },
  step(sim, action) {
    const { before, after } = rootXStep(sim, action);
    const rewardFwd = (after - before) / sim.dt;
    const rewardCtrl = -1e-4 * sumSquares(action);
    return { observation: this.observe(sim), reward: rewardFwd + rewardCtrl, terminated: false, info: { rewardFwd, rewardCtrl } };
  },
};

const hopper: MujocoTask = {
  name: 'Hopper',
  gymId: 'Hopper-v1',
  file: 'hopper.xml',
  frameSkip: 4,
  maxEpisodeSteps: 1000,
  observationSize: 11,
  actionSize: 3,
  contactForces: false,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.005, 0.005);
    addUniform(v, rng, -0.005, 0.005);
  },
  observe(sim) {
    const { qpos, qvel } = sim.views();
    return new ObsWriter(11).range(qpos, 1).range(qvel, 0, qvel.length, 10).done();
  },
  step(sim, action) {
    const { before, after } = rootXStep(sim, action);
    const reward = (after - before) / sim.dt + 1.0 - 1e-3 * sumSquares(action);
    const { qpos, qvel } = sim.views();
    const height = qpos[1];
    const angle = qpos[2];
    let healthy = allFinite(qpos, qvel) && height > 0.7 && Math.abs(angle) < 0.2;
    // |s_i| < 100 for i ≥ 2 of s = [qpos, qvel].
    for (let i = 2; healthy && i < qpos.length; i++) healthy = Math.abs(qpos[i]) < 100;
    for (let i = 0; healthy && i < qvel.length; i++) healthy = Math.abs(qvel[i]) < 100;
    return { observation: this.observe(sim), reward, terminated: !healthy, info: { height, angle } };
  },
};

const walker2d: MujocoTask = {
  name: 'Walker2d',
  gymId: 'Walker2d-v1',
  file: 'walker2d.xml',
  frameSkip: 4,
  maxEpisodeSteps: 1000,
  observationSize: 17,
  actionSize: 6,
  contactForces: false,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.005, 0.005);
    addUniform(v, rng, -0.005, 0.005);
  },
  observe(sim) {
    const { qpos, qvel } = sim.views();
    return new ObsWriter(17).range(qpos, 1).range(qvel, 0, qvel.length, 10).done();
  },
  step(sim, action) {
    const { before, after } = rootXStep(sim, action);
    const reward = (after - before) / sim.dt + 1.0 - 1e-3 * sumSquares(action);
    const { qpos } = sim.views();
    const height = qpos[1];
    const angle = qpos[2];
    const healthy = height > 0.8 && height < 2.0 && angle > -1.0 && angle < 1.0;
    return { observation: this.observe(sim), reward, terminated: !healthy, info: { height, angle } };
  },
};

const ant: MujocoTask = {
  name: 'Ant',
  gymId: 'Ant-v1',
  file: 'ant.xml',
  frameSkip: 5,
  maxEpisodeSteps: 1000,
  observationSize: 111,
  actionSize: 8,
  contactForces: true,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.1, 0.1);
    addNormal(v, rng, 0.1);
  },
  observe(sim) {
    const { qpos, qvel, cfrc_ext } = sim.views();
    return new ObsWriter(111).range(qpos, 2).range(qvel).range(cfrc_ext, 0, cfrc_ext.length, 1).done();
  },
  step(sim, action) {
    // v1's get_body_com('torso') is the torso's subtree COM: the whole ant's centre of mass.
    const torso = 3 * sim.bodyId('torso');
    const before = sim.views().subtree_com[torso];
    sim.simulate(action);
    const { subtree_com, qpos, qvel, cfrc_ext } = sim.views();
    const forwardReward = (subtree_com[torso] - before) / sim.dt;
    const ctrlCost = 0.5 * sumSquares(action);
    let contactCost = 0;
    for (let i = 0; i < cfrc_ext.length; i++) contactCost += clip(cfrc_ext[i], -1, 1) ** 2;
    contactCost *= 0.5 * 1e-3;
    const reward = forwardReward - ctrlCost - contactCost + 1.0;
    const healthy = allFinite(qpos, qvel) && qpos[2] >= 0.2 && qpos[2] <= 1.0;
    return { observation: this.observe(sim), reward, terminated: !healthy, info: { forwardReward, ctrlCost, contactCost } };
  },
};

/** Σ mass_i · xipos_i.x / Σ mass_i. */
function massCenterX(sim: MujocoSim): number {
  const { xipos } = sim.views();
  let num = 0;
  let den = 0;
  for (let b = 0; b < sim.nbody; b++) {
    num += sim.bodyMass[b] * xipos[3 * b];
    den += sim.bodyMass[b];
  }
  return num / den;
}

function humanoidObserve(sim: MujocoSim): Float64Array {
  const { qpos, qvel, cinert, cvel, qfrc_actuator, cfrc_ext } = sim.views();
  return new ObsWriter(376).range(qpos, 2).range(qvel).range(cinert).range(cvel).range(qfrc_actuator).range(cfrc_ext).done();
}

function impactCost(sim: MujocoSim): number {
  return Math.min(0.5e-6 * sumSquares(sim.views().cfrc_ext), 10);
}

const humanoid: MujocoTask = {
  name: 'Humanoid',
  gymId: 'Humanoid-v1',
  file: 'humanoid.xml',
  frameSkip: 5,
  maxEpisodeSteps: 1000,
  observationSize: 376,
  actionSize: 17,
  contactForces: true,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.01, 0.01);
    addUniform(v, rng, -0.01, 0.01);
  },
  observe: humanoidObserve,
  step(sim, action) {
    const before = massCenterX(sim);
    sim.simulate(action);
    const after = massCenterX(sim);
    // v1 divides by the physics timestep (0.003 s), not by dt.
    const linVelCost = (0.25 * (after - before)) / sim.timestep;
    const quadCtrlCost = 0.1 * sumSquares(sim.views().ctrl);
    const quadImpactCost = impactCost(sim);
    const reward = linVelCost - quadCtrlCost - quadImpactCost + 5.0;
    const z = sim.views().qpos[2];
    return { observation: humanoidObserve(sim), reward, terminated: z < 1.0 || z > 2.0, info: { linVelCost, quadCtrlCost, quadImpactCost } };
  },
};

const humanoidStandup: MujocoTask = {
  name: 'HumanoidStandup',
  gymId: 'HumanoidStandup-v1',
  file: 'humanoidstandup.xml',
  frameSkip: 5,
  maxEpisodeSteps: 1000,
  observationSize: 376,
  actionSize: 17,
  contactForces: true,
  resetNoise(_sim, q, v, rng) {
    addUniform(q, rng, -0.01, 0.01);
    addUniform(v, rng, -0.01, 0.01);
  },
  observe: humanoidObserve,
  step(sim, action) {
    sim.simulate(action);
    const uphCost = sim.views().qpos[2] / sim.timestep;
    const quadCtrlCost = 0.1 * sumSquares(sim.views().ctrl);
    const quadImpactCost = impactCost(sim);
    const reward = uphCost - quadCtrlCost - quadImpactCost + 1.0;
    return { observation: humanoidObserve(sim), reward, terminated: false, info: { uphCost, quadCtrlCost, quadImpactCost } };
  },
};

/** Every MuJoCo task by name. */
export const MUJOCO_TASKS: Readonly<Record<MujocoEnvName, MujocoTask>> = {
  InvertedPendulum: invertedPendulum,
  InvertedDoublePendulum: invertedDoublePendulum,
  Reacher: reacher,
  HalfCheetah: halfCheetah,
  Swimmer: swimmer,
  Hopper: hopper,
  Walker2d: walker2d,
  Ant: ant,
  Humanoid: humanoid,
  HumanoidStandup: humanoidStandup,
};

