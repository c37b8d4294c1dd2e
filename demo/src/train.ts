/**
 * The Train view: §5.1's synthetic classification live. A data set (moons, circles, linear, or points placed by
 * clicking) trains an FICNN, a PICNN or the feed-forward baseline with the paper's setup (./../../src/experiments/
 * syntheticPanel.ts: |W|/10 init, ŷ = 30 unrolled momentum-GD steps from 0.5 trained through with MSE; the baseline
 * by bundle-entropy argmin differentiation with cross-entropy), full batch, and the predicted ŷ over the plane
 * (the paper's Figure 2) redraws as training runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createObjective, fit, makeSynthetic, type EnergyModel, type Objective, type SyntheticName } from 'icnn';
// The paper's §5.1 models and objectives, shared with `icnn reproduce synthetic`. They are experiment settings, not
// library API, and the `icnn/experiments` entry also registers the Node-only experiments (files, workers), so the
// page takes this one module, whose own imports are the core's.
import { buildModel, objectiveFor, type ModelName } from '../../src/experiments/syntheticPanel.js';
import { checkNetworkSize, checkTrainingSet, messageOf, parseHidden, parseNumber, type LabelledPoint } from './checks.js';
import { diverging, drawChart, drawField, drawPoints, Viewport, type Box } from './draw.js';
import { byId, nextFrame, showMessage } from './page.js';

/** Grid cells per side of the ŷ field. */
const FIELD_GRID = 40;
/** The plane shown before any data set: where clicked points land. */
const DEFAULT_BOX: Box = { x0: [-2, 2], x1: [-2, 2] };

/** Thrown from fit's epoch callback when Stop is pressed. */
class StopTraining extends Error {}

/** The data box of the points with a 15 % margin on each side (as the paper's figure). */
function boxAround(points: readonly LabelledPoint[]): Box {
  const range = (k: 'x0' | 'x1'): [number, number] => {
    const lo = Math.min(...points.map((p) => p[k]));
    const hi = Math.max(...points.map((p) => p[k]));
    const m = 0.15 * Math.max(hi - lo, 1e-3);
    return [lo - m, hi + m];
  };
  return { x0: range('x0'), x1: range('x1') };
}

async function predictRows(objective: Objective, model: EnergyModel, x: Float32Array): Promise<Float32Array> {
  const rows = x.length / 2;
  const xt = tf.tensor2d(x, [rows, 2]);
  const p = await objective.predict(model, xt, rows);
  const out = Float32Array.from(await p.data());
  tf.dispose([xt, p]);
  return out;
}

function accuracy(p: Float32Array, points: readonly LabelledPoint[]): number {
  return points.filter((q, i) => (p[i] >= 0.5 ? 1 : 0) === q.label).length / points.length;
}

export class TrainView {
  private points: LabelledPoint[] = [];
  private view: Viewport;
  private running = false;
  private stopRequested = false;
  private readonly losses: number[] = [];

  constructor() {
    const plane = byId<HTMLCanvasElement>('plane');
    this.view = new Viewport(plane, DEFAULT_BOX);
    byId('dataset').addEventListener('change', () => this.loadDataset());
    byId('seed').addEventListener('change', () => this.loadDataset());
    byId('n-points').addEventListener('change', () => this.loadDataset());
    byId('clear-points').addEventListener('click', () => this.clear());
    byId('train-button').addEventListener('click', () => void this.train());
    byId('stop-button').addEventListener('click', () => {
      this.stopRequested = true;
    });
    plane.addEventListener('click', (e) => this.place(e));
    this.loadDataset();
  }

  private message(text: string): void {
    showMessage('train-message', text);
  }

  private loadDataset(): void {
    if (this.running) return;
    this.message('');
    const name = byId<HTMLSelectElement>('dataset').value;
    if (name === 'custom') {
      this.clear();
      return;
    }
    try {
      const n = parseNumber('points', byId<HTMLInputElement>('n-points').value, 2, 2000, { integer: true });
      const seed = parseNumber('seed', byId<HTMLInputElement>('seed').value, 0, 2 ** 31, { integer: true });
      const d = makeSynthetic(name as SyntheticName, { n, seed });
      this.points = Array.from(d.y, (label, k) => ({ x0: d.x[2 * k], x1: d.x[2 * k + 1], label }));
      this.view = new Viewport(this.view.canvas, boxAround(this.points));
    } catch (e) {
      this.message(messageOf(e));
    }
    this.drawPlane(null);
  }

