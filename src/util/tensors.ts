/** Validation and conversion of user-supplied batches (shapes, finiteness). */
import * as tf from '@tensorflow/tfjs';
import { fail } from './errors.js';

/** A batch given by the user: a tensor, or nested arrays of numbers. */
export type BatchInput = tf.Tensor | number[][] | number[][][][];

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
  if (input instanceof tf.Tensor) {
    if (input.isDisposed) fail(`${where}: ${argName} is a disposed tensor`);
    t = input;
  } else if (Array.isArray(input)) {
    try {
      t = tf.tensor(input as number[][], undefined, 'float32');
    } catch (e) {
      fail(`${where}: ${argName} is not a rectangular array of numbers (${(e as Error).message})`);
    }
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
