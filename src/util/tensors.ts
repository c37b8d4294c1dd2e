/** Validation and conversion of user-supplied batches (shapes, finiteness). */
import * as tf from '@tensorflow/tfjs-core';
import { fail } from './errors.js';

/** A batch given by the user: a tensor, or nested arrays of numbers. */
export type BatchInput = tf.Tensor | number[][] | number[][][][];

/**
 * Whether `v` is a tensor, by its structure rather than `instanceof`: a tensor made by another copy of tfjs (the
 * user's own, when theirs and ours are not deduplicated) is a tensor too.
 */
export function isTensor(v: unknown): v is tf.Tensor {
  if (v instanceof tf.Tensor) return true;
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Partial<Record<keyof tf.Tensor, unknown>>;
  return typeof t.dataId === 'object' && t.dataId !== null && Array.isArray(t.shape) && typeof t.dtype === 'string' &&
    typeof t.rank === 'number' && typeof t.isDisposed === 'boolean' && typeof t.dataSync === 'function' && typeof t.dispose === 'function';
}

/**
 * `t` as a tensor of this library's tfjs engine: itself, or for a tensor of another tfjs copy (see `isTensor`) a
 * new copy of its values, which the caller disposes.
 */
export function ownTensor(t: tf.Tensor): tf.Tensor {
  if (t instanceof tf.Tensor) return t;
  const foreign = t as tf.Tensor;
  return tf.tensor(foreign.dataSync(), [...foreign.shape], foreign.dtype);
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * Return the batch as a float32 tensor of shape [N, prod(itemShape)], accepting [N, prod(itemShape)] or
 * [N, ...itemShape]. Throws naming `argName`, the expected and the actual shape. The returned tensor is new
 * (caller disposes it) unless `input` was already a tensor of the flat shape, in which case it is returned as is.
 */
export function toFlatBatch(where: string, argName: string, input: BatchInput, itemShape: readonly number[]): tf.Tensor2D {
  const width = itemShape.reduce((a, b) => a * b, 1);
  let t: tf.Tensor;
  if (isTensor(input)) {
    if (input.isDisposed) fail(`${where}: ${argName} is a disposed tensor`);
    t = ownTensor(input);
  } else if (Array.isArray(input)) {
    // tfjs (in PROD mode) checks neither rectangularity nor element types: [[1], [2, 3]] would become [[1], [2]].
    const shape = nestedShape(where, argName, input);
    t = tf.tensor(input as number[][], shape, 'float32');
  } else {
    fail(`${where}: ${argName} must be a tf.Tensor or an array of rows, got ${input === null ? 'null' : typeof input}`);
  }
  const expected = itemShape.length > 1 ? `[N, ${width}] or [N, ${itemShape.join(', ')}]` : `[N, ${width}]`;
  const okFlat = t.rank === 2 && t.shape[1] === width;
  const okFull = itemShape.length > 1 && t.rank === itemShape.length + 1 && itemShape.every((d, i) => t.shape[i + 1] === d);
  if (!okFlat && !okFull) {
    if (t !== input) t.dispose();
    fail(`${where}: ${argName} must have shape ${expected}, got ${shapeStr(t.shape)}`);
  }
  if (t.shape[0] === 0) {
    if (t !== input) t.dispose();
    fail(`${where}: ${argName} has no rows (shape ${shapeStr(t.shape)})`);
  }
  if (t.dtype !== 'float32') {
    const c = tf.cast(t, 'float32');
    if (t !== input) t.dispose();
    t = c;
  }
  if (okFlat) return t as tf.Tensor2D;
  const r = tf.reshape(t, [t.shape[0], width]) as tf.Tensor2D;
  if (t !== input) t.dispose();
  return r;
}

type Row = ArrayLike<unknown> & { [i: number]: unknown };

/** An array or a typed array (tfjs accepts rows given as Float32Array etc.). */
function isRow(v: unknown): v is Row {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/**
 * The shape a batch was given in (a tensor's shape; for nested arrays, the lengths along the first elements,
 * unchecked), so that results can be returned in the caller's layout; null for anything else.
 */
export function batchShapeOf(input: unknown): number[] | null {
  if (isTensor(input)) return [...input.shape];
  if (!Array.isArray(input)) return null;
  const shape: number[] = [];
  for (let level: unknown = input; isRow(level); level = level[0]) {
    shape.push(level.length);
    if (level.length === 0) break;
  }
  return shape;
}

/**
 * The shape of a nested array of numbers, checking that it is rectangular and holds only numbers; a refusal
 * names the first offending element, e.g. `y[2][1]`.
 */
export function nestedShape(where: string, argName: string, input: unknown[]): number[] {
  const shape = batchShapeOf(input) as number[];
  const visit = (v: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') {
        fail(`${where}: ${argName} is not a rectangular array of numbers: ${at} is ${isRow(v) ? 'an array' : JSON.stringify(v) ?? String(v)}`);
      }
      return;
    }
    if (!isRow(v) || v.length !== shape[depth]) {
      const what = isRow(v) ? `has ${v.length} entries` : `is ${JSON.stringify(v) ?? String(v)}`;
      fail(`${where}: ${argName} is not a rectangular array of numbers: ${at} ${what}, expected an array of ${shape[depth]}`);
    }
    for (let i = 0; i < v.length; i++) visit(v[i], depth + 1, `${at}[${i}]`);
  };
  visit(input, 0, argName);
  return shape;
}

/** Throw if `t` holds NaN or ±Infinity, naming the argument and the first offending entry. */
export function assertFinite(where: string, argName: string, t: tf.Tensor): void {
  // sum(t * 0) is 0 when every entry is finite and NaN otherwise: one scalar read instead of the whole tensor.
  const probe = tf.tidy(() => tf.sum(tf.mul(t, 0)));
  const ok = Number.isFinite(probe.dataSync()[0]);
  probe.dispose();
  if (ok) return;
  const data = t.dataSync();
  const cols = t.rank >= 2 ? t.size / t.shape[0] : 1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const row = Math.floor(i / cols);
      fail(`${where}: ${argName} contains ${data[i]} at row ${row}, column ${i % cols}; inputs must be finite`);
    }
  }
}

/** Product of a shape's entries. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
