/**
 * Preprocessing fitted on training rows only and stored with every model, then applied
 * unchanged to validation, test and prediction data.
 *
 * - tabular: a column is numeric when every non-missing training value is a number
 *   (and it is not forced categorical); numeric columns are standardised with the
 *   training mean and (population) standard deviation, a zero deviation counting as 1. A
 *   column that is mostly numbers with some text cells is an error naming the cell (not
 *   silently categorical); values so large that standardising overflows are an error.
 *   Missing values (see MISSING_MARKERS: "", "NA", "?", "nan") become the training mean,
 *   i.e. 0 after standardising. NaN/Infinity literals ("NaN", "inf", "Infinity") in a
 *   numeric column are an error. Categorical columns are one-hot over the sorted
 *   training categories (at most maxCategories, the most frequent); an unseen, rarer or
 *   missing category is all zeros. A column whose every non-missing value is an ISO 8601
 *   date (or date-time) becomes its numeric parts (DateTimeColumnSpec), each standardised;
 *   a missing date is all zeros. Columns that look like ids or Unix timestamps are kept but
 *   reported through `onWarning`. `categorical` / `numeric` override the inference.
 * - image: pixels scaled by 1/255.
 * - text: tokens (see tokenize) mapped through a vocabulary of the most frequent
 *   training tokens; sequences truncated or padded at the end to maxLen. Or (textEncoding
 *   'tfidf') a bag of word n-grams: sublinear term frequency times smoothed IDF, L2-normalised.
 * - classes: given, else the loader's class order, else the sorted distinct training labels.
 */
import type { ColumnSpec, Dataset, DateTimeColumnSpec, DateTimePart, NumericColumnSpec, PreprocessingSpec, RawData, RawImages, RawTabular, RawText, TextEncoding } from './types.js';
import { DATETIME_PARTS, rowOf } from './types.js';
import type { RawTabularWithHints } from './csv.js';
import type { RawImagesWithClasses } from './idx.js';
import { InputError } from '../util/errors.js';
import { readCell, readDateTime, requirePositiveInteger, sortedDistinct } from './values.js';
import { cellText, numberText, tabularColumns, type TabularColumn, type TextColumn } from './columns.js';
import { buildTfidfVocabulary, buildVocabulary, encodeText, encodeTfidf } from './text.js';

/** Options of {@link fitPreprocessing}; each applies to one kind of data only. */
export interface FitOptions {
  /** Class order; every training label must be in it. */
  classNames?: string[];
  /** Tabular: columns to treat as categorical even where all values are numbers (or dates). */
  categorical?: string[];
  /** Tabular: columns to treat as numeric even where most values are text (a text cell is then an error naming it). */
  numeric?: string[];
  /** Tabular: called with one line per column that looks like an id or a timestamp (what was done, what to do). */
  onWarning?: (message: string) => void;
  /**
   * Tabular: at most this many categories per categorical column (default 100): the most
   * frequent training values (ties in sorted order); rarer ones encode as all zeros, like
   * unseen values. Keeps an id-like text column from exploding the input width.
   */
  maxCategories?: number;
  /** Text: vocabulary size including `<pad>` and `<unk>` (default 5000). */
  maxVocab?: number;
  /** Text: tokens per example (default 64). */
  maxLen?: number;
  /** Text: lowercase before tokenising (default true). */
  lowercase?: boolean;
  /** Text: token ids (for a transformer; the default here) or a TF-IDF bag of n-grams. */
  textEncoding?: TextEncoding;
  /** Text, tfidf: the longest n-gram (default 2). */
  ngrams?: number;
  /** Text, tfidf: terms in fewer training texts than this are left out (default 2). */
  minDf?: number;
}

/** Options of {@link applyPreprocessing}. */
export interface ApplyOptions {
  /** Map labels that are not among the classes to -1 instead of throwing (prediction). */
  allowUnknownLabels?: boolean;
}

export const DEFAULT_MAX_VOCAB = 5000;
/** TF-IDF vocabulary size (n-gram terms) by default. */
export const DEFAULT_TFIDF_VOCAB = 20000;
export const DEFAULT_NGRAMS = 2;
export const DEFAULT_MIN_DF = 2;
export const DEFAULT_MAX_LEN = 64;
export const DEFAULT_MAX_CATEGORIES = 100;
export const PIXEL_SCALE = 1 / 255;

