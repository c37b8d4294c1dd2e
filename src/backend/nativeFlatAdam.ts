/**
 * The native form of the library's TensorFlow 1 Adam step on flat float32 arrays (../learning/adam.ts, which the RL
 * agents train with), set by ./nativeKernels.ts while the addon is on. Browser-safe: without the addon nothing sets
 * it and Adam runs its JavaScript loop, which gives the same floats (native/src/adam.cc computes in doubles in the
 * loop's order and rounds each stored value to float32 as the typed arrays do). The loop was ~15 % of a NAF update
 * (2 of 13 ms for 130k parameters, bench/rl.ts sizes); the native pass is split over the addon's threads.
 */

/** m, v and params updated in place from grad; lrT = lr·√(1 − β2^t)/(1 − β1^t). */
export type FlatAdamStep = (m: Float32Array, v: Float32Array, params: Float32Array, grad: Float32Array, lrT: number,
  beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, epsilon: number) => void;

let step: FlatAdamStep | null = null;

/** The native step, or null (then the caller's JavaScript loop). */
export function nativeFlatAdam(): FlatAdamStep | null {
  return step;
}

export function setNativeFlatAdam(next: FlatAdamStep | null): void {
  step = next;
}
