import { lazy } from '../util/lazy.js';

const csvParse = lazy<typeof import('csv-parse/sync')>('csv-parse/sync');
import type { RawTabular } from './types.js';
import { InputError } from '../util/errors.js';
import { readInputText } from './read.js';
import { isNumberLiteral } from './values.js';
import { checkGuessedLabels, chooseColumns, type ColumnChoice } from './columnsChoice.js';

/** Options of {@link loadCsv} and {@link parseCsvText}. */
export interface CsvOptions {
  /**
   * Column holding the class label, by name or by 1-based position ("3": the third column,
   * unless a column is named "3"). Default: the first column named `label`, `class`,
   * `target` or `y` (case-insensitive), else the last column.
   */
  labelColumn?: string;
  /**
   * Field delimiter (`,` `;` `\t`, or `tab`). Default: tab for `*.tsv` files, else detected
   * from the first line. A tab-delimited file is read with TSV rules: no quoting, a `"`
   * inside a field is data.
   */
  delimiter?: string;
  /** False: the file has no header row, its first line is data (default true). */
  header?: boolean;
  /** Names of the columns of a file without a header row (implies `header: false`); default c1…cN. */
  columnNames?: string[];
  /** Columns to leave out (e.g. ids), by name or 1-based position. */
  dropColumns?: string[];
  /** Columns to treat as categorical even where every value is a number. */
  categorical?: string[];
  /**
   * Accept a file without the label column (for prediction): every label is then "".
   * Applies only when `labelColumn` is given and absent from the header.
   */
  labelOptional?: boolean;
  /**
   * Without `labelColumn`, take only a column named like a label (LABEL_COLUMN_NAMES), never
   * the last column by position (when nothing else says which column holds the labels).
   */
  labelByName?: boolean;
  /** Accept a file with the label column only (the labels that two prediction files are compared on). */
  labelsOnly?: boolean;
}

/**
 * Tabular data as loaded from a CSV file, with the columns the user forced to be
 * categorical. fitPreprocessing reads `categorical`; subsetRaw keeps it.
 */
export interface RawTabularWithHints extends RawTabular {
  categorical?: string[];
}

export { LABEL_COLUMN_NAMES } from './columnsChoice.js';

const CANDIDATE_DELIMITERS = [',', ';', '\t'];

/**
 * Loads a CSV (or TSV) file with a header row; gzipped files are recognised by their
 * magic bytes. Values stay strings; fitPreprocessing decides which columns are numeric.
 * Throws an InputError naming the file for any problem (missing file, no header,
 * ragged row with its line number, missing or empty labels, no feature column).
 */
export async function loadCsv(path: string, opts: CsvOptions = {}): Promise<RawTabularWithHints> {
  return parseCsvText(await readInputText(path), path, opts);
}

/** Parses CSV text as {@link loadCsv} does; `source` names the text in error messages. */
export function parseCsvText(text: string, source: string, opts: CsvOptions = {}): RawTabularWithHints {
  if (text.trim() === '') throw new InputError(source, 'is empty');
  const delimiter = resolveDelimiter(text, source, opts.delimiter);
  const format = delimiter === '\t' ? 'TSV' : 'CSV';
  const hasHeader = opts.header !== false && opts.columnNames === undefined;
  const parsed = parseRecords(text, source, delimiter, format);
  const records = hasHeader ? parsed : [{ record: headerlessNames(parsed[0].record.length, opts.columnNames, source), info: { lines: 0 } }, ...parsed];

  const header = hasHeader ? readHeader(records[0].record, source) : records[0].record;
  const headerWhat = hasHeader ? 'the header has' : opts.columnNames ? '--columns names' : 'line 1 has';
  if (records.length === 1) throw new InputError(source, 'has a header row but no data rows');
  for (const { record, info } of records.slice(1)) {
    if (record.length !== header.length) {
      throw new InputError(source, `line ${info.lines}: has ${record.length} field${record.length === 1 ? '' : 's'} but ${headerWhat} ${header.length}`);
    }
  }

  const choice = chooseColumns(header, source, opts);
  if (choice.labelIndex < 0) return unlabeledTable(choice, records, source);
  const { labelColumn, labelIndex, featureIndices, columns } = choice;

  const rows: string[][] = [];
  const labels: string[] = [];
  const origins: number[] = [];
  for (const { record, info } of records.slice(1)) {
    const label = record[labelIndex];
    if (label === '') throw new InputError(source, `line ${info.lines}: label column "${labelColumn}" is empty`);
    labels.push(label);
    rows.push(featureIndices.map((j) => record[j]));
    origins.push(info.lines);
  }
  checkGuessedLabels(labels, labelColumn, source, opts.labelColumn !== undefined);
  const raw: RawTabularWithHints = { kind: 'tabular', source, columns, rows, labels, labelColumn, origins };
  if (opts.categorical?.length) raw.categorical = [...opts.categorical];
  return raw;
}

