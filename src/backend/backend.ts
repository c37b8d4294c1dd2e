/**
 * The one place that knows about tfjs backends.
 *
 * - Node default: `@tensorflow/tfjs-node` ("tensorflow") when the user has it installed (detected at run time,
 *   never required), else wasm (SIMD, one thread in Node), else cpu.
 * - cpu is the test oracle: slow, but exact reference kernels.
 * - `ICNN_BACKEND=wasm|cpu|tensorflow` overrides the default.
 * The gradient overrides of ./gradients.ts are registered before any backend is used, and tfjs's console
 * banner ("looks like you are running TensorFlow.js in Node.js") is silenced.
 * - The native matmul kernels (./nativeKernels.ts) replace the wasm backend's when the addon is built
 *   (`ICNN_NATIVE=0` disables them).
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerGradientOverrides } from './gradients.js';
import { enableNativeKernels, nativeStatus, type NativeStatus } from './nativeKernels.js';

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

// PROD silences tfjs's warnings (the cpu backend's "install our node backend" banner among them).
tf.env().set('PROD', true);
registerGradientOverrides();
enableNativeKernels();

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

/** Initialize the default backend once (idempotent); every entry point of the library awaits this. */
export function ready(): Promise<BackendInfo> {
  if (initialization === null) initialization = initDefault();
  return initialization;
}

async function initDefault(): Promise<BackendInfo> {
  const fromEnv = process.env.ICNN_BACKEND;
  if (fromEnv !== undefined && fromEnv !== '') return setBackend(parseBackendName(fromEnv, 'ICNN_BACKEND'));
  if (await tryLoadTfjsNode()) {
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
  if (name === 'wasm') threads = getThreadsCount();
  return { name, threads, simd, tfjsVersion: tf.version.tfjs, available, native: nativeStatus() };
}
