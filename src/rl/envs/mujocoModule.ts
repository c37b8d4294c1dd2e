/**
 * The MuJoCo WebAssembly module (npm `mujoco-js`, MuJoCo 3.3.8), loaded once per process on first use.
 * Models are compiled from XML text written into the module's in-memory file system (MEMFS).
 */
import type { MainModule, MjData, MjModel } from 'mujoco-js';
import { IcnnError } from '../../util/errors.js';

export type { MainModule, MjData, MjModel };

const MOUNT = '/icnn-models';
let modulePromise: Promise<MainModule> | null = null;
let fileCounter = 0;
/** Lines MuJoCo prints go here while a model compiles (for the error message), else to stderr. */
let capture: string[] | null = null;
let warnings = 0;

/**
 * MuJoCo prints its messages (parser errors; "WARNING: Nan, Inf or huge value in QACC …" when a simulation goes
 * unstable, after which MuJoCo resets the state) through the module's print hook. They go to stderr, not stdout.
 */
function onPrint(text: string): void {
  if (capture !== null) {
    if (text.trim() !== '') capture.push(text.trim());
    return;
  }
  if (/^WARNING/.test(text)) warnings++;
  if (text.trim() !== '') process.stderr.write(`mujoco: ${text}\n`);
}

/** How many warnings MuJoCo has printed in this process (an environment compares counts around a step). */
export function mujocoWarningCount(): number {
  return warnings;
}

/** The process-wide module; the first call loads it (about 0.1 s). A failed load is retried on the next call. */
export function loadMujocoModule(): Promise<MainModule> {
  if (modulePromise === null) {
    modulePromise = (async () => {
      let mod: MainModule;
      try {
        const { default: loadMujoco } = await import('mujoco-js');
        mod = await loadMujoco({ print: onPrint, printErr: onPrint });
      } catch (e) {
        throw new IcnnError(`could not load the MuJoCo wasm module (npm mujoco-js): ${e instanceof Error ? e.message : String(e)}`);
      }
      mod.FS.mkdir(MOUNT);
      mod.FS.mount(mod.MEMFS, { root: '.' }, MOUNT);
      return mod;
    })();
    modulePromise.catch(() => {
      modulePromise = null;
    });
  }
  return modulePromise;
}

/** Runtime helpers the build exports but does not declare in its typings. */
interface ExceptionHelpers {
  getExceptionMessage?: (ptr: number) => [string, string | undefined];
  decrementExceptionRefcount?: (e: unknown) => void;
}

/**
 * Text for an error thrown out of wasm. A C++ exception arrives as a `CppException` holding only a pointer; its type
 * name (e.g. mjXError) is all MuJoCo's build reveals, the message text is not passed on. The exception is freed.
 */
function describe(mj: MainModule, e: unknown): string {
  const helpers = mj as unknown as ExceptionHelpers;
  if (e !== null && typeof e === 'object' && 'excPtr' in e && typeof e.excPtr === 'number' && helpers.getExceptionMessage) {
    try {
      const [type, message] = helpers.getExceptionMessage(e.excPtr);
      helpers.decrementExceptionRefcount?.(e);
      return message ? `${type}: ${message}` : `${type} (MuJoCo gives no details; check the model in MuJoCo 3.3.8)`;
    } catch {
      // fall through to the generic text
    }
  }
  if (e instanceof Error && e.message) return e.message;
  return String(e);
}

/**
 * Compile MJCF text into a model and its data. The XML is written to MEMFS under a unique name and removed
 * again after compiling (the model keeps no reference to it).
 */
export function compileModel(mj: MainModule, xml: string, label: string): { model: MjModel; data: MjData } {
  const file = `${MOUNT}/${label.replace(/[^A-Za-z0-9_.-]/g, '_')}-${++fileCounter}.xml`;
  mj.FS.writeFile(file, xml);
  let model: MjModel;
  const printed: string[] = [];
  capture = printed;
  try {
    // A malformed XML document makes loadFromXML print the parser error and return null.
    const loaded = mj.MjModel.loadFromXML(file) as MjModel | null;
    if (loaded === null) throw new IcnnError(`MuJoCo could not parse ${label} (not well-formed XML): ${printed.join(' ')}`);
    model = loaded;
  } catch (e) {
    if (e instanceof IcnnError) throw e;
    throw new IcnnError(`MuJoCo could not compile ${label}: ${describe(mj, e)}${printed.length ? ` (${printed.join(' ')})` : ''}`);
  } finally {
    capture = null;
    mj.FS.unlink(file);
  }
  for (const line of printed) process.stderr.write(`mujoco (${label}): ${line}\n`);
  try {
    return { model, data: new mj.MjData(model) };
  } catch (e) {
    model.delete();
    throw new IcnnError(`MuJoCo could not allocate data for ${label}: ${describe(mj, e)}`);
  }
}
