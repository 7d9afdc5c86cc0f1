import { Command } from 'commander';
import type { PreprocessingSpec, RawData } from '../data/types.js';
import type { CsvOptions } from '../data/csv.js';
import { rawSize, rowOf, splitRaw } from '../data/types.js';
import { InputError, withParamNamesSync } from '../util/errors.js';
import { builtinDatasets, loadData } from '../data/builtin.js';
import { readCsvBlocks } from '../data/csv.js';
import { dataFormatOf } from '../data/formats.js';
import { trainValidationSplit } from '../data/split.js';
import { readProgressFor } from './readProgress.js';

/** How a delimited file is read (every command that reads one): `--delimiter`, `--no-header`, `--columns`. */
export interface ReadFlags {
  delimiter?: string;
  /** false with --no-header */
  header?: boolean;
  columns?: string[];
}

/** Adds the flags of {@link ReadFlags}; they apply to every delimited file the command reads. */
export function addReadOptions(cmd: Command): Command {
  return cmd
    .option('--delimiter <char>', 'field delimiter of CSV/TSV files: , ; | or tab (default: tab for .tsv, else detected from the first line; tab-delimited files are TSV: no quoting, a " is data)')
    .option('--no-header', 'the CSV/TSV files have no header row: columns are named c1…cN (or by --columns); --label may be a column number')
    .option('--columns <names>', 'names of the columns of CSV/TSV files without a header row, comma-separated (implies --no-header)', (v: string) => v.split(',').map((n) => n.trim()));
}

/** The read flags apply to delimited files only: with a built-in dataset, JSONL or IDX they are an error naming the flag. */
function checkReadFlags(flags: ReadFlags, data: string): void {
  const given = flags.columns !== undefined ? '--columns' : flags.header === false ? '--no-header' : flags.delimiter !== undefined ? '--delimiter' : undefined;
  if (given === undefined) return;
  if (data.split(':')[0] in builtinDatasets) throw new InputError(given, `applies to CSV/TSV files only, not the built-in dataset ${data}`);
  if (dataFormatOf(data) !== 'csv') throw new InputError(given, `applies to CSV/TSV files (.csv, .tsv, .txt) only, not ${data}`);
}

/** The loader options of {@link ReadFlags}. */
export function readOptions(flags: ReadFlags): Pick<CsvOptions, 'delimiter' | 'header' | 'columnNames'> {
  return { delimiter: flags.delimiter, header: flags.header, columnNames: flags.columns };
}

export interface DataFlags extends ReadFlags {
  data: string;
  label?: string;
  /** Accept data without the label column (prediction). */
  labelOptional?: boolean;
  /** Without --label, only a column named like a label counts (never the last column by position). */
  labelByName?: boolean;
  /** Table columns to leave out (`train --ignore-columns`). */
  dropColumns?: string[];
  /** Accept a table of the label column only (no model reads it: two prediction files are compared on it). */
  labelsOnly?: boolean;
}

/** How the flags choose a table's columns and read its text. */
function dataOptions(flags: DataFlags): CsvOptions {
  return { ...readOptions(flags), labelColumn: flags.label, labelOptional: flags.labelOptional, labelByName: flags.labelByName, dropColumns: flags.dropColumns, labelsOnly: flags.labelsOnly };
}

/** Reads `--data` with `read`, its read flags checked first and its progress shown (readProgress.ts). */
async function readDataFlag<T>(flags: DataFlags, read: (onProgress: ((bytes: number, rows: number) => void) | undefined) => Promise<T>): Promise<T> {
  checkReadFlags(flags, flags.data);
  const progress = readProgressFor(flags.data);
  try {
    return await read(progress?.update);
  } finally {
    progress?.stop();
  }
}

/** Loads `--data` (a file or a built-in dataset name) with the optional `--label` column. */
export function loadDataFlag(flags: DataFlags): Promise<RawData> {
  return readDataFlag(flags, (onProgress) => loadData(flags.data, { ...dataOptions(flags), labelField: flags.label, onProgress }));
}

/**
 * Reads `--data` a block of about `blockRows` rows at a time (a command whose work is per row:
 * `predict`): a CSV/TSV file is streamed (readCsvBlocks), so memory holds one block; any other
 * input (a built-in dataset, JSONL, IDX, Parquet, Arrow) is loaded whole and is one block.
 * Returns the rows read.
 */
