/**
 * Running the real CLI (src/cli/main.ts through tsx, as bin/icnn.js runs the build) in a child process, for the
 * reliability suites. The child's working directory is the repository root, so that worker threads resolve tsx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(REPO, 'src/cli/main.ts');
const SCRIPT = `const m = await import(${JSON.stringify(MAIN)});
m.main(process.argv.slice(0, 1).concat(['icnn'], process.argv.slice(1))).catch((err) => {
  process.stderr.write('icnn: ' + (err instanceof Error ? err.message : String(err)) + '\\n');
  process.exitCode = 1;
});`;

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The environment of a CLI child: no test-runner context, the given overrides (undefined removes a variable). */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  delete out.NODE_TEST_CONTEXT;
  delete out.ICNN_BACKEND;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Start `icnn ...args`; the caller may kill the child. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, '--', ...args], {
    cwd: REPO, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
  return { child, done };
}

/** Run `icnn ...args` to the end, killing it after `timeoutMs` (a hang then shows as signal SIGKILL). */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<CliRun> {
  const { child, done } = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}