  private clear(): void {
    if (this.running) return;
    this.points = [];
    byId<HTMLSelectElement>('dataset').value = 'custom';
    this.drawPlane(null);
  }

  /** Click: a point of the chosen class; shift-click: of the other class. */
  private place(e: MouseEvent): void {
    if (this.running) return;
    const chosen = Number(byId<HTMLSelectElement>('click-class').value);
    const [x0, x1] = this.view.toData(e);
    this.points.push({ x0, x1, label: e.shiftKey ? 1 - chosen : chosen });
    byId<HTMLSelectElement>('dataset').value = 'custom';
    this.message('');
    this.drawPlane(null);
  }

  private drawPlane(field: Float32Array | null): void {
    const ctx = this.view.canvas.getContext('2d')!;
    ctx.fillStyle = '#fafafa';
    ctx.fillRect(0, 0, this.view.canvas.width, this.view.canvas.height);
    if (field) drawField(this.view, FIELD_GRID, field, diverging);
    drawPoints(this.view, this.points);
  }

  private setRunning(running: boolean): void {
    this.running = running;
    byId<HTMLButtonElement>('train-button').disabled = running;
    byId<HTMLButtonElement>('stop-button').disabled = !running;
    byId('train-view').dataset.state = running ? 'running' : 'idle';
  }

  /** Redraw ŷ over the plane and report the training accuracy. */
  private async report(model: EnergyModel, objective: Objective, step: number, steps: number): Promise<number> {
    const field = await predictRows(objective, model, this.view.grid(FIELD_GRID));
    const onPoints = await predictRows(objective, model, Float32Array.from(this.points.flatMap((p) => [p.x0, p.x1])));
    const acc = accuracy(onPoints, this.points);
    this.drawPlane(field);
    drawChart(byId<HTMLCanvasElement>('loss'), [{ label: 'training loss', colour: '#c33', values: this.losses }], 'loss per step');
    const out = byId('train-accuracy');
    out.textContent = `${(100 * acc).toFixed(1)}%`;
    out.dataset.accuracy = String(acc);
    byId('train-status').textContent = `step ${step}/${steps}, loss ${this.losses[this.losses.length - 1]?.toFixed(4) ?? '—'}`;
    return acc;
  }

  private async train(): Promise<void> {
    if (this.running) return;
    this.message('');
    byId('train-view').dataset.finished = 'false';
    let model: EnergyModel | null = null;
    let tensors: tf.Tensor[] = [];
    try {
      const name = byId<HTMLSelectElement>('model').value as ModelName;
      const hidden = parseHidden(byId<HTMLInputElement>('hidden').value);
      const steps = parseNumber('steps', byId<HTMLInputElement>('steps').value, 1, 100_000, { integer: true });
      const learningRate = parseNumber('learning rate', byId<HTMLInputElement>('learning-rate').value, 1e-6, 1);
      const redrawEvery = parseNumber('redraw every', byId<HTMLInputElement>('redraw-every').value, 1, 100_000, { integer: true });
      checkTrainingSet(this.points);
      checkNetworkSize(3, hidden);
      this.setRunning(true);
      this.stopRequested = false;
      this.losses.length = 0;
      model = buildModel(name, hidden, 1);
      const { objective: objectiveName, objectiveOptions } = objectiveFor(name);
      const objective = createObjective(objectiveName, objectiveOptions);
      const x = tf.tensor2d(this.points.flatMap((p) => [p.x0, p.x1]), [this.points.length, 2]);
      const y = tf.tensor2d(this.points.map((p) => p.label), [this.points.length, 1]);
      tensors = [x, y];
      const trained = model;
      let last = 0;
      try {
        await fit(trained, { x, y }, {
          objective, epochs: steps, batchSize: this.points.length, learningRate, seed: 0,
          onEpochEnd: async ({ epoch, trainLoss }) => {
            this.losses.push(trainLoss);
            last = epoch;
            if (epoch % redrawEvery === 0 || epoch === steps) await this.report(trained, objective, epoch, steps);
            await nextFrame();
            if (this.stopRequested) throw new StopTraining();
          },
        });
      } catch (e) {
        if (!(e instanceof StopTraining)) throw e;
        await this.report(trained, objective, last, steps);
      }
      byId('train-status').textContent += this.stopRequested ? ' (stopped)' : ' (done)';
      byId('train-view').dataset.finished = 'true';
    } catch (e) {
      this.message(messageOf(e));
    } finally {
      tf.dispose(tensors);
      model?.dispose();
      this.setRunning(false);
    }
  }
}
