import type { Command } from 'commander';
import { terminal } from './terminal.js';
import { checkOutput, type OutputTarget } from '../util/outputs.js';
import { openPartialRun, type PartialRun, type PartialRunOptions, type ResumeFlags, type RunInput } from '../util/partialRun.js';
import { dataSpecFiles } from '../data/builtin.js';
import { onInterrupt } from '../util/interrupt.js';

export interface OutputFlags extends ResumeFlags {
  force?: boolean;
}

/** `--force` on every command that writes; `--resume` too on those that checkpoint. */
export function addOutputOptions(cmd: Command, { resumable }: { resumable: boolean }): Command {
  cmd.option(
    '--force',
    resumable
      ? 'replace an existing output that Distillery did not write, and start over instead of refusing when an interrupted run is there'
      : 'replace an existing output that Distillery did not write',
  );
  if (resumable) cmd.option('--resume', 'continue an interrupted (killed) run of this same command from its last epoch checkpoint');
  return cmd;
}

/** Checks every output target of a command up front (outputs.ts policy), before any work. */
export async function checkOutputs(targets: (OutputTarget | undefined)[], flags: OutputFlags): Promise<void> {
  for (const t of targets) if (t) await checkOutput(t, flags.force);
}

/** The command line again with --resume (for the interruption message). */
function resumeCommandLine(): string {
  const args = process.argv.slice(2).filter((a) => a !== '--resume' && a !== '--force');
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['distillery', ...args.map(quote), '--resume'].join(' ');
}

/** How an input flag's value is read: a data spec (`--data`: files, or a built-in dataset: none) or a file or directory. */
export type InputKind = 'data' | 'path';

/** The files a value of kind `kind` reads, named `name` (a flag, or a config key) for a refused resume. */
export function inputFiles(name: string, value: string | undefined, kind: InputKind): RunInput[] {
  if (value === undefined) return [];
  return (kind === 'data' ? dataSpecFiles(value) : [value]).map((p) => ({ name, path: p }));
}

/**
 * Runs a resumable command's work with its temporary output (util/partialRun.ts): opened
 * (or continued with --resume: the same settings, and `inputs` of the same content),
 * removed when the work is done, and removed on failure unless it holds an earlier
 * attempt's checkpoints. Ctrl-C stops at once with one line saying how to resume; the
 * epoch checkpoints stay.
 */
export async function runResumable<T>(
  out: { path: string; flag: string } & PartialRunOptions,
  settings: Record<string, unknown>,
  flags: OutputFlags,
  log: (line: string) => void,
  work: (partial: PartialRun) => Promise<T>,
): Promise<T> {
  const partial = await openPartialRun(out.path, out.flag, settings, flags, out);
  if (partial.resumed) log(`resuming the interrupted run from ${partial.dir}`);
  const stop = onInterrupt(() => {
    terminal.err(`distillery: interrupted; the checkpoints are kept, continue with: ${resumeCommandLine()}\n`);
    process.exit(130);
  });
  try {
    const result = await work(partial);
    await partial.remove();
    return result;
  } catch (e) {
    if (!partial.resumed) await partial.remove().catch(() => {});
    throw e;
  } finally {
    stop();
  }
}

/** What must not change between a run and its resume: the command's own flags (not --resume/--force). */
export function resumeSettings(command: string, flags: object): Record<string, unknown> {
  const { resume: _r, force: _f, ...rest } = flags as Record<string, unknown>;
  return { command, ...rest };
}
