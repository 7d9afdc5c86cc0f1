import { InputError } from '../util/errors.js';

/**
 * How raw cell text is read as a value: numbers, missing-value markers, non-finite
 * literals; and the canonical order of class names.
 */

/** Cell texts that mean "missing". Missing numeric values become the training mean. */
export const MISSING_MARKERS: readonly string[] = ['', 'NA', '?', 'nan'];

export const NUMBER_PATTERN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE_PATTERN = /^[+-]?(?:nan|inf|infinity)$/i;

/** A cell read as a number: a finite value, missing, a NaN/Infinity literal, or not a number. */
export type Cell =
  | { kind: 'number'; value: number }
  | { kind: 'missing' }
  | { kind: 'non-finite' }
  | { kind: 'text' };

/** True for a plain decimal number literal such as `3`, `-0.5`, `1e-3` (no hex, no spaces). */
export function isNumberLiteral(text: string): boolean {
  return NUMBER_PATTERN.test(text);
}

/** Reads one (already trimmed) cell. `nan` is a missing marker; `NaN`, `inf`, `Infinity` are non-finite. */
export function readCell(text: string): Cell {
  if (MISSING_MARKERS.includes(text)) return { kind: 'missing' };
  if (NUMBER_PATTERN.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? { kind: 'number', value } : { kind: 'non-finite' };
  }
  if (NON_FINITE_PATTERN.test(text)) return { kind: 'non-finite' };
  return { kind: 'text' };
}

/**
 * The distinct values (class labels, categories) in canonical order: numerically when
 * every value is a number (so "2" < "10"), otherwise by UTF-16 code units (locale-independent).
 */
export function sortedDistinct(values: Iterable<string>): string[] {
  const unique = [...new Set(values)];
  if (unique.every(isNumberLiteral)) {
    return unique.sort((a, b) => Number(a) - Number(b) || compareCodeUnits(a, b));
  }
  return unique.sort(compareCodeUnits);
}

/** Locale-independent string order, for deterministic sorting. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Returns `value` when it is an integer ≥ 1; otherwise throws an InputError naming `source` and `name`. */
export function requirePositiveInteger(value: number, source: string, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InputError(source, `${name} must be a positive integer, got ${value}`);
  return value;
}

const DATETIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Milliseconds since 1970-01-01T00:00Z of an ISO 8601 date or date-time cell (`2024-03-05`,
 * `2024-03-05 14:30`, `2024-03-05T14:30:00Z`, `…+02:00`); a value without a zone is read as
 * UTC. undefined when the cell is not such a date or names a day that does not exist.
 */
export function readDateTime(text: string): number | undefined {
  const m = DATETIME_PATTERN.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, zone] = m;
  const iso = `${y}-${mo}-${d}T${h ?? '00'}:${mi ?? '00'}:${sec ?? '00'}${zone ? (zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone) : 'Z'}`;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls 2024-02-31 over to March: a day that does not exist is not a date
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return undefined;
  return ms;
}
