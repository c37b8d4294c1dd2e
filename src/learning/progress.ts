/**
 * The one progress sink of the library, driven by callbacks: `fit` (per epoch: a task over its batches) and the RL
 * runner (one task over the training steps) call `begin` / `advance` / `line` / `end`, and the sink decides what
 * to show. The library's own sinks write plain lines ('lines', for logs and non-TTY streams) or nothing ('none',
 * the library default so that tests stay quiet); the cli-progress bars live in the CLI (../cli/progressBar.ts),
 * which passes its sink as the `progress` option. A caller may pass any object with these methods.
 */
import { fail } from '../util/errors.js';

export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** Where progress goes: every method is optional. */
export interface ProgressSink {
  /** A task of `total` steps (null: unknown) starts with `done` already taken; `fields` are the values `advance` reports. */
  begin?(task: { label: string; total: number | null; done: number; fields: readonly string[] }): void;
  /** `done` steps of the task taken, with the current values of its fields (already formatted). */
  advance?(done: number, values: Readonly<Record<string, string>>): void;
  /** The task ended (before its summary line). */
  end?(): void;
  /** A line for humans: a summary, "checkpoint written", "resumed from". A bar sink drops lines while its bar is drawn. */
  line?(text: string): void;
}

export interface EpochSummary {
  epoch: number;
  trainLoss: number;
  metrics: Record<string, number>;
  seconds: number;
  steps: number;
}

/** `progress` as an option: a mode (true: 'auto', false: 'none') or a sink. */
export function checkProgressOption(where: string, v: unknown): ProgressMode | ProgressSink {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as ProgressSink;
  return checkProgressMode(where, v);
}

export function checkProgressMode(where: string, v: unknown): ProgressMode {
  if (v === true) return 'auto';
  if (v === false) return 'none';
  if (typeof v !== 'string' || !(PROGRESS_MODES as readonly string[]).includes(v)) {
    fail(`${where} must be true, false, a progress sink or one of ${PROGRESS_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as ProgressMode;
}

/** Writes each `line` to a stream; the library's sink for 'lines', 'auto' and 'bar' (bars are the CLI's). */
export class LineSink implements ProgressSink {
  constructor(private readonly stream: { write(text: string): unknown }) {}

  line(text: string): void {
    this.stream.write(`${text}\n`);
  }
}

/** The sink of a `progress` option: the sink given, nothing for 'none', else lines on `stream` (default stderr, or the console in a browser). */
export function progressSink(progress: ProgressMode | ProgressSink, stream?: { write(text: string): unknown }): ProgressSink {
  if (typeof progress === 'object') return progress;
  if (progress === 'none') return {};
  // No `process` in a browser: lines go to the console there.
  const fallback = typeof process === 'object' ? process.stderr : { write: (text: string) => console.log(text.trimEnd()) };
  return new LineSink(stream ?? fallback);
}

/** A number for humans: fixed with 4 decimals in the usual range, exponential outside it. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? v.toFixed(4) : v.toExponential(3);
}

export function formatEpochLine(s: EpochSummary, epochs: number): string {
  const metrics = Object.entries(s.metrics).map(([k, v]) => `${k} ${formatNumber(v)}`);
  return [`epoch ${s.epoch}/${epochs}`, `step ${s.steps}`, `loss ${formatNumber(s.trainLoss)}`, ...metrics, `${s.seconds.toFixed(1)} s`].join('  ');
}
