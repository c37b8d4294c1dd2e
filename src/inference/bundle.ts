/**
 * The bundle (cutting-plane) method (§3.3, Algorithm 1). Convexity makes every first-order expansion a global
 * under-estimator, f(y^i) + ∇f(y^i)ᵀ(y − y^i) ≤ f(y), so
 *   y^{k+1}, t^{k+1} = argmin_{y ∈ Y, t} { t | G y + h ≤ t·1 },  G_i = ∇f(y^i)ᵀ, h_i = f(y^i) − ∇f(y^i)ᵀy^i,
 * and t^{k+1} ≤ min_Y f is a certified lower bound. Each subproblem is an LP solved by HiGHS. Rows stop when
 * best f − bound ≤ tolerance·max(1, |best f|).
 */
import type { Domain } from './domain.js';
import type { EnergyOracle } from './oracle.js';
import { loadHighs } from './highs.js';
import { fail } from '../util/errors.js';

export interface BundleResult {
  y: Float64Array;
  energy: Float64Array;
  iterations: Int32Array;
  lowerBound: Float64Array;
}

export async function bundleMethod(oracle: EnergyOracle, domain: Domain, y0: Float64Array, iterations: number,
  tolerance: number): Promise<BundleResult> {
  if (domain.kind === 'unbounded') fail("argmin: method 'bundle' needs a bounded domain (a box or the simplex)");
  const highs = await loadHighs();
  const { batch: N, n } = oracle;
  const y = Float64Array.from(y0);
  for (let r = 0; r < N; r++) domain.project(y.subarray(r * n, (r + 1) * n));
  const best = Float64Array.from(y);
  const bestEnergy = new Float64Array(N).fill(Infinity);
  const lowerBound = new Float64Array(N).fill(-Infinity);
  const iters = new Int32Array(N);
  const cuts: { g: Float64Array[]; h: number[] }[] = Array.from({ length: N }, () => ({ g: [], h: [] }));
  const active = new Uint8Array(N).fill(1);
  let remaining = N;

  for (let k = 0; k < iterations && remaining > 0; k++) {
    const { energy, grad } = oracle.evaluate(y);
    for (let r = 0; r < N; r++) {
      if (!active[r]) continue;
      iters[r] = k + 1;
      const row = y.subarray(r * n, (r + 1) * n);
      if (energy[r] < bestEnergy[r]) {
        bestEnergy[r] = energy[r];
        best.set(row, r * n);
      }
      const g = Float64Array.from(grad.subarray(r * n, (r + 1) * n));
      let gy = 0;
      for (let i = 0; i < n; i++) gy += g[i] * row[i];
      cuts[r].g.push(g);
      cuts[r].h.push(energy[r] - gy);
      const { value, solution } = solveCuttingPlaneLp(highs, cuts[r].g, cuts[r].h, domain, r);
      lowerBound[r] = Math.max(lowerBound[r], value);
      if (bestEnergy[r] - lowerBound[r] <= tolerance * Math.max(1, Math.abs(bestEnergy[r]))) {
        active[r] = 0;
        remaining--;
        continue;
      }
      row.set(solution);
      domain.project(row);
    }
  }
  return { y: best, energy: bestEnergy, iterations: iters, lowerBound };
}

type HighsInstance = Awaited<ReturnType<typeof loadHighs>>;

/** min t over (y ∈ Y, t) subject to g_iᵀy − t ≤ −h_i. */
function solveCuttingPlaneLp(highs: HighsInstance, G: Float64Array[], h: number[], domain: Domain, row: number):
  { value: number; solution: Float64Array } {
  const n = domain.n;
  const k = G.length;
  const simplex = domain.kind === 'simplex';
  const numRows = k + (simplex ? 1 : 0);
  const numCols = n + 1;
  const starts = new Int32Array(numRows + 1);
  const indices = new Int32Array(k * (n + 1) + (simplex ? n : 0));
  const values = new Float64Array(indices.length);
  const rowLower = new Float64Array(numRows).fill(-highs.infinity);
  const rowUpper = new Float64Array(numRows);
  let at = 0;
  for (let i = 0; i < k; i++) {
    starts[i] = at;
    for (let j = 0; j < n; j++) {
      indices[at] = j;
      values[at++] = G[i][j];
    }
    indices[at] = n;
    values[at++] = -1;
    rowUpper[i] = -h[i];
  }
  if (simplex) {
    starts[k] = at;
    for (let j = 0; j < n; j++) {
      indices[at] = j;
      values[at++] = 1;
    }
    rowLower[k] = 1;
    rowUpper[k] = 1;
  }
  starts[numRows] = at;
  const colCost = new Float64Array(numCols);
  colCost[n] = 1;
  const colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols);
  for (let j = 0; j < n; j++) {
    colLower[j] = domain.lower[j];
    colUpper[j] = domain.upper[j];
  }
  colLower[n] = -highs.infinity;
  colUpper[n] = highs.infinity;
  const lp = highs.createModel({
    numCols, numRows, colCost, colLower, colUpper, rowLower, rowUpper,
    matrix: { format: 'csr', numRows, numCols, starts, indices, values },
  });
  try {
    lp.options.set({ output_flag: false });
    const status = lp.run().modelStatus;
    if (status !== highs.constants.modelStatus.optimal) fail(`argmin bundle: HiGHS did not solve the cutting-plane LP of row ${row} (status ${status})`);
    const col = lp.getSolution().colValue;
    return { value: lp.getObjectiveValue(), solution: Float64Array.from(col.subarray(0, n)) };
  } finally {
    lp.dispose();
  }
}
