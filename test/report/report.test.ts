/**
 * src/report: vega-lite charts rendered headless to SVG, SVG → PNG through resvg, atomic PNG writes.
 * The PNGs are decoded here (zlib + PNG row filters) to check that something was actually drawn: the series
 * colours, and dark text pixels in the title area.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { heatmap, lineChart, readPngInfo, scatter, svgToPng, writePngAtomic, writeSvgAsPng, type Series } from '../../src/report/index.js';
import { IcnnError } from '../../src/util/errors.js';
import { tempDirFor } from '../helpers/tmp.js';

const ITERS = [1, 2, 3, 5, 10, 20, 30, 50, 100];
const SERIES: Series[] = [
  { name: 'gradient descent', points: ITERS.map((k) => [k, 1 / k]) },
  { name: 'bundle entropy', points: ITERS.map((k) => [k, 1 / (k * k)]) },
];

async function rejectsIcnn(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${String(e)}`);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

/** Decode an 8-bit, non-interlaced RGB or RGBA PNG into RGBA pixels. */
function decodePng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const info = readPngInfo(png);
  assert.equal(info.bitDepth, 8);
  assert.ok(info.colorType === 6 || info.colorType === 2, `colour type ${info.colorType}`);
  assert.equal(png[28], 0, 'not interlaced');
  const channels = info.colorType === 6 ? 4 : 3;
  const idat: Uint8Array[] = [];
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  let sawEnd = false;
  while (at < png.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
    if (type === 'IEND') {
      sawEnd = true;
      break;
    }
  }
  assert.ok(sawEnd, 'IEND chunk');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = info.width * channels;
  assert.equal(raw.length, info.height * (stride + 1), 'decompressed size');
  const out = new Uint8Array(info.width * info.height * 4);
  let prev = new Uint8Array(stride);
  for (let r = 0; r < info.height; r++) {
    const filter = raw[r * (stride + 1)];
    const line = Uint8Array.from(raw.subarray(r * (stride + 1) + 1, (r + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else assert.equal(filter, 0, `filter type ${filter}`);
      line[i] = (line[i] + add) & 0xff;
    }
    for (let x = 0; x < info.width; x++) {
      for (let ch = 0; ch < 4; ch++) out[(r * info.width + x) * 4 + ch] = ch < channels ? line[x * channels + ch] : 255;
    }
    prev = line;
  }
  return { width: info.width, height: info.height, rgba: out };
}

function countPixels(img: { rgba: Uint8Array }, pred: (r: number, g: number, b: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) if (pred(img.rgba[i], img.rgba[i + 1], img.rgba[i + 2])) n++;
  return n;
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"/.exec(svg);
  assert.ok(m, 'the SVG has a width and a height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

describe('lineChart', () => {
  test('the SVG holds the title, axis titles and series names', async () => {
    const svg = await lineChart({ title: 'Energy gap', subtitle: 'lower is better', xLabel: 'iterations', yLabel: 'f(ŷ) − f*', series: SERIES, logX: true, logY: true });
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const text of ['Energy gap', 'lower is better', 'iterations', 'f(ŷ) − f*', 'gradient descent', 'bundle entropy']) {
      assert.ok(svg.includes(text), `the SVG should contain ${JSON.stringify(text)}`);
    }
    assert.match(svg, /font-family="DejaVu Sans/);
    const { width, height } = svgSize(svg);
    assert.ok(width > 520 && width < 1000 && height > 320 && height < 600, `${width}×${height}`);
  });

  test('text is escaped, not injected', async () => {
    const svg = await lineChart({ title: 'a <b> & "c"', xLabel: 'x', yLabel: 'y', series: [{ name: 'f − H < 0', points: [[0, 1], [1, 2]] }] });
    assert.ok(svg.includes('a &lt;b&gt; &amp;'), svg.slice(0, 400));
    assert.ok(svg.includes('f − H &lt; 0'));
    assert.ok(!svg.includes('<b>'));
  });

  test('panels put series side by side, each panel named', async () => {
    const series: Series[] = [
      ...SERIES.map((s) => ({ ...s, panel: 'BibTeX PICNN' })),
      ...SERIES.map((s) => ({ ...s, panel: 'random PICNN' })),
    ];
    const svg = await lineChart({ title: 'two networks', xLabel: 'iterations', yLabel: 'gap', series, logY: true, dashed: ['bundle entropy'] });
    assert.ok(svg.includes('BibTeX PICNN') && svg.includes('random PICNN'));
    assert.ok(svgSize(svg).width > 2 * 520, 'two panels wide');
    assert.match(svg, /stroke-dasharray="6,4"/);
    const wrapped = await lineChart({ title: 'two networks', xLabel: 'iterations', yLabel: 'gap', series, logY: true, panelColumns: 1 });
    assert.ok(svgSize(wrapped).width < 2 * 520 && svgSize(wrapped).height > 2 * 320, `panelColumns 1: one above the other, ${JSON.stringify(svgSize(wrapped))}`);
    await rejectsIcnn(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series, panelColumns: 0 }), /panelColumns must be a positive integer, got 0/);
  });

  test('log axes refuse non-positive values, naming the series, the point and the value', async () => {
    const bad: Series[] = [SERIES[0], { name: 'exact', points: [[1, 0.5], [2, 0]] }];
    await rejectsIcnn(lineChart({ title: 't', xLabel: 'x', yLabel: 'gap', series: bad, logY: true }),
      /^lineChart: /, /y axis is logarithmic/, /series "exact" point 1 has y = 0/, /needs y > 0/);
    await rejectsIcnn(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[-1, 1]] }], logX: true }),
      /x axis is logarithmic/, /series "s" point 0 has x = -1/);
    // The same values are fine on linear axes.
    await lineChart({ title: 't', xLabel: 'x', yLabel: 'gap', series: bad });
  });

  test('bad input is refused with a clear error', async () => {
    const base = { title: 't', xLabel: 'x', yLabel: 'y' };
    await rejectsIcnn(lineChart({ ...base, series: [] }), /series must be a non-empty array/);
    await rejectsIcnn(lineChart({ ...base, series: [{ name: 's', points: [[1, NaN]] }] }), /series "s" point 0 has a non-finite y \(NaN\)/);
    await rejectsIcnn(lineChart({ ...base, series: [{ name: 's', points: [[Infinity, 1]] }] }), /non-finite x \(Infinity\)/);
    await rejectsIcnn(lineChart({ ...base, series: [{ name: 's', points: [[1, 2, 3] as unknown as [number, number]] }] }), /must be an \[x, y\] pair/);
    await rejectsIcnn(lineChart({ ...base, series: [SERIES[0], SERIES[0]] }), /two series are named "gradient descent"/);
    await rejectsIcnn(lineChart({ ...base, series: [{ ...SERIES[0], panel: 'a' }, SERIES[1]] }), /either every series names a panel or none/);
    await rejectsIcnn(lineChart({ ...base, series: SERIES, dashed: ['nope'] }), /dashed names "nope"/);
    await rejectsIcnn(lineChart({ ...base, series: SERIES, width: 5 }), /width must be an integer number of pixels/);
    await rejectsIcnn(lineChart({ ...base, xLabel: undefined as unknown as string, series: SERIES }), /xLabel must be a string/);
  });
});

