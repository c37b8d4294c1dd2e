/**
 * Reports: charts (vega-lite → SVG, headless) and SVG → PNG (resvg), for experiments and benchmarks.
 * Node only (resvg is a native addon). Not re-exported from the package root, so the core library stays
 * browser-friendly: import from this module.
 */
export { lineChart, scatter, heatmap, renderVegaLite, CHART_FONT } from './charts.js';
export type { Point, Series, XYChartOptions, LineChartOptions, HeatmapOptions } from './charts.js';
export { svgToPng, readPngInfo, writePngAtomic, writeSvgAsPng, PNG_SIGNATURE } from './png.js';
export type { PngOptions, PngInfo } from './png.js';
