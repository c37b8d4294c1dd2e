/**
 * BibTeX multi-label data (Katakis et al. 2008, Mulan distribution; §5.2 of the paper): the standard split,
 * 4880 training and 2515 test instances, 1836 binary bag-of-words features, 159 binary labels.
 *
 * Labels are the attributes named in Mulan's `bibtex.xml` (they are the last 159 attributes, Mulan convention).
 */
import { readFile } from 'node:fs/promises';
import { optionsSchema, parseOptions } from '../util/schema.js';
import { fail } from '../util/errors.js';
import { decodeArffBytes, parseMulanLabelsXml, parseMultiLabelArff } from './arff.js';
import { DATA_LOCATION_OPTION_ENTRIES, resolveDataFile, type DataLocationOptions } from './resolve.js';
import { BIBTEX_LABELS_FILE, BIBTEX_TEST_FILE, BIBTEX_TRAIN_FILE } from './sources.js';

/** One split of a multi-label data set: n rows of features x and 0/1 labels y, row-major. */
export interface MultiLabelSplit {
  /** n × featureNames.length, row-major, 0/1. */
  x: Float32Array;
  /** n × labelNames.length, row-major, 0/1. */
  y: Float32Array;
  n: number;
}

/** The BibTeX multi-label data set of §5.2 (Katakis et al.), as the paper's Mulan train/test split. */
export interface BibtexData {
  train: MultiLabelSplit;
  test: MultiLabelSplit;
  featureNames: string[];
  labelNames: string[];
}

function sameNames(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const BIBTEX_OPTIONS = optionsSchema(DATA_LOCATION_OPTION_ENTRIES);

/** Load the BibTeX train/test split (found locally, else downloaded; see `resolveDataFile`). */
export async function loadBibtex(options: DataLocationOptions = {}): Promise<BibtexData> {
  parseOptions('loadBibtex', BIBTEX_OPTIONS, options);
  // One after the other, so that a first-time download reports its files in order.
  const xmlPath = await resolveDataFile(BIBTEX_LABELS_FILE, options);
  const trainPath = await resolveDataFile(BIBTEX_TRAIN_FILE, options);
  const testPath = await resolveDataFile(BIBTEX_TEST_FILE, options);
  const labelNames = parseMulanLabelsXml(await readFile(xmlPath, 'utf8'), xmlPath);
  const train = parseMultiLabelArff(decodeArffBytes(await readFile(trainPath)), { labelNames, source: trainPath, nonFinite: 'error' });
  const test = parseMultiLabelArff(decodeArffBytes(await readFile(testPath)), { labelNames, source: testPath, nonFinite: 'error' });
  const diff = sameNames(train.featureNames, test.featureNames);
  if (diff >= 0) {
    fail(
      `loadBibtex: ${trainPath} and ${testPath} have different features ` +
        `(${train.featureNames.length} vs ${test.featureNames.length}; first difference at feature ${diff}: ` +
        `'${train.featureNames[diff] ?? '(none)'}' vs '${test.featureNames[diff] ?? '(none)'}')`,
    );
  }
  return {
    train: { x: train.x, y: train.y, n: train.n },
    test: { x: test.x, y: test.y, n: test.n },
    featureNames: train.featureNames,
    labelNames,
  };
}
