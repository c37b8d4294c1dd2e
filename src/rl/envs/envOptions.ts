/**
 * The options of `makeEnv` (and of the MuJoCo environments and their model files), declared once as a schema;
 * the types of mujocoFiles.ts and mujocoEnv.ts are inferred from it.
 */
import * as v from 'valibot';
import { POSITIVE_INT } from '../../util/numbers.js';
import { nonEmptyString, num, oneOf, optionsSchema, type OptionsOf } from '../../util/schema.js';
import { DATA_LOCATION_OPTION_ENTRIES } from '../../data/resolve.js';

/** Where the MuJoCo model files come from (./mujocoFiles.ts): the data files' options, and MuJoCo's own folder. */
export const MUJOCO_FILE_OPTION_ENTRIES = {
  /** Folder of the model files, laid out like shared/data/mujoco (default `ICNN_MUJOCO_DIR`); searched first. */
  mujocoDir: v.optional(nonEmptyString),
  ...DATA_LOCATION_OPTION_ENTRIES,
};
/** Where the MuJoCo model files come from: local folders, the cache, or a checked download into the cache. */
export type MujocoFileOptions = OptionsOf<typeof MUJOCO_FILE_OPTION_ENTRIES>;

export const MAKE_ENV_OPTIONS = optionsSchema({
  /** Seed of the environment's resets. */
  seed: v.optional(num({ integer: true, min: 0, max: 0xffffffff })),
  /** Cap on an episode's length (the task's own limit also applies). */
  maxEpisodeSteps: v.optional(num(POSITIVE_INT)),
  ...MUJOCO_FILE_OPTION_ENTRIES,
  /** Which model files: 'v1' (default; v1 files where MuJoCo 3 compiles them) or 'gymnasium'. */
  modelSet: v.optional(oneOf(['v1', 'gymnasium'])),
});
/** Options of `makeEnv`: the reset seed, an episode-length cap, the model-file options and the model set. */
export type MakeEnvOptions = v.InferOutput<typeof MAKE_ENV_OPTIONS>;
