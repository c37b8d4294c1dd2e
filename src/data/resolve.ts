/**
 * Finding a data file, the one mechanism of every loader (BibTeX, Olivetti, the MuJoCo model files of
 * ../rl/envs/mujocoFiles.ts): a dataset's own folder where the caller has one (e.g. `ICNN_MUJOCO_DIR`), then an
 * explicit data directory (`dataDir`, the CLI's `--data-dir`), then `ICNN_DATA_DIR`, then the per-user cache
 * (`ICNN_CACHE_DIR`, else `$XDG_CACHE_HOME/icnn`, else `~/.cache/icnn`), then a download from the file's public
 * origin into the cache.
 *
 * A download streams into a temporary file next to its target, hashing on the way; the file is renamed into place
 * only when its size and sha256 match the sources table, so the cache never holds a partial or wrong file.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeStaleTempFiles, tempNameFor } from '../util/atomicFile.js';
import { IcnnError, fail } from '../util/errors.js';
import { DATA_SOURCES, type DataFileSource, type DataSources } from './sources.js';
import * as v from 'valibot';
import { POSITIVE_INT } from '../util/numbers.js';
import { bool, func, instance, nonEmptyString, num, type OptionsOf } from '../util/schema.js';

/** Progress of one data-file download, as passed to the `onProgress` callback. */
export interface DownloadProgress {
  /** The file's key in the sources table, e.g. `bibtex/bibtex-train.arff`. */
  file: string;
  url: string;
  receivedBytes: number;
  /** From Content-Length or the sources table; undefined when neither says. */
  totalBytes: number | undefined;
}

/** Where data files are looked up and how they are downloaded, declared once (spread into the loaders' schemas). */
export const DATA_LOCATION_OPTION_ENTRIES = {
  /** Directory to look in first (the CLI's `--data-dir`). */
  dataDir: v.optional(nonEmptyString),
  /** Cache directory; default `ICNN_CACHE_DIR`, else `$XDG_CACHE_HOME/icnn`, else `~/.cache/icnn`. */
  cacheDir: v.optional(nonEmptyString),
  /** Download missing files into the cache (default true). */
  download: v.optional(bool),
  /** Origins and checksums (default `DATA_SOURCES`). */
  sources: v.optional(instance<DataSources>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'an object { file: source }')),
  /** Called as bytes arrive. */
  onProgress: v.optional(func<(progress: DownloadProgress) => void>()),
  /** Give up a download when no data arrives for this long (ms, default 60 000). */
  timeoutMs: v.optional(num(POSITIVE_INT)),
  /**
   * Check the size and sha256 of files found locally (data dir, ICNN_DATA_DIR, cache) against the sources table
   * (default true; the CLI's --no-verify sets false). Downloads are always checked.
   */
  verify: v.optional(bool),
};
/** Options of the data loaders that say where a file is looked up (`dataDir`, cache) and how it is downloaded and verified. */
export type DataLocationOptions = OptionsOf<typeof DATA_LOCATION_OPTION_ENTRIES>;

const DEFAULT_TIMEOUT_MS = 60_000;

/** A download of a file whose size is not in the sources table stops at this many bytes. */
export const DOWNLOAD_SIZE_CAP = 64 * 1024 * 1024;

/** The per-user cache directory. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ICNN_CACHE_DIR) return path.resolve(env.ICNN_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.resolve(env.XDG_CACHE_HOME, 'icnn');
  return path.join(os.homedir(), '.cache', 'icnn');
}

/** The directories searched before the cache: `dataDir`, then `ICNN_DATA_DIR` (duplicates removed). */
export function dataSearchDirs(options: Pick<DataLocationOptions, 'dataDir'> = {}, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  for (const d of [options.dataDir, env.ICNN_DATA_DIR]) {
    if (d === undefined || d === '') continue;
    const abs = path.resolve(d);
    if (!dirs.includes(abs)) dirs.push(abs);
  }
  return dirs;
}

