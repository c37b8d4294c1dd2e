/** Environments for the continuous-control study (paper §4.5, §5.4): classic control in TypeScript, MuJoCo tasks via mujoco-js. */
export type { Env, StepResult } from './env.js';
export { BaseEnv } from './env.js';
export { PendulumEnv, MountainCarContinuousEnv, CartPoleContinuousEnv, angleNormalize } from './classic.js';
export type { ClassicEnvOptions } from './classic.js';
export { MujocoEnv, createMujocoEnv } from './mujocoEnv.js';
export type { MujocoEnvOptions, MujocoTask, MujocoSim } from './mujocoEnv.js';
export { MUJOCO_TASKS } from './mujocoTasks.js';
export { loadMujocoModule } from './mujocoModule.js';
export { readMujocoModelFile } from './mujocoFiles.js';
export type { MujocoFileOptions, MujocoFile } from './mujocoFiles.js';
export { MUJOCO_SOURCES, MUJOCO_SOURCE_COMMITS, modelSourceFor, mujocoDataSources, mujocoFileKey } from './mujocoSources.js';
export type { MujocoModelSet, MujocoModelSource } from './mujocoSources.js';
export { makeEnv, resolveEnvName, ENV_NAMES, ENV_SPECS, CLASSIC_ENV_NAMES, MUJOCO_ENV_NAMES } from './registry.js';
export type { EnvName, EnvSpec, MakeEnvOptions, ClassicEnvName, MujocoEnvName } from './registry.js';
