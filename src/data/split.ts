/**
 * Disjoint index sets drawn by a seeded permutation of 0..n-1. Each set lists its
 * indices in permutation order (random order), so any prefix of a set is itself a
 * random sample. Sizes are counts (integers ≥ 0) or fractions of n in (0, 1),
 * rounded to the nearest count.
 *
 * A hold-out given the labels ({@link HoldOutOptions}) is stratified by class: each class
 * gives about size × its share, and a class keeps at least one example in the larger part.
 * The update scenario (the paper's protocol, methods.md §1) stays a plain random draw.
 */
import { InputError, ParamError, param, paramText } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/** A count of examples, or a fraction of all n examples when strictly between 0 and 1. */
export type SplitSize = number;

/** Options of {@link splitUpdateScenario}; defaults follow the paper's small-data protocol. */
export interface UpdateScenarioOptions {
  seed: number;
  /** Examples the deployed (base) model trains on (default 1000), or 'rest'. */
  initial?: SplitSize | 'rest';
  /** Validation examples, e.g. for choosing λ (default 100). */
  validation?: SplitSize;
  /** Examples that arrive for the update (default 1000), or 'rest'. */
  newBatch?: SplitSize | 'rest';
  /**
   * Held-out test examples, taken first (default 0: the caller has a separate test set).
   * 'rest' takes everything the other sets leave.
   */
  test?: SplitSize | 'rest';
  /** Names the data in error messages (default "split"). */
  source?: string;
}

/** The four disjoint index sets of one trial of the update scenario (methods.md §1). */
export interface UpdateScenario {
  initial: Int32Array;
  validation: Int32Array;
  newBatch: Int32Array;
  test: Int32Array;
}

const SCENARIO_PARTS = ['test', 'initial', 'validation', 'newBatch'] as const;

/**
 * Draws the update scenario from n examples: a test portion (if asked for), an initial
 * sample for the base model, a validation sample, and a new batch; the new model
 * trains on initial + newBatch. At most one part may be 'rest' (all examples the other
 * parts leave); examples in no part are unused. Throws an InputError when the parts
 * need more than n examples. The same n, sizes and seed always give the same split.
 */
export function splitUpdateScenario(n: number, opts: UpdateScenarioOptions): UpdateScenario {
  const counts = scenarioCounts(n, opts);
  const [test, initial, validation, newBatch] = takeConsecutive(new Rng(opts.seed).permutation(n), SCENARIO_PARTS.map((part) => counts[part]));
  return { initial, validation, newBatch, test };
}

/**
 * Checks that the update scenario's parts fit n examples, as splitUpdateScenario would (for any
 * seed), without drawing them: errors name the parts (library parameters `initial`, …).
 */
export function checkUpdateScenario(n: number, opts: Omit<UpdateScenarioOptions, 'seed'>): void {
  scenarioCounts(n, opts);
}

/** The size of each part of the scenario ('rest' resolved). */
function scenarioCounts(n: number, opts: Omit<UpdateScenarioOptions, 'seed'>): Record<(typeof SCENARIO_PARTS)[number], number> {
  const source = opts.source ?? 'split';
  requireExampleCount(n, source);
  const requested = {
    test: opts.test ?? 0,
    initial: opts.initial ?? 1000,
    validation: opts.validation ?? 100,
    newBatch: opts.newBatch ?? 1000,
  };
  const restParts = SCENARIO_PARTS.filter((part) => requested[part] === 'rest');
  if (restParts.length > 1) throw new ParamError([source], [`only one part can be 'rest', not `, ...restParts.flatMap((part, i) => [i ? ' and ' : '', param(part)])]);
  const counts = Object.fromEntries(
    SCENARIO_PARTS.map((part) => [part, requested[part] === 'rest' ? 0 : resolveSize(requested[part] as number, n, part)]),
  ) as Record<(typeof SCENARIO_PARTS)[number], number>;
  const used = SCENARIO_PARTS.reduce((sum, part) => sum + counts[part], 0);
  if (used > n) {
    const parts = SCENARIO_PARTS.filter((part) => counts[part] > 0).flatMap((part, i) => paramText`${i ? ' + ' : ''}${param(part)} ${counts[part]}`);
    throw new ParamError([source], [...paramText`the split needs ${used} examples (`, ...parts, `) but the data has only ${n}`]);
  }
  if (restParts.length === 1) counts[restParts[0]] = n - used;
  return counts;
}

/** How {@link trainValidationSplit} and {@link trainTestSplit} draw the held-out part. */
export interface HoldOutOptions {
  /**
   * The class of each of the n examples. Given, the hold-out is stratified by class: each
   * class contributes about size × (its share of n), the shares rounded by largest remainder
   * so the hold-out has exactly the requested size, and a class keeps at least one example
   * in training (a class with a single example stays entirely in training). Only when the
   * hold-out is larger than that allows (more than n less the number of classes) does it
   * take the remaining examples too, in random order.
   */
  labels?: ArrayLike<string | number>;
  /** false: a plain random draw of the examples, ignoring `labels` (the hold-out of Distillery before stratification). Default true. */
  stratify?: boolean;
}

/** Splits 0..n-1 into a test set of `testSize` (count or fraction) and the rest for training; stratified by class when given the labels. */
export function trainTestSplit(n: number, testSize: SplitSize, seed: number, opts: HoldOutOptions = {}): { train: Int32Array; test: Int32Array } {
  const [test, train] = splitOff(n, testSize, seed, 'testSize', opts);
  return { train, test };
}

