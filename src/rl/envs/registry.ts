/** `makeEnv(name, options)`: every environment by name, with static facts about each (no loading needed). */
import { fail } from '../../util/errors.js';
import { parseOptions } from '../../util/schema.js';
import { MAKE_ENV_OPTIONS, type MakeEnvOptions } from './envOptions.js';
import { CartPoleContinuousEnv, MountainCarContinuousEnv, PendulumEnv } from './classic.js';
import type { Env } from './env.js';
import { createMujocoEnv } from './mujocoEnv.js';
import { MUJOCO_ENV_NAMES, MUJOCO_TASKS, type MujocoEnvName } from './mujocoTasks.js';

/** The classic-control environments. */
export const CLASSIC_ENV_NAMES = ['Pendulum', 'MountainCarContinuous', 'CartPoleContinuous'] as const;
/** One of `CLASSIC_ENV_NAMES`. */
export type ClassicEnvName = (typeof CLASSIC_ENV_NAMES)[number];
export { MUJOCO_ENV_NAMES, type MujocoEnvName };

/** Every environment `makeEnv` builds: the classic ones and the MuJoCo tasks. */
export const ENV_NAMES = [...CLASSIC_ENV_NAMES, ...MUJOCO_ENV_NAMES] as const;
/** One of `ENV_NAMES`. */
export type EnvName = (typeof ENV_NAMES)[number];

/** Facts about an environment: kind, Gym id, observation and action sizes, time limit. */
export interface EnvSpec {
  name: EnvName;
  kind: 'classic' | 'mujoco';
  /** The Gym id whose semantics are implemented (null: no Gym counterpart). */
  gymId: string | null;
  observationSize: number;
  actionSize: number;
  maxEpisodeSteps: number;
}

const CLASSIC_SPECS: Record<ClassicEnvName, EnvSpec> = {
  Pendulum: { name: 'Pendulum', kind: 'classic', gymId: 'Pendulum-v1', observationSize: 3, actionSize: 1, maxEpisodeSteps: 200 },
  MountainCarContinuous: {
    name: 'MountainCarContinuous',
    kind: 'classic',
    gymId: 'MountainCarContinuous-v0',
    observationSize: 2,
    actionSize: 1,
    maxEpisodeSteps: 999,
  },
  CartPoleContinuous: { name: 'CartPoleContinuous', kind: 'classic', gymId: null, observationSize: 4, actionSize: 1, maxEpisodeSteps: 500 },
};

/** The `EnvSpec` of every environment. */
export const ENV_SPECS: Readonly<Record<EnvName, EnvSpec>> = Object.freeze({
  ...CLASSIC_SPECS,
  ...(Object.fromEntries(
    MUJOCO_ENV_NAMES.map((n) => {
      const t = MUJOCO_TASKS[n];
      const spec: EnvSpec = { name: n, kind: 'mujoco', gymId: t.gymId, observationSize: t.observationSize, actionSize: t.actionSize, maxEpisodeSteps: t.maxEpisodeSteps };
      return [n, spec];
    }),
  ) as Record<MujocoEnvName, EnvSpec>),
});

export type { MakeEnvOptions } from './envOptions.js';

/** The canonical name for a name or a Gym id ('HalfCheetah', 'HalfCheetah-v1'); other versions are refused. */
export function resolveEnvName(name: string): EnvName {
  if (typeof name !== 'string') fail(`makeEnv: name must be a string, got ${typeof name}`);
  if ((ENV_NAMES as readonly string[]).includes(name)) return name as EnvName;
  const byId = ENV_NAMES.find((n) => ENV_SPECS[n].gymId === name);
  if (byId !== undefined) return byId;
  const base = name.replace(/-v\d+$/, '');
  if (base !== name && (ENV_NAMES as readonly string[]).includes(base)) {
    fail(`makeEnv: only ${ENV_SPECS[base as EnvName].gymId ?? base} semantics are implemented, not ${name}`);
  }
  return fail(`makeEnv: unknown environment '${name}' (expected one of: ${ENV_NAMES.join(', ')})`);
}

/**
 * Build an environment by name (or Gym id). MuJoCo tasks load the wasm module (once per process) and their model
 * file (see mujocoFiles.ts for where it is looked up); classic-control tasks are plain TypeScript.
 */
export async function makeEnv(name: string, options: MakeEnvOptions = {}): Promise<Env> {
  const canonical = resolveEnvName(name);
  parseOptions('makeEnv', MAKE_ENV_OPTIONS, options);
  const common = { seed: options.seed, maxEpisodeSteps: options.maxEpisodeSteps };
  switch (canonical) {
    case 'Pendulum':
      return new PendulumEnv(common);
    case 'MountainCarContinuous':
      return new MountainCarContinuousEnv(common);
    case 'CartPoleContinuous':
      return new CartPoleContinuousEnv(common);
    default:
      return createMujocoEnv(MUJOCO_TASKS[canonical], options);
  }
}
