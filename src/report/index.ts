/**
 * Reports: charts (vega-lite → SVG, headless) and SVG → PNG (resvg), for experiments and benchmarks.
 * Node only (resvg is a native addon): the package's `icnn/report` entry, kept out of the core `icnn`.
 */
export { lineChart, scatter, heatmap, renderVegaLite, CHART_FONT } from './charts.js';
export type { Point, Series, XYChartOptions, LineChartOptions, HeatmapOptions } from './charts.js';
export { svgToPng, readPngInfo, writePngAtomic, writeSvgAsPng, PNG_SIGNATURE } from './png.js';
export type { PngOptions, PngInfo } from './png.js';
