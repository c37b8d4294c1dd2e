/** `icnn reproduce <experiment>`: run one of the paper's experiments and write report.md, results.json, figures. */
import { Command } from 'commander';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { NON_NEGATIVE_INT, POSITIVE_INT, parseNumberArg } from '../../util/numbers.js';
import { probeOutputDir } from '../../util/outputDir.js';
import { guardFinishedOutput } from '../runGuard.js';
import { intList } from './rl.js';

export function reproduceCommand(): Command {
  return new Command('reproduce')
    .description("reproduce one of the paper's experiments: synthetic (§5.1), bibtex (§5.2), olivetti (§5.3)")
    .argument('<experiment>', 'experiment name')
    .option('--quick', 'tiny data and few epochs (smoke test; numbers not comparable with the paper)')
    .option('--out <dir>', 'output directory (default: out/<experiment>)')
    .option('--seed <n>', 'random seed', '0')
    .option('--seeds <list>', 'bibtex, olivetti: run every variant for each seed (e.g. 0,1,2), each in its own resumable run ' +
      'directory under --out/runs/, two at a time, then write the tables over seeds', intList)
    .option('--collect', 'bibtex, olivetti: only build the tables over seeds from the runs under --out (finished or not)')
    .option('--merge <files>', 'bibtex, olivetti, with --seeds or --collect: comma-separated results.json files of earlier ' +
      'collects whose seeds join the tables where the runs under --out lack them (runs no longer on disk)')
    .option('--epochs <n>', "training epochs (default: the paper's)")
    .option('--data-dir <dir>', 'where datasets are looked up first (else ICNN_DATA_DIR, cache, download)')
    .option('--models <list>', 'comma-separated subset of the experiment\'s models (bibtex: ff, picnn-gd, picnn-bundle; olivetti: bundle-entropy, gd, nonconvex); ' +
      'with --seeds, of its variants (bibtex: ff, picnn-gd-0.1, picnn-gd-0.01, picnn-bundle, ff.library; olivetti: bundle-entropy, gd-5, gd-30, ' +
      'nonconvex-5, nonconvex-30, bundle-entropy-30, bundle-entropy.library-init, bundle-entropy.conv-gate, bundle-entropy.moving-stats, gd-5.library-init)')
    .option('--json', 'print results.json instead of the table')
    .option('--force', 'overwrite the report of an earlier run in --out')
    .option('--no-verify', 'use local data files without checking their size and sha256 against the published ones')
    .action(async (name: string, opts: {
      quick?: boolean; out?: string; seed: string; seeds?: number[]; collect?: boolean; merge?: string; epochs?: string; dataDir?: string; models?: string; json?: boolean;
      force?: boolean; verify: boolean;
    }) => {
      const seed = parseNumberArg('reproduce: --seed', opts.seed, NON_NEGATIVE_INT);
      const epochs = opts.epochs === undefined ? undefined : parseNumberArg('reproduce: --epochs', opts.epochs, POSITIVE_INT);
      const outDir = path.resolve(opts.out ?? path.join('out', name));
      const seeded = opts.seeds !== undefined || opts.collect === true;
      // Seeded runs resume and collect rebuilds its tables from the runs, so only a plain run guards its report.
      const models = opts.models === undefined ? undefined : opts.models.split(',').map((m) => m.trim()).filter((m) => m !== '');
      // What determines the report: a finished one with the same settings is reused, not run again (issue #19).
      const runSettings = { experiment: name, quick: Boolean(opts.quick), seed, epochs: epochs ?? null, models: models ?? null };
      if (!seeded && await guardFinishedOutput(outDir, ['results.json', 'report.md'], opts.force === true, { file: 'results.json', value: runSettings })) {
        process.stderr.write(`reproduce: ${outDir} already holds a finished run with identical settings; reusing it (give --force to run again)\n`);
        const json = path.join(outDir, 'results.json');
        process.stdout.write(opts.json ? await fs.readFile(json, 'utf8') : `Report: ${path.join(outDir, 'report.md')}\nResults: ${json}\n`);
        return;
      }
      await probeOutputDir('--out', outDir);
      const { ready } = await import('../../backend/backend.js');
      await ready();
      const { getExperiment, writeReport } = await import('../../experiments/index.js');
      const experiment = getExperiment(name);
      const { fail } = await import('../../util/errors.js');
      if ((opts.seeds !== undefined || opts.collect) && name !== 'bibtex' && name !== 'olivetti') {
        fail(`reproduce: --seeds and --collect apply to bibtex and olivetti, not ${name}`);
      }
      if (opts.merge !== undefined && !seeded) fail('reproduce: --merge joins earlier results to the tables of --seeds or --collect; give one of them');
      const mergeFrom = opts.merge?.split(',').map((f) => f.trim()).filter((f) => f !== '');
      const ctx = {
        outDir, quick: Boolean(opts.quick), seed, epochs, dataDir: opts.dataDir, verify: opts.verify, seeds: opts.seeds, collectOnly: Boolean(opts.collect),
        mergeFrom,
        models, runSettings,
        log: (line: string) => process.stderr.write(`${line}\n`),
      };
      ctx.log(`icnn reproduce ${name}${ctx.quick ? ' --quick' : ''}: writing to ${outDir}`);
      if (!opts.verify) ctx.log('--no-verify: local data files are used without checking their size and sha256');
      const report = await experiment.run(ctx);
      const files = await writeReport(ctx, report);
      if (opts.json) {
        process.stdout.write(await fs.readFile(files.json, 'utf8'));
        return;
      }
      process.stdout.write(`\n${report.name}\n\n${report.table}\n\n`);
      process.stdout.write(`Wall time ${report.wallSeconds.toFixed(1)} s. Report: ${files.markdown}\n`);
      process.stdout.write(`Results: ${files.json}\nFigures: ${report.figures.map((f) => path.join(outDir, f)).join(', ')}\n`);
    });
}
