/**
 * The comparison of an old and a new model slice by slice: for each group of examples that
 * shares a value of a column (a category, a numeric bin), of the true class or of the old
 * model's prediction, or of a crossing of two of these, the accuracy of both models, churn,
 * NFR, PFR, relative NFR and the relative change of the error rate, each with its count and
 * a percentile-bootstrap interval (resampling the slice's examples, bootstrap.ts). Slices
 * smaller than a minimum size are reported and marked, not dropped.
 *
 * A slicing is declared once, as a {@link SliceSpec}, or as its text form (SLICE_SYNTAX),
 * which the CLI's `--slice-by` and a gate policy's `slices:` both read with
 * {@link parseSliceSpec}. Pure: no I/O.
 */
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { readCell, sortedDistinct } from '../data/values.js';
import { bootstrapCIs, DEFAULT_LEVEL, DEFAULT_RESAMPLES, type BootstrapOptions, type ConfidenceInterval, type Interval } from './bootstrap.js';
import { checkClassIndices, checkSameLength, countOutcomes, flipOutcomes, flipRates, type FlipCounts } from './flips.js';

/** What one dimension of a slicing groups the examples by. */
export type SliceDimension =
  /**
   * A column of the data. Text columns slice by value; numeric columns (every value a number
   * or missing) by `bins` quantile bins (default {@link DEFAULT_SLICE_BINS}), by explicit
   * `cuts` (bins (−∞, c1], (c1, c2], …, (ck, ∞)), or with `values` by each distinct value.
   */
  | { kind: 'column'; column: string; bins?: number; cuts?: number[]; values?: boolean }
  /** The true class. */
  | { kind: 'trueClass' }
  /** The old (deployed) model's predicted class. */
  | { kind: 'oldPrediction' };

/** A slicing: one dimension, or the crossing of two (every combination of their values). */
export type SliceSpec = SliceDimension[];

/** Quantile bins of a numeric column when a slicing names none. */
export const DEFAULT_SLICE_BINS = 5;
/** Slices with fewer examples are reported as small (and not gated). */
export const DEFAULT_MIN_SLICE_SIZE = 30;
/** Most distinct values one dimension may slice by (a text column with more is an id, or needs binning). */
export const MAX_SLICE_VALUES = 100;
/** Most dimensions one slicing crosses. */
export const MAX_CROSSED = 2;

/** The keywords of the two dimensions that are not columns. */
export const SLICE_KEYWORDS = { trueClass: 'true-class', oldPrediction: 'old-prediction' } as const;

/** The text form of slicings, for help texts and docs. */
export const SLICE_SYNTAX =
  `COL (a column: its values; a numeric one in ${DEFAULT_SLICE_BINS} quantile bins), COL:bins=K (K ≥ 2 quantile bins), ` +
  `COL:cuts=[A,B] (explicit cut points; COL:cuts=A for one), COL:values (each value of a numeric column), ` +
  `${SLICE_KEYWORDS.trueClass}, ${SLICE_KEYWORDS.oldPrediction}, and A*B for the crossing of two`;

/** One dimension's canonical text (as parseSliceSpec reads it). */
function dimensionText(d: SliceDimension): string {
  if (d.kind === 'trueClass') return SLICE_KEYWORDS.trueClass;
  if (d.kind === 'oldPrediction') return SLICE_KEYWORDS.oldPrediction;
  if (d.cuts) return `${d.column}:cuts=[${d.cuts.map(formatNumber).join(',')}]`;
  if (d.bins !== undefined) return `${d.column}:bins=${d.bins}`;
  if (d.values) return `${d.column}:values`;
  return d.column;
}

/** A slicing's canonical text, e.g. `region*x.box:bins=3`. */
export function sliceSpecText(spec: SliceSpec): string {
  return spec.map(dimensionText).join('*');
}

/** Splits a --slice-by value into its slicings: commas separate them, except inside [...]. */
export function splitSliceList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    else if (ch === ']') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