/** Label index given to unknown labels when {@link ApplyOptions.allowUnknownLabels} is set. */
export const UNKNOWN_LABEL = -1;

/** Fits preprocessing on `raw`, which must hold the training rows only. */
export function fitPreprocessing(raw: RawData, opts: FitOptions = {}): PreprocessingSpec {
  if (raw.labels.length === 0) throw new InputError(raw.source, 'has no examples to fit preprocessing on');
  const spec = fitByKind(raw, opts);
  if (spec.classNames.length < 2) {
    const n = raw.labels.length;
    throw new InputError(
      raw.source,
      `has only one class ("${spec.classNames[0]}") among its ${n} training example${n === 1 ? '' : 's'}; a classifier needs examples of at least two classes`,
    );
  }
  return spec;
}

function fitByKind(raw: RawData, opts: FitOptions): PreprocessingSpec {
  switch (raw.kind) {
    case 'tabular':
      return fitTabular(raw, opts);
    case 'image':
      return { kind: 'image', classNames: fitClassNames(raw, opts), shape: [...raw.shape], scale: PIXEL_SCALE };
    case 'text':
      return fitText(raw, opts);
  }
}

/**
 * Turns `raw` into a model-ready Dataset with a fitted spec. Throws an InputError naming
 * the source and data row for values the spec cannot encode and, unless
 * `allowUnknownLabels`, for labels that are not among the spec's classes.
 */
export function applyPreprocessing(spec: PreprocessingSpec, raw: RawData, opts: ApplyOptions = {}): Dataset {
  const labels = encodeLabels(raw, spec.classNames, opts.allowUnknownLabels ?? false);
  const featureShape = featureShapeOf(spec);
  let features: Float32Array;
  if (spec.kind === 'tabular' && raw.kind === 'tabular') features = encodeTabular(spec.columns, raw);
  else if (spec.kind === 'image' && raw.kind === 'image') features = encodeImages(spec, raw);
  else if (spec.kind === 'text' && raw.kind === 'text') features = encodeTexts(spec, raw);
  else throw new InputError(raw.source, `holds ${raw.kind} data but the model expects ${spec.kind} data`);
  return { features, featureShape, labels, classNames: spec.classNames.slice(), source: raw.source };
}

/** Shape of one preprocessed example: [features] (tabular), [h, w, c] (image), [maxLen] (text). */
export function featureShapeOf(spec: PreprocessingSpec): number[] {
  switch (spec.kind) {
    case 'tabular':
      return [tabularWidth(spec.columns)];
    case 'image':
      return [...spec.shape];
    case 'text':
      return spec.encoding === 'tfidf' ? [spec.vocab.length] : [spec.maxLen];
  }
}

// ---------------------------------------------------------------- classes and labels

/**
 * `spec` with the classes of `labels` that it lacks appended after its own (in canonical
 * order): the preprocessing of an update whose data brings new classes. The old classes
 * keep their indices, so the old model's predictions mean the same in the new class space.
 */
export function withAddedClasses<S extends PreprocessingSpec>(spec: S, labels: Iterable<string>): S {
  const known = new Set(spec.classNames);
  const added = sortedDistinct([...labels].filter((l) => !known.has(l)));
  return added.length ? { ...spec, classNames: [...spec.classNames, ...added] } : spec;
}

function fitClassNames(raw: RawData, opts: FitOptions): string[] {
  const given = opts.classNames ?? (raw.kind === 'image' ? (raw as RawImagesWithClasses).classNames : undefined);
  if (given === undefined) return sortedDistinct(raw.labels);
  if (new Set(given).size !== given.length) throw new InputError(raw.source, 'the class names given contain duplicates');
  const known = new Set(given);
  const i = raw.labels.findIndex((label) => !known.has(label));
  if (i >= 0) throw new InputError(raw.source, `${rowOf(raw, i)}: ${unknownLabelProblem(raw.labels[i], given)}`);
  return given.slice();
}

function encodeLabels(raw: RawData, classNames: string[], allowUnknown: boolean): Int32Array {
  const index = new Map(classNames.map((name, i) => [name, i]));
  return Int32Array.from(raw.labels, (label, i) => {
    const k = index.get(label);
    if (k !== undefined) return k;
    if (allowUnknown) return UNKNOWN_LABEL;
    throw new InputError(raw.source, `${rowOf(raw, i)}: ${unknownLabelProblem(label, classNames)}`);
  });
}

