/**
 * The Infer view: §3 made visible. A small PICNN with a 1-D x and a 2-D y on the unit box; the energy f(x, ·) as
 * a coloured field with contours; the iterates of gradient descent (§3.2), the bundle method (§3.3) and bundle
 * entropy (§3.4) from the same start, and per iteration each one's value and certified lower bound (GD has none).
 *
 * The methods are deterministic, so iterate k is what argmin returns when run for k iterations from the start
 * (the best point found so far for GD and bundle, the current one for bundle entropy); the page reruns each
 * method with 1 … K iterations rather than reaching into the solvers.
 * Bundle entropy minimizes f − w·H(y) (H the binary entropy, which keeps its iterates inside the box), so its values
 * and bound are of that objective.
 */
import * as tf from '@tensorflow/tfjs-core';
import { argmin, PICNN, type ArgminMethod, type ArgminResult } from 'icnn';
import { messageOf, parseNumber } from './checks.js';
import { drawChart, drawContours, drawField, drawPath, sequential, Viewport } from './draw.js';
import { byId, nextFrame, showMessage } from './page.js';

const ENERGY_GRID = 64;
const CONTOUR_LEVELS = 14;
const METHODS: { method: ArgminMethod; label: string; colour: string }[] = [
  { method: 'gd', label: 'GD', colour: '#ff7f0e' },
  { method: 'bundle', label: 'bundle', colour: '#e377c2' },
  { method: 'bundle-entropy', label: 'bundle entropy', colour: '#ffffff' },
];

interface Trace {
  path: [number, number][];
  /** f for GD and bundle, f − w·H for bundle entropy. */
  value: number[];
  lowerBound: number[];
}

/** The value a method minimizes, and its certified lower bound (NaN where there is none). */
function valueOf(r: ArgminResult): { value: number; bound: number } {
  return { value: (r.objective ?? r.energy)[0], bound: r.lowerBound ? r.lowerBound[0] : NaN };
}

export class InferView {
  private start: [number, number] = [0.9, 0.9];
  private readonly view = new Viewport(byId<HTMLCanvasElement>('energy'), { x0: [0, 1], x1: [0, 1] });
  private running = false;

  constructor() {
    byId('infer-run').addEventListener('click', () => void this.run());
    this.view.canvas.addEventListener('click', (e) => {
      if (this.running) return;
      const [a, b] = this.view.toData(e);
      this.start = [Math.min(1, Math.max(0, a)), Math.min(1, Math.max(0, b))];
      byId('infer-start').textContent = `(${this.start[0].toFixed(2)}, ${this.start[1].toFixed(2)})`;
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    showMessage('infer-message', '');
    const section = byId('infer-view');
    section.dataset.state = 'running';
    byId<HTMLButtonElement>('infer-run').disabled = true;
    let model: PICNN | null = null;
    try {
      const seed = parseNumber('seed', byId<HTMLInputElement>('infer-seed').value, 0, 2 ** 31, { integer: true });
      const x = parseNumber('x', byId<HTMLInputElement>('infer-x').value, -5, 5);
      const iterations = parseNumber('iterations', byId<HTMLInputElement>('infer-iterations').value, 1, 100, { integer: true });
      const entropyWeight = parseNumber('entropy weight', byId<HTMLInputElement>('infer-entropy').value, 1e-4, 10);
      // Softplus keeps f smooth, so the contours are curves; ½‖y‖² adds curvature (seed 5 has its minimum inside the box).
      model = new PICNN({ xDim: 1, yDim: 2, hidden: [32, 32], activation: 'softplus', strongConvexity: 1, seed });
      this.drawEnergy(model, x);
      const traces = new Map<ArgminMethod, Trace>();
      for (const { method } of METHODS) traces.set(method, { path: [this.start], value: [], lowerBound: [] });
      for (let k = 1; k <= iterations; k++) {
        for (const { method } of METHODS) {
          const r = await argmin(model, [[x]], {
            method, domain: 'unit-box', iterations: k, init: this.start,
            ...(method === 'bundle-entropy' ? { entropyWeight } : {}),
          });
          const t = traces.get(method)!;
          const y = r.y.dataSync();
          t.path.push([y[0], y[1]]);
          const { value, bound } = valueOf(r);
          t.value.push(value);
          t.lowerBound.push(bound);
          r.y.dispose();
        }
        byId('infer-status').textContent = `iteration ${k}/${iterations}`;
        await nextFrame();
      }
      this.drawEnergy(model, x);
      for (const { method, colour } of METHODS) drawPath(this.view, traces.get(method)!.path, colour);
      this.report(traces, iterations);
      section.dataset.state = 'done';
    } catch (e) {
      showMessage('infer-message', messageOf(e));
      section.dataset.state = 'idle';
    } finally {
      model?.dispose();
      byId<HTMLButtonElement>('infer-run').disabled = false;
      this.running = false;
    }
  }

  private drawEnergy(model: PICNN, x: number): void {
    const g = ENERGY_GRID;
    const ys = this.view.grid(g);
    const energy = tf.tidy(() => model.energy(tf.fill([g * g, 1], x) as tf.Tensor2D, tf.tensor2d(ys, [g * g, 2])).dataSync());
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of energy) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const span = Math.max(hi - lo, 1e-12);
    drawField(this.view, g, energy, (v) => sequential((v - lo) / span));
    drawContours(this.view, g, energy, Array.from({ length: CONTOUR_LEVELS }, (_, i) => lo + (span * (i + 0.5)) / CONTOUR_LEVELS));
  }

  private report(traces: Map<ArgminMethod, Trace>, iterations: number): void {
    const series = METHODS.flatMap(({ method, label, colour }) => {
      const t = traces.get(method)!;
      const line = colour === '#ffffff' ? '#2ca02c' : colour;
      return [{ label, colour: line, values: t.value },
        ...(method === 'gd' ? [] : [{ label: `${label} bound`, colour: line, values: t.lowerBound, dashed: true }])];
    });
    drawChart(byId<HTMLCanvasElement>('infer-chart'), series, 'value (solid) and certified lower bound (dashed) per iteration');
    const rows = Array.from({ length: iterations }, (_, i) => {
      const cells = METHODS.flatMap(({ method }) => {
        const t = traces.get(method)!;
        return method === 'gd' ? [t.value[i]] : [t.value[i], t.lowerBound[i]];
      });
      return `<tr><td>${i + 1}</td>${cells.map((v) => `<td>${Number.isFinite(v) ? v.toFixed(5) : '—'}</td>`).join('')}</tr>`;
    });
    byId('infer-table-body').innerHTML = rows.join('');
    const be = traces.get('bundle-entropy')!;
    const gap = be.value[iterations - 1] - be.lowerBound[iterations - 1];
    const out = byId('infer-gap');
    out.textContent = gap.toExponential(2);
    out.dataset.gap = String(gap);
    byId('infer-status').textContent = `done: ${iterations} iterations per method`;
  }
}
