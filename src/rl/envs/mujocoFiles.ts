/**
 * Finding a task's MJCF file, with the data files' mechanism (../../data/resolve.ts): the files are never part of this
 * repository. MuJoCo adds only its layout and its folder. A file's key is `mujoco/<file>` for the v1 set and
 * `mujoco/gymnasium/<file>` for the Gymnasium set (mujocoSources.ts), and the places are, in order:
 *
 * 1. the folder of the `mujocoDir` option, else of `ICNN_MUJOCO_DIR`, laid out like `shared/data/mujoco` (v1 files
 *    at the top, Gymnasium files under `gymnasium/`);
 * 2. `dataDir`, then `ICNN_DATA_DIR`, as `<dir>/mujoco/...`;
 * 3. the per-user cache, `<cacheDir>/mujoco/...` (default `defaultCacheDir()`);
 * 4. a download from the pinned commit (or the `sources` table), unless `download: false`, kept (atomically, in the
 *    cache) only when its size and sha256 match.
 *
 * Local files are checked against their sha256 too, unless `verify: false` (for edited models).
 */
import { promises as fs } from 'node:fs';
import { locateDataFile, type DataFileOrigin } from '../../data/resolve.js';
import { IcnnError } from '../../util/errors.js';
import { mujocoDataSource, mujocoFileKey, type MujocoModelSet, type MujocoModelSource } from './mujocoSources.js';

export type { MujocoFileOptions } from './envOptions.js';
import type { MujocoFileOptions } from './envOptions.js';

/** Where a model file was found: a local folder (`mujocoDir`, `dataDir`, ...), the cache, or a fresh download. */
export type MujocoFileOrigin = DataFileOrigin;

/** A MuJoCo model file as found: its XML, its path and where it came from. */
export interface MujocoFile {
  xml: string;
  path: string;
  origin: MujocoFileOrigin;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The XML text of one model file (see the module comment for the search order). */
export async function readMujocoModelFile(set: MujocoModelSet, source: MujocoModelSource, options: MujocoFileOptions = {}): Promise<MujocoFile> {
  const { mujocoDir, ...location } = options;
  const key = mujocoFileKey(set, source.file);
  const sources = location.sources ?? { [key]: mujocoDataSource(set, source) };
  const dir = mujocoDir ?? (process.env.ICNN_MUJOCO_DIR || undefined);
  const found = await locateDataFile(key, { ...location, sources }, {
    datasetDirs: dir === undefined ? [] : [dir],
    envVars: ['ICNN_MUJOCO_DIR', 'ICNN_DATA_DIR'],
  });
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(found.path);
  } catch (e) {
    throw new IcnnError(`cannot read ${found.path}: ${(e as Error).message}`);
  }
  return { xml: decoder.decode(bytes), path: found.path, origin: found.origin };
}
