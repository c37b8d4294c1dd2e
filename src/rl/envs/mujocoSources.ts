/**
 * Where the MuJoCo model files (MJCF XML) of the Gym tasks come from, with their sizes and sha256 digests
 * (see shared/data/mujoco/PROVENANCE.md). The files are never stored in this repository: they are read from a
 * directory, a per-user cache, or downloaded from these pinned commits and checked against the digests.
 *
 * - `v1`: openai/gym at 0c91364c (gym 0.9.3, the last commit of the -v1 era), the models the paper's runs used.
 *   Written for MuJoCo 1.31; hopper, walker2d and swimmer do not compile in MuJoCo 3 (global coordinates,
 *   `collision="predefined"`).
 * - `gymnasium`: Farama-Foundation/Gymnasium at 3f0476a8, the same models rewritten for current MuJoCo.
 *
 * Both sets are MIT-licensed (models derived from MuJoCo 1.31 models, Roboti LLC, author Vikash Kumar).
 *
 * In the data files' sources table (../../data/sources.ts) a file's key is `mujoco/<file>` (v1) or
 * `mujoco/gymnasium/<file>`: the layout of shared/data/mujoco under a data directory and the cache.
 */
import type { DataSources } from '../../data/sources.js';

/** Which MuJoCo model files: the v1 models of the paper's Gym tasks, or Gymnasium's current ones (its `gymnasium/` folder). */
export type MujocoModelSet = 'v1' | 'gymnasium';

/** The public origin and sha256 of one MuJoCo model file. */
export interface MujocoModelSource {
  /** File name, also its path under the set's directory. */
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly url: string;
}

/** The repositories and commits the MuJoCo model files are pinned to, per model set. */
export const MUJOCO_SOURCE_COMMITS: Readonly<Record<MujocoModelSet, { repository: string; commit: string; baseUrl: string }>> = {
  v1: {
    repository: 'github:openai/gym',
    commit: '0c91364cd4a7ea70f242a28b85c3aea2d74aa35a',
    baseUrl: 'https://raw.githubusercontent.com/openai/gym/0c91364cd4a7ea70f242a28b85c3aea2d74aa35a/gym/envs/mujoco/assets/',
  },
  gymnasium: {
    repository: 'github:Farama-Foundation/Gymnasium',
    commit: '3f0476a8cc224dcce2167cc4b6971ae0f04d5cfc',
    baseUrl:
      'https://raw.githubusercontent.com/Farama-Foundation/Gymnasium/3f0476a8cc224dcce2167cc4b6971ae0f04d5cfc/gymnasium/envs/mujoco/assets/',
  },
};

const DIGESTS: Readonly<Record<MujocoModelSet, Readonly<Record<string, readonly [number, string]>>>> = {
  v1: {
    'inverted_pendulum.xml': [1342, '4e23fe88faa6df077e7488ec9114c6e867e5b1c7e24a70c0aa577b7509f40e01'],
    'inverted_double_pendulum.xml': [1953, '57d1254a8c0f5300e6102b086396c5a6ef4c30192d72ed7c0cfae1f6b7187be6'],
    'half_cheetah.xml': [5535, '224454ffa591653d44d8ce2d5b4630bb00e1dba7c12e2115bc344e1a22bae0b9'],
    'hopper.xml': [2913, 'db39d4c40aa68854889c8d2f8512c4e0af3d7709d1c877f85587f2b4d7deb648'],
    'walker2d.xml': [4221, '407d6025e507d014eaf68415623d64ae29232f99e6249c56053cd94f7f663c4a'],
    'swimmer.xml': [2248, 'b622c580392c360dc9e42414b78f3a9f6ece268c54b99ece73c2f584f5dcce95'],
    'reacher.xml': [2360, 'c52c29cf7baeb532296b8666584ac2001fd0bdce6c66a26ee6e212250fa984fd'],
    'ant.xml': [4853, 'cc4a4a8f0847aa29a7875f22259fa33be0ffcb4b05b9b97440aa7cd6c63c08dd'],
    'humanoid.xml': [8778, 'b0ed82f93ae8df3455ef9df0f99e78f5dc9bb18ba50a22abd05a685f5c4e5159'],
    'humanoidstandup.xml': [8767, 'fa150d33d719afe652ed41cc81c1c890b927efdcf50942d91d814cc6b6f4f125'],
  },
  gymnasium: {
    'inverted_pendulum.xml': [1353, '80910a9af85cd47072be82d6f92c5e6a115d0eecc3eb464e58542b285c89fb7f'],
    'inverted_double_pendulum.xml': [1954, '2b4eadf03bd79a8772abd4c1a626b5755747f841801a694ea9528cc49211ba46'],
    'half_cheetah.xml': [5616, '11797a5d69e8ac955e89ca6fdd3a0087f1c990094fda401ac51420de1b6c5494'],
    'hopper.xml': [3228, '3ce93a055ffdcd83c0c701d2400768e40d2cbb9532f3c4ae33377c27f8b39f9e'],
    'walker2d.xml': [4951, 'ac13373c7ac9003a5311c4704b314ed11149b3dd7600bbc02770487300f9ad2d'],
    'walker2d_v5.xml': [4946, '6bed53a6cc3ca73c4fe8ac3486d3b4228927264a6454f4ef16d3eed3c58bc09d'],
    'swimmer.xml': [2322, '25b0d46bf5522920fea6a579353aee39d391ad9e2a0574b53f83704c11b21b12'],
    'reacher.xml': [2323, '3fabc64fc738326485a8231a9a649f784090a0c3d8215f8d2ccd6038b8e60cc4'],
    'ant.xml': [4934, 'cd5f83ef0ea35b0969e65d360c5bacd5b74ccaef6b27e4433b5168c605e3e2be'],
    'humanoid.xml': [8745, '85816f372c826d2094b4a598918233bd9c5843b2439119eece2733bdc2e0d073'],
    'humanoidstandup.xml': [8733, '9f72a3c4ef956d0d8b1fb555a6ae1a5c22334c5c58cf814ef987ea4d3880e8fc'],
  },
};

