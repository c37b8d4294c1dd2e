/**
 * Fail before work: a command that writes checks its output location first (create the directory, write and remove
 * a probe file), so an unwritable `--out` is found in well under a second, not after hours of training.
 *
 * Pseudo file systems (/proc, /sys, /dev and any mount whose statfs type is one of them) are refused up front:
 * Node's recursive mkdir never returns under /proc. Every probe is also bounded in time, so a path that hangs for
 * another reason (a dead network mount) ends in an error too.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fail } from './errors.js';

const PROBE_TIMEOUT_MS = 5_000;

/** Mount prefixes that are never places for output. /dev/shm is a real (tmpfs) file system and allowed. */
const PSEUDO_PREFIXES = ['/proc', '/sys', '/dev'];
const ALLOWED_UNDER_PSEUDO = ['/dev/shm'];

/** statfs magic numbers of kernel pseudo file systems (linux/magic.h). */
const PSEUDO_FS_TYPES = new Map<number, string>([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x1cd1, 'devpts'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0xcafe4a11, 'bpf'],
]);

function under(p: string, prefix: string): boolean {
  return p === prefix || p.startsWith(`${prefix}/`);
}

/** The reason `abs` is a pseudo file system path, or null. */
function pseudoPrefix(abs: string): string | null {
  if (process.platform !== 'linux') return null;
  if (ALLOWED_UNDER_PSEUDO.some((a) => under(abs, a))) return null;
  const hit = PSEUDO_PREFIXES.find((p) => under(abs, p));
  return hit === undefined ? null : `${hit} is a kernel pseudo file system, not a place for files`;
}

/** The deepest existing ancestor of `abs` (itself when it exists). */
async function existingAncestor(abs: string): Promise<string> {
  let p = abs;
  for (;;) {
    try {
      await fs.stat(p);
      return p;
    } catch {
      const parent = path.dirname(p);
      if (parent === p) return p;
      p = parent;
    }
  }
}

async function pseudoFsType(abs: string): Promise<string | null> {
  if (process.platform !== 'linux') return null;
  try {
    const real = await fs.realpath(await existingAncestor(abs));
    const viaLink = pseudoPrefix(real);
    if (viaLink) return viaLink;
    const type = PSEUDO_FS_TYPES.get(Number((await fs.statfs(real)).type));
    return type === undefined ? null : `it lies on a ${type} pseudo file system`;
  } catch {
    return null;
  }
}

function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOTDIR': case 'EEXIST': return 'a part of the path is a file, not a directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'ENAMETOOLONG': return 'the name is too long';
    case 'ELOOP': return 'too many symbolic links';
    case 'EISDIR': return 'it is a directory';
    default: return code ?? (e as Error).message;
  }
}

async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not finish within ${PROBE_TIMEOUT_MS / 1000} s`), { code: undefined })), PROBE_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Make sure `dir` exists and a file can be written in it; `flag` names the option (e.g. `--out`). Fails with one
 * line naming the path and the reason. Returns the absolute path.
 */
export async function probeOutputDir(flag: string, dir: string, shown = dir): Promise<string> {
  const abs = path.resolve(dir);
  const bad = (reason: string): never => fail(`${flag} ${path.resolve(shown)}: cannot write there (${reason}); choose another ${flag}`);
  const pseudo = pseudoPrefix(abs) ?? (await pseudoFsType(abs));
  if (pseudo) bad(pseudo);
  try {
    await withTimeout(fs.mkdir(abs, { recursive: true }), 'creating the directory');
    const st = await fs.stat(abs);
    if (!st.isDirectory()) bad('it is a file, not a directory');
    const probe = path.join(abs, `.icnn-probe-${process.pid}`);
    await withTimeout(fs.writeFile(probe, 'probe'), 'writing a probe file');
    await fs.rm(probe, { force: true });
  } catch (e) {
    if ((e as Error).name === 'IcnnError') throw e;
    bad(reasonOf(e));
  }
  return abs;
}

/** Like `probeOutputDir` for an output file: probes its directory and refuses a directory in its place. */
export async function probeOutputFile(flag: string, file: string): Promise<string> {
  const abs = path.resolve(file);
  await probeOutputDir(flag, path.dirname(abs), abs);
  const st = await fs.stat(abs).catch(() => null);
  if (st?.isDirectory()) fail(`${flag} ${abs}: cannot write there (it is a directory, not a file); choose another ${flag}`);
  return abs;
}