describe('scatter and heatmap', () => {
  test('scatter draws one symbol per point', async () => {
    const svg = await scatter({ title: 'Predictions', xLabel: 'target', yLabel: 'prediction', series: [
      { name: 'train', points: [[0, 0.1], [1, 0.9], [0.5, 0.4]] }, { name: 'test', points: [[0.2, 0.3]] },
    ] });
    assert.ok(['Predictions', 'target', 'prediction', 'train', 'test'].every((t) => svg.includes(t)));
    const g = /<g class="mark-symbol role-mark marks"[^>]*>(.*?)<\/g>/s.exec(svg);
    assert.ok(g, 'a symbol mark group');
    assert.equal((g[1].match(/<path/g) ?? []).length, 4, 'one symbol per point');
  });

  test('heatmap draws a cell per value, with axis and colour titles', async () => {
    const values = [[1, 2, 3], [4, 5, 6]];
    const svg = await heatmap({ title: 'Energy landscape', xLabel: 'y₁', yLabel: 'y₂', colorLabel: 'f(x, y)', values, x: [0, 0.5, 1], y: [0, 1] });
    assert.ok(['Energy landscape', 'y₁', 'y₂', 'f(x, y)'].every((t) => svg.includes(t)));
    const g = /<g class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s.exec(svg);
    assert.ok(g, 'a rect mark group');
    assert.equal((g[1].match(/<path/g) ?? []).length, 6, 'one cell per value');
  });

  test('heatmap refuses ragged rows, bad centres and non-positive values on a log colour scale', async () => {
    const base = { title: 't', xLabel: 'x', yLabel: 'y' };
    await rejectsIcnn(heatmap({ ...base, values: [[1, 2], [3]] }), /row 1 has 1 values, expected 2/);
    await rejectsIcnn(heatmap({ ...base, values: [[1, 2]], x: [0] }), /x must have 2 entries/);
    await rejectsIcnn(heatmap({ ...base, values: [[1, 2]], x: [1, 0] }), /x must be increasing/);
    await rejectsIcnn(heatmap({ ...base, values: [[1, 0]], logColor: true }), /values\[0\]\[1\] = 0/);
    await rejectsIcnn(heatmap({ ...base, values: [] }), /non-empty array of non-empty rows/);
  });
});

