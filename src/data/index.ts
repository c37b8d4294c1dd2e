/** Data sets of the paper's experiments (§5.1–§5.3) and the readers behind them. */
export { makeMoons, makeCircles, makeLinear, makeSynthetic } from './synthetic.js';
export type { Synthetic2D, MoonsOptions, CirclesOptions, LinearOptions, SyntheticName } from './synthetic.js';
export { readMultiLabelArff, parseMultiLabelArff, parseMulanLabelsXml, decodeArffBytes } from './arff.js';
export type { MultiLabelData, ReadArffOptions, LabelSpec, ArffAttribute } from './arff.js';
export { loadBibtex } from './bibtex.js';
export type { BibtexData, MultiLabelSplit } from './bibtex.js';
export { readMat, readMatVariable } from './mat.js';
export type { MatVariable, MatClass, MatNumericClass, MatData, ReadMatOptions } from './mat.js';
export { loadOlivetti, olivettiCompletionSplit, olivettiPixelsFromMat, scaleOlivetti, OLIVETTI_SIZE, OLIVETTI_PIXELS } from './olivetti.js';
export type { OlivettiData, OlivettiScaling, LoadOlivettiOptions, CompletionSet, CompletionSplit } from './olivetti.js';
export { resolveDataFile, downloadFile, verifyDataFile, hashFile, defaultCacheDir, dataSearchDirs, DownloadError } from './resolve.js';
export type { DataLocationOptions, DownloadProgress } from './resolve.js';
export { DATA_SOURCES, BIBTEX_TRAIN_FILE, BIBTEX_TEST_FILE, BIBTEX_LABELS_FILE, OLIVETTI_MAT_FILE } from './sources.js';
export type { DataSources, DataFileSource, EquivalentCopy } from './sources.js';
