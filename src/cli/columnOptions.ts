import { Command } from 'commander';
import type { RawData } from '../data/types.js';
import type { FitOptions } from '../data/preprocess.js';
import { DEFAULT_MAX_CATEGORIES } from '../data/preprocess.js';
import { InputError } from '../util/errors.js';
import { parseInteger } from './options.js';

/** How `train` reads the columns of a table: which to leave out, which types to force, the category cap. */
export interface ColumnFlags {
  ignoreColumns?: string[];
  categorical?: string[];
  numeric?: string[];
  maxCategories?: number;
}

const names = (v: string): string[] => v.split(',').map((n) => n.trim()).filter((n) => n !== '');

/** The flags of {@link ColumnFlags}, each with the table column rule it sets. */
const COLUMN_FLAGS: Record<keyof ColumnFlags, string> = {
  ignoreColumns: '--ignore-columns',
  categorical: '--categorical',
  numeric: '--numeric',
  maxCategories: '--max-categories',
};

export function addColumnOptions(cmd: Command): Command {
  return cmd
    .option(`${COLUMN_FLAGS.ignoreColumns} <names>`, 'table columns to leave out (ids, free text), comma-separated names or numbers from 1', names)
    .option(`${COLUMN_FLAGS.categorical} <names>`, 'table columns to one-hot encode even where every value is a number (or a date), comma-separated', names)
    .option(`${COLUMN_FLAGS.numeric} <names>`, 'table columns to read as numbers even where most values are text (a text cell is then an error), comma-separated', names)
    .option(
      `${COLUMN_FLAGS.maxCategories} <n>`,
      `most categories one-hot encoded per categorical column: the most frequent; rarer ones encode as all zeros (default ${DEFAULT_MAX_CATEGORIES})`,
      parseInteger('max-categories', 1),
    );
}

/** The fitting options of the column flags; any of them on data that is not a table is an error naming the flag. */
export function columnFitOptions(flags: ColumnFlags, raw: RawData, onWarning: (message: string) => void): FitOptions {
  if (raw.kind !== 'tabular') {
    const given = (Object.keys(COLUMN_FLAGS) as (keyof ColumnFlags)[]).find((k) => flags[k] !== undefined);
    if (given) throw new InputError(COLUMN_FLAGS[given], `applies to tables (CSV/TSV) only; ${raw.source} holds ${raw.kind} data`);
    return {};
  }
  return { categorical: flags.categorical, numeric: flags.numeric, maxCategories: flags.maxCategories, onWarning };
}