describe('svgToPng and writePngAtomic', () => {
  test('a valid PNG of the SVG size times the scale, with the series drawn and text rendered', async () => {
    const svg = await lineChart({ title: 'Energy gap', xLabel: 'iterations', yLabel: 'gap', series: SERIES, logX: true, logY: true });
    const { width, height } = svgSize(svg);
    const png = svgToPng(svg, { scale: 2 });
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    const info = readPngInfo(png);
    assert.ok(Math.abs(info.width - width * 2) <= 1, `${info.width} vs ${width * 2}`);
    assert.ok(Math.abs(info.height - height * 2) <= 1, `${info.height} vs ${height * 2}`);
    const img = decodePng(png);
    // vega's default palette: #4c78a8 (blue) and #f58518 (orange) for the two series.
    const blue = countPixels(img, (r, g, b) => Math.abs(r - 0x4c) < 12 && Math.abs(g - 0x78) < 12 && Math.abs(b - 0xa8) < 12);
    const orange = countPixels(img, (r, g, b) => Math.abs(r - 0xf5) < 12 && Math.abs(g - 0x85) < 12 && Math.abs(b - 0x18) < 12);
    assert.ok(blue > 500 && orange > 500, `series pixels: blue ${blue}, orange ${orange}`);
    const white = countPixels(img, (r, g, b) => r > 250 && g > 250 && b > 250);
    assert.ok(white > 0.5 * img.width * img.height, 'a white background');
    // Dark pixels in the top band, where only the title is: the text was rendered (needs a system font).
    const band = { rgba: img.rgba.subarray(0, img.width * 4 * 30) };
    assert.ok(countPixels(band, (r, g, b) => r + g + b < 150) > 50, 'title text pixels');
  });

  test('scale changes the resolution; transparent background keeps alpha', async () => {
    const svg = await scatter({ title: 's', xLabel: 'x', yLabel: 'y', series: [{ name: 'p', points: [[0, 0], [1, 1]] }] });
    const one = readPngInfo(svgToPng(svg, { scale: 1 }));
    const three = readPngInfo(svgToPng(svg, { scale: 3 }));
    assert.ok(Math.abs(three.width - 3 * one.width) <= 3 && Math.abs(three.height - 3 * one.height) <= 3);
    const img = decodePng(svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect x="0" y="0" width="5" height="10" fill="red"/></svg>', { scale: 1, background: 'transparent' }));
    assert.deepEqual([...img.rgba.subarray(0, 4)], [255, 0, 0, 255]);
    assert.equal(img.rgba[(9) * 4 + 3], 0, 'right half transparent');
  });

  test('bad input is refused', () => {
    assert.throws(() => svgToPng('not an svg'), /svgToPng: expected an SVG document/);
    assert.throws(() => svgToPng('<svg', { scale: 0 }), /scale must be a number in \(0, 16\]/);
    assert.throws(() => svgToPng('<svg xmlns="http://www.w3.org/2000/svg" <<<'), /svgToPng: the SVG could not be parsed/);
    assert.throws(() => readPngInfo(new Uint8Array(40)), /not a PNG/);
  });

  test('writePngAtomic writes the file with no temporary left behind, and refuses non-PNG bytes', async (t) => {
    const dir = tempDirFor(t);
    const file = path.join(dir, 'sub', 'chart.png');
    const svg = await lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: SERIES });
    const info = await writeSvgAsPng(file, svg, { scale: 1 });
    const bytes = readFileSync(file);
    assert.deepEqual(readPngInfo(bytes), info);
    assert.deepEqual(readdirSync(path.dirname(file)), ['chart.png']);
    writeFileSync(path.join(dir, 'keep.png'), bytes);
    await assert.rejects(writePngAtomic(path.join(dir, 'keep.png'), new TextEncoder().encode('hello, not a png, but long enough to read')), /not a PNG/);
    assert.deepEqual(readFileSync(path.join(dir, 'keep.png')), bytes, 'the old file is untouched');
  });
});
