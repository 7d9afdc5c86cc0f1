/**
 * Core data types. Loaders produce RawData (values as read from a file, labels as strings);
 * a PreprocessingSpec is fitted on training rows only and stored with every model; applying
 * it turns RawData into a Dataset of numeric features and integer labels.
 */

import { splitColumnar, subsetColumnar, type RawOrigins, type RawTabular } from './columns.js';

export type { RawOrigins, RawTabular };

/** Raw examples as read from a file, before any fitted preprocessing. */
export type RawData = RawTabular | RawImages | RawText;


/** The labels of a data file and where each is in it (what a comparison keeps of the data it reads a block at a time). */
export interface LabelledRows extends RawOrigins {
  kind: RawData['kind'];
  source: string;
  labels: string[];
}

/** Where example `i` of `raw` is in its file: "line 9" (CSV, JSONL), "row 9" (Parquet, Arrow), "example 9" (IDX), else "data row i+1". */
export function rowOf(raw: LabelledRows, i: number): string {
  const o = raw.origins?.[i];
  if (o === undefined) return `data row ${i + 1}`;
  return raw.kind === 'image' ? `example ${o}` : raw.originUnit === 'row' ? `row ${o}` : `line ${o}`;
}


export interface RawImages extends RawOrigins {
  kind: 'image';
  source: string;
  /** uint8 pixels, row-major [n, h, w, c]. */
  pixels: Uint8Array;
  /** [h, w, c] */
  shape: [number, number, number];
  labels: string[];
}

export interface RawText extends RawOrigins {
  kind: 'text';
  source: string;
  texts: string[];
  labels: string[];
}

/** Numeric column: standardised with mean/std fitted on training rows. */
export interface NumericColumnSpec {
  name: string;
  type: 'numeric';
  mean: number;
  std: number;
}

/** Categorical column: one-hot over categories seen in training (unseen → all zeros). */
export interface CategoricalColumnSpec {
  name: string;
  type: 'categorical';
  categories: string[];
}

/** One numeric part of a date/time, standardised with its training mean/std. */
export interface DateTimePartSpec {
  part: DateTimePart;
  mean: number;
  std: number;
}

/** The numeric parts a date/time column becomes (UTC; a value without a zone is read as UTC). */
export const DATETIME_PARTS = ['days', 'month', 'dayOfMonth', 'weekday', 'hour'] as const;
export type DateTimePart = (typeof DATETIME_PARTS)[number];

/**
 * Date/time column (ISO 8601 dates, optionally with a time): expanded to numeric parts —
 * days since 1970-01-01 (the trend), month 1–12, day of the month, weekday 0–6 (Sunday 0)
 * and hour of the day with minutes as a fraction — each standardised like a numeric column.
 */
export interface DateTimeColumnSpec {
  name: string;
  type: 'datetime';
  parts: DateTimePartSpec[];
}

export type ColumnSpec = NumericColumnSpec | CategoricalColumnSpec | DateTimeColumnSpec;

export type PreprocessingSpec =
  | { kind: 'tabular'; labelColumn: string; classNames: string[]; columns: ColumnSpec[] }
  | { kind: 'image'; classNames: string[]; shape: [number, number, number]; scale: number }
  | {
      kind: 'text';
      classNames: string[];
      /**
       * How a text becomes features: `tokens`, the ids of its first maxLen tokens (what a
       * transformer reads; the encoding of models saved before there was a choice), or
       * `tfidf`, a bag of word n-grams weighted by TF-IDF, one value per vocabulary term.
       */
      encoding?: TextEncoding;
      /** tokens: index 0 = padding, 1 = unknown token. tfidf: the n-gram terms (an n-gram is its words joined by one space). */
      vocab: string[];
      /** tokens: sequence length. */
      maxLen: number;
      lowercase: boolean;
      /** tfidf: the longest n-gram (1 = words, 2 = words and pairs of adjacent words). */
      ngrams?: number;
      /** tfidf: inverse document frequency of each vocabulary term, ln((1 + n) / (1 + df)) + 1. */
      idf?: number[];
    };