/** The path of `file` (`<dataset>/<path>`) inside a folder that is the dataset's own: `<dir>/<path>`. */
function inDatasetDir(dir: string, file: string): string {
  const parts = file.split('/');
  return path.join(dir, ...(parts.length > 1 ? parts.slice(1) : parts));
}

/** Where a file may lie inside a data directory: `<dir>/<dataset>/<path>`, or flat as `<dir>/<path>`. */
function candidatesIn(dir: string, file: string): string[] {
  const nested = path.join(dir, ...file.split('/'));
  const flat = inDatasetDir(dir, file);
  return nested === flat ? [nested] : [nested, flat];
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

function sourceFor(file: string, sources: DataSources): DataFileSource | undefined {
  return Object.prototype.hasOwnProperty.call(sources, file) ? sources[file] : undefined;
}

/** sha256 (hex) and size of a file, streamed. */
export async function hashFile(p: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(p)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Check a local file against its source entry (the origin's checksum or a listed equivalent copy). */
export async function verifyDataFile(p: string, source: DataFileSource): Promise<void> {
  const { sha256, bytes } = await hashFile(p);
  if (sha256 === source.sha256 && (source.bytes === undefined || bytes === source.bytes)) return;
  if (source.equivalents?.some((e) => e.sha256 === sha256 && e.bytes === bytes)) return;
  const known = [source.sha256, ...(source.equivalents ?? []).map((e) => e.sha256)].join(' or ');
  fail(
    `${p}: sha256 ${sha256} (${bytes} bytes) does not match the expected ${known}; replace the file, delete it to ` +
      'download it again, or pass --no-verify (option verify: false) to use it as it is',
  );
}

/** Where a file was found: a data directory (or the dataset's own folder), the cache, or a fresh download. */
export type DataFileOrigin = 'data-dir' | 'cache' | 'download';

/** What a loader adds to the search of `resolveDataFile`: its dataset's own folders and the variables naming them. */
export interface DataLookup {
  /** Folders that are the dataset's own (holding `<path>` of a key `<dataset>/<path>`), searched first. */
  datasetDirs?: readonly string[];
  /** Environment variables that name places, for the hint of a missing file (default `['ICNN_DATA_DIR']`). */
  envVars?: readonly string[];
}

/**
 * The path of a data file, downloading it into the cache when it is not found locally. `file` is a key of the
 * sources table (e.g. `bibtex/bibtex-train.arff`).
 */
export async function resolveDataFile(file: string, options: DataLocationOptions = {}): Promise<string> {
  return (await locateDataFile(file, options)).path;
}

/** `resolveDataFile`, also saying where the file was found, with the loader's own folders searched first. */
export async function locateDataFile(
  file: string,
  options: DataLocationOptions = {},
  lookup: DataLookup = {},
): Promise<{ path: string; origin: DataFileOrigin }> {
  const source = sourceFor(file, options.sources ?? DATA_SOURCES);
  const datasetDirs = (lookup.datasetDirs ?? []).map((d) => path.resolve(d));
  const searchDirs = dataSearchDirs(options);
  const cachePath = path.join(path.resolve(options.cacheDir ?? defaultCacheDir()), ...file.split('/'));
  const local = [...datasetDirs.map((d) => inDatasetDir(d, file)), ...searchDirs.flatMap((d) => candidatesIn(d, file))];
  for (const p of [...local, cachePath]) {
    if (await isFile(p)) {
      if (options.verify !== false && source) await verifyDataFile(p, source);
      return { path: p, origin: p === cachePath ? 'cache' : 'data-dir' };
    }
  }
  const where = [
    ...datasetDirs.map((d) => path.dirname(inDatasetDir(d, file))),
    ...searchDirs.map((d) => path.join(d, path.dirname(file))),
    path.dirname(cachePath),
  ];
  const hint = `put ${path.basename(cachePath)} in one of: ${where.join(', ')} or set ${(lookup.envVars ?? ['ICNN_DATA_DIR']).join(' or ')}`;
  if (!source) fail(`data file ${file} was not found and has no known origin; ${hint}`);
  if (options.download === false) {
    fail(`data file ${file} was not found (looked in: ${[...local, cachePath].join(', ')}) and downloading is disabled; ${hint}`);
  }
  await downloadFile(file, source, cachePath, { ...options, hint });
  return { path: cachePath, origin: 'download' };
}

export class DownloadError extends IcnnError {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** A short reason from a fetch/stream failure: undici hides the useful part (ECONNREFUSED, ...) in `cause`. */
function describeFailure(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const parts = [e.message];
  let cause = (e as { cause?: unknown }).cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    const msg = code && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
    if (msg && !parts.includes(msg)) parts.push(msg);
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

/**
 * Download `source.url` to `target`, checking size and sha256. Throws `DownloadError` (leaving no file behind) when
 * the server cannot be reached, answers with an error status, stalls, ends early or sends other bytes.
 */
export async function downloadFile(
  file: string,
  source: DataFileSource,
  target: string,
  options: Pick<DataLocationOptions, 'onProgress' | 'timeoutMs'> & { hint?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const hint = options.hint ?? `put ${path.basename(target)} in ${path.dirname(target)} or set ICNN_DATA_DIR`;
  const failDownload = (reason: string): never => {
    throw new DownloadError(`could not download ${file} from ${source.url}: ${reason}; ${hint}`);
  };
  await fs.mkdir(path.dirname(target), { recursive: true });
  await removeStaleTempFiles(path.dirname(target)).catch(() => undefined);
  const tmp = tempNameFor(target);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data received for ${timeoutMs} ms`)), timeoutMs);
  };
  let handle: fs.FileHandle | undefined;
  try {
    arm();
    let response: Response;
    try {
      response = await fetch(source.url, { signal: controller.signal, redirect: 'follow' });
    } catch (e) {
      return failDownload(describeFailure(controller.signal.aborted ? controller.signal.reason : e));
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return failDownload(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    if (!response.body) return failDownload('the response has no body');
    const lengthHeader = response.headers.get('content-length');
    const announced = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    const totalBytes = announced ?? source.bytes;
    // The cap: the published size where known (a longer answer is wrong anyway), else DOWNLOAD_SIZE_CAP.
    const cap = source.bytes ?? DOWNLOAD_SIZE_CAP;
    if (announced !== undefined && announced > cap) {
      await response.body.cancel().catch(() => undefined);
      return failDownload(`the server announces ${announced} bytes, more than the ${cap} expected; nothing was written`);
    }
    const hash = createHash('sha256');
    let received = 0;
    handle = await fs.open(tmp, 'w');
    options.onProgress?.({ file, url: source.url, receivedBytes: 0, totalBytes });
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        if (received + chunk.length > cap) throw new Error(`more than ${cap} bytes, the expected size; stopped`);
        hash.update(chunk);
        await handle.write(chunk);
        received += chunk.length;
        options.onProgress?.({ file, url: source.url, receivedBytes: received, totalBytes });
      }
    } catch (e) {
      return failDownload(`the transfer broke off after ${received} bytes (${describeFailure(controller.signal.aborted ? controller.signal.reason : e)})`);
    }
    clearTimeout(timer);
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (announced !== undefined && received !== announced) {
      return failDownload(`the response ended after ${received} of ${announced} bytes (truncated)`);
    }
    if (source.bytes !== undefined && received !== source.bytes) {
      return failDownload(`received ${received} bytes, expected ${source.bytes}; the file was discarded`);
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== source.sha256) {
      return failDownload(`checksum mismatch: sha256 ${sha256}, expected ${source.sha256}; the file was discarded`);
    }
    await fs.rename(tmp, target);
  } finally {
    clearTimeout(timer);
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}
