/**
 * The demo's input checks, kept apart from the DOM so that Node tests can run them: what the page refuses (no points,
 * one class only, a network too large for a browser tab, malformed numbers), each with the one-line message the
 * page shows.
 */
import { IcnnError } from 'icnn';

export interface LabelledPoint {
  x0: number;
  x1: number;
  /** 0 or 1. */
  label: number;
}

/** Parameters a page may train (as estimated below): beyond this a tab stalls for seconds per step. */
export const MAX_PARAMETERS = 250_000;
/** Hidden layers a page may train. */
export const MAX_LAYERS = 6;

/** "64, 64" → [64, 64]: positive integer widths, comma separated. */
export function parseHidden(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => !/^\d+$/.test(s) || Number(s) === 0)) {
    throw new IcnnError(`hidden layers must be positive integers separated by commas (e.g. "64, 64"), got "${text}"`);
  }
  const widths = parts.map(Number);
  if (widths.length > MAX_LAYERS) throw new IcnnError(`at most ${MAX_LAYERS} hidden layers run in a browser tab, got ${widths.length}`);
  return widths;
}

/** A number field: finite and within [lo, hi]. */
export function parseNumber(name: string, text: string, lo: number, hi: number, { integer = false } = {}): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new IcnnError(`${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got "${text}"`);
  }
  return v;
}

/** Training needs points of both classes. */
export function checkTrainingSet(points: readonly LabelledPoint[]): void {
  if (points.length === 0) throw new IcnnError('no training points: pick a data set or click on the plane to place some');
  const ones = points.filter((p) => p.label === 1).length;
  if (ones === 0 || ones === points.length) {
    throw new IcnnError(`all ${points.length} points are of class ${points[0].label}: place points of both classes (shift-click or the class switch)`);
  }
}

/** Refuse networks whose parameter count (approximated from the widths) is too large for a page. */
export function checkNetworkSize(inputDim: number, hidden: readonly number[]): number {
  let params = 0;
  let previous = inputDim;
  for (const w of hidden) {
    // A PICNN layer has its z-path, y- and x-passthroughs, the u-path and three gates: an upper bound on all of them
    // (tested against the real models) is five matrices of (previous + input + 1) × width.
    params += 5 * (previous + inputDim + 1) * w;
    previous = w;
  }
  params += previous + 1;
  if (params > MAX_PARAMETERS) {
    throw new IcnnError(`network too large for the browser: about ${params.toLocaleString('en-US')} parameters for hidden layers ` +
      `[${hidden.join(', ')}] (at most ${MAX_PARAMETERS.toLocaleString('en-US')}); use fewer or narrower layers`);
  }
  return params;
}

/** The message the page shows for an error: ours as they are, anything else prefixed so it is not mistaken for one. */
export function messageOf(e: unknown): string {
  if (e instanceof IcnnError) return e.message;
  return `unexpected error: ${e instanceof Error ? e.message : String(e)}`;
}
