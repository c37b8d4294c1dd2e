/** Shared by the environment tests: where the model files are, and a small discrete-time LQR toolkit. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MujocoEnv } from '../../../src/rl/envs/index.js';

/** `ICNN_MUJOCO_DIR`, else the repository-relative `../shared/data/mujoco`. */
export const MUJOCO_DIR =
  process.env.ICNN_MUJOCO_DIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data/mujoco');

export type Matrix = number[][];

export function matMul(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

export function transpose(a: Matrix): Matrix {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

function add(a: Matrix, b: Matrix, sign = 1): Matrix {
  return a.map((row, i) => row.map((v, j) => v + sign * b[i][j]));
}

/** Inverse by Gauss-Jordan with partial pivoting (small, well-conditioned matrices only). */
export function inverse(a: Matrix): Matrix {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const d = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(n));
}

export function diag(values: number[]): Matrix {
  return values.map((v, i) => values.map((_, j) => (i === j ? v : 0)));
}

/** Infinite-horizon discrete LQR gain K (u = −K x) by Riccati iteration. */
export function dlqr(A: Matrix, B: Matrix, Q: Matrix, R: Matrix, iterations = 5000): Matrix {
  let P = Q;
  const At = transpose(A);
  const Bt = transpose(B);
  for (let it = 0; it < iterations; it++) {
    const PA = matMul(P, A);
    const PB = matMul(P, B);
    const K = matMul(inverse(add(R, matMul(Bt, PB))), matMul(Bt, PA));
    const next = add(add(Q, matMul(At, PA)), matMul(matMul(At, PB), K), -1);
    const change = Math.max(...next.flatMap((row, i) => row.map((v, j) => Math.abs(v - P[i][j]))));
    P = next;
    if (change < 1e-10 * Math.max(1, ...P.flat().map(Math.abs))) break;
  }
  return matMul(inverse(add(R, matMul(Bt, matMul(P, B)))), matMul(Bt, matMul(P, A)));
}

/** Central-difference Jacobians of a step function x' = f(x, u) at (x0, u0). */
export function linearize(f: (x: number[], u: number[]) => number[], x0: number[], u0: number[], eps = 1e-6): { A: Matrix; B: Matrix } {
  const n = x0.length;
  const A: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const B: Matrix = Array.from({ length: n }, () => new Array<number>(u0.length).fill(0));
  const column = (out: Matrix, j: number, plus: [number[], number[]], minus: [number[], number[]]) => {
    const fp = f(...plus);
    const fm = f(...minus);
    for (let i = 0; i < n; i++) out[i][j] = (fp[i] - fm[i]) / (2 * eps);
  };
  for (let j = 0; j < n; j++) {
    const xp = x0.slice();
    const xm = x0.slice();
    xp[j] += eps;
    xm[j] -= eps;
    column(A, j, [xp, u0], [xm, u0]);
  }
  for (let j = 0; j < u0.length; j++) {
    const up = u0.slice();
    const um = u0.slice();
    up[j] += eps;
    um[j] -= eps;
    column(B, j, [x0, up], [x0, um]);
  }
  return { A, B };
}

/**
 * Linearize one environment step of a MuJoCo task around qpos = q0, qvel = 0, action u0, on the state
 * x = [qpos, qvel] (uses reset + setState + step, so it also exercises those).
 */
export function linearizeMujoco(env: MujocoEnv, q0: number[], u0: number[]): { A: Matrix; B: Matrix } {
  const nq = q0.length;
  return linearize(
    (x, u) => {
      env.reset();
      env.setState(x.slice(0, nq), x.slice(nq));
      env.step(u);
      const s = env.getState();
      return [...s.qpos, ...s.qvel];
    },
    [...q0, ...new Array<number>(nq).fill(0)],
    u0,
  );
}

/** u = −K x for a single-input gain. */
export function feedback(K: Matrix, x: ArrayLike<number>): number {
  let u = 0;
  for (let i = 0; i < K[0].length; i++) u -= K[0][i] * x[i];
  return u;
}
