/**
 * The one place that knows about tfjs backends. Importing it changes nothing: `init()` (or the first call of an
 * async entry point such as `fit`, through `ensureInit()`) does the one-time setup and picks the backend.
 *
 * - Setup, once: tfjs's gradient rules and chained ops (registered by the `@tensorflow/tfjs` package, the only
 *   copy of them that loads in Node), the overrides of ./gradients.ts, the PROD flag (which silences tfjs's console
 *   banner, "looks like you are running TensorFlow.js in Node.js"), the wasm backend, and in Node the native matmul
 *   kernels of ./nativeKernels.ts when the addon is built (`ICNN_NATIVE=0` disables them).
 * - Node default: `@tensorflow/tfjs-node` ("tensorflow") when the user has it installed (detected at run time,
 *   never required), else wasm (SIMD, one thread in Node), else cpu.
 * - cpu is the test oracle: slow, but exact reference kernels.
 * - `ICNN_BACKEND=wasm|cpu|tensorflow` overrides the default.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerGradientOverrides } from './gradients.js';
import { nativeStatus, type NativeStatus } from './nativeState.js';
import { importNodeOnly, isNode } from '../util/nodeOnly.js';
import { IcnnError, fail } from '../util/errors.js';

/**
 * A tfjs backend the library runs on: 'wasm' (default in Node), 'cpu' (the test oracle) or 'tensorflow' (tfjs-node).
 */
export type BackendName = 'wasm' | 'cpu' | 'tensorflow';
/** Every backend name `setBackend` accepts. */
export const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow'];

/** What `backendInfo()` and `setBackend()` report about the active tfjs backend. */
export interface BackendInfo {
  /** Active tfjs backend. */
  name: BackendName;
  /** Threads the backend computes with (wasm in Node is single-threaded). */
  threads: number;
  /** Whether the wasm SIMD binary is in use (wasm only). */
  simd: boolean | null;
  /** tfjs version. */
  tfjsVersion: string;
  /** Backends that can be selected in this process. */
  available: BackendName[];
  /** The native matmul kernels; they run when `name` is wasm and `native.enabled`. */
  native: NativeStatus;
}

let tfjsNodeTried = false;
let tfjsNodeLoaded = false;
let initialization: Promise<BackendInfo> | null = null;
let setup: Promise<void> | null = null;
let wasmThreads: () => number = () => 1;

/** The one-time setup (see the module comment); idempotent. */
function setUp(): Promise<void> {
  setup ??= (async () => {
    await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasmThreads = wasm.getThreadsCount;
    // PROD silences tfjs's warnings (the cpu backend's "install our node backend" banner among them).
    tf.env().set('PROD', true);
    registerGradientOverrides();
    if (isNode()) {
      const native = await importNodeOnly<typeof import('./nativeKernels.js')>('../backend/nativeKernels.js', 'native kernels');
      native.enableNativeKernels();
    }
  })();
  return setup;
}

async function tryLoadTfjsNode(): Promise<boolean> {
  if (tfjsNodeTried) return tfjsNodeLoaded;
  tfjsNodeTried = true;
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
    tfjsNodeLoaded = tf.findBackendFactory('tensorflow') !== null;
  } catch {
    tfjsNodeLoaded = false;
  }
  return tfjsNodeLoaded;
}

type Listener = (...args: unknown[]) => void;
type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
const PROCESS_EVENTS: ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];

function listenersOf(event: ProcessEvent): Listener[] {
  if (!isNode()) return [];
  return (event === 'uncaughtException' ? process.listeners('uncaughtException') : process.listeners('unhandledRejection')) as Listener[];
}

function processListeners(): Map<ProcessEvent, Set<Listener>> {
  return new Map(PROCESS_EVENTS.map((e) => [e, new Set(listenersOf(e))]));
}

/**
 * The wasm backend's Emscripten glue installs process-wide handlers that rethrow every uncaught error from
 * inside its own (minified, 30 kB single-line) file, so Node prints that whole line with any crash. Remove them:
 * errors then surface with their own stack traces, and Node's default handling is unchanged.
 */
function removeListenersAddedSince(before: Map<ProcessEvent, Set<Listener>>): void {
  for (const e of PROCESS_EVENTS) {
    for (const l of listenersOf(e)) {
      if (!before.get(e)?.has(l)) process.removeListener(e, l);
    }
  }
}

function parseBackendName(name: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(`${source}: unknown backend '${name}' (expected one of: ${BACKEND_NAMES.join(', ')})`);
}

/**
 * Switch the tensor backend. Tensors and models created on another backend stay usable (tfjs moves data on
 * demand), but for speed create models after choosing the backend.
 */
