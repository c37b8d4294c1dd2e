/**
 * Finding a task's MJCF file. The files are never part of this repository; they are looked up, in order:
 *
 * 1. `mujocoDir` option, else the `ICNN_MUJOCO_DIR` environment variable: a directory laid out like
 *    `shared/data/mujoco` (v1 files at the top, Gymnasium files under `gymnasium/`). When given, it is the only
 *    place looked at: a missing file is an error.
 * 2. `$ICNN_DATA_DIR/mujoco`, when that directory exists.
 * 3. The per-user cache (`cacheDir` option, else `$ICNN_CACHE_DIR/mujoco`, else `$XDG_CACHE_HOME/icnn/mujoco`,
 *    else `~/.cache/icnn/mujoco`), same layout.
 * 4. A download from the pinned GitHub commit in mujocoSources.ts (or `mirrorUrl`/<set>/<file>), unless
 *    `download: false`; the bytes must match the recorded size and sha256 before they are written (atomically)
 *    into the cache.
 *
 * Every file is checked against its sha256, wherever it comes from, unless `checkSha256: false` (for edited
 * models in an explicit directory).
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail, IcnnError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomicFile.js';
import type { MujocoModelSet, MujocoModelSource } from './mujocoSources.js';

export type { MujocoFileOptions } from './envOptions.js';
import type { MujocoFileOptions } from './envOptions.js';

export type MujocoFileOrigin = 'dir' | 'data-dir' | 'cache' | 'download';

/** A MuJoCo model file as found: its XML, its path and where it came from. */
export interface MujocoFile {
  xml: string;
  path: string;
  origin: MujocoFileOrigin;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function relativePath(set: MujocoModelSet, file: string): string {
  return set === 'v1' ? file : path.join('gymnasium', file);
}

/** The cache directory used when no `cacheDir` is given. */
export function defaultMujocoCacheDir(): string {
  const env = process.env;
  if (env.ICNN_CACHE_DIR) return path.join(env.ICNN_CACHE_DIR, 'mujoco');
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'icnn', 'mujoco');
}

function checkDigest(bytes: Uint8Array, source: MujocoModelSource, where: string): void {
  const digest = sha256Hex(bytes);
  if (digest !== source.sha256) {
    fail(
      `${where}: sha256 ${digest} (${bytes.length} bytes) does not match the expected ${source.sha256} ` +
        `(${source.bytes} bytes) of ${source.file}; use the file from ${source.url}, or pass checkSha256: false for an edited model`,
    );
  }
}

async function readIfExists(file: string): Promise<Uint8Array | null> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IcnnError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The XML text of one model file (see the module comment for the search order). */
export async function readMujocoModelFile(set: MujocoModelSet, source: MujocoModelSource, options: MujocoFileOptions = {}): Promise<MujocoFile> {
  const rel = relativePath(set, source.file);
  const check = options.checkSha256 ?? true;

  const explicitDir = options.mujocoDir ?? (process.env.ICNN_MUJOCO_DIR || undefined);
  if (explicitDir !== undefined) {
    const file = path.resolve(explicitDir, rel);
    const bytes = await readIfExists(file);
    if (bytes === null) {
      const via = options.mujocoDir !== undefined ? 'the mujocoDir option' : 'ICNN_MUJOCO_DIR';
      fail(`MuJoCo model ${rel} not found in ${path.resolve(explicitDir)} (set by ${via}); expected ${file} (source: ${source.url})`);
    }
    if (check) checkDigest(bytes, source, file);
    return { xml: decoder.decode(bytes), path: file, origin: 'dir' };
  }

  if (process.env.ICNN_DATA_DIR) {
    const dir = path.resolve(process.env.ICNN_DATA_DIR, 'mujoco');
    if (existsSync(dir)) {
      const file = path.join(dir, rel);
      const bytes = await readIfExists(file);
      if (bytes !== null) {
        if (check) checkDigest(bytes, source, file);
        return { xml: decoder.decode(bytes), path: file, origin: 'data-dir' };
      }
    }
  }

  const cacheDir = path.resolve(options.cacheDir ?? defaultMujocoCacheDir());
  const cached = path.join(cacheDir, rel);
  const bytes = await readIfExists(cached);
  // A cached file is only ever one that passed the digest; a mismatch means corruption, so fetch it again.
  if (bytes !== null && sha256Hex(bytes) === source.sha256) return { xml: decoder.decode(bytes), path: cached, origin: 'cache' };

  if (options.download === false) {
    fail(
      `MuJoCo model ${rel} is not available: pass mujocoDir (or set ICNN_MUJOCO_DIR / ICNN_DATA_DIR) to a copy of ` +
        `shared/data/mujoco, or allow the download from ${source.url}`,
    );
  }
  const url = options.mirrorUrl !== undefined ? `${options.mirrorUrl.replace(/\/+$/, '')}/${set}/${source.file}` : source.url;
  const fetched = await download(url, options.downloadTimeoutMs ?? 60_000, source.bytes);
  checkDigest(fetched, source, `download ${url}`);
  await writeFileAtomic(cached, fetched);
  return { xml: decoder.decode(fetched), path: cached, origin: 'download' };
}

async function download(url: string, timeoutMs: number, expectedBytes: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (e) {
    throw new IcnnError(`download ${url} failed: ${(e as Error).message}${(e as Error).cause ? ` (${String((e as Error).cause)})` : ''}`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    fail(`download ${url} failed: HTTP ${response.status} ${response.statusText}`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > 16 * expectedBytes + 65536) {
    await response.body?.cancel().catch(() => undefined);
    fail(`download ${url}: refusing a ${declared}-byte response for a ${expectedBytes}-byte model file`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