function parseDimension(text: string, whole: string): SliceDimension {
  const bad = (problem: string) => new InputError('slices', `"${whole}": ${problem} (slicings: ${SLICE_SYNTAX})`);
  if (text === '') throw bad('an empty slicing');
  if (text === SLICE_KEYWORDS.trueClass) return { kind: 'trueClass' };
  if (text === SLICE_KEYWORDS.oldPrediction) return { kind: 'oldPrediction' };
  const colon = text.lastIndexOf(':');
  // "col:bins=5", "col:cuts=[1,2]", "col:values"; a colon elsewhere (no option after it) is part of the name
  const option = colon > 0 ? text.slice(colon + 1) : '';
  if (colon <= 0 || !/^(bins=|cuts=|values$)/.test(option)) return checkDimension({ kind: 'column', column: text }, whole);
  const column = text.slice(0, colon);
  if (option === 'values') return checkDimension({ kind: 'column', column, values: true }, whole);
  const [key, value] = [option.slice(0, option.indexOf('=')), option.slice(option.indexOf('=') + 1)];
  if (key === 'bins') {
    if (!/^[+-]?\d+$/.test(value)) throw bad(`bins must be an integer ≥ 2, got "${value}"`);
    return checkDimension({ kind: 'column', column, bins: Number(value) }, whole);
  }
  const list = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  const cuts = list.split(',').map((v) => v.trim());
  const numbers = cuts.map(Number);
  const wrong = cuts.findIndex((v, i) => v === '' || !Number.isFinite(numbers[i]));
  if (wrong >= 0) throw bad(`cut point "${cuts[wrong]}" is not a number`);
  return checkDimension({ kind: 'column', column, cuts: numbers }, whole);
}

/** Checks one dimension's options; the error names the slicing as written. */
function checkDimension<D extends SliceDimension>(d: D, whole: string): D {
  if (d.kind !== 'column') return d;
  const bad = (problem: string) => new InputError('slices', `"${whole}": ${problem}`);
  if (d.column.trim() === '') throw bad('a column name is empty');
  const options = [d.bins !== undefined, d.cuts !== undefined, d.values === true].filter(Boolean).length;
  if (options > 1) throw bad('give one of bins, cuts and values');
  if (d.bins !== undefined && !(Number.isInteger(d.bins) && d.bins >= 2)) throw bad(`bins must be an integer ≥ 2, got ${d.bins}`);
  if (d.bins !== undefined && d.bins > MAX_SLICE_VALUES) throw bad(`bins must be at most ${MAX_SLICE_VALUES}, got ${d.bins}`);
  if (d.cuts !== undefined) {
    if (d.cuts.length === 0) throw bad('cuts needs at least one cut point');
    if (d.cuts.length >= MAX_SLICE_VALUES) throw bad(`at most ${MAX_SLICE_VALUES - 1} cut points`);
    if (!d.cuts.every(Number.isFinite)) throw bad('cut points must be finite numbers');
    for (let i = 1; i < d.cuts.length; i++) if (!(d.cuts[i] > d.cuts[i - 1])) throw bad(`cut points must increase, got ${d.cuts.map(formatNumber).join(', ')}`);
  }
  return d;
}

/** Reads a slicing's text form (SLICE_SYNTAX), e.g. `region`, `x.box:bins=4`, `region*true-class`. */
export function parseSliceSpec(text: string): SliceSpec {
  const whole = text.trim();
  const parts = whole.split('*').map((p) => p.trim());
  if (parts.length > MAX_CROSSED) throw new InputError('slices', `"${whole}": a slicing crosses at most ${MAX_CROSSED} dimensions`);
  return checkSliceSpec(parts.map((p) => parseDimension(p, whole)), whole);
}

/** Checks a structured slicing (dimension count, options, no dimension twice). */
export function checkSliceSpec(spec: SliceSpec, whole = sliceSpecText(spec)): SliceSpec {
  if (!Array.isArray(spec) || spec.length < 1 || spec.length > MAX_CROSSED) throw new InputError('slices', `"${whole}": a slicing has 1 to ${MAX_CROSSED} dimensions`);
  spec.forEach((d) => checkDimension(d, whole));
  const keys = spec.map((d) => (d.kind === 'column' ? `column:${d.column}` : d.kind));
  if (new Set(keys).size !== keys.length) throw new InputError('slices', `"${whole}": crosses a dimension with itself`);
  return spec;
}

