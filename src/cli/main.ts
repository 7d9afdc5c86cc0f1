import { Command, CommanderError, Option } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { terminal } from './terminal.js';
import { DistilleryError } from '../util/errors.js';
import { environmentError } from '../util/fsErrors.js';
import { LIBRARY_VERSION } from '../version.js';
import type { GlobalFlags } from './context.js';
import { parseInteger } from './options.js';
import { checkPathFlags } from './pathOptions.js';
import { trainCommand } from './commands/train.js';
import { updateCommand } from './commands/update.js';
import { compareCommand } from './commands/compare.js';
import { predictCommand } from './commands/predict.js';
import { gateCommand } from './commands/gate.js';
import { demoCommand, runCommand } from './commands/experiment.js';
import { ensembleCommand } from './commands/ensemble.js';
import { transferCommand } from './commands/transfer.js';
import { codistillCommand, codistillWorkerCommand } from './commands/codistill.js';
import { reproducibilityCommand } from './commands/reproducibility.js';
import { workerCommand } from './commands/worker.js';
import { reportCommand } from './commands/report.js';
import { exportCommand } from './commands/export.js';

/** Builds the `distillery` command tree. */
export function buildProgram(): Command {
  const program = new Command('distillery')
    .description('Train model updates that stay consistent with the deployed model, and measure how two versions differ.')
    .version(LIBRARY_VERSION)
    .addOption(new Option('--engine <name>', 'tensor engine (default: fastest available; env DISTILLERY_ENGINE)').choices(['auto', 'tensorflow', 'native', 'wasm', 'cpu']))
    .option('--threads <n>', 'engine threads (env DISTILLERY_THREADS; default 1)', parseInteger('threads', 1, 256))
    .option('-v, --verbose', 'print the engine in use and more detail')
    .option('-q, --quiet', 'no progress output (warnings are still shown)')
    .option('--no-warnings', 'no warnings on stderr (a row-id column, classes the data adds, …)')
    .showHelpAfterError('(run with --help for usage)');
  const globals = (): GlobalFlags => program.opts<GlobalFlags>();
  for (const make of [demoCommand, runCommand, trainCommand, updateCommand, ensembleCommand, compareCommand, gateCommand, predictCommand, transferCommand, exportCommand, codistillCommand, codistillWorkerCommand, reproducibilityCommand, workerCommand]) {
    program.addCommand(make(globals));
  }
  program.addCommand(reportCommand());
  // Every file, directory and URL a command is given is checked before it does any work.
  program.hook('preAction', (_program, command) => checkPathFlags(command));
  program.exitOverride();
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

function onStdoutError(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
}

/** Runs the CLI; returns the process exit code (0 ok, 2 bad input or usage, 1 internal error). */
export async function main(argv: string[]): Promise<number> {
  // A closed pipe (`distillery … | head`) ends the program quietly, as for any Unix tool.
  if (!process.stdout.listeners('error').includes(onStdoutError)) process.stdout.on('error', onStdoutError);
  // The command line owns its process: tfjs's console advice (install tfjs-node, kernels
  // registered twice) is not for its users. A library user's process keeps tfjs's defaults.
  tf.env().set('PROD', true);
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors were already printed.
      return e.exitCode === 0 ? 0 : 2;
    }
    // A filesystem failure that no writer named (disk full, read-only, permissions) is still an environment error.
    const mapped = environmentError(e, (e as NodeJS.ErrnoException)?.path ?? 'file system', 'failed');
    if (mapped instanceof DistilleryError) {
      terminal.err(`distillery: ${mapped.message}\n`);
      return mapped.exitCode;
    }
    const err = e as Error;
    terminal.err(`distillery: internal error: ${err?.message ?? String(e)}\n`);
    if (program.opts<GlobalFlags>().verbose && err?.stack) terminal.err(err.stack + '\n');
    return 1;
  }
}
