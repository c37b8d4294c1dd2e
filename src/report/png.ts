/**
 * SVG → PNG with resvg (a Rust renderer shipped as a prebuilt binary inside its npm package; no canvas, no
 * browser), and atomic PNG writes. Text uses the system's fonts, DejaVu Sans by default (Debian's
 * fonts-dejavu-core), the font the charts of ./charts.ts ask for.
 */
import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomic } from '../util/atomicFile.js';
import { fail } from '../util/errors.js';
import { CHART_FONT } from './charts.js';

export interface PngOptions {
  /** Zoom factor: 2 gives a 2×-resolution image of the SVG's size (default 2). */
  scale?: number;
  /** Background colour (default white; 'transparent' keeps the alpha channel). */
  background?: string;
  /** Font family for text that names none or a missing one (default DejaVu Sans). */
  font?: string;
}

export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function svgToPng(svg: string, options: PngOptions = {}): Buffer {
  const where = 'svgToPng';
  if (typeof svg !== 'string' || !svg.includes('<svg')) fail(`${where}: expected an SVG document (a string containing <svg), got ${typeof svg === 'string' ? JSON.stringify(svg.slice(0, 40)) : typeof svg}`);
  const scale = options.scale ?? 2;
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 16)) fail(`${where}: scale must be a number in (0, 16], got ${String(scale)}`);
  const font = options.font ?? CHART_FONT;
  const background = options.background ?? 'white';
  let r: Resvg;
  try {
    r = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: scale },
      ...(background === 'transparent' ? {} : { background }),
      font: { loadSystemFonts: true, defaultFontFamily: font, sansSerifFamily: font },
    });
  } catch (e) {
    fail(`${where}: the SVG could not be parsed: ${(e as Error).message}`);
  }
  return r.render().asPng();
}

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
}

/** Read a PNG's header (signature, then the IHDR chunk with its CRC checked). */
export function readPngInfo(png: Uint8Array): PngInfo {
  const where = 'readPngInfo';
  if (png.length < 33 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) fail(`${where}: not a PNG (bad signature)`);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const length = view.getUint32(8);
  const type = String.fromCharCode(...png.subarray(12, 16));
  if (type !== 'IHDR' || length !== 13) fail(`${where}: the first chunk is ${JSON.stringify(type)} of ${length} bytes, expected IHDR of 13`);
  const crc = view.getUint32(29);
  if (crc32(png.subarray(12, 29)) !== crc) fail(`${where}: the IHDR chunk's CRC does not match`);
  const info = { width: view.getUint32(16), height: view.getUint32(20), bitDepth: png[24], colorType: png[25] };
  if (info.width === 0 || info.height === 0) fail(`${where}: zero-sized image (${info.width}×${info.height})`);
  return info;
}

let CRC_TABLE: Uint32Array | null = null;

function crc32(bytes: Uint8Array): number {
  if (CRC_TABLE === null) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Write a PNG atomically (temporary file in the same directory, then rename); refuses bytes that are not a PNG. */
export async function writePngAtomic(file: string, png: Uint8Array): Promise<void> {
  readPngInfo(png);
  await writeFileAtomic(file, png);
}

/** Render an SVG and write it as a PNG, atomically; returns the image size. */
export async function writeSvgAsPng(file: string, svg: string, options: PngOptions = {}): Promise<PngInfo> {
  const png = svgToPng(svg, options);
  await writePngAtomic(file, png);
  return readPngInfo(png);
}