const dimensionSchema = z.union([
  z.object({ kind: z.literal('column'), column: z.string().min(1), bins: z.number().int().min(2).max(MAX_SLICE_VALUES).optional(), cuts: z.array(z.number()).min(1).optional(), values: z.boolean().optional() }).strict(),
  z.object({ kind: z.literal('trueClass') }).strict(),
  z.object({ kind: z.literal('oldPrediction') }).strict(),
]);

/** A slicing in a config: its text form (SLICE_SYNTAX) or the structured {@link SliceSpec}. */
export const sliceSpecSchema = z.union([z.string(), z.array(dimensionSchema).min(1).max(MAX_CROSSED)]).transform((value, ctx): SliceSpec => {
  try {
    return typeof value === 'string' ? parseSliceSpec(value) : checkSliceSpec(value as SliceSpec);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof InputError ? e.message.slice('slices: '.length) : String(e) });
    return z.NEVER;
  }
});

/** A slicing given either way, as its structured form. */
export function toSliceSpec(spec: SliceSpec | string): SliceSpec {
  return typeof spec === 'string' ? parseSliceSpec(spec) : checkSliceSpec(spec);
}

// ---------------------------------------------------------------------------------------
// Assigning examples to slices.

/** A table of columns by name, one value per example: text as read from a file (missing: '', NA, ?, nan), numbers, or null. */
export type ColumnTable = Record<string, ArrayLike<string | number | null | undefined>>;

/** What slicing needs of a comparison: labels, both predictions and (for column slices) the data's columns. */
export interface SliceInput {
  /** True class index of each example. */
  labels: Int32Array;
  /** Top-1 predictions of the old (deployed) model. */
  predOld: Int32Array;
  /** Top-1 predictions of the new model. */
  predNew: Int32Array;
  numClasses: number;
  /** Display names of the classes, by index. */
  classNames?: string[];
  /** Columns of the data to slice by (they need not be columns a model reads). */
  columns?: ColumnTable;
}

/** Which slice of one slicing each example is in. */
export interface SliceAssignment {
  /** The slicing's canonical text. */
  spec: string;
  /** The name of each dimension (a column, "true class", "old prediction"). */
  names: string[];
  /** Each slice's value on each dimension, e.g. ["east", "3 < x.box ≤ 5"]; only slices with examples. */
  values: string[][];
  /** Readable name of each slice, e.g. "region = east and 3 < x.box ≤ 5". */
  labels: string[];
  /** Index into `labels` of each example's slice. */
  slice: Int32Array;
  /** The cut points of each dimension that was binned (null for the others). */
  cuts: (number[] | null)[];
}

/** Shortest faithful text of a cut point (at most 6 significant digits). */
function formatNumber(x: number): string {
  return String(Number(x.toPrecision(6)));
}

interface Coded {
  name: string;
  /** Each level's value ("east", "3 < x.box ≤ 5", "missing") and readable label ("region = east"), in slice order. */
  values: string[];
  labels: string[];
  /** Level index per example. */
  code: Int32Array;
  cuts: number[] | null;
}

const MISSING_VALUE = 'missing';

function cellText(v: string | number | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  const t = v.trim();
  return readCell(t).kind === 'missing' ? null : t;
}

/** Type-1 quantile cut points of sorted values: the ⌈q·m⌉-th value for q = 1/bins, …; distinct, below the maximum. */
export function quantileCuts(sorted: Float64Array, bins: number): number[] {
  const m = sorted.length;
  const cuts: number[] = [];
  if (m === 0) return cuts;
  for (let j = 1; j < bins; j++) {
    const c = sorted[Math.max(0, Math.ceil((j / bins) * m) - 1)];
    if (c < sorted[m - 1] && (cuts.length === 0 || c > cuts[cuts.length - 1])) cuts.push(c);
  }
  return cuts;
}