export async function setBackend(name: BackendName | string): Promise<BackendInfo> {
  const wanted = parseBackendName(String(name), 'setBackend');
  await setUp();
  if (wanted === 'tensorflow' && !(await tryLoadTfjsNode())) {
    throw new Error("setBackend: backend 'tensorflow' needs the optional package @tensorflow/tfjs-node, which is not installed");
  }
  const before = processListeners();
  const ok = await tf.setBackend(wanted);
  removeListenersAddedSince(before);
  if (!ok) throw new Error(`setBackend: tfjs could not initialize the '${wanted}' backend`);
  await tf.ready();
  initialization = Promise.resolve(backendInfo());
  return backendInfo();
}

/** Initialize the default backend once (idempotent). */
export function ready(): Promise<BackendInfo> {
  if (initialization === null) initialization = initDefault();
  return initialization;
}

/** Options of `init`: which tensor backend to use (left out, the default pick of `ready()`). */
export interface InitOptions {
  /** The tensor backend; default: as `ready()` picks it (tfjs-node if installed, else wasm, else cpu). */
  backend?: BackendName;
  /**
   * Where the wasm backend fetches its `.wasm` files: a URL prefix ending in '/' (tfjs-backend-wasm's
   * `setWasmPaths`). A page needs it when the files are not served next to its script; Node finds them itself.
   * Takes effect only before the wasm backend first starts.
   */
  wasmPaths?: string;
}

const INIT_OPTION_KEYS = ['backend', 'wasmPaths'];

/**
 * Set the library up and pick the tensor backend: call once before building models. Idempotent; with `backend`, it
 * switches to that backend.
 */
export async function init(options: InitOptions = {}): Promise<BackendInfo> {
  if (options === null || typeof options !== 'object') fail(`init: options must be an object like { backend: 'wasm' }, got ${JSON.stringify(options)}`);
  const unknown = Object.keys(options).filter((k) => !INIT_OPTION_KEYS.includes(k));
  if (unknown.length > 0) fail(`init: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${INIT_OPTION_KEYS.join(', ')})`);
  if (options.wasmPaths !== undefined) {
    if (typeof options.wasmPaths !== 'string' || !options.wasmPaths.endsWith('/')) {
      fail(`init: wasmPaths must be a URL prefix ending in '/' (the folder of the .wasm files), got ${JSON.stringify(options.wasmPaths)}`);
    }
    (await import('@tensorflow/tfjs-backend-wasm')).setWasmPaths(options.wasmPaths);
    const where = options.wasmPaths;
    return (options.backend === undefined ? ready() : setBackend(options.backend)).catch((e: Error) => {
      throw new IcnnError(`${e.message} (its .wasm files were looked for under wasmPaths ${JSON.stringify(where)})`);
    });
  }
  return options.backend === undefined ? ready() : setBackend(options.backend);
}

/**
 * What the library's async entry points await (the lazy first-use init): the one-time setup, and the default backend
 * unless one is active already (picked by `init`, or by the user's own `tf.setBackend`).
 */
export async function ensureInit(): Promise<void> {
  if (initialization !== null) {
    await initialization;
    return;
  }
  await setUp();
  if (tf.engine().backendName === null) await ready();
}

/**
 * Fail in one line when nothing could run a tensor op yet: the core initializes nothing at import, and tfjs's own
 * error ("No backend found in registry") does not say what to do.
 */
export function assertBackendAvailable(where: string): void {
  const engine = tf.engine();
  if (engine.backendName == null && engine.backendNames().length === 0) {
    fail(`${where}: no tensor backend yet: call \`await init()\` (from 'icnn') before building models`);
  }
}

async function initDefault(): Promise<BackendInfo> {
  const fromEnv = isNode() ? process.env.ICNN_BACKEND : undefined;
  if (fromEnv !== undefined && fromEnv !== '') return setBackend(parseBackendName(fromEnv, 'ICNN_BACKEND'));
  if (isNode() && (await tryLoadTfjsNode())) {
    try {
      return await setBackend('tensorflow');
    } catch {
      // fall through to wasm
    }
  }
  try {
    return await setBackend('wasm');
  } catch {
    return setBackend('cpu');
  }
}

/** Facts about the active backend. */
export function backendInfo(): BackendInfo {
  const name = tf.getBackend() as BackendName;
  const available = BACKEND_NAMES.filter((b) => b !== 'tensorflow' || tfjsNodeLoaded);
  let simd: boolean | null = null;
  if (name === 'wasm') {
    try {
      simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    } catch {
      simd = null; // flag not evaluated synchronously yet
    }
  }
  let threads = 1;
  if (name === 'wasm') threads = wasmThreads();
  return { name, threads, simd, tfjsVersion: tf.version_core, available, native: nativeStatus() };
}
