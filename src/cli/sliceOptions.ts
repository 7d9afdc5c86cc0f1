/**
 * The slice flags `compare` and `gate` share (`--slice-by`, `--min-slice-size`,
 * `--find-regions`), the data's columns as a table to slice by (every column of the file,
 * the label column included, whether a model reads it or not), and the errors that name
 * the flag and the data file.
 */
import { Command } from 'commander';
import type { RawData } from '../data/types.js';
import { columnTexts, tabularColumns } from '../data/columns.js';
import { InputError } from '../util/errors.js';
import { nearName } from '../util/yamlFile.js';
import { DEFAULT_MIN_SLICE_SIZE, parseSliceSpec, splitSliceList, SLICE_SYNTAX, type ColumnTable, type SliceSpec } from '../metrics/slices.js';
import { REGION_DEFAULTS } from '../metrics/regions.js';
import { parseInteger } from './options.js';

export interface SliceFlags {
  /** From --slice-by (repeatable, comma-separated). */
  sliceBy?: SliceSpec[];
  minSliceSize?: number;
  /** --find-regions: true for every column, or the columns named. */
  findRegions?: true | string[];
}

/** What to slice and where the request came from (for errors). */
export interface SliceRequest {
  specs: SliceSpec[];
  /** The flag or policy field the slicings came from, e.g. "--slice-by" or "policy.yaml: slices". */
  source: string;
  minSize: number;
  minSizeSource: string;
  /** Search for regressed regions: undefined (no), or the columns to state them with (undefined: all). */
  regions?: { use?: string[] };
}

/** Reads --slice-by values: slicings separated by commas (except inside [...]), the flag repeatable. */
function collectSlices(value: string, previous: SliceSpec[] | undefined): SliceSpec[] {
  const specs = splitSliceList(value).map((text) => {
    try {
      return parseSliceSpec(text);
    } catch (e) {
      throw e instanceof InputError ? new InputError('--slice-by', e.message.slice(e.source.length + 2)) : e;
    }
  });
  return [...(previous ?? []), ...specs];
}

const names = (v: string): string[] => v.split(',').map((n) => n.trim()).filter((n) => n !== '');

export function addSliceOptions(cmd: Command): Command {
  return cmd
    .option('--slice-by <slicings>', `compare slice by slice: ${SLICE_SYNTAX}; comma-separated, repeatable (quote a crossing's * in a shell)`, collectSlices)
    .option('--min-slice-size <n>', `slices with fewer examples are reported as small (and not gated) (default ${DEFAULT_MIN_SLICE_SIZE})`, parseInteger('min-slice-size', 1))
    .option(
      '--find-regions [columns]',
      `find readable regions (up to ${REGION_DEFAULTS.maxConditions} conditions on the data's columns, or on those named) where negative flips concentrate, on one half of the rows, and confirm them on the other (Holm-adjusted at 1 − --level)`,
      (v: string) => names(v),
    );
}

/** The data's columns to slice by: every column of a table, the label column included; none for images and text. */
export function columnTable(raw: RawData): ColumnTable {
  if (raw.kind !== 'tabular') return {};
  const cells = tabularColumns(raw);
  const table: ColumnTable = Object.fromEntries(raw.columns.map((c, j) => [c, columnTexts(cells[j])]));
  table[raw.labelColumn] = raw.labels;
  return table;
}

/** A column named by `source` that the data lacks: one line saying what the data has and what to do. */
function missingColumn(column: string, raw: RawData, source: string, data: string): InputError {
  if (raw.kind !== 'tabular') {
    return new InputError(source, `"${column}": ${data} holds ${raw.kind} data, which has no columns to slice by; slice by true-class or old-prediction`);
  }
  if (raw.columns.length === 0) {
    return new InputError(source, `column "${column}" is not in ${data}, which holds only the label column "${raw.labelColumn}": with prediction files, give as --data the rows they were made on, with their columns`);
  }
  const all = [...raw.columns, raw.labelColumn];
  const near = nearName(column, all);
  return new InputError(source, `column "${column}" is not in ${data}${near ? ` (did you mean "${near}"?)` : ''}; its columns: ${all.join(', ')}`);
}

/** Checks that every column a slicing or the region search names is in the data. */
export function checkSliceColumns(request: SliceRequest, raw: RawData, data: string): void {
  const table = columnTable(raw);
  for (const spec of request.specs) {
    for (const d of spec) if (d.kind === 'column' && !(d.column in table)) throw missingColumn(d.column, raw, request.source, data);
  }
  for (const c of request.regions?.use ?? []) if (!(c in table)) throw missingColumn(c, raw, '--find-regions', data);
  if (request.regions && Object.keys(table).length === 0) throw new InputError('--find-regions', `${data} holds ${raw.kind} data: regions are conditions on a table's columns`);
}

/** Runs `fn`, turning an InputError of the library's parameter `param` into one naming `source`. */
export function naming<T>(fn: () => T, param: string, source: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError && e.source === param) throw new InputError(source, e.message.slice(e.source.length + 2));
    throw e;
  }
}

/** The slice request of `compare`: --slice-by, --min-slice-size and --find-regions (undefined when none is given). */
export function sliceRequestFromFlags(flags: SliceFlags): SliceRequest | undefined {
  if (flags.minSliceSize !== undefined && !flags.sliceBy) throw new InputError('--min-slice-size', 'applies to slices: give --slice-by');
  if (!flags.sliceBy && !flags.findRegions) return undefined;
  return {
    specs: flags.sliceBy ?? [],
    source: '--slice-by',
    minSize: flags.minSliceSize ?? DEFAULT_MIN_SLICE_SIZE,
    minSizeSource: '--min-slice-size',
    regions: flags.findRegions ? { use: flags.findRegions === true ? undefined : flags.findRegions } : undefined,
  };
}
