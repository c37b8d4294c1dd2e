/**
 * MuJoCo environments through the official WebAssembly build (npm `mujoco-js`, MuJoCo 3.3.8): the generic
 * machinery of Gym's v1 `MujocoEnv` (ctrl ← action, `frameSkip` calls of `mj_step`, `mj_resetData` + noise +
 * `mj_forward` on reset). The tasks themselves are in mujocoTasks.ts.
 *
 * Memory: the model and data live in wasm memory and must be freed with `close()`. The `Float64Array` views of
 * `data.qpos` etc. go stale (detached, length 0) when wasm memory grows, e.g. when any environment in the process
 * compiles another model, so they are re-read whenever that has happened.
 */
import { fail, IcnnError } from '../../util/errors.js';
import type { Rng } from '../../util/random.js';
import { checkPositiveInt } from '../../util/options.js';
import { BaseEnv, checkSeed, type TaskStep } from './env.js';
import { compileModel, loadMujocoModule, mujocoWarningCount, type MainModule, type MjData, type MjModel } from './mujocoModule.js';
import { readMujocoModelFile } from './mujocoFiles.js';
import { modelSourceFor } from './mujocoSources.js';
import type { MakeEnvOptions } from './envOptions.js';

/** Live views into the data (refreshed after wasm memory growth). */
export interface MujocoViews {
  qpos: Float64Array;
  qvel: Float64Array;
  ctrl: Float64Array;
  /** Per body, 3 each (subtree centre of mass; Gym v1's `get_body_com`). */
  subtree_com: Float64Array;
  /** Per body, 3 each (body centre of mass in world coordinates). */
  xipos: Float64Array;
  /** Per site, 3 each. */
  site_xpos: Float64Array;
  /** Per body, 10 each. */
  cinert: Float64Array;
  /** Per body, 6 each. */
  cvel: Float64Array;
  /** Per body, 6 each (valid after `mj_rnePostConstraint`). */
  cfrc_ext: Float64Array;
  qfrc_actuator: Float64Array;
  qfrc_constraint: Float64Array;
}

/** What a task sees of the simulation. */
export interface MujocoSim {
  readonly mj: MainModule;
  readonly model: MjModel;
  readonly data: MjData;
  readonly nq: number;
  readonly nv: number;
  readonly nu: number;
  readonly nbody: number;
  /** Physics time step (`opt.timestep`). */
  readonly timestep: number;
  /** Control period: timestep · frameSkip. */
  readonly dt: number;
  /** Constant body masses. */
  readonly bodyMass: Float64Array;
  /** Current views (call again after anything that may have grown wasm memory). */
  views(): MujocoViews;
  /** The index of the body named `name` in the MuJoCo model. */
  bodyId(name: string): number;
  /** The index of the site named `name` in the MuJoCo model. */
  siteId(name: string): number;
  /** ctrl ← action, then `frameSkip` physics steps (and `mj_rnePostConstraint` when the task needs cfrc_ext). */
  simulate(action: Float64Array): void;
}

/** One MuJoCo task of §5.4 (Gym's v1 semantics): its model file, reset noise, observation and reward. */
export interface MujocoTask {
  /** Canonical name, e.g. 'HalfCheetah'. */
  readonly name: string;
  /** Gym id of the semantics implemented, e.g. 'HalfCheetah-v1'. */
  readonly gymId: string;
  readonly file: string;
  readonly frameSkip: number;
  readonly maxEpisodeSteps: number;
  readonly observationSize: number;
  readonly actionSize: number;
  /** Compute cfrc_ext (`mj_rnePostConstraint`) after stepping and after reset. */
  readonly contactForces: boolean;
  /** Add the task's reset noise to q (= qpos0) and v (= 0), in place. */
  resetNoise(sim: MujocoSim, q: Float64Array, v: Float64Array, rng: Rng): void;
  /** The observation of the current simulator state (Gym v1's vector, `observationSize` long). */
  observe(sim: MujocoSim): Float64Array;
  /** One environment step: the task calls `sim.simulate(action)` itself, between its before/after readings. */
  step(sim: MujocoSim, action: Float64Array): TaskStep;
}

