/**
 * Which columns of a table hold the label and the features: one set of rules for every
 * tabular reader (CSV/TSV, Parquet, Arrow), given the table's column names.
 */
import { InputError } from '../util/errors.js';

/** Names that mark a label column when none is given, in order of preference. */
export const LABEL_COLUMN_NAMES = ['label', 'class', 'target', 'y'];

/** The options that choose columns (the same for every tabular format). */
export interface ColumnChoiceOptions {
  /**
   * Column holding the class label, by name or by 1-based position ("3": the third column,
   * unless a column is named "3"). Default: the first column named `label`, `class`,
   * `target` or `y` (case-insensitive), else the last column.
   */
  labelColumn?: string;
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

/** The label and feature columns of a table, as indices into its header. */
export interface ColumnChoice {
  /** The label column's name (the one asked for when the table lacks it and `labelOptional`). */
  labelColumn: string;
  /** -1: the table has no label column (`labelOptional`); every label is then "". */
  labelIndex: number;
  /** Feature columns, in table order. */
  featureIndices: number[];
  /** Their names. */
  columns: string[];
}

/**
 * The label column (by name or 1-based position, else the first named like a label, else the
 * last) and the feature columns (all others but `dropColumns`); errors name `source` and the
 * column (not found, dropping the label, no features, unknown categorical column).
 */
export function chooseColumns(header: string[], source: string, opts: ColumnChoiceOptions): ColumnChoice {
  const labelName = opts.labelColumn === undefined ? undefined : columnByNameOrPosition(header, opts.labelColumn);
  if (opts.labelOptional && labelName !== undefined && !header.includes(labelName)) {
    const dropped = new Set(opts.dropColumns ?? []);
    const featureIndices = header.map((_, j) => j).filter((j) => !dropped.has(header[j]));
    return { labelColumn: opts.labelColumn!, labelIndex: -1, featureIndices, columns: featureIndices.map((j) => header[j]) };
  }
  const labelColumn = chooseLabelColumn(header, source, labelName, opts.labelByName);
  const dropped = new Set((opts.dropColumns ?? []).map((name) => columnByNameOrPosition(header, name)));
  for (const name of dropped) requireColumn(header, name, source, 'column to ignore');
  if (dropped.has(labelColumn)) throw new InputError(source, `cannot ignore the label column "${labelColumn}"`);

  const labelIndex = header.indexOf(labelColumn);
  const featureIndices = header.map((_, j) => j).filter((j) => j !== labelIndex && !dropped.has(header[j]));
  if (featureIndices.length === 0 && !opts.labelsOnly) {
    throw new InputError(source, `has no feature columns besides the label column "${labelColumn}"`);
  }
  const columns = featureIndices.map((j) => header[j]);
  for (const name of opts.categorical ?? []) {
    if (!columns.includes(name)) requireColumn(columns, name, source, 'categorical column');
  }
  return { labelColumn, labelIndex, featureIndices, columns };
}

/** A label column taken by position (no --label, no label-like name) whose values (`distinct` of them) are nearly all different is not a label column: say so. */
export function checkGuessedLabels(labels: string[], distinct: number, labelColumn: string, source: string, given: boolean): void {
  if (given || LABEL_COLUMN_NAMES.includes(labelColumn.toLowerCase())) return;
  if (distinct > 100 && distinct > labels.length / 2) {
    throw new InputError(source, `the last column "${labelColumn}" was taken as the label but has ${distinct} different values in ${labels.length} rows (an id or free text?): say which column holds the labels with --label`);
  }
}

/** `name` when a column has it, else the column at 1-based position `name` (an integer), else `name` (for the not-found message). */
function columnByNameOrPosition(header: string[], name: string): string {
  if (header.includes(name) || !/^[1-9]\d*$/.test(name)) return name;
  const j = Number(name) - 1;
  return j < header.length ? header[j] : name;
}

function chooseLabelColumn(header: string[], source: string, given: string | undefined, byNameOnly = false): string {
  if (given !== undefined) {
    if (!header.includes(given)) throw new InputError(source, `label column "${given}" not found (give a column name or number 1–${header.length}); columns: ${header.join(', ')}`);
    return given;
  }
  for (const candidate of LABEL_COLUMN_NAMES) {
    const match = header.find((name) => name.toLowerCase() === candidate);
    if (match !== undefined) return match;
  }
  if (byNameOnly) {
    const names = `${LABEL_COLUMN_NAMES.slice(0, -1).join(', ')} or ${LABEL_COLUMN_NAMES[LABEL_COLUMN_NAMES.length - 1]}`;
    throw new InputError(source, `has no column named ${names}: say which column holds the true labels with --label (columns: ${header.join(', ')})`);
  }
  return header[header.length - 1];
}

function requireColumn(columns: string[], name: string, source: string, role: string): string {
  if (!columns.includes(name)) {
    throw new InputError(source, `${role} "${name}" not found; columns: ${columns.join(', ')}`);
  }
  return name;
}