/** Every known file of a set, keyed by file name. */
export const MUJOCO_SOURCES: Readonly<Record<MujocoModelSet, Readonly<Record<string, MujocoModelSource>>>> = {
  v1: sourcesOf('v1'),
  gymnasium: sourcesOf('gymnasium'),
};

function sourcesOf(set: MujocoModelSet): Record<string, MujocoModelSource> {
  const out: Record<string, MujocoModelSource> = {};
  for (const [file, [bytes, sha256]] of Object.entries(DIGESTS[set])) {
    out[file] = Object.freeze({ file, bytes, sha256, url: MUJOCO_SOURCE_COMMITS[set].baseUrl + file });
  }
  return out;
}

/** v1 files that MuJoCo 3 cannot compile; their Gymnasium rewrites (same geometry) are used instead. */
export const V1_FILES_NOT_LOADING_IN_MUJOCO3: readonly string[] = ['hopper.xml', 'walker2d.xml', 'swimmer.xml'];

/**
 * The file a task loads for a model set. With 'v1' (the default) the v1 file is used where MuJoCo 3 compiles it,
 * else the Gymnasium file; with 'gymnasium' always the Gymnasium file.
 */
export function modelSourceFor(file: string, set: MujocoModelSet): { set: MujocoModelSet; source: MujocoModelSource } {
  const useSet: MujocoModelSet = set === 'v1' && V1_FILES_NOT_LOADING_IN_MUJOCO3.includes(file) ? 'gymnasium' : set;
  const source = MUJOCO_SOURCES[useSet][file];
  if (source === undefined) throw new Error(`no MuJoCo model source for ${useSet}/${file}`);
  return { set: useSet, source };
}

/** The key of a model file in a data-files sources table: `mujoco/<file>` (v1) or `mujoco/gymnasium/<file>`. */
export function mujocoFileKey(set: MujocoModelSet, file: string): string {
  return set === 'v1' ? `mujoco/${file}` : `mujoco/gymnasium/${file}`;
}

/** A model file as an entry of a data-files sources table. */
export function mujocoDataSource(set: MujocoModelSet, source: MujocoModelSource): DataSources[string] {
  return { url: source.url, sha256: source.sha256, bytes: source.bytes, description: `MuJoCo ${set} model ${source.file}` };
}

/**
 * Every model file as a sources table for the `sources` option, fetched from `urlOf(set, file)` (default: the pinned
 * commits), e.g. `mujocoDataSources((set, file) => mirror + '/' + set + '/' + file)` for a mirror.
 */
export function mujocoDataSources(urlOf?: (set: MujocoModelSet, file: string) => string): DataSources {
  const table: Record<string, DataSources[string]> = {};
  for (const set of ['v1', 'gymnasium'] as const) {
    for (const source of Object.values(MUJOCO_SOURCES[set])) {
      table[mujocoFileKey(set, source.file)] = mujocoDataSource(set, urlOf ? { ...source, url: urlOf(set, source.file) } : source);
    }
  }
  return table;
}
