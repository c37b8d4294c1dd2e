/** A user script in a fresh Node process (a fresh tfjs): `node --import tsx -e script` in the repository root. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `script` (an ES module) with the given ICNN_BACKEND (undefined: unset); killed after `timeoutMs`. */
export function runChild(script: string, icnnBackend: string | undefined, timeoutMs = 30_000): Promise<ChildResult> {
  const env = { ...process.env };
  delete env.ICNN_BACKEND;
  // Test-runner variables would make the child report to this test run instead of behaving like a user script.
  delete env.NODE_TEST_CONTEXT;
  if (icnnBackend !== undefined) env.ICNN_BACKEND = icnnBackend;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
