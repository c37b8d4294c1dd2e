/**
 * The numerics of the entropy duals (`../shared/icnn-paper.md` §3.4), in float64, one place for every caller: the
 * logistic function σ, softplus log(1 + eˣ), differences of softplus that keep full relative accuracy
 * when the two arguments are close, the binary and categorical entropies, logsumexp and softmax. None of them
 * overflows or returns NaN for finite input in its domain.
 */

/** Logistic σ(x) = 1 / (1 + e^{−x}); exp is only taken of a non-positive argument. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Softplus log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}); exact to a few ulps for every finite x. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * softplus(x + δ) − softplus(x) without cancellation. For |δ| ≤ 1 it is log1p(σ(x)·expm1(δ)), which keeps relative
 * accuracy as δ → 0; for larger |δ| the plain difference is already well conditioned.
 */
export function softplusDiff(x: number, delta: number): number {
  if (delta === 0) return 0;
  if (Math.abs(delta) <= 1) return Math.log1p(logistic(x) * Math.expm1(delta));
  return softplus(x + delta) - softplus(x);
}

/**
 * Binary entropy of one coordinate, −[y log y + (1 − y) log(1 − y)], with 0·log 0 = 0 (so H(0) = H(1) = 0).
 * Values outside [0, 1] give NaN, as they have no entropy.
 */
export function binaryEntropy(y: number): number {
  if (!(y >= 0 && y <= 1)) return NaN;
  let s = 0;
  if (y > 0) s -= y * Math.log(y);
  if (y < 1) s -= (1 - y) * Math.log1p(-y);
  return s;
}

/**
 * Binary entropy of y = σ(−a) computed from the logit a: H = log1p(e^{−|a|}) + |a|·σ(−|a|). Unlike
 * `binaryEntropy(logistic(-a))` it stays accurate when y rounds to 0 or 1 (|a| ≳ 37).
 */
export function binaryEntropyFromLogit(a: number): number {
  const m = Math.abs(a);
  const e = Math.exp(-m);
  return Math.log1p(e) + (m * e) / (1 + e);
}

/** Binary entropy of a vector, H(y) = −Σ_j [y_j log y_j + (1−y_j) log(1−y_j)] with 0·log 0 = 0. */
export function binaryEntropySum(y: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < y.length; j++) s += binaryEntropy(y[j]);
  return s;
}

/** Categorical (Shannon) entropy H(y) = −Σ_j y_j log y_j with 0·log 0 = 0 (NaN for negative entries). */
export function categoricalEntropy(y: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < y.length; j++) {
    const v = y[j];
    if (!(v >= 0)) return NaN;
    if (v > 0) s -= v * Math.log(v);
  }
  return s;
}

/** log Σ_j exp(v_j), stable (max shifted); −∞ for an empty vector. */
export function logSumExp(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let j = 0; j < v.length; j++) m = Math.max(m, v[j]);
  if (m === -Infinity || !Number.isFinite(m)) return m;
  let s = 0;
  for (let j = 0; j < v.length; j++) s += Math.exp(v[j] - m);
  return m + Math.log(s);
}

/** softmax(v) = exp(v − logsumexp(v)), stable; writes into `out` when given. */
export function softmax(v: ArrayLike<number>, out?: Float64Array): Float64Array {
  const n = v.length;
  const res = out ?? new Float64Array(n);
  let m = -Infinity;
  for (let j = 0; j < n; j++) m = Math.max(m, v[j]);
  let s = 0;
  for (let j = 0; j < n; j++) {
    res[j] = Math.exp(v[j] - m);
    s += res[j];
  }
  for (let j = 0; j < n; j++) res[j] /= s;
  return res;
}
