/**
 * Float64 plain-JS references for the backend tests. Nothing here calls tfjs: the gradient overrides are
 * registered globally (cpu uses them too), so the references must not go through any tfjs kernel or gradient.
 */

/** Deterministic PRNG (mulberry32), uniform in [lo, hi). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

/**
 * Random array of `n` values that are exactly representable in float32 (so the tfjs float32 tensor and the
 * float64 reference see the same numbers).
 */
export function randomArray(n: number, rand: (lo?: number, hi?: number) => number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(rand(lo, hi));
  return out;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dot: length ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Relative error ‖actual − expected‖∞ / ‖expected‖∞. Throws (so the calling assertion fails) if the lengths
 * differ, any value is not finite, or the reference is identically zero (a comparison against zero proves nothing).
 */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`relErr: length ${actual.length} vs ${expected.length}`);
  let num = 0;
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i])) throw new Error(`relErr: actual[${i}] = ${actual[i]}`);
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
  }
  const den = maxAbs(expected);
  if (!(den > 0)) throw new Error('relErr: reference is identically zero');
  return num / den;
}

// ---------------------------------------------------------------------------------------------------------------
// Batched matrix multiplication.

export interface MatMulSpec {
  aShape: number[];
  bShape: number[];
  transposeA: boolean;
  transposeB: boolean;
}

interface MatMulGeom {
  batch: number[];
  outShape: number[];
  m: number;
  k: number;
  n: number;
  /** Flat batch index of a / b for each output batch index (batch dims broadcast numpy-style). */
  aBatch: number[];
  bBatch: number[];
}

function matMulGeom({ aShape, bShape, transposeA, transposeB }: MatMulSpec): MatMulGeom {
  const ra = aShape.length;
  const rb = bShape.length;
  const [a0, a1] = aShape.slice(ra - 2);
  const [b0, b1] = bShape.slice(rb - 2);
  const m = transposeA ? a1 : a0;
  const k = transposeA ? a0 : a1;
  const kb = transposeB ? b1 : b0;
  const n = transposeB ? b0 : b1;
  if (k !== kb) throw new Error(`matMulRef: inner dims ${k} vs ${kb}`);
  const ba = aShape.slice(0, ra - 2);
  const bb = bShape.slice(0, rb - 2);
  const r = Math.max(ba.length, bb.length);
  const pa = [...Array(r - ba.length).fill(1), ...ba];
  const pb = [...Array(r - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new Error('matMulRef: batch dims do not broadcast');
    return Math.max(d, pb[i]);
  });
  const aBatch: number[] = [];
  const bBatch: number[] = [];
  for (let flat = 0; flat < size(batch); flat++) {
    let rem = flat;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = r - 1; d >= 0; d--) {
      const idx = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
      ia += (pa[d] === 1 ? 0 : idx) * sa;
      ib += (pb[d] === 1 ? 0 : idx) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    aBatch.push(ia);
    bBatch.push(ib);
  }
  return { batch, outShape: [...batch, m, n], m, k, n, aBatch, bBatch };
}

/** Loops of C = op(A)·op(B), with a callback per multiply-add so forward and reverse mode share the indexing. */
function matMulLoops(spec: MatMulSpec, visit: (ci: number, ai: number, bi: number) => void): MatMulGeom {
  const g = matMulGeom(spec);
  const [a0, a1] = spec.aShape.slice(-2);
  const [b0, b1] = spec.bShape.slice(-2);
  for (let t = 0; t < g.aBatch.length; t++) {
    const aOff = g.aBatch[t] * a0 * a1;
    const bOff = g.bBatch[t] * b0 * b1;
    const cOff = t * g.m * g.n;
    for (let i = 0; i < g.m; i++) {
      for (let j = 0; j < g.n; j++) {
        for (let p = 0; p < g.k; p++) {
          const ai = aOff + (spec.transposeA ? p * a1 + i : i * a1 + p);
          const bi = bOff + (spec.transposeB ? j * b1 + p : p * b1 + j);
          visit(cOff + i * g.n + j, ai, bi);
        }
      }
    }
  }
  return g;
}

export function matMulRef(a: Float64Array, b: Float64Array, spec: MatMulSpec): { c: Float64Array; shape: number[] } {
  const g = matMulGeom(spec);
  const c = new Float64Array(size(g.outShape));
  matMulLoops(spec, (ci, ai, bi) => {
    c[ci] += a[ai] * b[bi];
  });
  return { c, shape: g.outShape };
}

/** Reverse mode of the loops of matMulRef: gradients of <C, dc> w.r.t. a and b. */
export function matMulGradRef(a: Float64Array, b: Float64Array, dc: Float64Array, spec: MatMulSpec): { ga: Float64Array; gb: Float64Array } {
  const ga = new Float64Array(a.length);
  const gb = new Float64Array(b.length);
  matMulLoops(spec, (ci, ai, bi) => {
    ga[ai] += dc[ci] * b[bi];
    gb[bi] += dc[ci] * a[ai];
  });
  return { ga, gb };
}

