/**
 * The row-wise tabular preprocessing that the columnar one replaced (one string per cell, read
 * with readCell), kept as the reference that the columnar fit and apply must match bit for
 * bit. Tabular data only; the same rules and formulas, errors reduced to plain Errors.
 */
import type { ColumnSpec, DateTimeColumnSpec, DateTimePart, NumericColumnSpec } from '../../src/data/types.js';
import { DATETIME_PARTS } from '../../src/data/types.js';
import { readCell, readDateTime, sortedDistinct } from '../../src/data/values.js';

export interface RowTable {
  columns: string[];
  rows: string[][];
  labels: string[];
}

export function referenceFit(raw: RowTable, opts: { categorical?: string[]; maxCategories?: number } = {}): { classNames: string[]; columns: ColumnSpec[] } {
  const forced = new Set(opts.categorical ?? []);
  const maxCategories = opts.maxCategories ?? 100;
  const columns = raw.columns.map((name, j): ColumnSpec => {
    const values = raw.rows.map((row) => row[j]);
    if (forced.has(name)) return fitCategorical(name, values, maxCategories);
    return fitDateTime(name, values) ?? fitNumeric(name, values) ?? fitCategorical(name, values, maxCategories);
  });
  return { classNames: sortedDistinct(raw.labels), columns };
}

function fitDateTime(name: string, values: string[]): DateTimeColumnSpec | undefined {
  const present = values.filter((v) => readCell(v).kind !== 'missing');
  if (present.length === 0) return undefined;
  const times: number[] = [];
  for (const v of present) {
    const ms = readDateTime(v);
    if (ms === undefined) return undefined;
    times.push(ms);
  }
  const parts = DATETIME_PARTS.map((part) => {
    const xs = times.map((ms) => dateTimePart(ms, part));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    return { part, mean, std: std > 1e-9 * Math.max(1, Math.abs(mean)) ? std : 1 };
  });
  return { name, type: 'datetime', parts };
}

function dateTimePart(ms: number, part: DateTimePart): number {
  const d = new Date(ms);
  switch (part) {
    case 'days':
      return ms / 86_400_000;
    case 'month':
      return d.getUTCMonth() + 1;
    case 'dayOfMonth':
      return d.getUTCDate();
    case 'weekday':
      return d.getUTCDay();
    case 'hour':
      return d.getUTCHours() + d.getUTCMinutes() / 60;
  }
}

function fitNumeric(name: string, values: string[]): NumericColumnSpec | undefined {
  const cells = values.map(readCell);
  const numbersCount = cells.filter((c) => c.kind === 'number' || c.kind === 'non-finite').length;
  const textCount = cells.filter((c) => c.kind === 'text').length;
  if (textCount > 0 && textCount >= numbersCount) return undefined;
  if (cells.some((cell) => cell.kind === 'non-finite' || cell.kind === 'text')) throw new Error(`bad cell in ${name}`);
  const numbers = cells.flatMap((cell) => (cell.kind === 'number' ? [cell.value] : []));
  const mean = numbers.length === 0 ? 0 : numbers.reduce((a, b) => a + b, 0) / numbers.length;
  const variance = numbers.length === 0 ? 0 : numbers.reduce((a, b) => a + (b - mean) ** 2, 0) / numbers.length;
  const std = Math.sqrt(variance);
  return { name, type: 'numeric', mean, std: std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1 };
}

function fitCategorical(name: string, values: string[], maxCategories: number): ColumnSpec {
  const present = values.filter((v) => readCell(v).kind !== 'missing');
  let categories = sortedDistinct(present);
  if (categories.length > maxCategories) {
    const counts = new Map<string, number>();
    for (const v of present) counts.set(v, (counts.get(v) ?? 0) + 1);
    const kept = new Set([...categories].sort((a, b) => counts.get(b)! - counts.get(a)!).slice(0, maxCategories));
    categories = categories.filter((c) => kept.has(c));
  }
  return { name, type: 'categorical', categories };
}

function columnWidth(column: ColumnSpec): number {
  return column.type === 'numeric' ? 1 : column.type === 'categorical' ? column.categories.length : column.parts.length;
}

export function referenceApply(columns: ColumnSpec[], raw: RowTable): Float32Array {
  const width = columns.reduce((w, c) => w + columnWidth(c), 0);
  const features = new Float32Array(raw.rows.length * width);
  let offset = 0;
  for (const column of columns) {
    const j = raw.columns.indexOf(column.name);
    if (column.type === 'numeric') {
      raw.rows.forEach((row, i) => {
        const cell = readCell(row[j]);
        if (cell.kind === 'number') features[i * width + offset] = (cell.value - column.mean) / column.std;
        else if (cell.kind !== 'missing') throw new Error(`bad cell ${row[j]}`);
      });
    } else if (column.type === 'datetime') {
      raw.rows.forEach((row, i) => {
        if (readCell(row[j]).kind === 'missing') return;
        const ms = readDateTime(row[j])!;
        column.parts.forEach((p, k) => {
          features[i * width + offset + k] = (dateTimePart(ms, p.part) - p.mean) / p.std;
        });
      });
    } else {
      const index = new Map(column.categories.map((category, k) => [category, k]));
      raw.rows.forEach((row, i) => {
        const k = index.get(row[j]);
        if (k !== undefined) features[i * width + offset + k] = 1;
      });
    }
    offset += columnWidth(column);
  }
  return features;
}
