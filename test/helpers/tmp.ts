/** Temporary directories for tests: created under the OS temp dir, removed after the test (or suite). */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function makeTempDir(prefix = 'icnn-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A temp dir for a node:test context, removed when the test ends:
 * `const dir = tempDirFor(t)` inside `test('…', (t) => { … })`.
 */
export function tempDirFor(t: { after: (fn: () => void) => void }, prefix?: string): string {
  const dir = makeTempDir(prefix);
  t.after(() => removeDir(dir));
  return dir;
}
