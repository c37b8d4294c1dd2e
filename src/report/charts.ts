/**
 * Charts as SVG strings, for experiment reports: a vega-lite spec is compiled to vega and rendered headless
 * (`renderer: 'none'`, no canvas), so this runs in plain Node. `svgToPng` (./png.ts) turns the SVG into a PNG.
 *
 *   const svg = await lineChart({ title: 'gap', xLabel: 'iterations', yLabel: 'f(ŷ) − f*', logY: true,
 *     series: [{ name: 'gd', points: [[1, 0.5], [2, 0.2]] }] });
 *
 * Inputs are checked before anything is drawn: every value finite, log axes only with positive values (a log scale
 * silently drops or mangles zeros and negatives, which would misreport a result), series names unique.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { fail } from '../util/errors.js';

/** The font used in every chart (Debian's fonts-dejavu-core; resvg falls back to another sans font without it). */
export const CHART_FONT = 'DejaVu Sans';

export type Point = readonly [number, number];

export interface Series {
  /** Legend entry; unique within a chart (within a panel when panels are used). */
  name: string;
  points: ReadonlyArray<Point>;
  /** Draw the series in the panel of this name (charts side by side); all series or none must name one. */
  panel?: string;
}

export interface XYChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: ReadonlyArray<Series>;
  logX?: boolean;
  logY?: boolean;
  /** Size of the plotting area (of each panel), in pixels (defaults 520 × 320). */
  width?: number;
  height?: number;
  /** Title of the legend (default: none). */
  legendTitle?: string;
  /** With panels: wrap them into rows of this many (default: all in one row). */
  panelColumns?: number;
}

export interface LineChartOptions extends XYChartOptions {
  /** Mark every point (default: when no series has more than 60 points). */
  markPoints?: boolean;
  /** Series drawn dashed, by name. */
  dashed?: ReadonlyArray<string>;
}

export interface HeatmapOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  /** values[i][j]: the cell at row i (y[i]) and column j (x[j]); rows all the same length. */
  values: ReadonlyArray<ReadonlyArray<number>>;
  /** Column centres, increasing (default 0 … columns−1). */
  x?: ReadonlyArray<number>;
  /** Row centres, increasing (default 0 … rows−1). */
  y?: ReadonlyArray<number>;
  colorLabel?: string;
  logColor?: boolean;
  /** A vega colour scheme (default 'viridis'). */
  scheme?: string;
  width?: number;
  height?: number;
}

const CONFIG = {
  font: CHART_FONT,
  background: 'white',
  view: { stroke: '#bbbbbb' },
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555555', anchor: 'start' as const },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 480 },
  header: { labelFontSize: 13, labelFontWeight: 'bold' as const, title: null },
};

/** Compile a vega-lite spec and render it to an SVG string without a canvas. */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function checkSize(where: string, name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 20 || v > 10000) fail(`${where}: ${name} must be an integer number of pixels in [20, 10000], got ${v}`);
  return v;
}

function checkText(where: string, name: string, v: unknown, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') fail(`${where}: ${name} must be a string, got ${v === undefined ? 'nothing' : typeof v}`);
  return v;
}

interface Row {
  series: string;
  panel: string;
  x: number;
  y: number;
  order: number;
}