/** The options of a MuJoCo environment: makeEnv's (./envOptions.ts). */
export type MujocoEnvOptions = MakeEnvOptions;

export class MujocoEnv extends BaseEnv {
  readonly task: MujocoTask;
  /** Where the model file came from. */
  readonly modelPath: string;
  private readonly mj: MainModule;
  private model: MjModel | null;
  private data: MjData | null;
  private readonly sim: MujocoSim;
  private cachedViews: MujocoViews | null = null;
  private readonly qpos0: Float64Array;

  /** Use `createMujocoEnv` (the module and the XML are loaded asynchronously). */
  constructor(task: MujocoTask, mj: MainModule, xml: string, modelPath: string, options: MujocoEnvOptions) {
    checkEnvOptions(task, options); // before compiling, so that a refusal cannot leak a compiled model
    const { model, data } = compileModel(mj, xml, task.file);
    const nu = model.nu;
    const range = Float64Array.from(model.actuator_ctrlrange as ArrayLike<number>);
    const limited = Array.from(model.actuator_ctrllimited as ArrayLike<number>);
    if (nu !== task.actionSize || limited.some((l) => l === 0)) {
      data.delete();
      model.delete();
      fail(`${task.name}: ${modelPath} has ${nu} actuators (limited: ${limited.join(',')}), expected ${task.actionSize} limited ones`);
    }
    const low: number[] = [];
    const high: number[] = [];
    for (let i = 0; i < nu; i++) {
      low.push(range[2 * i]);
      high.push(range[2 * i + 1]);
    }
    super({
      name: task.name,
      actionLow: low,
      actionHigh: high,
      observationLow: new Float64Array(task.observationSize).fill(-Infinity),
      observationHigh: new Float64Array(task.observationSize).fill(Infinity),
      maxEpisodeSteps: options.maxEpisodeSteps ?? task.maxEpisodeSteps,
      seed: options.seed,
    });
    this.task = task;
    this.modelPath = modelPath;
    this.mj = mj;
    this.model = model;
    this.data = data;
    this.qpos0 = Float64Array.from(model.qpos0 as ArrayLike<number>);
    const timestep = model.opt.timestep;
    const bodyMass = Float64Array.from(model.body_mass as ArrayLike<number>);
    const objBody = mj.mjtObj.mjOBJ_BODY.value;
    const objSite = mj.mjtObj.mjOBJ_SITE.value;
    const ids = new Map<string, number>();
    const lookup = (kind: number, what: string, name: string): number => {
      const key = `${what}:${name}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = mj.mj_name2id(this.liveModel(), kind, name);
        if (id < 0) fail(`${task.name}: the model has no ${what} named '${name}'`);
        ids.set(key, id);
      }
      return id;
    };
    this.sim = {
      mj,
      model,
      data,
      nq: model.nq,
      nv: model.nv,
      nu,
      nbody: model.nbody,
      timestep,
      dt: timestep * task.frameSkip,
      bodyMass,
      views: () => this.views(),
      bodyId: (name) => lookup(objBody, 'body', name),
      siteId: (name) => lookup(objSite, 'site', name),
      simulate: (action) => this.simulate(action),
    };
  }

  /** Control period: timestep · frameSkip. */
  get dt(): number {
    return this.sim.dt;
  }

  get frameSkip(): number {
    return this.task.frameSkip;
  }

  /** Copies of qpos and qvel. */
  getState(): { qpos: Float64Array; qvel: Float64Array } {
    this.checkOpen('getState');
    const v = this.views();
    return { qpos: v.qpos.slice(), qvel: v.qvel.slice() };
  }

  /** Gym's `set_state`: write qpos and qvel, then `mj_forward` (the episode's step count is unchanged). */
  setState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): Float64Array {
    this.checkOpen('setState');
    const { nq, nv } = this.sim;
    if (qpos.length !== nq || qvel.length !== nv) fail(`${this.name}.setState: qpos/qvel must have lengths ${nq}/${nv}, got ${qpos.length}/${qvel.length}`);
    for (let i = 0; i < nq; i++) if (!Number.isFinite(qpos[i])) fail(`${this.name}.setState: qpos[${i}] is not finite`);
    for (let i = 0; i < nv; i++) if (!Number.isFinite(qvel[i])) fail(`${this.name}.setState: qvel[${i}] is not finite`);
    this.writeState(qpos, qvel);
    return this.task.observe(this.sim);
  }

  /** The current observation (as the last reset/step returned it, unless setState intervened). */
  observe(): Float64Array {
    this.checkOpen('observe');
    return this.task.observe(this.sim);
  }

  protected resetTask(rng: Rng): Float64Array {
    this.mj.mj_resetData(this.liveModel(), this.liveData());
    const q = this.qpos0.slice();
    const v = new Float64Array(this.sim.nv);
    this.task.resetNoise(this.sim, q, v, rng);
    this.writeState(q, v);
    return this.task.observe(this.sim);
  }

  protected stepTask(action: Float64Array): TaskStep {
    const warningsBefore = mujocoWarningCount();
    const r = this.task.step(this.sim, action);
    // MuJoCo resets the state itself when the simulation blows up (NaN/huge qacc), and prints a warning.
    const warned = mujocoWarningCount() - warningsBefore;
    if (warned > 0) r.info = { ...r.info, simulationWarnings: warned };
    return r;
  }

  protected override closeTask(): void {
    this.cachedViews = null;
    this.data?.delete();
    this.model?.delete();
    this.data = null;
    this.model = null;
  }

  private writeState(q: ArrayLike<number>, v: ArrayLike<number>): void {
    const views = this.views();
    views.qpos.set(q);
    views.qvel.set(v);
    this.mj.mj_forward(this.liveModel(), this.liveData());
    if (this.task.contactForces) this.mj.mj_rnePostConstraint(this.liveModel(), this.liveData());
  }

  private simulate(action: Float64Array): void {
    const m = this.liveModel();
    const d = this.liveData();
    this.views().ctrl.set(action);
    for (let i = 0; i < this.task.frameSkip; i++) this.mj.mj_step(m, d);
    if (this.task.contactForces) this.mj.mj_rnePostConstraint(m, d);
  }

  private liveModel(): MjModel {
    if (this.model === null) throw new IcnnError(`${this.name}: the environment is closed`);
    return this.model;
  }

  private liveData(): MjData {
    if (this.data === null) throw new IcnnError(`${this.name}: the environment is closed`);
    return this.data;
  }

  private views(): MujocoViews {
    const cached = this.cachedViews;
    // A view of grown (replaced) wasm memory is detached and reads as length 0; qpos is never empty.
    if (cached !== null && cached.qpos.length !== 0) return cached;
    const d = this.liveData();
    const fresh: MujocoViews = {
      qpos: d.qpos,
      qvel: d.qvel,
      ctrl: d.ctrl,
      subtree_com: d.subtree_com,
      xipos: d.xipos,
      site_xpos: d.site_xpos,
      cinert: d.cinert,
      cvel: d.cvel,
      cfrc_ext: d.cfrc_ext,
      qfrc_actuator: d.qfrc_actuator,
      qfrc_constraint: d.qfrc_constraint,
    };
    this.cachedViews = fresh;
    return fresh;
  }
}

function checkEnvOptions(task: MujocoTask, options: MujocoEnvOptions): void {
  if (options.seed !== undefined) checkSeed(task.name, options.seed);
  if (options.maxEpisodeSteps !== undefined) checkPositiveInt(task.name, 'maxEpisodeSteps', options.maxEpisodeSteps);
}

/** Load the module (once per process) and the task's model file, then build the environment. */
export async function createMujocoEnv(task: MujocoTask, options: MujocoEnvOptions = {}): Promise<MujocoEnv> {
  const set = options.modelSet ?? 'v1';
  if (set !== 'v1' && set !== 'gymnasium') fail(`${task.name}: modelSet must be 'v1' or 'gymnasium', got ${JSON.stringify(set)}`);
  checkEnvOptions(task, options);
  const { set: fileSet, source } = modelSourceFor(task.file, set);
  const [mj, file] = await Promise.all([loadMujocoModule(), readMujocoModelFile(fileSet, source, options)]);
  return new MujocoEnv(task, mj, file.xml, file.path, options);
}
