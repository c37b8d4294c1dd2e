/**
 * The data files of the paper's experiments (§5.2–§5.3) and the readers behind them: the data part of `icnn/node`.
 * The synthetic sets (./synthetic.ts) are in the core; file names and hashing stay internal (./sources.ts, ./resolve.ts).
 */
export { readMultiLabelArff, parseMultiLabelArff, parseMulanLabelsXml, decodeArffBytes } from './arff.js';
export type { MultiLabelData, ReadArffOptions, LabelSpec, ArffAttribute } from './arff.js';
export { loadBibtex } from './bibtex.js';
export type { BibtexData, MultiLabelSplit } from './bibtex.js';
export { readMat, readMatVariable } from './mat.js';
export type { MatVariable, MatClass, MatNumericClass, MatData, ReadMatOptions } from './mat.js';
export { loadOlivetti, olivettiCompletionSplit, olivettiPixelsFromMat, scaleOlivetti, OLIVETTI_SIZE, OLIVETTI_PIXELS } from './olivetti.js';
export type { OlivettiData, OlivettiScaling, LoadOlivettiOptions, CompletionSet, CompletionSplit } from './olivetti.js';
export { resolveDataFile, downloadFile, verifyDataFile, defaultCacheDir, dataSearchDirs, DownloadError } from './resolve.js';
export type { DataLocationOptions, DownloadProgress } from './resolve.js';
export { DATA_SOURCES } from './sources.js';
export type { DataSources, DataFileSource, EquivalentCopy } from './sources.js';
