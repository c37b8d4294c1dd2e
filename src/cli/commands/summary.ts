/** `icnn summary --model DIR`: describe a saved model. */
import { Command } from 'commander';

export function summaryCommand(): Command {
  return new Command('summary')
    .description('describe a saved model: architecture, convexity, parameters')
    .requiredOption('--model <dir>', 'directory written by model.save()')
    .option('--json', 'print the model config as JSON')
    .action(async (opts: { model: string; json?: boolean }) => {
      const { ready } = await import('../../backend/backend.js');
      await ready();
      const { loadModel } = await import('../../models/modelFiles.js');
      const model = await loadModel(opts.model);
      try {
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ kind: model.kind, config: model.config, isConvex: model.isConvex, numParameters: model.numParameters }, null, 2)}\n`);
        } else {
          process.stdout.write(`${model.summary()}\n`);
        }
      } finally {
        model.dispose();
      }
    });
}