/** Bins (−∞, c1], (c1, c2], …, (ck, ∞) as "x ≤ c1", "c1 < x ≤ c2", …, "x > ck". */
function binLabels(name: string, cuts: number[]): string[] {
  if (cuts.length === 0) return [`${name}: all values`];
  const f = cuts.map(formatNumber);
  return [`${name} ≤ ${f[0]}`, ...f.slice(1).map((c, i) => `${f[i]} < ${name} ≤ ${c}`), `${name} > ${f[f.length - 1]}`];
}

function codeDimension(d: SliceDimension, input: SliceInput, n: number, whole: string): Coded {
  if (d.kind !== 'column') {
    const classes = input.classNames ?? Array.from({ length: input.numClasses }, (_, k) => String(k));
    const name = d.kind === 'trueClass' ? 'true class' : 'old prediction';
    const values = d.kind === 'trueClass' ? input.labels : input.predOld;
    return { name, values: classes.slice(), labels: classes.map((c) => `${name} = ${c}`), code: Int32Array.from(values), cuts: null };
  }
  const table = input.columns ?? {};
  const col = table[d.column];
  if (col === undefined) {
    const available = Object.keys(table);
    const known = available.length ? `the columns are ${available.join(', ')}` : 'no columns were given';
    throw new InputError('columns', `"${d.column}" (slicing "${whole}") is not a column of the data: ${known}`);
  }
  if (col.length !== n) throw new InputError('columns', `"${d.column}" has ${col.length} values for ${n} examples`);
  const texts = Array.from({ length: n }, (_, i) => cellText(col[i]));
  const nonNumber = texts.find((t) => t !== null && readCell(t).kind !== 'number');
  const numeric = nonNumber === undefined && texts.some((t) => t !== null);
  const hasMissing = texts.some((t) => t === null);
  const missing = hasMissing ? { values: [MISSING_VALUE], labels: [`${d.column} ${MISSING_VALUE}`] } : { values: [], labels: [] };
  const code = new Int32Array(n);
  if (d.bins !== undefined || d.cuts !== undefined || (numeric && !d.values)) {
    if (!numeric) throw new InputError('slices', `"${whole}": column "${d.column}" is not numeric (it holds "${nonNumber ?? MISSING_VALUE}"): ${d.bins !== undefined ? 'bins' : 'cuts'} need numbers`);
    const x = texts.map((t) => (t === null ? NaN : Number(t)));
    const cuts = d.cuts ?? quantileCuts(Float64Array.from(x.filter((v) => !Number.isNaN(v))).sort(), d.bins ?? DEFAULT_SLICE_BINS);
    const labels = binLabels(d.column, cuts);
    x.forEach((v, i) => {
      if (Number.isNaN(v)) code[i] = labels.length;
      else {
        let b = 0;
        while (b < cuts.length && v > cuts[b]) b++;
        code[i] = b;
      }
    });
    return { name: d.column, values: [...labels, ...missing.values], labels: [...labels, ...missing.labels], code, cuts };
  }
  const distinct = sortedDistinct(texts.filter((t): t is string => t !== null));
  if (distinct.length > MAX_SLICE_VALUES) {
    throw new InputError('slices', `"${whole}": column "${d.column}" has ${distinct.length} distinct values (at most ${MAX_SLICE_VALUES}): ${numeric ? 'bin it (:bins=K)' : 'slice by another column'}`);
  }
  const index = new Map(distinct.map((v, k) => [v, k] as const));
  texts.forEach((t, i) => (code[i] = t === null ? distinct.length : index.get(t)!));
  return { name: d.column, values: [...distinct, ...missing.values], labels: [...distinct.map((v) => `${d.column} = ${v}`), ...missing.labels], code, cuts: null };
}

