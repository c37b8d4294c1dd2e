/**
 * icnn: Input Convex Neural Networks (Amos, Xu & Kolter, ICML 2017) in TypeScript. The core: models, convex
 * inference, learning and the synthetic data sets. It imports nothing of Node and changes nothing at import: call
 * `await init()` (or `init({ backend: 'cpu' })`) before building models; `fit`, `argmin` and the other async
 * entry points also initialize on first use. Files, downloads and the native kernels are in `icnn/node`; continuous
 * control in `icnn/rl`; the paper's experiments in `icnn/experiments`; charts in `icnn/report`.
 *
 * @module
 */
export { init, setBackend, ready, backendInfo, BACKEND_NAMES } from './backend/backend.js';
export type { BackendName, BackendInfo, InitOptions } from './backend/backend.js';
export type { NativeStatus } from './backend/nativeState.js';
export * from './models/index.js';
export { argmin, ARGMIN_METHODS } from './inference/argmin.js';
export type { ArgminOptions, ArgminResult, ArgminMethod } from './inference/argmin.js';
export type { DomainSpec } from './inference/domain.js';
export type { ActiveBundle } from './inference/bundleEntropy.js';
export { solveLp } from './inference/lp.js';
export { makeMoons, makeCircles, makeLinear, makeSynthetic } from './data/synthetic.js';
export type { Synthetic2D, MoonsOptions, CirclesOptions, LinearOptions, SyntheticName } from './data/synthetic.js';
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