export async function forEachDataBlock(flags: DataFlags, blockRows: number, onBlock: (block: RawData) => Promise<void>): Promise<number> {
  if (flags.data.split(':')[0] in builtinDatasets || dataFormatOf(flags.data) !== 'csv') {
    const raw = await loadDataFlag(flags);
    await onBlock(raw);
    return rawSize(raw);
  }
  return readDataFlag(flags, (onProgress) => readCsvBlocks(flags.data, { ...dataOptions(flags), onProgress, blockRows }, onBlock));
}

/** Loads `--validation-data`: rows to validate on instead of a hold-out of --data, read like --data. */
export function loadValidationFlag(file: string, flags: ReadFlags & { label?: string }): Promise<RawData> {
  checkReadFlags(flags, file);
  return loadData(file, { ...readOptions(flags), labelColumn: flags.label, labelField: flags.label });
}

/**
 * The training and validation rows: `--validation-data` (read like --data, with the same
 * label column) when given, else a seeded hold-out of `--validation` (count or fraction,
 * default `defaultSize`) of the training file. Both flags at once are an error. With
 * `release`, a hold-out takes `raw`'s cells (holdOutValidation): the caller reads only its labels after.
 */
export async function splitTrainValidation(
  raw: RawData,
  flags: ReadFlags & { label?: string; validation?: number; validationData?: string; seed: number; stratify?: boolean },
  defaultSize: number,
  opts: { release?: boolean } = {},
): Promise<{ train: RawData; validation: RawData; trainRows: Int32Array }> {
  if (flags.validationData === undefined) {
    return withParamNamesSync('library', { validationSize: '--validation' }, 'user', () => holdOutValidation(raw, flags.validation ?? defaultSize, flags.seed, { stratify: flags.stratify, release: opts.release }));
  }
  if (flags.validation !== undefined) throw new InputError('--validation', 'give either --validation (a hold-out of --data) or --validation-data, not both');
  if (flags.stratify === false) throw new InputError('--no-stratify', 'applies to the hold-out of --data (--validation), not to --validation-data');
  const label = raw.kind === 'tabular' ? raw.labelColumn : flags.label;
  return { train: raw, validation: await loadValidationFlag(flags.validationData, { ...flags, label }), trainRows: Int32Array.from({ length: rawSize(raw) }, (_, i) => i) };
}

/**
 * Holds out a seeded validation portion (count or fraction) of a training file, stratified
 * by class (a class keeps at least one example in training) unless `stratify` is false.
 * With `release`, a loader's table gives its cells to the two parts as they are made (see
 * splitRaw): the split holds the table once, and `raw` keeps only its labels and origins.
 */
export function holdOutValidation(raw: RawData, size: number, seed: number, opts: { stratify?: boolean; release?: boolean } = {}): { train: RawData; validation: RawData; trainRows: Int32Array } {
  const { train, validation } = trainValidationSplit(rawSize(raw), size, seed, { labels: raw.labels, stratify: opts.stratify });
  const [trainPart, validationPart] = splitRaw(raw, [train, validation], { release: opts.release });
  return { train: trainPart, validation: validationPart, trainRows: Int32Array.from(train) };
}

/** The label column to read: `--label` if given, else the one a tabular model was trained with. */
export function labelColumnFor(flag: string | undefined, spec: PreprocessingSpec | undefined): string | undefined {
  return flag ?? (spec?.kind === 'tabular' ? spec.labelColumn : undefined);
}

/**
 * Every validation label must be a class the model has (it is fitted on the training rows):
 * a class whose only examples went to the hold-out, or that only the validation file has, is
 * named with what to do.
 */
export function checkValidationClasses(spec: PreprocessingSpec, validation: RawData, flags: { validationData?: string }): void {
  const known = new Set(spec.classNames);
  const i = validation.labels.findIndex((l) => !known.has(l));
  if (i < 0) return;
  const label = validation.labels[i];
  if (flags.validationData !== undefined) {
    throw new InputError(validation.source, `${rowOf(validation, i)}: class "${label}" has no training example; add some to --data, or declare it with --classes`);
  }
  const count = validation.labels.filter((l) => l === label).length;
  throw new InputError(
    validation.source,
    `${rowOf(validation, i)}: class "${label}" has ${count === 1 ? 'its only example' : `all ${count} of its examples`} in the validation hold-out and none in the training portion; declare it with --classes, add examples of it, or hold out less (--validation)`,
  );
}
