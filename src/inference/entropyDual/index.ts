/**
 * The entropy dual solvers of the bundle entropy method (`../shared/icnn-paper.md` §3.4): the binary dual (outputs in
 * a box), the categorical dual (outputs on the probability simplex Δ_n), both over the cut weights λ ∈ Δ_k, sharing
 * the projected Newton core, and their numerics.
 */
export * from './binaryDual.js';
export * from './categoricalDual.js';
export * from './numerics.js';
export type { EntropyDualOptions, EntropyDualResult } from './problem.js';