/** Column names of a file without a header row: the names given (one per field), else c1…cN. */
function headerlessNames(width: number, given: string[] | undefined, source: string): string[] {
  if (given === undefined) return Array.from({ length: width }, (_, j) => `c${j + 1}`);
  if (given.length !== width) {
    throw new InputError(source, `line 1 has ${width} field${width === 1 ? '' : 's'} but --columns names ${given.length}`);
  }
  return readHeader(given, '--columns', { allowNumbers: true });
}

/** A table whose label column is absent: all features kept, labels empty. */
function unlabeledTable({ featureIndices, columns, labelColumn }: ColumnChoice, records: ParsedRecord[], source: string): RawTabularWithHints {
  const rows = records.slice(1).map(({ record }) => featureIndices.map((j) => record[j]));
  return { kind: 'tabular', source, columns, rows, labels: rows.map(() => ''), labelColumn, origins: records.slice(1).map(({ info }) => info.lines) };
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

function parseRecords(text: string, source: string, delimiter: string, format: 'CSV' | 'TSV'): ParsedRecord[] {
  try {
    return csvParse().parse(text, {
      delimiter,
      // TSV has no quoting: a " is part of the field
      quote: format === 'TSV' ? false : '"',
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as ParsedRecord[];
  } catch (err) {
    throw new InputError(source, `is not valid ${format}: ${(err as Error).message}`);
  }
}

/** The delimiter given (`tab` allowed) or the candidate seen most often in the header line. */
function resolveDelimiter(text: string, source: string, given: string | undefined): string {
  if (given !== undefined) {
    const delimiter = given === 'tab' || given === '\\t' ? '\t' : given;
    if (delimiter.length === 0) throw new InputError(source, 'the delimiter cannot be empty');
    return delimiter;
  }
  if (/\.tsv(\.gz)?$/i.test(source)) return '\t';
  const firstLine = text.split(/\r?\n/, 1)[0].replace(/"(?:[^"]|"")*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const candidate of CANDIDATE_DELIMITERS) {
    const count = firstLine.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/** A header name longer than this is data, not a name: the file has no header row. */
const MAX_HEADER_NAME = 200;

function readHeader(header: string[], source: string, opts: { allowNumbers?: boolean } = {}): string[] {
  const where = opts.allowNumbers ? '' : 'line 1: ';
  header.forEach((name, j) => {
    if (name === '') throw new InputError(source, `${where}column ${j + 1} has no name`);
  });
  const noHeader = 'without a header row, say so with --no-header (names c1…cN, or --columns a,b,…)';
  if (!opts.allowNumbers && header.every(isNumberLiteral)) {
    throw new InputError(source, `line 1 looks like data, not a header: ${noHeader}`);
  }
  const long = header.findIndex((name) => name.length > MAX_HEADER_NAME);
  if (!opts.allowNumbers && long >= 0) {
    throw new InputError(source, `line 1 looks like data, not a header (field ${long + 1} is ${header[long].length} characters long): ${noHeader}`);
  }
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new InputError(source, `${where}column name "${name}" appears more than once`);
    seen.add(name);
  }
  return header;
}
