/**
 * The `icnn` command line. Subcommands live in ./commands; this file wires them into commander.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { statusCommand } from './commands/status.js';
import { summaryCommand } from './commands/summary.js';
import { trainCommand } from './commands/train.js';
import { evaluateCommand } from './commands/evaluate.js';
import { solveCommand } from './commands/solve.js';
import { reproduceCommand } from './commands/reproduce.js';
import { rlCollectCommand, rlCommand, rlTableCommand } from './commands/rl.js';
import { rlSweepCommand, workerCommand } from './commands/rlSweep.js';
import { rlInspectCommand } from './commands/rlInspect.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('icnn')
    .description('Input Convex Neural Networks (Amos, Xu & Kolter, ICML 2017): models, convex inference, learning')
    .version(VERSION)
    .option('--backend <name>', 'tensor backend: wasm, cpu or tensorflow (default: tensorflow if installed, else wasm)')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(statusCommand());
  program.addCommand(summaryCommand());
  program.addCommand(trainCommand());
  program.addCommand(evaluateCommand());
  program.addCommand(solveCommand());
  program.addCommand(reproduceCommand());
  program.addCommand(rlCommand());
  program.addCommand(rlTableCommand());
  program.addCommand(rlCollectCommand());
  program.addCommand(rlInspectCommand());
  program.addCommand(rlSweepCommand());
  program.addCommand(workerCommand());
  return program;
}

/**
 * The first word that is neither a global option nor its value, when it names no command. Checked before commander
 * parses: `icnn rl-sweeps --help` would otherwise print the global help and exit 0.
 */
function unknownCommand(program: Command, args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--backend') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    const known = a === 'help' || program.commands.some((c) => c.name() === a || c.aliases().includes(a));
    return known ? null : a;
  }
  return null;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.hook('preAction', async (cmd) => {
    const backend = cmd.optsWithGlobals().backend as string | undefined;
    if (backend === undefined) return;
    // Loaded here, not at the top: `icnn --help` and `--version` should not pay for loading tfjs.
    const { BACKEND_NAMES } = await import('../backend/backend.js');
    if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
      program.error(`error: option '--backend <name>': unknown backend '${backend}' (expected one of: ${BACKEND_NAMES.join(', ')})`);
    }
    process.env.ICNN_BACKEND = backend;
  });
  const unknown = unknownCommand(program, argv.slice(2));
  if (unknown !== null) {
    process.stderr.write(`error: unknown command '${unknown}' (expected one of: ${program.commands.map((c) => c.name()).join(', ')}; see icnn --help)\n`);
    process.exitCode = 1;
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode !== 0) process.exitCode = e.exitCode;
      return;
    }
    throw e;
  }
}
