/**
 * icnn/node: the Node-only half of the library. Data files (lookup, sha256-checked download, the ARFF, MAT and
 * Olivetti/BibTeX readers), models on disk, training checkpoints and the native matmul kernels. The models,
 * inference and training themselves are in the core, `icnn`.
 */
export { readMultiLabelArff, parseMultiLabelArff, parseMulanLabelsXml, decodeArffBytes } from './data/arff.js';
export type { MultiLabelData, ReadArffOptions, LabelSpec, ArffAttribute } from './data/arff.js';
export { loadBibtex } from './data/bibtex.js';
export type { BibtexData, MultiLabelSplit } from './data/bibtex.js';
export { readMat, readMatVariable } from './data/mat.js';
export type { MatVariable, MatClass, MatNumericClass, MatData, ReadMatOptions } from './data/mat.js';
export { loadOlivetti, olivettiCompletionSplit, olivettiPixelsFromMat, scaleOlivetti, OLIVETTI_SIZE, OLIVETTI_PIXELS } from './data/olivetti.js';
export type { OlivettiData, OlivettiScaling, LoadOlivettiOptions, CompletionSet, CompletionSplit } from './data/olivetti.js';
export { resolveDataFile, downloadFile, verifyDataFile, defaultCacheDir, dataSearchDirs, DownloadError } from './data/resolve.js';
export type { DataLocationOptions, DownloadProgress } from './data/resolve.js';
export { DATA_SOURCES } from './data/sources.js';
export type { DataSources, DataFileSource, EquivalentCopy } from './data/sources.js';
export { saveModel, loadModel } from './models/modelFiles.js';
export { readCheckpoint, latestCheckpoint, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION } from './learning/checkpoint.js';
export type { CheckpointDocument, LoadedCheckpoint } from './learning/checkpoint.js';
export type { CheckpointOptions } from './learning/fit.js';
export { enableNativeKernels, disableNativeKernels, nativeStatus } from './backend/nativeKernels.js';
