/**
 * Disjoint index sets drawn by a seeded permutation of 0..n-1. Each set lists its
 * indices in permutation order (random order), so any prefix of a set is itself a
 * random sample. Sizes are counts (integers ≥ 0) or fractions of n in (0, 1),
 * rounded to the nearest count.
 */
import { InputError } from '../util/errors.js';
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
  const source = opts.source ?? 'split';
  requireExampleCount(n, source);
  const requested = {
    test: opts.test ?? 0,
    initial: opts.initial ?? 1000,
    validation: opts.validation ?? 100,
    newBatch: opts.newBatch ?? 1000,
  };
  const restParts = SCENARIO_PARTS.filter((part) => requested[part] === 'rest');
  if (restParts.length > 1) throw new InputError(source, `only one part can be 'rest', not ${restParts.join(' and ')}`);
  const counts = Object.fromEntries(
    SCENARIO_PARTS.map((part) => [part, requested[part] === 'rest' ? 0 : resolveSize(requested[part] as number, n, part, source)]),
  ) as Record<(typeof SCENARIO_PARTS)[number], number>;
  const used = SCENARIO_PARTS.reduce((sum, part) => sum + counts[part], 0);
  if (used > n) {
    const parts = SCENARIO_PARTS.filter((part) => counts[part] > 0).map((part) => `${part} ${counts[part]}`);
    throw new InputError(source, `the split needs ${used} examples (${parts.join(' + ')}) but the data has only ${n}`);
  }
  if (restParts.length === 1) counts[restParts[0]] = n - used;
  const [test, initial, validation, newBatch] = takeConsecutive(new Rng(opts.seed).permutation(n), SCENARIO_PARTS.map((part) => counts[part]));
  return { initial, validation, newBatch, test };
}

/** Splits 0..n-1 into a test set of `testSize` (count or fraction) and the rest for training. */
export function trainTestSplit(n: number, testSize: SplitSize, seed: number): { train: Int32Array; test: Int32Array } {
  const [test, train] = splitOff(n, testSize, seed, 'test size');
  return { train, test };
}

/** Splits 0..n-1 into a validation set of `validationSize` (count or fraction) and the rest for training. */
export function trainValidationSplit(
  n: number,
  validationSize: SplitSize,
  seed: number,
): { train: Int32Array; validation: Int32Array } {
  const [validation, train] = splitOff(n, validationSize, seed, 'validation size');
  return { train, validation };
}

/** Draws `size` examples of n (the first part) and returns them with the rest. */
function splitOff(n: number, size: SplitSize, seed: number, name: string): [Int32Array, Int32Array] {
  requireExampleCount(n, 'split');
  const count = resolveSize(size, n, name, 'split');
  if (count > n) throw new InputError('split', `${name} ${count} exceeds the ${n} examples of the data`);
  const [part, rest] = takeConsecutive(new Rng(seed).permutation(n), [count, n - count]);
  return [part, rest];
}

/** A size as a count: fractions in (0, 1) are taken of n and rounded; counts must be integers ≥ 0. */
function resolveSize(size: number, n: number, name: string, source: string): number {
  if (size > 0 && size < 1) return Math.round(size * n);
  if (!Number.isInteger(size) || size < 0) {
    throw new InputError(source, `${name} must be a count (integer ≥ 0) or a fraction in (0, 1), got ${size}`);
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
