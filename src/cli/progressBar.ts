/**
 * The CLI's progress sink: a cli-progress bar per task (an epoch of `fit`, the steps of an RL run) on a terminal,
 * plain lines otherwise (../learning/progress.ts). Lines that arrive while a bar is drawn are dropped, so that the
 * bar stays on one line; summaries come after `end`.
 */
import cliProgress from 'cli-progress';
import { LineSink, type ProgressMode, type ProgressSink } from '../learning/progress.js';

export class BarSink implements ProgressSink {
  private bar: cliProgress.SingleBar | null = null;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  begin(task: { label: string; total: number | null; done: number; fields: readonly string[] }): void {
    this.end();
    if (task.total === null) return;
    const fields = task.fields.map((f) => ` | ${f} {${f}}`).join('');
    this.bar = new cliProgress.SingleBar({
      stream: this.stream,
      format: `${task.label} [{bar}] {value}/{total}${fields} | {duration_formatted} (eta {eta_formatted})`,
      barsize: 30,
      hideCursor: false,
      clearOnComplete: true,
      // Write even when the stream is not a TTY: 'bar' was asked for explicitly.
      noTTYOutput: true,
      notTTYSchedule: 2000,
    }, cliProgress.Presets.legacy);
    this.bar.start(task.total, task.done, Object.fromEntries(task.fields.map((f) => [f, '-'])));
  }

  advance(done: number, values: Readonly<Record<string, string>>): void {
    this.bar?.update(done, values);
  }

  end(): void {
    this.bar?.stop();
    this.bar = null;
  }

  line(text: string): void {
    if (!this.bar) this.stream.write(`${text}\n`);
  }
}

/** The sink for a --progress mode: a bar for 'bar' (and 'auto' on a terminal), lines for 'lines' and 'auto' elsewhere. */
export function cliProgressSink(mode: ProgressMode, stream: NodeJS.WritableStream = process.stderr): ProgressSink {
  if (mode === 'none') return {};
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  return mode === 'bar' || (mode === 'auto' && tty) ? new BarSink(stream) : new LineSink(stream);
}
