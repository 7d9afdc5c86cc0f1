/**
 * Every flag (and positional argument) that names a file, a directory or a server is declared
 * here with its kind, and every declared value is checked before the command does any work
 * (main.ts runs {@link checkPathFlags} as commander's preAction hook): an input exists and is a
 * file or a directory as its kind needs, an output passes the output policy (util/outputs.ts:
 * its place can be created; what is there may be replaced), a URL parses, its scheme is known
 * and its server answers. A failure is one line naming the flag, exit 2.
 * test/cli/pathFlags.test.ts sweeps every declared flag of every command with bad values of
 * its kind, so a new flag is covered by being declared with {@link pathOption}.
 */
import { onnxExternalDataFiles } from '../models/onnxProto.js';
import { promises as fs, type Stats } from 'node:fs';
import { Argument, type Command, Option } from 'commander';
import { InputError } from '../util/errors.js';
import { checkOptional } from '../util/optional.js';
import { checkOutput, type OutputTarget } from '../util/outputs.js';
import { parseRedisUrl, probeRedis } from '../util/redis.js';
import { builtinDatasets } from '../data/builtin.js';
import { isOnnxPath } from '../models/onnxFormat.js';
import { storeLocation } from '../codistill/openStore.js';
import { inputFiles } from './outputOptions.js';
import type { RunInput } from '../util/partialRun.js';

/** What a path or URL flag names. */
export const PATH_KINDS = {
  /** a data file (CSV/TSV, JSONL, Parquet, Arrow), an IDX pair `images,labels`, or a built-in dataset */
  data: 'data',
  /** a file the command reads (a config, a policy, a class list, logged predictions) */
  inputFile: 'input-file',
  /** a directory the command reads (an ensemble directory) */
  inputDir: 'input-dir',
  /** a model directory, or an .onnx file */
  model: 'model',
  /** a file or a directory the command reads (a model directory or an .onnx, predictions or architecture file; a run directory or a JSON report) */
  fileOrDir: 'file-or-dir',
  /** a file the command writes */
  outputFile: 'output-file',
  /** a directory the command writes */
  outputDir: 'output-dir',
  /** a codistillation checkpoint store: a directory, file:///…, or redis://… */
  store: 'store',
  /** a Redis job queue: redis://… */
  queue: 'queue',
} as const;
export type PathKind = (typeof PATH_KINDS)[keyof typeof PATH_KINDS];

const kinds = new WeakMap<Option | Argument, PathKind>();

/** What an output flag writes, as the output policy sees it (util/outputs.ts): e.g. `modelOutput`. */
export type OutputOf = (path: string, flag: string) => OutputTarget;

const outputs = new WeakMap<Option, OutputOf>();

/**
 * An option naming a path or URL of `kind` (add it with `cmd.addOption`). An output flag gives
 * its `output` when it always writes the same thing, so that a path that may not be replaced is
 * refused up front with what it is; without one, only a directory where a file goes (and a file
 * where a directory goes, unless --force) is.
 */
export function pathOption(flags: string, description: string, kind: PathKind, opts: { required?: boolean; output?: OutputOf } = {}): Option {
  const option = new Option(flags, description);
  if (opts.required) option.makeOptionMandatory();
  kinds.set(option, kind);
  if (opts.output) outputs.set(option, opts.output);
  return option;
}

/** A positional argument naming a path of `kind` (add it with `cmd.addArgument`). */
export function pathArgument(name: string, description: string, kind: PathKind): Argument {
  const argument = new Argument(name, description);
  kinds.set(argument, kind);
  return argument;
}

/** The kinds whose values a command reads (a resume checks that their content did not change). */
const INPUT_KINDS: ReadonlySet<PathKind> = new Set([PATH_KINDS.data, PATH_KINDS.inputFile, PATH_KINDS.inputDir, PATH_KINDS.model, PATH_KINDS.fileOrDir]);

/**
 * The files and directories `cmd` reads through its declared path options, as given in
 * `flags` (each named by its flag; a data spec's files, none for a built-in dataset).
 */
export function commandInputs(cmd: Command, flags: object): RunInput[] {
  const values = flags as Record<string, unknown>;
  return cmd.options.flatMap((option) => {
    const kind = kinds.get(option);
    const value = values[option.attributeName()];
    if (kind === undefined || !INPUT_KINDS.has(kind) || typeof value !== 'string') return [];
    const files = inputFiles(option.long!, value, kind === PATH_KINDS.data ? 'data' : 'path');
    // an ONNX model may keep its weights in files next to it: they are part of the input
    if (kind === PATH_KINDS.model && /\.onnx$/i.test(value)) return files.map((f) => ({ ...f, companions: () => onnxExternalDataFiles(f.path) }));
    return files;
  });
}

