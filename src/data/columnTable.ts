/**
 * A column-oriented table as read from a columnar file (Parquet, Arrow IPC / Feather), made
 * raw tabular data by `tabularFromColumns` (columns.ts): numbers stay numbers, no text per cell.
 */
import type { RawTabularWithHints } from './csv.js';
import { checkGuessedLabels, chooseColumns, type ColumnChoiceOptions } from './columnsChoice.js';
import { InputError } from '../util/errors.js';
import { tabularFromColumns } from './columns.js';

/**
 * One column: numbers (integers, floats, decimals, booleans as 0/1; NaN = missing) or texts
 * (strings, categories; dates as `YYYY-MM-DD`, timestamps as ISO 8601 UTC; '' = missing).
 */
export type TableColumn = Float64Array | string[];

/** A columnar file opened: its column names and row count, its columns read on demand. */
export interface OpenedTable {
  source: string;
  names: string[];
  numRows: number;
  /**
   * The columns `names` (each of the table), in that order. A column of a type Distillery
   * cannot read (nested, binary…) is an InputError naming the file, the column and its type.
   */
  read(names: string[]): Promise<TableColumn[]>;
  /** Frees what the reader holds (called once the columns are read, or on an error). */
  close(): void;
}

/** Reads a table's label and feature columns (chosen like a CSV's) into raw tabular data. */
export async function loadOpenedTable(table: OpenedTable, opts: ColumnChoiceOptions): Promise<RawTabularWithHints> {
  try {
    return await loadColumns(table, opts);
  } finally {
    table.close();
  }
}

/**
 * pandas' index columns: pyarrow writes a DataFrame's index (unless it is the default
 * 0…n−1) as `__index_level_0__`…, last; pandas reads it back as the index, not as data, and
 * so does Distillery (it would otherwise be taken as the label, being last, or as a feature).
 */
const PANDAS_INDEX_COLUMN = /^__index_level_\d+__$/;

async function loadColumns(table: OpenedTable, opts: ColumnChoiceOptions): Promise<RawTabularWithHints> {
  const source = table.source;
  const names = table.names.filter((name) => !PANDAS_INDEX_COLUMN.test(name));
  const choice = chooseColumns(names, source, opts);
  if (table.numRows === 0) throw new InputError(source, 'has no data rows');
  const wanted = choice.labelIndex < 0 ? choice.featureIndices : [choice.labelIndex, ...choice.featureIndices];
  const read = await table.read(wanted.map((j) => names[j]));
  const labelValues = choice.labelIndex < 0 ? undefined : read.shift()!;
  const labels = labelValues === undefined ? Array.from({ length: table.numRows }, () => '') : labelTexts(labelValues, choice.labelColumn, source);
  if (labelValues !== undefined) checkGuessedLabels(labels, new Set(labels).size, choice.labelColumn, source, opts.labelColumn !== undefined);
  const origins = Array.from({ length: labels.length }, (_, i) => i + 1);
  const categorical = opts.categorical?.length ? [...opts.categorical] : undefined;
  const raw = tabularFromColumns({ source, names: choice.columns, columns: read, labels, labelColumn: choice.labelColumn, origins, categorical });
  raw.originUnit = 'row'; // errors say "row 9"
  return raw;
}

/** Label texts: numbers as their shortest decimal (int64 class 3 → "3"); a missing label is an error naming its row. */
function labelTexts(values: TableColumn, labelColumn: string, source: string): string[] {
  const labels = Array.from(values, (v: number | string) => (typeof v === 'number' ? (Number.isNaN(v) ? '' : String(v)) : v));
  const empty = labels.indexOf('');
  if (empty >= 0) throw new InputError(source, `row ${empty + 1}: label column "${labelColumn}" is empty (null)`);
  return labels;
}

/** Milliseconds since the epoch as ISO 8601 UTC (`2024-03-05T14:30:00.000Z`), what the date-column preprocessing reads. */
export function isoFromMillis(ms: number): string {
  return new Date(ms).toISOString();
}

/** Milliseconds since the epoch as a date `YYYY-MM-DD`. */
export function isoDateFromMillis(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
