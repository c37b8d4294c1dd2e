/**
 * icnn/node: the Node-only half of the library. Data files (lookup, sha256-checked download, the ARFF, MAT and
 * Olivetti/BibTeX readers), models on disk, training checkpoints and the native matmul kernels. The models,
 * inference and training themselves are in the core, `icnn`.
 *
 * @module
 */
export * from './data/index.js';
export { saveModel, loadModel } from './models/modelFiles.js';
export { readCheckpoint, latestCheckpoint, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION } from './learning/checkpoint.js';
export type { CheckpointDocument, LoadedCheckpoint } from './learning/checkpoint.js';
export type { CheckpointOptions } from './learning/fit.js';
export { enableNativeKernels, disableNativeKernels, nativeStatus } from './backend/nativeKernels.js';
