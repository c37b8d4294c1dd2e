/**
 * Olivetti faces (AT&T/ORL, Sam Roweis's 64×64 version, as scikit-learn's `fetch_olivetti_faces` downloads it):
 * 400 grey images, 40 people × 10 consecutive images, from `olivettifaces.mat` (variable `faces`, 4096×400).
 *
 * Orientation: MATLAB stores `faces` column-major and each image column-major as well, so pixel (row r, column c)
 * of image i is `faces[r + 64*c, i]` (scikit-learn: `faces.T.reshape(400,64,64).transpose(0,2,1)`). The images
 * returned here are row-major and upright: `images[i*4096 + r*64 + c]`, row 0 at the top.
 *
 * §5.3 of the paper (image completion): first 350 images train, last 50 test; predict the left half (columns
 * 0–31) from the right half (columns 32–63), fed mirrored horizontally so that the halves line up.
 */
import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { checkOneOf } from '../util/options.js';
import { POSITIVE_INT } from '../util/numbers.js';
import { bool, num, oneOf, optionsSchema, parseOptions } from '../util/schema.js';
import { fail } from '../util/errors.js';
import { readMatVariable } from './mat.js';
import { DATA_LOCATION_OPTION_ENTRIES, resolveDataFile } from './resolve.js';
import { OLIVETTI_MAT_FILE } from './sources.js';

/** Height and width of an Olivetti face image (§5.3), in pixels. */
export const OLIVETTI_SIZE = 64;
/** Pixels of one Olivetti face image (64 × 64). */
export const OLIVETTI_PIXELS = OLIVETTI_SIZE * OLIVETTI_SIZE;

/**
 * How bytes become [0, 1] values: 'divide255' (the paper's code, `/255.`; the data's maximum 242 becomes 0.949)
 * or 'minmax' (scikit-learn: `(v - min) / (max - min)` over the whole set, i.e. `/242`).
 */
export const OLIVETTI_SCALINGS = ['divide255', 'minmax'] as const;
/** One of `OLIVETTI_SCALINGS`: how `loadOlivetti` maps bytes to [0, 1]. */
export type OlivettiScaling = (typeof OLIVETTI_SCALINGS)[number];

/** The Olivetti faces (§5.3): 400 upright 64 × 64 images of 40 people. */
export interface OlivettiData {
  /** n × 64 × 64 row-major, upright, scaled to [0, 1]. */
  images: Float32Array;
  /** The same pixels as bytes 0..255 (unscaled). */
  pixels: Uint8Array;
  n: number;
  height: number;
  width: number;
  /** Person of each image: floor(i / 10), 0..39. */
  personIds: Int32Array;
  scaling: OlivettiScaling;
}

const LOAD_OLIVETTI_OPTIONS = optionsSchema({
  ...DATA_LOCATION_OPTION_ENTRIES,
  /** 'divide255' (default, the authors') or 'minmax'. */
  scaling: v.optional(oneOf(OLIVETTI_SCALINGS)),
});
/** Options of `loadOlivetti`: where the data file is found or downloaded (`DataLocationOptions`) and the pixel `scaling`. */
export type LoadOlivettiOptions = v.InferOutput<typeof LOAD_OLIVETTI_OPTIONS>;

const COMPLETION_SPLIT_OPTIONS = optionsSchema({
  /** Images [0, nTrain) train, the rest test (default 350). */
  nTrain: v.optional(num(POSITIVE_INT)),
  /** Mirror x horizontally (default true). */
  flipX: v.optional(bool),
});
export type CompletionSplitOptions = v.InferOutput<typeof COMPLETION_SPLIT_OPTIONS>;

/** Upright row-major bytes from the bytes of `olivettifaces.mat`. */
export function olivettiPixelsFromMat(bytes: Uint8Array, source = 'olivettifaces.mat'): { pixels: Uint8Array; n: number } {
  const faces = readMatVariable(bytes, 'faces', { source });
  const [rows, cols, ...rest] = faces.dims;
  if (rows !== OLIVETTI_PIXELS || rest.some((d) => d !== 1)) {
    fail(`${source}: variable 'faces' has dimensions ${faces.dims.join('x')}, expected ${OLIVETTI_PIXELS}xN (one 64x64 image per column)`);
  }
  const n = cols;
  if (n === 0) fail(`${source}: variable 'faces' holds no images`);
  const real = faces.real as NonNullable<typeof faces.real>;
  const pixels = new Uint8Array(n * OLIVETTI_PIXELS);
  for (let i = 0; i < n; i++) {
    const base = i * OLIVETTI_PIXELS;
    for (let c = 0; c < OLIVETTI_SIZE; c++) {
      for (let r = 0; r < OLIVETTI_SIZE; r++) {
        const v = real[base + r + OLIVETTI_SIZE * c];
        if (!(v >= 0 && v <= 255 && Number.isInteger(v))) {
          fail(`${source}: faces(${r + OLIVETTI_SIZE * c + 1}, ${i + 1}) = ${v}; expected grey levels as integers 0..255`);
        }
        pixels[base + r * OLIVETTI_SIZE + c] = v;
      }
    }
  }
  return { pixels, n };
}