/** Assigns every example to its slice of `spec` (slices without examples are left out). */
export function assignSlices(input: SliceInput, spec: SliceSpec | string): SliceAssignment {
  const s = toSliceSpec(spec);
  const whole = sliceSpecText(s);
  const n = checkSameLength({ labels: input.labels, predOld: input.predOld, predNew: input.predNew });
  checkClassIndices(input.labels, input.numClasses, 'labels');
  checkClassIndices(input.predOld, input.numClasses, 'predictions');
  const dims = s.map((d) => codeDimension(d, input, n, whole));
  // one code per combination: mixed radix over the dimensions' levels, so slices sort by the first dimension, then the second
  const radix = dims.map((d) => d.labels.length);
  const combined = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let c = 0;
    dims.forEach((d, j) => (c = c * radix[j] + d.code[i]));
    combined[i] = c;
  }
  const present = [...new Set(combined)].sort((a, b) => a - b);
  const slot = new Map(present.map((c, k) => [c, k] as const));
  const levels = present.map((c) => {
    const ks: number[] = [];
    for (let j = dims.length - 1; j >= 0; j--) {
      ks.unshift(c % radix[j]);
      c = Math.floor(c / radix[j]);
    }
    return ks;
  });
  return {
    spec: whole,
    names: dims.map((d) => d.name),
    values: levels.map((ks) => ks.map((k, j) => dims[j].values[k])),
    labels: levels.map((ks) => ks.map((k, j) => dims[j].labels[k]).join(' and ')),
    slice: Int32Array.from(combined, (c) => slot.get(c)!),
    cuts: dims.map((d) => d.cuts),
  };
}

// ---------------------------------------------------------------------------------------
// Per-slice statistics.

/** The rates of one slice, each with its bootstrap interval. */
export interface SliceMetrics {
  accuracyOld: Interval;
  accuracyNew: Interval;
  churn: Interval;
  /** Negative flip rate: old right, new wrong. */
  nfr: Interval;
  /** Positive flip rate: old wrong, new right. */
  pfr: Interval;
  /** NFR / (accuracyOld · errorRateNew); null where the old model is never right or the new one never wrong. */
  relativeNfr: Interval | null;
  /** Relative change of the error rate, (error new − error old) / error old; null where the old model makes no error. */
  errorIncrease: Interval | null;
}
export type SliceMetricKey = keyof SliceMetrics;

/** The per-slice metrics with their labels, defined once for tables, charts and the gate. */
export const SLICE_METRICS: readonly { key: SliceMetricKey; label: string; percent: boolean; signed?: boolean; meaning: string }[] = [
  { key: 'accuracyOld', label: 'Acc. old', percent: true, meaning: 'old model correct' },
  { key: 'accuracyNew', label: 'Acc. new', percent: true, meaning: 'new model correct' },
  { key: 'churn', label: 'Churn', percent: true, meaning: 'top-1 prediction changed' },
  { key: 'nfr', label: 'NFR', percent: true, meaning: 'old right, new wrong' },
  { key: 'pfr', label: 'PFR', percent: true, meaning: 'old wrong, new right' },
  { key: 'relativeNfr', label: 'Rel. NFR', percent: false, meaning: 'NFR / (acc_old · error_new)' },
  { key: 'errorIncrease', label: 'Error change', percent: true, signed: true, meaning: '(error new − error old) / error old' },
];

export interface SliceStats {
  /** The slice's value on each dimension ("east", "3 < x.box ≤ 5"); empty for all examples. */
  values: string[];
  /** Readable name, e.g. "region = east and 3 < x.box ≤ 5" ("all examples" for the whole data). */
  label: string;
  n: number;
  /** Fewer than the minimum size: reported, not gated (its intervals are wide). */
  small: boolean;
  counts: FlipCounts;
  metrics: SliceMetrics;
}

export interface Slicing {
  /** Canonical text of the slicing, e.g. `region*x.box:bins=3`. */
  spec: string;
  /** Name of each dimension. */
  names: string[];
  /** Cut points of each binned dimension (null for the others). */
  cuts: (number[] | null)[];
  /** Every slice with at least one example, in the dimensions' order. */
  slices: SliceStats[];
}

