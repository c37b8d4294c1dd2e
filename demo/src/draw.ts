/** Canvas drawing for the demo: a data-space viewport, the ŷ field of §5.1's figure, energy contours, paths, charts. */

export interface Box {
  x0: [number, number];
  x1: [number, number];
}

/** Maps a data box onto a canvas (x1 up). */
export class Viewport {
  constructor(readonly canvas: HTMLCanvasElement, readonly box: Box) {}

  toPixel(x0: number, x1: number): [number, number] {
    const { width, height } = this.canvas;
    return [
      ((x0 - this.box.x0[0]) / (this.box.x0[1] - this.box.x0[0])) * width,
      (1 - (x1 - this.box.x1[0]) / (this.box.x1[1] - this.box.x1[0])) * height,
    ];
  }

  /** The data point under a mouse event. */
  toData(event: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    const u = (event.clientX - r.left) / r.width;
    const v = (event.clientY - r.top) / r.height;
    return [this.box.x0[0] + u * (this.box.x0[1] - this.box.x0[0]), this.box.x1[1] - v * (this.box.x1[1] - this.box.x1[0])];
  }

  /** Centres of a g × g grid over the box, row-major with x1 increasing by row, as [x0, x1] pairs. */
  grid(g: number): Float32Array {
    const out = new Float32Array(2 * g * g);
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        out[2 * (i * g + j)] = this.box.x0[0] + ((this.box.x0[1] - this.box.x0[0]) * (j + 0.5)) / g;
        out[2 * (i * g + j) + 1] = this.box.x1[0] + ((this.box.x1[1] - this.box.x1[0]) * (i + 0.5)) / g;
      }
    }
    return out;
  }
}

/** Blue (0) – white (0.5) – red (1), the paper's colour map for ŷ. */
export function diverging(p: number): string {
  const t = Math.min(1, Math.max(0, p));
  const lerp = (a: number[], b: number[], s: number) => a.map((v, i) => Math.round(v + (b[i] - v) * s));
  const c = t < 0.5 ? lerp([59, 76, 192], [247, 247, 247], t / 0.5) : lerp([247, 247, 247], [180, 4, 38], (t - 0.5) / 0.5);
  return `rgb(${c.join(',')})`;
}

/** Dark blue (low) to yellow (high) for energies scaled to [0, 1]. */
export function sequential(t: number): string {
  const s = Math.min(1, Math.max(0, t));
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const k = Math.min(stops.length - 2, Math.floor(s * (stops.length - 1)));
  const f = s * (stops.length - 1) - k;
  const c = stops[k].map((v, i) => Math.round(v + (stops[k + 1][i] - v) * f));
  return `rgb(${c.join(',')})`;
}

/** Fill the g × g grid cells of `view` with colours of `values` (row-major as Viewport.grid). */
export function drawField(view: Viewport, g: number, values: ArrayLike<number>, colour: (v: number) => string): void {
  const ctx = view.canvas.getContext('2d')!;
  const cw = view.canvas.width / g;
  const ch = view.canvas.height / g;
  for (let i = 0; i < g; i++) {
    for (let j = 0; j < g; j++) {
      ctx.fillStyle = colour(values[i * g + j]);
      // +1 pixel overlap: no seams between cells.
      ctx.fillRect(Math.floor(j * cw), Math.floor(view.canvas.height - (i + 1) * ch), Math.ceil(cw) + 1, Math.ceil(ch) + 1);
    }
  }
}

export function drawPoints(view: Viewport, points: readonly { x0: number; x1: number; label: number }[]): void {
  const ctx = view.canvas.getContext('2d')!;
  for (const p of points) {
    const [u, v] = view.toPixel(p.x0, p.x1);
    ctx.beginPath();
    ctx.arc(u, v, 4.5, 0, 2 * Math.PI);
    ctx.fillStyle = p.label === 1 ? '#d62020' : '#1f4fd6';
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#000';
    ctx.stroke();
  }
}

/**
 * Iso-lines of a g × g grid of values at `levels` (marching squares, one segment per crossed cell edge pair): the
 * energy contours of the inference view.
 */