/** Scale bytes to [0, 1]. */
export function scaleOlivetti(pixels: Uint8Array, scaling: OlivettiScaling = 'divide255'): Float32Array {
  checkOneOf('scaleOlivetti', 'scaling', scaling, OLIVETTI_SCALINGS);
  let lo = 0;
  let hi = 255;
  if (scaling === 'minmax') {
    lo = 255;
    hi = 0;
    for (let i = 0; i < pixels.length; i++) {
      const v = pixels[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi === lo) fail('scaleOlivetti: every pixel has the same value; min-max scaling is undefined');
  }
  const range = hi - lo;
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] - lo) / range;
  return out;
}

/** Olivetti faces from `olivettifaces.mat` (found locally, else downloaded; see `resolveDataFile`). */
export async function loadOlivetti(options: LoadOlivettiOptions = {}): Promise<OlivettiData> {
  const scaling = parseOptions('loadOlivetti', LOAD_OLIVETTI_OPTIONS, options).scaling ?? 'divide255';
  const file = await resolveDataFile(OLIVETTI_MAT_FILE, options);
  const { pixels, n } = olivettiPixelsFromMat(await readFile(file), file);
  const personIds = new Int32Array(n);
  for (let i = 0; i < n; i++) personIds[i] = Math.floor(i / 10);
  return { images: scaleOlivetti(pixels, scaling), pixels, n, height: OLIVETTI_SIZE, width: OLIVETTI_SIZE, personIds, scaling };
}

/** Image completion inputs and targets (§5.3): the mirrored right half of each face as x, the left half as y. */
export interface CompletionSet {
  /** n × 64 × 32 × 1 (NHWC, row-major): the right half, mirrored horizontally (`flipX`). */
  x: Float32Array;
  /** n × 64 × 32 × 1: the left half (columns 0..31) to predict. */
  y: Float32Array;
  n: number;
}

/** The train/test split of the completion task (§5.3). */
export interface CompletionSplit {
  train: CompletionSet;
  test: CompletionSet;
  /** [64, 32, 1] for both x and y. */
  itemShape: [number, number, number];
}

/**
 * The paper's completion split (`completion/olivetti.py` and the training scripts): images [0, nTrain) train, the
 * rest test; y = columns 0..31, x = columns 32..63 mirrored horizontally (x[r, c] = image[r, 63 - c]) unless
 * `flipX: false` (then x[r, c] = image[r, 32 + c]).
 */
export function olivettiCompletionSplit(images: Float32Array, options: CompletionSplitOptions = {}): CompletionSplit {
  const { nTrain = 350, flipX: flip = true } = parseOptions('olivettiCompletionSplit', COMPLETION_SPLIT_OPTIONS, options);
  if (!(images instanceof Float32Array)) fail('olivettiCompletionSplit: images must be a Float32Array (n × 64 × 64, row-major)');
  if (images.length === 0 || images.length % OLIVETTI_PIXELS !== 0) {
    fail(`olivettiCompletionSplit: images has ${images.length} values, expected a positive multiple of ${OLIVETTI_PIXELS} (n × 64 × 64)`);
  }
  const n = images.length / OLIVETTI_PIXELS;
  if (nTrain >= n) fail(`olivettiCompletionSplit: nTrain must be less than the number of images (${n}), got ${nTrain}`);
  const half = OLIVETTI_SIZE / 2;
  const build = (from: number, to: number): CompletionSet => {
    const m = to - from;
    const x = new Float32Array(m * OLIVETTI_SIZE * half);
    const y = new Float32Array(m * OLIVETTI_SIZE * half);
    for (let k = 0; k < m; k++) {
      const src = (from + k) * OLIVETTI_PIXELS;
      const dst = k * OLIVETTI_SIZE * half;
      for (let r = 0; r < OLIVETTI_SIZE; r++) {
        const row = src + r * OLIVETTI_SIZE;
        const out = dst + r * half;
        for (let c = 0; c < half; c++) {
          y[out + c] = images[row + c];
          x[out + c] = images[row + (flip ? OLIVETTI_SIZE - 1 - c : half + c)];
        }
      }
    }
    return { x, y, n: m };
  };
  return { train: build(0, nTrain), test: build(nTrain, n), itemShape: [OLIVETTI_SIZE, half, 1] };
}
