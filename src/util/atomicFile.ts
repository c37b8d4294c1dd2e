/**
 * Atomic file writes: write a temporary file in the same directory, fsync it, then rename it over the target.
 * A reader sees either the old or the new file, never a partial one, even if the process is killed mid-write.
 * A killed writer leaves its temporary file behind; `removeStaleTempFiles` removes those whose process is gone.
 */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** `.<target name>.<pid>.<8 hex>.tmp`: the writer's pid tells whether a leftover is stale. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

export function tempNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmp = tempNameFor(target);
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(dir);
}

/** Make a rename durable (POSIX); directories cannot be opened for syncing everywhere (Windows), so best effort. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // not supported on this platform or file system
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Whether the process `pid` is running (this process counts; EPERM means it exists under another user). */
export function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporary files that `writeFileAtomic` left in `dir` when its process was killed mid-write. Files of
 * processes still running (a concurrent writer) are kept. Returns the names removed.
 */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await fs.readdir(dir)) {
    const m = TEMP_NAME.exec(entry);
    if (!m || processIsAlive(Number(m[1]))) continue;
    await fs.rm(path.join(dir, entry), { force: true });
    removed.push(entry);
  }
  return removed;
}
