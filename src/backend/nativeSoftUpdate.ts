/**
 * The native soft target update θ' ← θ' − τ(θ' − θ) on flat float32 arrays (the RL agents' target networks,
 * ../rl/agents/flatParams.ts), set by ./nativeKernels.ts while the addon is on. Browser-safe: without the addon
 * nothing sets it and the caller runs its JavaScript loop, which gives the same floats (native/src/soft_update.cc
 * computes in doubles and rounds each stored value to float32, as the typed arrays do).
 */

/** target updated in place towards online with rate tau. */
export type SoftUpdateStep = (target: Float32Array, online: Float32Array, tau: number) => void;

let step: SoftUpdateStep | null = null;

/** The native update, or null (then the caller's JavaScript loop). */
export function nativeSoftUpdate(): SoftUpdateStep | null {
  return step;
}

export function setNativeSoftUpdate(next: SoftUpdateStep | null): void {
  step = next;
}