function unknownLabelProblem(label: string, classNames: string[]): string {
  const shown = classNames.length > 30 ? [...classNames.slice(0, 30), '…'] : classNames;
  return `label "${label}" is not one of the model's classes: ${shown.join(', ')}`;
}

// ---------------------------------------------------------------- tabular

function fitTabular(raw: RawTabular, opts: FitOptions): PreprocessingSpec {
  const forced = new Set([...((raw as RawTabularWithHints).categorical ?? []), ...(opts.categorical ?? [])]);
  const numeric = new Set(opts.numeric ?? []);
  for (const [names, role] of [[forced, 'categorical'], [numeric, 'numeric']] as const) {
    for (const name of names) {
      if (!raw.columns.includes(name)) throw new InputError(raw.source, `${role} column "${name}" not found; columns: ${raw.columns.join(', ')}`);
    }
  }
  const both = [...forced].find((name) => numeric.has(name));
  if (both !== undefined) throw new InputError(raw.source, `column "${both}" cannot be both categorical and numeric`);
  const maxCategories = requirePositiveInteger(opts.maxCategories ?? DEFAULT_MAX_CATEGORIES, raw.source, 'maxCategories');
  const warn = opts.onWarning ?? (() => {});
  const cells = tabularColumns(raw);
  const columns = raw.columns.map((name, j): ColumnSpec => {
    const col = cells[j];
    if (forced.has(name)) return fitCategorical(name, col, maxCategories, warn);
    if (numeric.has(name)) return fitNumeric(name, col, raw, true)!;
    const spec = fitDateTime(name, col) ?? fitNumeric(name, col, raw, false);
    if (spec?.type === 'numeric') warnIdOrTimestamp(name, col, warn);
    return spec ?? fitCategorical(name, col, maxCategories, warn);
  });
  return { kind: 'tabular', labelColumn: raw.labelColumn, classNames: fitClassNames(raw, opts), columns };
}

/** How often each distinct value of a text column occurs (a subset of rows may leave some out). */
function codeCounts(col: TextColumn): Int32Array {
  const counts = new Int32Array(col.values.length);
  for (let i = 0; i < col.codes.length; i++) counts[col.codes[i]]++;
  return counts;
}

/**
 * The numbers of a column in row order, NaN for a missing cell: a numeric column's own
 * values; for a text column, its cells read as numbers (after checking they are: the first
 * text or NaN/Infinity cell, in row order, is returned as `bad`).
 */
function numbersOf(col: TabularColumn): { values: Float64Array; bad?: { row: number; kind: 'non-finite' | 'text' } } {
  if (col.kind === 'numeric') return { values: col.values };
  const cells = col.values.map(readCell);
  const values = new Float64Array(col.codes.length);
  for (let i = 0; i < values.length; i++) {
    const cell = cells[col.codes[i]];
    if (cell.kind === 'number') values[i] = cell.value;
    else if (cell.kind === 'missing') values[i] = NaN;
    else return { values, bad: { row: i, kind: cell.kind } };
  }
  return { values };
}

/** Warns about a numeric column of distinct integers from a narrow range (a row id) or of Unix times. */
function warnIdOrTimestamp(name: string, col: TabularColumn, warn: (message: string) => void): void {
  const { values } = numbersOf(col);
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== x) continue;
    if (!Number.isInteger(x)) return;
    count++;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (count < 20) return;
  const ignore = `leave it out with --ignore-columns ${name} if it carries no information`;
  const distinct = new Set<number>();
  let timestamps = true;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== x) continue;
    distinct.add(x);
    if (!((x >= 1e9 && x < 4e9) || (x >= 1e12 && x < 4e12))) timestamps = false;
  }
  if (distinct.size === count && max - min + 1 <= 2 * count) {
    warn(`column "${name}" looks like a row id (a different integer in every row, ${min}…${max}): it is used as a number; ${ignore}`);
  } else if (timestamps) {
    warn(`column "${name}" looks like a Unix timestamp: it is used as one number; write it as an ISO date (2024-03-05T14:30) to get its parts, or ${ignore}`);
  }
}

/**
 * A date/time column (every non-missing training value an ISO 8601 date or date-time, at
 * least one present): the training mean and spread of each part; undefined otherwise.
 */