// ---------------------------------------------------------------------------------------------------------------
// NHWC conv2d (cross-correlation, as in TensorFlow), with strides, dilations and TensorFlow's padding rules.

export type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
export type Pad = 'valid' | 'same' | number | ExplicitPad;

export interface ConvSpec {
  xShape: [number, number, number, number];
  fShape: [number, number, number, number];
  strides: [number, number];
  pad: Pad;
  dilations: [number, number];
}

export interface ConvGeom {
  outShape: [number, number, number, number];
  top: number;
  left: number;
}

/** TensorFlow's output size and padding rule (written from its documentation, not from tfjs's code). */
export function convGeom({ xShape, fShape, strides, pad, dilations }: ConvSpec): ConvGeom {
  const [n, inH, inW] = xShape;
  const [kh, kw, , cout] = fShape;
  const effH = (kh - 1) * dilations[0] + 1;
  const effW = (kw - 1) * dilations[1] + 1;
  const [sh, sw] = strides;
  let outH: number;
  let outW: number;
  let top = 0;
  let left = 0;
  if (pad === 'valid') {
    outH = Math.ceil((inH - effH + 1) / sh);
    outW = Math.ceil((inW - effW + 1) / sw);
  } else if (pad === 'same') {
    outH = Math.ceil(inH / sh);
    outW = Math.ceil(inW / sw);
    top = Math.floor(Math.max(0, (outH - 1) * sh + effH - inH) / 2);
    left = Math.floor(Math.max(0, (outW - 1) * sw + effW - inW) / 2);
  } else if (typeof pad === 'number') {
    outH = Math.floor((inH + 2 * pad - effH) / sh) + 1;
    outW = Math.floor((inW + 2 * pad - effW) / sw) + 1;
    top = pad;
    left = pad;
  } else {
    outH = Math.floor((inH + pad[1][0] + pad[1][1] - effH) / sh) + 1;
    outW = Math.floor((inW + pad[2][0] + pad[2][1] - effW) / sw) + 1;
    top = pad[1][0];
    left = pad[2][0];
  }
  if (outH <= 0 || outW <= 0) throw new Error('convGeom: empty output');
  return { outShape: [n, outH, outW, cout], top, left };
}

function convLoops(spec: ConvSpec, visit: (yi: number, xi: number, fi: number) => void): ConvGeom {
  const g = convGeom(spec);
  const [n, inH, inW, cin] = spec.xShape;
  const [kh, kw, , cout] = spec.fShape;
  const [, outH, outW] = g.outShape;
  const [sh, sw] = spec.strides;
  const [dh, dw] = spec.dilations;
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const yBase = ((b * outH + oh) * outW + ow) * cout;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh + i * dh - g.top;
          if (ih < 0 || ih >= inH) continue;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw + j * dw - g.left;
            if (iw < 0 || iw >= inW) continue;
            const xBase = ((b * inH + ih) * inW + iw) * cin;
            for (let ci = 0; ci < cin; ci++) {
              const fBase = ((i * kw + j) * cin + ci) * cout;
              for (let co = 0; co < cout; co++) visit(yBase + co, xBase + ci, fBase + co);
            }
          }
        }
      }
    }
  }
  return g;
}

export function conv2dRef(x: Float64Array, f: Float64Array, spec: ConvSpec): { y: Float64Array; shape: number[] } {
  const g = convGeom(spec);
  const y = new Float64Array(size(g.outShape));
  convLoops(spec, (yi, xi, fi) => {
    y[yi] += x[xi] * f[fi];
  });
  return { y, shape: g.outShape };
}

/** Reverse mode of the loops of conv2dRef: gradients of <conv2d(x, f), dy> w.r.t. x and f. */
export function conv2dGradRef(x: Float64Array, f: Float64Array, dy: Float64Array, spec: ConvSpec): { gx: Float64Array; gf: Float64Array } {
  const gx = new Float64Array(x.length);
  const gf = new Float64Array(f.length);
  convLoops(spec, (yi, xi, fi) => {
    gx[xi] += dy[yi] * f[fi];
    gf[fi] += dy[yi] * x[xi];
  });
  return { gx, gf };
}

/** Central finite difference of a float64 scalar function at `p`, for each index in `indices`. */
export function centralDiff(fn: (p: Float64Array) => number, p: Float64Array, indices: number[], h: number): Float64Array {
  const out = new Float64Array(indices.length);
  const q = Float64Array.from(p);
  indices.forEach((idx, k) => {
    q[idx] = p[idx] + h;
    const up = fn(q);
    q[idx] = p[idx] - h;
    const down = fn(q);
    q[idx] = p[idx];
    out[k] = (up - down) / (2 * h);
  });
  return out;
}

export function range(n: number): number[] {
  return [...Array(n).keys()];
}