/** The kind `option` or `argument` was declared with, if it names a path or URL. */
export function pathKindOf(item: Option | Argument): PathKind | undefined {
  return kinds.get(item);
}

/** How a positional argument is named in messages: `<run-dir|json>`. */
export function argumentLabel(argument: Argument): string {
  return `<${argument.name()}>`;
}

/** Checks every declared path and URL value `cmd` was given (see the module comment). */
export async function checkPathFlags(cmd: Command): Promise<void> {
  const opts = cmd.opts<Record<string, unknown>>();
  const force = opts.force === true;
  for (const option of cmd.options) {
    const kind = kinds.get(option);
    const value = opts[option.attributeName()];
    if (kind === undefined || value === undefined) continue;
    const flag = option.long ?? option.flags;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (kind === 'output-file' || kind === 'output-dir') await checkOutput(outputTarget(kind, flag, String(v), outputs.get(option)), force);
      else await checkPath(kind, flag, String(v));
    }
  }
  const args = cmd.registeredArguments;
  for (const [i, argument] of args.entries()) {
    const kind = kinds.get(argument);
    const value = cmd.processedArgs[i] as unknown;
    if (kind === undefined || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) await checkPath(kind, argumentLabel(argument), String(v));
  }
}

/** The output policy's target for an output flag: its own, or one that only knows a file from a directory. */
function outputTarget(kind: 'output-file' | 'output-dir', flag: string, value: string, output?: OutputOf): OutputTarget {
  if (output) return output(value, flag);
  const type = kind === 'output-dir' ? 'dir' : 'file';
  return { path: value, flag, type, what: type === 'dir' ? 'directory' : 'output', isOurs: async () => true };
}

async function statOf(flag: string, p: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InputError(`${flag} ${p}`, `cannot be inspected (${(e as Error).message.split('\n')[0]})`);
  }
}

async function checkInputFile(flag: string, p: string, missing = 'file not found'): Promise<void> {
  const st = await statOf(flag, p);
  if (!st) throw new InputError(`${flag} ${p}`, missing);
  if (st.isDirectory()) throw new InputError(`${flag} ${p}`, 'is a directory, not a file');
}

async function checkPath(kind: PathKind, flag: string, value: string): Promise<void> {
  const where = `${flag} ${value}`;
  switch (kind) {
    case 'data': {
      const [name, split] = value.split(':');
      if (name in builtinDatasets && (split === undefined || split === 'train' || split === 'test')) return;
      const missing = `file not found and not a built-in dataset (built-ins: ${Object.keys(builtinDatasets).join(', ')})`;
      const parts = value.split(',');
      if (parts.length === 2 && !(await statOf(flag, value))) {
        for (const part of parts) await checkInputFile(flag, part, 'file not found (an IDX pair is "images-file,labels-file")');
        return;
      }
      return checkInputFile(flag, value, missing);
    }
    case 'input-file':
      return checkInputFile(flag, value);
    case 'input-dir': {
      const st = await statOf(flag, value);
      if (!st) throw new InputError(where, 'directory not found');
      if (!st.isDirectory()) throw new InputError(where, 'is a file, not a directory');
      return;
    }
    case 'model': {
      const st = await statOf(flag, value);
      if (!st) throw new InputError(where, 'model directory not found (nor an .onnx file)');
      if (!st.isDirectory() && !isOnnxPath(value)) throw new InputError(where, 'is a file, not a model directory (nor an .onnx file)');
      return;
    }
    case 'file-or-dir':
      if (!(await statOf(flag, value))) throw new InputError(where, 'not found (neither a file nor a directory)');
      return;
    case 'output-file':
    case 'output-dir':
      return checkOutput(outputTarget(kind, flag, value), false);
    case 'store': {
      const location = await storeLocation(value, flag);
      if ('redis' in location) return probeRedis(location.redis, flag, `the Redis checkpoint store (${flag} redis://…)`);
      if (!(await statOf(flag, location.directory))) await checkOutput(outputTarget('output-dir', flag, location.directory), false);
      return;
    }
    case 'queue': {
      parseRedisUrl(value, flag);
      const feature = `the Redis job queue (${flag} redis://…)`;
      checkOptional(['bullmq', 'ioredis'], feature);
      return probeRedis(value, flag, feature);
    }
  }
}