function fitDateTime(name: string, col: TabularColumn): DateTimeColumnSpec | undefined {
  // a number is never a date, and a column of numbers and missing cells only is not one
  if (col.kind === 'numeric') return undefined;
  const counts = codeCounts(col);
  const msOf = new Float64Array(col.values.length).fill(NaN);
  let present = 0;
  for (let c = 0; c < col.values.length; c++) {
    if (counts[c] === 0 || readCell(col.values[c]).kind === 'missing') continue;
    const ms = readDateTime(col.values[c]);
    if (ms === undefined) return undefined;
    msOf[c] = ms;
    present += counts[c];
  }
  if (present === 0) return undefined;
  const times = new Float64Array(present);
  let t = 0;
  for (let i = 0; i < col.codes.length; i++) {
    const ms = msOf[col.codes[i]];
    if (ms === ms) times[t++] = ms;
  }
  const parts = DATETIME_PARTS.map((part) => {
    const xs = Array.from(times, (ms) => dateTimePart(ms, part));
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

/**
 * Mean/std of a numeric column; undefined for a text column. A column is numeric when most
 * of its non-missing training values are numbers: a text cell there is a data error (the
 * same error `update` and `predict` give for it), not a reason to make the column
 * categorical. A column of mostly text is categorical (numbers in it are categories).
 * Values whose mean or spread overflows a double are an error too.
 */
function fitNumeric(name: string, col: TabularColumn, raw: RawData, forced: boolean): NumericColumnSpec | undefined {
  if (col.kind === 'text') {
    const counts = codeCounts(col);
    let numbersCount = 0;
    let textCount = 0;
    col.values.forEach((v, c) => {
      const kind = readCell(v).kind;
      if (kind === 'number' || kind === 'non-finite') numbersCount += counts[c];
      else if (kind === 'text') textCount += counts[c];
    });
    if (!forced && textCount > 0 && textCount >= numbersCount) return undefined;
  }
  const { values, bad } = numbersOf(col);
  if (bad) throw notANumberError(raw, bad.row, name, cellText(col, bad.row), bad.kind);
  // the same sums in the same order as summing the numbers of the column one by one
  let count = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x === x) {
      sum += x;
      count++;
    }
  }
  const mean = count === 0 ? 0 : sum / count;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x === x) squares += (x - mean) ** 2;
  }
  const variance = count === 0 ? 0 : squares / count;
  const std = Math.sqrt(variance);
  if (!Number.isFinite(mean) || !Number.isFinite(std)) {
    const i = values.findIndex((x) => Math.abs(x) > FLOAT32_MAX);
    const where = i >= 0 ? `${rowOf(raw, i)}: ` : '';
    throw new InputError(raw.source, `${where}column "${name}" has values too large to standardise${i >= 0 ? ` ("${cellText(col, i)}")` : ''}; rescale the column (its mean or spread overflows)`);
  }
  return { name, type: 'numeric', mean, std: std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1 };
}

/** The largest finite float32: a standardised value beyond it cannot reach the model. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** How many rows hold each non-missing text of a column, and how many rows are not missing. */
function presentTextCounts(col: TabularColumn): { counts: Map<string, number>; present: number } {
  const counts = new Map<string, number>();
  let present = 0;
  const add = (text: string, c: number) => {
    if (c === 0 || readCell(text).kind === 'missing') return;
    counts.set(text, (counts.get(text) ?? 0) + c);
    present += c;
  };
  if (col.kind === 'text') {
    const byCode = codeCounts(col);
    col.values.forEach((v, c) => add(v, byCode[c]));
    return { counts, present };
  }
  const byValue = new Map<number, number>();
  for (let i = 0; i < col.values.length; i++) {
    if (col.texts?.has(i) || col.digits?.[i]) add(cellText(col, i), 1);
    else if (col.values[i] === col.values[i]) byValue.set(col.values[i], (byValue.get(col.values[i]) ?? 0) + 1);
  }
  for (const [v, c] of byValue) add(numberText(v), c);
  return { counts, present };
}

function fitCategorical(name: string, col: TabularColumn, maxCategories: number, warn: (message: string) => void): ColumnSpec {
  const { counts, present } = presentTextCounts(col);
  let categories = sortedDistinct(counts.keys());
  if (categories.length > maxCategories) {
    const looksLike = categories.length > present / 2 ? ' (an id, a timestamp or free text?)' : '';
    warn(
      `column "${name}" has ${categories.length} distinct values in ${present} training rows${looksLike}: only the ${maxCategories} most frequent are one-hot encoded, the rest encode as all zeros; raise --max-categories, or leave it out with --ignore-columns ${name}`,
    );
    const kept = new Set([...categories].sort((a, b) => counts.get(b)! - counts.get(a)!).slice(0, maxCategories));
    categories = categories.filter((c) => kept.has(c));
  }
  return { name, type: 'categorical', categories };
}