export const TEXT_ENCODINGS = ['tokens', 'tfidf'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];

/** Numeric, model-ready examples. */
export interface Dataset {
  /** Row-major features, shape [n, ...featureShape]. Text: token ids stored as floats. */
  features: Float32Array;
  /** Shape of one example, e.g. [16], [28, 28, 1], [64]. */
  featureShape: number[];
  /** Class index of each example, in [0, classNames.length). */
  labels: Int32Array;
  classNames: string[];
  /** Where the examples came from (file path or dataset name). */
  source: string;
}

export function exampleSize(ds: Pick<Dataset, 'featureShape'>): number {
  return ds.featureShape.reduce((a, b) => a * b, 1);
}

export function numExamples(ds: Pick<Dataset, 'labels'>): number {
  return ds.labels.length;
}

/** The examples at `indices`, in that order. */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const d = exampleSize(ds);
  const features = new Float32Array(indices.length * d);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    features.set(ds.features.subarray(j * d, (j + 1) * d), i * d);
    labels[i] = ds.labels[j];
  }
  return { features, featureShape: ds.featureShape.slice(), labels, classNames: ds.classNames, source: ds.source };
}

/** The examples of `a` followed by those of `b` (same feature shape and classes). */
export function concatDatasets(a: Dataset, b: Dataset): Dataset {
  if (a.featureShape.join('x') !== b.featureShape.join('x')) {
    throw new Error(`cannot concatenate datasets of shapes [${a.featureShape}] and [${b.featureShape}]`);
  }
  const features = new Float32Array(a.features.length + b.features.length);
  features.set(a.features, 0);
  features.set(b.features, a.features.length);
  const labels = new Int32Array(a.labels.length + b.labels.length);
  labels.set(a.labels, 0);
  labels.set(b.labels, a.labels.length);
  return { features, featureShape: a.featureShape.slice(), labels, classNames: a.classNames, source: a.source };
}

/**
 * The raw examples of each of `parts` (row indices, in that order), e.g. a training and a
 * validation split. With `release` (a loader's table only), `raw`'s cells are let go column by
 * column as the parts are made, so the split does not hold the table twice; `raw` keeps its
 * labels and origins but no cells. Otherwise it is {@link subsetRaw} of each part.
 */
export function splitRaw<T extends RawData>(raw: T, parts: ArrayLike<number>[], opts: { release?: boolean } = {}): T[] {
  const released = opts.release && raw.kind === 'tabular' ? splitColumnar(raw, parts.map((indices) => ({ indices, ...pickRows(raw, indices) })), true) : undefined;
  return (released as T[] | undefined) ?? parts.map((indices) => subsetRaw(raw, indices));
}

/** The raw examples at `indices`, in that order. */
export function subsetRaw<T extends RawData>(raw: T, indices: ArrayLike<number>): T {
  const pick = <U>(arr: U[]): U[] => Array.from(indices, (i) => arr[i]);
  const { labels, origins } = pickRows(raw, indices);
  switch (raw.kind) {
    case 'tabular':
      return (subsetColumnar(raw, indices, labels, origins) ?? { ...raw, rows: pick(raw.rows), labels, origins }) as T;
    case 'text':
      return { ...raw, texts: pick(raw.texts), labels, origins } as T;
    case 'image': {
      const d = raw.shape[0] * raw.shape[1] * raw.shape[2];
      const pixels = new Uint8Array(indices.length * d);
      for (let i = 0; i < indices.length; i++) pixels.set(raw.pixels.subarray(indices[i] * d, (indices[i] + 1) * d), i * d);
      return { ...raw, pixels, labels, origins } as T;
    }
  }
}

/** The labels and file positions (origins; 1…n when the loader kept none) of the examples at `indices`. */
function pickRows(raw: RawData, indices: ArrayLike<number>): { labels: string[]; origins: number[] } {
  const origins = raw.origins ?? Array.from(raw.labels, (_, i) => i + 1);
  return { labels: Array.from(indices, (i) => raw.labels[i]), origins: Array.from(indices, (i) => origins[i]) };
}

export function rawSize(raw: RawData): number {
  return raw.labels.length;
}
