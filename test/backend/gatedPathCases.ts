/**
 * Random PICNNs for the tests of the native z-path kernels (nativeGatedPath.test.ts, nativeGatedPathVjp.test.ts):
 * what varies between cases, and the model a case describes.
 */
import { PICNN } from '../helpers/icnn.js';

export interface GatedPathCase {
  hidden: number[];
  rows: number;
  activation: 'relu' | 'leaky-relu';
  strongConvexity: number;
  /** Batch norm on the u-path (default false). */
  batchNorm?: boolean;
  /** How W^(z) ≥ 0 is kept (default 'clip'); 'softplus' makes gatedPath create the effective weights. */
  positivity?: 'clip' | 'softplus' | 'none';
}

export function describeCase(c: GatedPathCase): string {
  return `hidden [${c.hidden}], ${c.rows} rows, ${c.activation}, α ${c.strongConvexity}, ` +
    `batch norm ${c.batchNorm ?? false}, positivity ${c.positivity ?? 'clip'}`;
}

/** The case's PICNN (leaky slope 0.1) with these widths of x and y. */
export function randomPicnn(c: GatedPathCase, seed: number, xDim: number, yDim: number): PICNN {
  return new PICNN({
    xDim, yDim, hidden: c.hidden, activation: c.activation, leakySlope: 0.1, strongConvexity: c.strongConvexity,
    batchNorm: c.batchNorm ?? false, seed, ...(c.positivity ? { positivity: c.positivity } : {}),
  });
}
