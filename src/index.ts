/**
 * icnn: Input Convex Neural Networks (Amos, Xu & Kolter, ICML 2017) in TypeScript.
 *
 * Importing the package initializes the default tensor backend (tfjs-node if installed, else wasm, else cpu;
 * `ICNN_BACKEND` overrides), so models can be built right away. `setBackend('cpu')` switches explicitly.
 */
import { ready } from './backend/backend.js';

export * as tf from '@tensorflow/tfjs';
export { setBackend, ready, backendInfo, BACKEND_NAMES } from './backend/index.js';
export type { BackendName, BackendInfo } from './backend/index.js';
export * from './models/index.js';
export { argmin, ARGMIN_METHODS } from './inference/argmin.js';
export type { ArgminOptions, ArgminResult, ArgminMethod } from './inference/argmin.js';
export type { DomainSpec } from './inference/domain.js';
export type { ActiveBundle } from './inference/bundleEntropy.js';
export { solveLp } from './inference/lp.js';
export * from './data/index.js';
export { fit } from './learning/fit.js';
export type { FitOptions, FitHistory, FitData, Dataset, EpochRecord, FitCallbacks, FitControl, FitLogs } from './learning/fit.js';
export { Adam } from './learning/adam.js';
export type { ProgressSink } from './learning/progress.js';
export { encodeSafetensors, decodeSafetensors } from './util/safetensors.js';
export { createObjective, availableObjectives, registerObjective, OBJECTIVE_NAMES } from './learning/objectives/index.js';
export type { Objective, Batch, StepResult } from './learning/objectives/objective.js';
export { exampleF1, labelMacroF1, microF1, multiLabelMetrics, regressionMetrics } from './learning/metrics.js';
export { unrolledGd } from './learning/unrolledGd.js';
export { argminAdjoint, argminSurrogate } from './learning/argminDifferentiation.js';
export { IcnnError } from './util/errors.js';
export { Rng, deriveSeed } from './util/random.js';
export { VERSION } from './version.js';
/** Continuous control (§4.5, §5.4): environments, DDPG / NAF / ICNN agents, the runner and the paper's tables. */
export * as rl from './rl/index.js';

await ready();