function xyRows(where: string, o: XYChartOptions): { rows: Row[]; names: string[]; panels: string[] | null } {
  if (typeof o !== 'object' || o === null) fail(`${where}: options { title, xLabel, yLabel, series } are required`);
  checkText(where, 'title', o.title);
  checkText(where, 'subtitle', o.subtitle, true);
  checkText(where, 'xLabel', o.xLabel);
  checkText(where, 'yLabel', o.yLabel);
  if (!Array.isArray(o.series) || o.series.length === 0) fail(`${where}: series must be a non-empty array of { name, points }`);
  const withPanel = o.series.filter((s) => s?.panel !== undefined).length;
  if (withPanel !== 0 && withPanel !== o.series.length) fail(`${where}: either every series names a panel or none does (${withPanel} of ${o.series.length} do)`);
  const rows: Row[] = [];
  const names: string[] = [];
  const panels: string[] = [];
  const seen = new Set<string>();
  o.series.forEach((s, k) => {
    if (typeof s !== 'object' || s === null) fail(`${where}: series[${k}] must be an object { name, points }`);
    if (typeof s.name !== 'string' || s.name === '') fail(`${where}: series[${k}].name must be a non-empty string`);
    const panel = s.panel ?? '';
    if (typeof panel !== 'string') fail(`${where}: series "${s.name}": panel must be a string`);
    const key = `${panel}\u0000${s.name}`;
    if (seen.has(key)) fail(`${where}: two series are named "${s.name}"${panel ? ` in panel "${panel}"` : ''}`);
    seen.add(key);
    if (!names.includes(s.name)) names.push(s.name);
    if (withPanel && !panels.includes(panel)) panels.push(panel);
    if (!Array.isArray(s.points)) fail(`${where}: series "${s.name}": points must be an array of [x, y] pairs`);
    s.points.forEach((p: Point, i: number) => {
      if (!Array.isArray(p) || p.length !== 2) fail(`${where}: series "${s.name}" point ${i} must be an [x, y] pair, got ${JSON.stringify(p)}`);
      const [x, y] = p;
      for (const [axis, v] of [['x', x], ['y', y]] as const) {
        if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}: series "${s.name}" point ${i} has a non-finite ${axis} (${String(v)})`);
        const log = axis === 'x' ? o.logX : o.logY;
        if (log && v <= 0) {
          fail(`${where}: the ${axis} axis is logarithmic, but series "${s.name}" point ${i} has ${axis} = ${v}; ` +
            `a log scale needs ${axis} > 0 (drop the point, or plot max(${axis}, a floor) and say so)`);
        }
      }
      rows.push({ series: s.name, panel, x, y, order: i });
    });
  });
  if (rows.length === 0) fail(`${where}: the series have no points`);
  return { rows, names, panels: withPanel ? panels : null };
}

function xyAxes(o: XYChartOptions) {
  const scale = (log: boolean | undefined) => (log ? { type: 'log' as const } : { zero: false });
  return {
    x: { field: 'x', type: 'quantitative' as const, title: o.xLabel, scale: scale(o.logX), axis: { grid: true } },
    y: { field: 'y', type: 'quantitative' as const, title: o.yLabel, scale: scale(o.logY), axis: { grid: true } },
  };
}

function title(o: { title: string; subtitle?: string }) {
  return o.subtitle ? { text: o.title, subtitle: o.subtitle } : { text: o.title };
}

function xySpec(where: string, o: XYChartOptions, mark: Record<string, unknown>, extra: Record<string, unknown>): TopLevelSpec {
  const { rows, names, panels } = xyRows(where, o);
  const width = checkSize(where, 'width', o.width, 520);
  const height = checkSize(where, 'height', o.height, 320);
  const inner = {
    mark,
    encoding: {
      ...xyAxes(o),
      color: { field: 'series', type: 'nominal' as const, title: o.legendTitle ?? null, sort: names, scale: { domain: names } },
      order: { field: 'order', type: 'quantitative' as const },
      ...extra,
    },
  };
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: title(o), config: CONFIG, data: { values: rows } };
  if (panels === null) return { ...base, width, height, ...inner } as unknown as TopLevelSpec;
  const facet = { field: 'panel', type: 'nominal', sort: panels, title: null };
  const columns = o.panelColumns;
  if (columns !== undefined && !(Number.isInteger(columns) && columns >= 1)) fail(`${where}: panelColumns must be a positive integer, got ${columns}`);
  return {
    ...base,
    ...(columns === undefined ? { facet: { column: facet } } : { facet, columns }),
    spec: { width, height, ...inner },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as unknown as TopLevelSpec;
}

/** Lines through the points of each series, in the given order. */
export async function lineChart(o: LineChartOptions): Promise<string> {
  const where = 'lineChart';
  const most = Array.isArray(o?.series) ? Math.max(0, ...o.series.map((s) => (Array.isArray(s?.points) ? s.points.length : 0))) : 0;
  const markPoints = o?.markPoints ?? most <= 60;
  const dashed = o?.dashed ?? [];
  if (!Array.isArray(dashed)) fail(`${where}: dashed must be an array of series names`);
  const extra: Record<string, unknown> = {};
  if (dashed.length > 0) {
    const names = o.series.map((s) => s.name);
    for (const d of dashed) if (!names.includes(d)) fail(`${where}: dashed names "${d}", which is not a series`);
    extra.strokeDash = {
      condition: { test: `indexof(${JSON.stringify(dashed)}, datum.series) >= 0`, value: [6, 4] },
      value: [1, 0],
    };
  }
  const spec = xySpec(where, o, { type: 'line', strokeWidth: 2, point: markPoints ? { filled: true, size: 36 } : false }, extra);
  return renderVegaLite(spec);
}

/** One dot per point, coloured by series. */
export async function scatter(o: XYChartOptions): Promise<string> {
  return renderVegaLite(xySpec('scatter', o, { type: 'point', filled: true, size: 30, opacity: 0.8 }, {}));
}

function centres(where: string, name: string, c: ReadonlyArray<number> | undefined, n: number): number[] {
  if (c === undefined) return Array.from({ length: n }, (_, i) => i);
  if (!Array.isArray(c) || c.length !== n) fail(`${where}: ${name} must have ${n} entries (one per ${name === 'x' ? 'column' : 'row'}), got ${Array.isArray(c) ? c.length : typeof c}`);
  c.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}: ${name}[${i}] is not a finite number (${String(v)})`);
    if (i > 0 && !(v > c[i - 1])) fail(`${where}: ${name} must be increasing, but ${name}[${i}] = ${v} ≤ ${name}[${i - 1}] = ${c[i - 1]}`);
  });
  return [...c];
}

/** Cell edges from centres: midpoints between neighbours, half a step beyond the ends. */
function edges(c: number[]): number[] {
  if (c.length === 1) return [c[0] - 0.5, c[0] + 0.5];
  const e = [c[0] - (c[1] - c[0]) / 2];
  for (let i = 0; i + 1 < c.length; i++) e.push((c[i] + c[i + 1]) / 2);
  e.push(c[c.length - 1] + (c[c.length - 1] - c[c.length - 2]) / 2);
  return e;
}

/** A grid of values as coloured cells (e.g. an energy landscape f(x, y) over a 2-D grid). */
export async function heatmap(o: HeatmapOptions): Promise<string> {
  const where = 'heatmap';
  if (typeof o !== 'object' || o === null) fail(`${where}: options { title, xLabel, yLabel, values } are required`);
  checkText(where, 'title', o.title);
  checkText(where, 'subtitle', o.subtitle, true);
  checkText(where, 'xLabel', o.xLabel);
  checkText(where, 'yLabel', o.yLabel);
  if (!Array.isArray(o.values) || o.values.length === 0 || !Array.isArray(o.values[0]) || o.values[0].length === 0) {
    fail(`${where}: values must be a non-empty array of non-empty rows`);
  }
  const nRows = o.values.length;
  const nCols = o.values[0].length;
  const xs = edges(centres(where, 'x', o.x, nCols));
  const ys = edges(centres(where, 'y', o.y, nRows));
  const rows: { x: number; x2: number; y: number; y2: number; v: number }[] = [];
  o.values.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== nCols) fail(`${where}: row ${i} has ${Array.isArray(row) ? row.length : 'no'} values, expected ${nCols} (as row 0)`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}: values[${i}][${j}] is not a finite number (${String(v)})`);
      if (o.logColor && v <= 0) fail(`${where}: the colour scale is logarithmic, but values[${i}][${j}] = ${v}; a log scale needs values > 0`);
      rows.push({ x: xs[j], x2: xs[j + 1], y: ys[i], y2: ys[i + 1], v });
    });
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: title(o),
    config: CONFIG,
    width: checkSize(where, 'width', o.width, 420),
    height: checkSize(where, 'height', o.height, 420),
    data: { values: rows },
    mark: { type: 'rect', strokeWidth: 0 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xLabel, scale: { domain: [xs[0], xs[xs.length - 1]], nice: false, zero: false } },
      x2: { field: 'x2' },
      y: { field: 'y', type: 'quantitative', title: o.yLabel, scale: { domain: [ys[0], ys[ys.length - 1]], nice: false, zero: false } },
      y2: { field: 'y2' },
      color: {
        field: 'v', type: 'quantitative', title: o.colorLabel ?? null,
        scale: { scheme: o.scheme ?? 'viridis', ...(o.logColor ? { type: 'log' } : {}) },
      },
    },
  } as TopLevelSpec;
  return renderVegaLite(spec);
}