function columnWidth(column: ColumnSpec): number {
  switch (column.type) {
    case 'numeric':
      return 1;
    case 'categorical':
      return column.categories.length;
    case 'datetime':
      return column.parts.length;
  }
}

function tabularWidth(columns: ColumnSpec[]): number {
  return columns.reduce((width, column) => width + columnWidth(column), 0);
}

/** Writes the features of rows [from, to) of one column (throws on a cell it cannot encode). */
type RowsEncoder = (from: number, to: number) => void;

/** Rows per block: the block's part of the feature matrix stays in cache while every column writes into it. */
const ENCODE_BLOCK = 1024;

/**
 * The feature matrix, from the table's columns (no per-cell strings for numbers), written a
 * block of rows at a time. A cell that cannot be encoded is reported as the column-by-column
 * order finds it first (the first bad row of the first such column): the blocks are redone
 * in that order to find it.
 */
function encodeTabular(columns: ColumnSpec[], raw: RawTabular): Float32Array {
  const width = tabularWidth(columns);
  const n = raw.labels.length;
  const features = new Float32Array(n * width);
  const cells = tabularColumns(raw);
  let offset = 0;
  const encoders = columns.map((column): RowsEncoder => {
    const at = offset;
    offset += columnWidth(column);
    const j = raw.columns.indexOf(column.name);
    if (j < 0) {
      return () => {
        throw new InputError(raw.source, `has no column "${column.name}", which the model needs; columns: ${raw.columns.join(', ')}`);
      };
    }
    const col = cells[j];
    if (column.type === 'numeric') return numericEncoder(col, column, raw, features, width, at);
    if (column.type === 'categorical') return categoricalEncoder(col, column, features, width, at);
    return (from, to) => {
      for (let i = from; i < to; i++) encodeDateTime(cellText(col, i), column, i, raw, features, i * width + at);
    };
  });
  try {
    if (n === 0) for (const encode of encoders) encode(0, 0);
    for (let from = 0; from < n; from += ENCODE_BLOCK) {
      const to = Math.min(n, from + ENCODE_BLOCK);
      for (const encode of encoders) encode(from, to);
    }
  } catch (err) {
    for (const encode of encoders) encode(0, n);
    throw err;
  }
  return features;
}

/** Standardised values of a numeric column at `out[i * width + offset]`; missing → 0 (the training mean). Overflow is an input error. */
function numericEncoder(col: TabularColumn, column: NumericColumnSpec, raw: RawData, out: Float32Array, width: number, offset: number): RowsEncoder {
  const { values, bad } = numbersOf(col);
  const { mean, std } = column;
  return (from, to) => {
    const end = bad && bad.row < to ? bad.row : to;
    for (let i = from; i < end; i++) {
      const x = values[i];
      if (x !== x) continue;
      const z = (x - mean) / std;
      if (!(Math.abs(z) <= FLOAT32_MAX)) {
        throw new InputError(raw.source, `${rowOf(raw, i)}: column "${column.name}" value "${cellText(col, i)}" is too far from the training values to encode (standardised it overflows float32)`);
      }
      out[i * width + offset] = z;
    }
    if (end < to) throw notANumberError(raw, bad!.row, column.name, cellText(col, bad!.row), bad!.kind);
  };
}

/** One-hot of a categorical column at `out[i * width + offset + k]`; unseen or missing → all zeros. */
function categoricalEncoder(col: TabularColumn, column: Extract<ColumnSpec, { type: 'categorical' }>, out: Float32Array, width: number, offset: number): RowsEncoder {
  const index = new Map(column.categories.map((category, k) => [category, k]));
  if (col.kind === 'text') {
    const kOf = Int32Array.from(col.values, (v) => index.get(v) ?? -1);
    return (from, to) => {
      for (let i = from; i < to; i++) {
        const k = kOf[col.codes[i]];
        if (k >= 0) out[i * width + offset + k] = 1;
      }
    };
  }
  const byValue = new Map<number, number>();
  return (from, to) => {
    for (let i = from; i < to; i++) {
      let k: number | undefined;
      if (col.texts?.has(i) || col.digits?.[i]) k = index.get(cellText(col, i));
      else {
        const v = col.values[i];
        k = byValue.get(v);
        if (k === undefined) byValue.set(v, (k = index.get(numberText(v)) ?? -1));
      }
      if (k !== undefined && k >= 0) out[i * width + offset + k] = 1;
    }
  };
}

