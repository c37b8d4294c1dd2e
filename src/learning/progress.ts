/**
 * Progress reporting for the training loop: a cli-progress bar per epoch ('bar'), one plain line per epoch
 * ('lines', for logs and non-TTY streams), or nothing ('none', the library default so that tests stay quiet).
 * 'auto' picks 'bar' when the stream is a TTY and the number of steps per epoch is known, else 'lines'.
 * The bar (cli-progress, a Node module) is loaded by `prepare()` only when a bar is shown.
 */
import type cliProgressModule from 'cli-progress';
import { fail } from '../util/errors.js';
import { importNodeOnly, isNode } from '../util/nodeOnly.js';

export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export interface ProgressOptions {
  mode: ProgressMode;
  /** Where to write (default process.stderr). */
  stream?: NodeJS.WritableStream;
  /** Total epochs of the run. */
  epochs: number;
  /** Steps per epoch, or null when unknown (streamed data). */
  stepsPerEpoch: number | null;
}

export interface EpochSummary {
  epoch: number;
  trainLoss: number;
  metrics: Record<string, number>;
  seconds: number;
  steps: number;
}

export function checkProgressMode(where: string, v: unknown): ProgressMode {
  if (v === true) return 'auto';
  if (v === false) return 'none';
  if (typeof v !== 'string' || !(PROGRESS_MODES as readonly string[]).includes(v)) {
    fail(`${where} must be true, false or one of ${PROGRESS_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as ProgressMode;
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

/** Where lines go without a stream: stderr in Node, the console elsewhere. */
function defaultStream(): NodeJS.WritableStream {
  if (isNode()) return process.stderr;
  return { write: (text: string) => (console.log(text.replace(/\n$/, '')), true) } as unknown as NodeJS.WritableStream;
}

export class Progress {
  mode: Exclude<ProgressMode, 'auto'>;
  private readonly stream: NodeJS.WritableStream;
  private readonly epochs: number;
  private readonly stepsPerEpoch: number | null;
  private cliProgress: typeof cliProgressModule | null = null;
  private bar: cliProgressModule.SingleBar | null = null;

  constructor(o: ProgressOptions) {
    this.stream = o.stream ?? defaultStream();
    this.epochs = o.epochs;
    this.stepsPerEpoch = o.stepsPerEpoch;
    const tty = (this.stream as NodeJS.WriteStream).isTTY === true;
    if (o.mode === 'auto') this.mode = tty && o.stepsPerEpoch !== null ? 'bar' : 'lines';
    else if (o.mode === 'bar' && o.stepsPerEpoch === null) this.mode = 'lines';
    else this.mode = o.mode;
  }

  /** Load the bar's module when a bar is shown; outside Node the bar becomes plain lines. */
  async prepare(): Promise<void> {
    if (this.mode !== 'bar' || this.cliProgress !== null) return;
    if (!isNode()) {
      this.mode = 'lines';
      return;
    }
    this.cliProgress = (await importNodeOnly<{ default: typeof cliProgressModule }>('cli-progress', 'progress bar')).default;
  }

  startEpoch(epoch: number, done: number): void {
    if (this.mode !== 'bar' || this.stepsPerEpoch === null) return;
    const cliProgress = this.cliProgress;
    if (cliProgress === null) fail('Progress: call prepare() before the first epoch');
    this.bar = new cliProgress.SingleBar({
      stream: this.stream,
      format: `epoch ${epoch}/${this.epochs} [{bar}] {value}/{total} | loss {loss} | {duration_formatted} (eta {eta_formatted})`,
      barsize: 30,
      hideCursor: false,
      clearOnComplete: true,
      // Write even when the stream is not a TTY: 'bar' was asked for explicitly.
      noTTYOutput: true,
      notTTYSchedule: 2000,
    }, cliProgress.Presets.legacy);
    this.bar.start(this.stepsPerEpoch, done, { loss: '-' });
  }

  step(loss: number): void {
    this.bar?.increment(1, { loss: formatNumber(loss) });
  }

  endEpoch(summary: EpochSummary): void {
    this.stopBar();
    if (this.mode === 'none') return;
    this.stream.write(`${formatEpochLine(summary, this.epochs)}\n`);
  }

  /** A line between epochs (e.g. "checkpoint written"); shown in 'lines' and 'bar' modes. */
  message(text: string): void {
    if (this.mode === 'none' || this.bar) return;
    this.stream.write(`${text}\n`);
  }

  stop(): void {
    this.stopBar();
  }

  private stopBar(): void {
    if (!this.bar) return;
    this.bar.stop();
    this.bar = null;
  }
}
