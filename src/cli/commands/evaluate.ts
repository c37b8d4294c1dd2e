/**
 * `icnn evaluate --model DIR …`: metrics of a saved model on labelled data, with an objective's predictions
 * (structured objectives: ŷ thresholded at 0.5, example-F1 (the paper's "macro-F1"), label macro-F1, Hamming and
 * subset accuracy, MSE; energy regression: MSE, RMSE, MAE of f(x, y) against the targets).
 *
 * Data: `--data FILE` (JSON { x, y, target }), or `--x FILE --y FILE [--target FILE]` (CSV or JSON rows), or a
 * training config's validation data (`--config FILE`, its `data` when it has no validation). The objective comes
 * from `--objective` / `--objective-options`, else from the config.
 */
import { Command, InvalidArgumentError } from 'commander';
import { POSITIVE_INT } from '../../util/numbers.js';
import { numberOption } from '../numberOption.js';
import path from 'node:path';
import { fail } from '../../util/errors.js';
import { disposeDataset, loadDataSource, readConfigFile, type DataSource } from './train.js';
import type { Dataset } from '../../learning/fit.js';

interface EvaluateFlags {
  model: string;
  config?: string;
  data?: string;
  x?: string;
  y?: string;
  target?: string;
  objective?: string;
  objectiveOptions?: Record<string, unknown>;
  batchSize?: number;
  threshold?: number;
  json?: boolean;
}

const positiveInt = numberOption(POSITIVE_INT);
const unitInterval = numberOption({ min: 0, exclusiveMin: true, max: 1, exclusiveMax: true });

function jsonObject(v: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('expected a JSON object, e.g. \'{"steps": 30}\'.');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InvalidArgumentError('expected a JSON object.');
  return o as Record<string, unknown>;
}

export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('metrics of a saved model on labelled data (example-F1, label macro-F1, Hamming accuracy, MSE; or regression errors)')
    .requiredOption('--model <dir>', 'directory written by model.save() (e.g. OUT/model of icnn train)')
    .option('--config <file>', 'a training config: its objective, objective options and validation data')
    .option('--data <file>', 'JSON file { "x": rows, "y": rows, "target": [...] }')
    .option('--x <file>', 'rows of x (CSV or JSON)')
    .option('--y <file>', 'rows of y (CSV or JSON)')
    .option('--target <file>', 'energies, one per line (energy regression)')
    .option('--objective <name>', 'unrolled-gd, argmin-bundle-entropy, energy-regression, … (default: the config\'s)')
    .option('--objective-options <json>', 'the objective\'s options as a JSON object', jsonObject)
    .option('--batch-size <n>', 'rows per prediction batch (default 256)', positiveInt)
    .option('--threshold <t>', 'multi-label threshold (default 0.5)', unitInterval)
    .option('--json', 'print JSON')
    .action(async (flags: EvaluateFlags) => runEvaluate(flags));
}

async function runEvaluate(flags: EvaluateFlags): Promise<void> {
  const config = flags.config !== undefined ? await readConfigFile(flags.config) : null;
  const fileFlags = flags.x !== undefined || flags.y !== undefined || flags.target !== undefined;
  if (flags.data !== undefined && fileFlags) fail('give either --data or --x/--y/--target, not both');
  if (flags.x !== undefined && flags.y === undefined) fail('--x needs --y (the labels to compare with)');
  let source: DataSource;
  let what: string;
  if (flags.data !== undefined) {
    source = { json: path.resolve(flags.data) };
    what = '--data';
  } else if (flags.y !== undefined) {
    source = {
      csv: {
        ...(flags.x !== undefined ? { x: path.resolve(flags.x) } : {}), y: path.resolve(flags.y),
        ...(flags.target !== undefined ? { target: path.resolve(flags.target) } : {}),
      },
    };
    what = '--x/--y';
  } else if (config) {
    source = config.validation ?? config.data;
    what = config.validation ? 'config.validation' : 'config.data';
  } else {
    fail('no data: give --data FILE, --x FILE --y FILE, or --config FILE');
  }
  const objectiveName = flags.objective ?? config?.objective;
  if (objectiveName === undefined) fail('--objective is required (or --config with an objective)');
  const objectiveOptions = flags.objectiveOptions ?? (flags.objective === undefined || flags.objective === config?.objective ? config?.objectiveOptions : undefined);
  const { createObjective } = await import('../../learning/objectives/index.js');
  const objective = createObjective(objectiveName, objectiveOptions, flags.objectiveOptions ? '--objective-options' : 'config.objectiveOptions');

  const { ready } = await import('../../backend/backend.js');
  await ready();
  const { loadModel } = await import('../../models/modelFiles.js');
  const { evaluate } = await import('../../learning/metrics.js');
  const model = await loadModel(flags.model);
  let data: Dataset | null = null;
  try {
    data = await loadDataSource(source, model, what);
    const t0 = performance.now();
    const metrics = await evaluate(model, objective, data, {
      ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
      ...(flags.threshold !== undefined ? { threshold: flags.threshold } : {}),
    });
    const seconds = (performance.now() - t0) / 1000;
    const rows = data.y.shape[0];
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ model: model.kind, objective: objective.name, rows, metrics, seconds })}\n`);
      return;
    }
    const width = Math.max(...Object.keys(metrics).map((k) => k.length));
    const lines = [
      `${model.kind} evaluated with ${objective.name} predictions on ${rows} row${rows === 1 ? '' : 's'} (${seconds.toFixed(2)} s)`,
      ...Object.entries(metrics).map(([k, v]) => `${k.padEnd(width)}  ${Number.isFinite(v) ? v.toFixed(6) : String(v)}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    disposeDataset(data);
    model.dispose();
  }
}