/** What {@link compareBySlice} returns: plain data, safe to JSON.stringify. */
export interface SliceComparison {
  n: number;
  level: number;
  resamples: number;
  seed: number | string;
  /** Slices with fewer examples are `small`. */
  minSize: number;
  /** The same statistics over all examples. */
  overall: SliceStats;
  slicings: Slicing[];
}

export interface SliceOptions extends BootstrapOptions {
  /** The slicings: structured, or in their text form (SLICE_SYNTAX). */
  slices: (SliceSpec | string)[];
  /** Slices with fewer examples are reported as small; default {@link DEFAULT_MIN_SLICE_SIZE}. */
  minSize?: number;
}

function toInterval(ci: ConfidenceInterval): Interval | null {
  if (!Number.isFinite(ci.estimate)) return null;
  return { estimate: ci.estimate, low: Number.isFinite(ci.low) ? ci.low : ci.estimate, high: Number.isFinite(ci.high) ? ci.high : ci.estimate };
}

/** The statistics of the examples at `rows` (their outcomes), with intervals from resampling them. */
function sliceStats(outcomes: Uint8Array, rows: Int32Array, values: string[], label: string, small: boolean, opts: { resamples: number; level: number; seed: string }): SliceStats {
  const own = Uint8Array.from(rows, (i) => outcomes[i]);
  const statistic = (idx: Int32Array): number[] => {
    const m = flipRates(countOutcomes(own, idx));
    const errOld = m.errorRateOld;
    return [m.accuracyOld, m.accuracyNew, m.churn, m.nfr, m.pfr, m.relativeNfr ?? NaN, errOld === 0 ? NaN : (m.errorRateNew - errOld) / errOld];
  };
  const cis = bootstrapCIs(own.length, statistic, opts).map(toInterval);
  const need = (x: Interval | null): Interval => x ?? { estimate: NaN, low: NaN, high: NaN };
  return {
    values,
    label,
    n: own.length,
    small,
    counts: countOutcomes(own),
    metrics: { accuracyOld: need(cis[0]), accuracyNew: need(cis[1]), churn: need(cis[2]), nfr: need(cis[3]), pfr: need(cis[4]), relativeNfr: cis[5], errorIncrease: cis[6] },
  };
}

function checkMinSize(minSize: number): number {
  if (!(Number.isInteger(minSize) && minSize >= 1)) throw new InputError('minSize', `must be a positive integer, got ${minSize}`);
  return minSize;
}

/**
 * Compares an old and a new model on every slice of each slicing: counts and every rate
 * with a percentile-bootstrap interval over the slice's examples (seeded per slice, so a
 * slice's interval does not depend on the other slicings asked for).
 */
export function compareBySlice(input: SliceInput, opts: SliceOptions): SliceComparison {
  const n = checkSameLength({ labels: input.labels, predOld: input.predOld, predNew: input.predNew });
  checkClassIndices(input.predNew, input.numClasses, 'predictions');
  const minSize = checkMinSize(opts.minSize ?? DEFAULT_MIN_SLICE_SIZE);
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const level = opts.level ?? DEFAULT_LEVEL;
  const outcomes = flipOutcomes(input.labels, input.predOld, input.predNew);
  const boot = (key: string) => ({ resamples, level, seed: `${opts.seed}/${key}` });
  const assignments = opts.slices.map((s) => assignSlices(input, s));
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const overall = sliceStats(outcomes, all, [], 'all examples', n < minSize, boot('all'));
  const slicings = assignments.map((a): Slicing => {
    const members: number[][] = a.labels.map(() => []);
    a.slice.forEach((s, i) => members[s].push(i));
    return {
      spec: a.spec,
      names: a.names,
      cuts: a.cuts,
      slices: a.labels.map((label, s) => sliceStats(outcomes, Int32Array.from(members[s]), a.values[s], label, members[s].length < minSize, boot(`${a.spec}/${label}`))),
    };
  });
  return { n, level, resamples, seed: opts.seed, minSize, overall, slicings };
}