/** The standardised parts of one date/time cell at `out[at…]`; missing → zeros (the training means). */
function encodeDateTime(text: string, column: DateTimeColumnSpec, row: number, raw: RawData, out: Float32Array, at: number): void {
  if (readCell(text).kind === 'missing') return;
  const ms = readDateTime(text);
  if (ms === undefined) {
    throw new InputError(raw.source, `${rowOf(raw, row)}: column "${column.name}" value "${text}" is not a date (YYYY-MM-DD, optionally with a time hh:mm[:ss] and a zone; empty or NA for a missing value)`);
  }
  column.parts.forEach((p, k) => {
    out[at + k] = (dateTimePart(ms, p.part) - p.mean) / p.std;
  });
}

function notANumberError(raw: RawData, row: number, column: string, text: string, kind: 'non-finite' | 'text'): InputError {
  const problem =
    kind === 'non-finite'
      ? 'is not a finite number (leave the cell empty or write NA for a missing value)'
      : 'is not a number, in a numeric column (fix the cell, leave it empty or write NA for a missing value)';
  return new InputError(raw.source, `${rowOf(raw, row)}: column "${column}" value "${text}" ${problem}`);
}

// ---------------------------------------------------------------- image

function encodeImages(spec: Extract<PreprocessingSpec, { kind: 'image' }>, raw: RawImages): Float32Array {
  if (raw.shape.join('x') !== spec.shape.join('x')) {
    throw new InputError(raw.source, `images are ${raw.shape.join('×')} but the model expects ${spec.shape.join('×')}`);
  }
  const features = new Float32Array(raw.pixels.length);
  for (let i = 0; i < features.length; i++) features[i] = raw.pixels[i] * spec.scale;
  return features;
}

// ---------------------------------------------------------------- text

function fitText(raw: RawText, opts: FitOptions): PreprocessingSpec {
  const lowercase = opts.lowercase ?? true;
  const classNames = fitClassNames(raw, opts);
  if (opts.textEncoding === 'tfidf') {
    const maxVocab = requirePositiveInteger(opts.maxVocab ?? DEFAULT_TFIDF_VOCAB, raw.source, 'maxVocab');
    const ngrams = requirePositiveInteger(opts.ngrams ?? DEFAULT_NGRAMS, raw.source, 'ngrams');
    const minDf = requirePositiveInteger(opts.minDf ?? DEFAULT_MIN_DF, raw.source, 'minDf');
    const { vocab, idf } = buildTfidfVocabulary(raw.texts, { maxVocab, ngrams, lowercase, minDf });
    if (vocab.length === 0) throw new InputError(raw.source, `no word occurs in ${minDf} or more training texts: too little text for a TF-IDF vocabulary`);
    return { kind: 'text', classNames, encoding: 'tfidf', vocab, idf, ngrams, maxLen: 0, lowercase };
  }
  const maxVocab = requirePositiveInteger(opts.maxVocab ?? DEFAULT_MAX_VOCAB, raw.source, 'maxVocab');
  if (maxVocab < 3) throw new InputError(raw.source, `maxVocab must be at least 3 (two special tokens and one word), got ${maxVocab}`);
  const maxLen = requirePositiveInteger(opts.maxLen ?? DEFAULT_MAX_LEN, raw.source, 'maxLen');
  return { kind: 'text', classNames, vocab: buildVocabulary(raw.texts, maxVocab, lowercase), maxLen, lowercase };
}

function encodeTexts(spec: Extract<PreprocessingSpec, { kind: 'text' }>, raw: RawText): Float32Array {
  const ids = new Map(spec.vocab.map((token, id) => [token, id]));
  if (spec.encoding === 'tfidf') {
    const d = spec.vocab.length;
    const features = new Float32Array(raw.texts.length * d);
    raw.texts.forEach((text, i) => encodeTfidf(text, ids, spec.idf!, spec.ngrams ?? 1, spec.lowercase, features, i * d));
    return features;
  }
  const features = new Float32Array(raw.texts.length * spec.maxLen);
  raw.texts.forEach((text, i) => encodeText(text, ids, spec.maxLen, spec.lowercase, features, i * spec.maxLen));
  return features;
}