/**
 * Splits 0..n-1 into a validation set of `validationSize` (count or fraction) and the rest
 * for training. With `opts.labels` the validation set is stratified by class (see
 * {@link HoldOutOptions}); without them, or with `stratify: false`, it is a plain random
 * draw. The same n, size, seed (and labels) always give the same split.
 */
export function trainValidationSplit(
  n: number,
  validationSize: SplitSize,
  seed: number,
  opts: HoldOutOptions = {},
): { train: Int32Array; validation: Int32Array } {
  const [validation, train] = splitOff(n, validationSize, seed, 'validationSize', opts);
  return { train, validation };
}

/** Draws `size` examples of n (the first part) and returns them with the rest, both in permutation order; errors name the size's parameter. */
function splitOff(n: number, size: SplitSize, seed: number, name: string, opts: HoldOutOptions): [Int32Array, Int32Array] {
  requireExampleCount(n, 'split');
  const count = resolveSize(size, n, name);
  if (count > n) throw new ParamError([param(name)], [`${count} exceeds the ${n} examples of the data`]);
  const order = new Rng(seed).permutation(n);
  if (opts.labels === undefined || opts.stratify === false) return takeConsecutive(order, [count, n - count]) as [Int32Array, Int32Array];
  if (opts.labels.length !== n) throw new Error(`split: ${opts.labels.length} labels for ${n} examples`);
  return stratifiedTake(order, classIndices(opts.labels), count);
}

/** Each example's class as 0..K-1 (in order of first appearance) and the class sizes. */
function classIndices(labels: ArrayLike<string | number>): { classOf: Int32Array; sizes: number[] } {
  const index = new Map<string | number, number>();
  const classOf = new Int32Array(labels.length);
  const sizes: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    let c = index.get(labels[i]);
    if (c === undefined) {
      c = sizes.length;
      index.set(labels[i], c);
      sizes.push(0);
    }
    classOf[i] = c;
    sizes[c]++;
  }
  return { classOf, sizes };
}

/**
 * The first `count` of `order` by class quota: the first quota[c] examples of each class c
 * in `order` form the part, the others the rest; both keep the order of `order`.
 */
function stratifiedTake(order: Int32Array, { classOf, sizes }: { classOf: Int32Array; sizes: number[] }, count: number): [Int32Array, Int32Array] {
  const n = order.length;
  const quota = classQuotas(sizes, count);
  const taken = new Int32Array(sizes.length);
  const part = new Int32Array(count);
  const rest = new Int32Array(n);
  let p = 0;
  let r = 0;
  for (const i of order) {
    const c = classOf[i];
    if (taken[c] < quota[c]) {
      taken[c]++;
      part[p++] = i;
    } else rest[r++] = i;
  }
  // The quotas fall short only when the part leaves fewer than one example per class
  // behind: it takes the remaining ones from the rest, in order.
  const short = count - p;
  part.set(rest.subarray(0, short), p);
  return [part, rest.slice(short, r)];
}

/**
 * How many examples of each class (of the given sizes) go to a part of `count`: shares
 * proportional to the sizes, each class capped at its size less one (one stays behind),
 * what a capped class cannot give spread over the others in proportion, the fractions
 * rounded by largest remainder (ties: the earlier class). The quotas sum to `count`
 * unless the caps sum to less.
 */
export function classQuotas(sizes: readonly number[], count: number): Int32Array {
  const K = sizes.length;
  const quota = new Int32Array(K);
  const cap = sizes.map((s) => Math.max(0, s - 1));
  const free = new Set<number>(sizes.map((_, c) => c).filter((c) => cap[c] > 0));
  let remaining = Math.min(count, cap.reduce((a, b) => a + b, 0));
  // Water-filling: a class whose proportional share reaches its cap takes the cap and leaves
  // the pool; the others share what remains. At most K rounds.
  for (;;) {
    let pool = 0;
    for (const c of free) pool += sizes[c];
    const capped = [...free].filter((c) => (remaining * sizes[c]) / pool >= cap[c]);
    if (capped.length === 0) break;
    for (const c of capped) {
      quota[c] = cap[c];
      remaining -= cap[c];
      free.delete(c);
    }
  }
  if (free.size === 0) return quota;
  let pool = 0;
  for (const c of free) pool += sizes[c];
  const classes = [...free];
  const ideal = classes.map((c) => (remaining * sizes[c]) / pool);
  let given = 0;
  classes.forEach((c, k) => {
    quota[c] = Math.floor(ideal[k]);
    given += quota[c];
  });
  const byRemainder = classes.map((_, k) => k).sort((a, b) => ideal[b] - Math.floor(ideal[b]) - (ideal[a] - Math.floor(ideal[a])) || classes[a] - classes[b]);
  for (let k = 0; given < remaining; k++, given++) quota[classes[byRemainder[k]]]++;
  return quota;
}

/** A size as a count: fractions in (0, 1) are taken of n and rounded; counts must be integers ≥ 0. Errors name the parameter `name`. */
function resolveSize(size: number, n: number, name: string): number {
  if (size > 0 && size < 1) return Math.round(size * n);
  if (!Number.isInteger(size) || size < 0) {
    throw new ParamError([param(name)], [`must be a count (integer ≥ 0) or a fraction in (0, 1), got ${size}`]);
  }
  return size;
}

/** Consecutive slices of `order` with the given lengths. */
function takeConsecutive(order: Int32Array, lengths: number[]): Int32Array[] {
  let start = 0;
  return lengths.map((length) => {
    const part = order.slice(start, start + length);
    start += length;
    return part;
  });
}

function requireExampleCount(n: number, source: string): void {
  if (!Number.isInteger(n) || n < 0) throw new InputError(source, `the number of examples must be an integer ≥ 0, got ${n}`);
}
