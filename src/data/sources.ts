/**
 * Where each data file comes from: its public origin and its checksum. The loaders look for a file locally first
 * (see `resolveDataFile`) and download it from `url` only when it is nowhere to be found; a download is kept only
 * if its sha256 (and size, where known) matches.
 *
 * Keys are paths relative to a data directory, '/'-separated: `<dataset>/<file name>`.
 */

/** A copy of a file with other bytes but the same content (e.g. a re-save), accepted when found locally. */
export interface EquivalentCopy {
  readonly sha256: string;
  readonly bytes: number;
  readonly note: string;
}

/** Where a data file comes from and how it is verified (sha256, size). */
export interface DataFileSource {
  /** Public origin; `https:` (or `http:` for local test servers). */
  readonly url: string;
  /** Lower-case hex sha256 of the bytes served at `url`. */
  readonly sha256: string;
  /** Size of the bytes served at `url`, where known. */
  readonly bytes?: number;
  /** Other accepted copies (checked by `verifyDataFile`, never by downloads). */
  readonly equivalents?: readonly EquivalentCopy[];
  /** One line for messages and documentation. */
  readonly description: string;
}

/** Files → origin. Injectable in the loaders (`sources` option) so that tests can point at a local server. */
export type DataSources = Readonly<Record<string, DataFileSource>>;

/** Mulan's repository (github:tsoumakas/mulan), pinned to the commit the files were verified at. */
const MULAN_RAW = 'https://raw.githubusercontent.com/tsoumakas/mulan/43f6389095ad71984264db4387a8074b22bc7d4a/data/multi-label/bibtex';

/** Key of the BibTeX training split (§5.2) in `DATA_SOURCES`. */
export const BIBTEX_TRAIN_FILE = 'bibtex/bibtex-train.arff';
/** Key of the BibTeX test split (§5.2) in `DATA_SOURCES`. */
export const BIBTEX_TEST_FILE = 'bibtex/bibtex-test.arff';
/** Key of the BibTeX label names (Mulan XML) in `DATA_SOURCES`. */
export const BIBTEX_LABELS_FILE = 'bibtex/bibtex.xml';
/** Key of the Olivetti faces file (§5.3) in `DATA_SOURCES`. */
export const OLIVETTI_MAT_FILE = 'olivetti/olivettifaces.mat';

/** The public origin and sha256 of every data file the experiments use. */
export const DATA_SOURCES: DataSources = Object.freeze({
  [BIBTEX_TRAIN_FILE]: {
    url: `${MULAN_RAW}/bibtex-train.arff`,
    sha256: '8dcc9de6e0b2cebaec8c1f4fac78431adeeb73cfd3ab879b530a66d366e59174',
    bytes: 2_292_961,
    description: 'BibTeX (Mulan) standard training split, 4880 instances, sparse ARFF',
  },
  [BIBTEX_TEST_FILE]: {
    url: `${MULAN_RAW}/bibtex-test.arff`,
    sha256: '9b03329cde64d3f994bdf7fbbac3f3b10fe185c311cb9ae725475f59c7f3f922',
    bytes: 1_215_637,
    description: 'BibTeX (Mulan) standard test split, 2515 instances, sparse ARFF',
  },
  [BIBTEX_LABELS_FILE]: {
    url: `${MULAN_RAW}/bibtex.xml`,
    sha256: '08fe20013c1e75dcf1888c185f5187c95e76495b8518ce289b4d3afce38d1232',
    bytes: 5_880,
    description: 'BibTeX (Mulan) label header: the 159 label names',
  },
  [OLIVETTI_MAT_FILE]: {
    // scikit-learn's fetch_olivetti_faces origin (Sam Roweis's olivettifaces.mat) and scikit-learn's checksum.
    url: 'https://ndownloader.figshare.com/files/5976027',
    sha256: 'b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794',
    equivalents: [
      {
        sha256: 'b1988d02c72fe5b8ee82b5ef3bb7982eafc74f1e1ff0ae0ade35061ad0af534d',
        bytes: 1_432_511,
        note: 'compressed MATLAB re-save (github:sjgershm/DBM olivettifaces.mat) with identical pixels',
      },
    ],
    description: 'Olivetti faces, 400 images of 64x64, MATLAB v5 (variable faces, 4096x400)',
  },
});