export function drawContours(view: Viewport, g: number, values: ArrayLike<number>, levels: readonly number[]): void {
  const ctx = view.canvas.getContext('2d')!;
  const cw = view.canvas.width / g;
  const ch = view.canvas.height / g;
  // Cell centres in pixels.
  const px = (j: number) => (j + 0.5) * cw;
  const py = (i: number) => view.canvas.height - (i + 0.5) * ch;
  ctx.strokeStyle = 'rgba(255,255,255,0.75)';
  ctx.lineWidth = 1;
  for (const level of levels) {
    ctx.beginPath();
    for (let i = 0; i + 1 < g; i++) {
      for (let j = 0; j + 1 < g; j++) {
        const corners: [number, number, number][] = [
          [px(j), py(i), values[i * g + j]], [px(j + 1), py(i), values[i * g + j + 1]],
          [px(j + 1), py(i + 1), values[(i + 1) * g + j + 1]], [px(j), py(i + 1), values[(i + 1) * g + j]],
        ];
        const crossings: [number, number][] = [];
        for (let e = 0; e < 4; e++) {
          const [ua, va, fa] = corners[e];
          const [ub, vb, fb] = corners[(e + 1) % 4];
          if ((fa < level) !== (fb < level)) {
            const s = (level - fa) / (fb - fa);
            crossings.push([ua + s * (ub - ua), va + s * (vb - va)]);
          }
        }
        for (let c = 0; c + 1 < crossings.length; c += 2) {
          ctx.moveTo(crossings[c][0], crossings[c][1]);
          ctx.lineTo(crossings[c + 1][0], crossings[c + 1][1]);
        }
      }
    }
    ctx.stroke();
  }
}

/** A polyline through data points with a dot at each iterate and a ring at the last. */
export function drawPath(view: Viewport, path: readonly [number, number][], colour: string): void {
  const ctx = view.canvas.getContext('2d')!;
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  path.forEach(([a, b], k) => {
    const [u, v] = view.toPixel(a, b);
    if (k === 0) ctx.moveTo(u, v);
    else ctx.lineTo(u, v);
  });
  ctx.stroke();
  for (const [k, [a, b]] of path.entries()) {
    const [u, v] = view.toPixel(a, b);
    ctx.beginPath();
    ctx.arc(u, v, k === path.length - 1 ? 6 : 3, 0, 2 * Math.PI);
    if (k === path.length - 1) {
      ctx.lineWidth = 2.5;
      ctx.stroke();
    } else {
      ctx.fill();
    }
  }
}

export interface Series {
  label: string;
  colour: string;
  values: readonly number[];
  dashed?: boolean;
}

/** A line chart of series against their index (1-based), with a legend and the y range in the corner. */
export function drawChart(canvas: HTMLCanvasElement, series: readonly Series[], title: string): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const pad = { left: 56, right: 10, top: 22, bottom: 22 };
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
  const longest = Math.max(1, ...series.map((s) => s.values.length));
  ctx.fillStyle = '#222';
  ctx.font = '12px sans-serif';
  ctx.fillText(title, pad.left, 14);
  if (finite.length === 0) return;
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const u = (k: number) => pad.left + ((width - pad.left - pad.right) * (longest === 1 ? 0.5 : k / (longest - 1)));
  const v = (y: number) => pad.top + (height - pad.top - pad.bottom) * (1 - (y - lo) / (hi - lo));
  ctx.strokeStyle = '#bbb';
  ctx.strokeRect(pad.left, pad.top, width - pad.left - pad.right, height - pad.top - pad.bottom);
  ctx.fillStyle = '#555';
  ctx.fillText(hi.toPrecision(4), 2, pad.top + 8);
  ctx.fillText(lo.toPrecision(4), 2, height - pad.bottom);
  ctx.fillText(`${longest}`, width - pad.right - 24, height - 6);
  series.forEach((s, idx) => {
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 1.8;
    ctx.setLineDash(s.dashed ? [5, 4] : []);
    ctx.beginPath();
    let started = false;
    s.values.forEach((y, k) => {
      if (!Number.isFinite(y)) return;
      if (!started) ctx.moveTo(u(k), v(y));
      else ctx.lineTo(u(k), v(y));
      started = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = s.colour;
    ctx.fillText(s.label, pad.left + 8 + 150 * (idx % 3), height - pad.bottom - 6 - 14 * Math.floor(idx / 3));
  });
}
