/**
 * Top-1 agreement metrics between an old (deployed) and a new model on the same labelled
 * examples: accuracy, churn, negative / positive flips and the rates derived from them
 * (methods.md, "Metrics").
 *
 * Every example falls into exactly one {@link Outcome}; all counts, and therefore all
 * rates, are functions of the outcome tally. The bootstrap resamples outcomes, so a rate's
 * confidence interval is computed by the same code as its point estimate.
 */
import { InputError } from '../util/errors.js';
import { checkSameLength } from '../models/agreement.js';

// churn and the length check are counted below methods/ (models/agreement.ts), for everyone
export { checkSameLength, churn } from '../models/agreement.js';

/** What happened to one example between the old and the new model. */
export const Outcome = {
  /** Old and new both right. */
  BothCorrect: 0,
  /** Old right, new wrong (a regression, "bad churn"). */
  NegativeFlip: 1,
  /** Old wrong, new right (a fix, "good churn"). */
  PositiveFlip: 2,
  /** Both wrong with the same prediction. */
  WrongSame: 3,
  /** Both wrong with different predictions. */
  WrongChanged: 4,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];
const OUTCOME_KINDS = 5;

/** True for the outcomes where the top-1 prediction changed. */
export function isChange(o: number): boolean {
  return o === Outcome.NegativeFlip || o === Outcome.PositiveFlip || o === Outcome.WrongChanged;
}

/** Raw counts behind every flip metric. */
export interface FlipCounts {
  /** Number of examples. */
  n: number;
  /** Examples the old model gets right. */
  correctOld: number;
  /** Examples the new model gets right. */
  correctNew: number;
  /** Examples whose top-1 prediction changed (= negative + positive flips + wrong→wrong changes). */
  changed: number;
  /** Old right, new wrong. */
  negativeFlips: number;
  /** Old wrong, new right. */
  positiveFlips: number;
  /** Both wrong, with different predictions. */
  wrongToWrongChanges: number;
}

/** Flip metrics between two models; every rate is a fraction in [0, 1] except `relativeNfr`. */
export interface FlipMetrics {
  /** Fraction of examples the old model classifies correctly. */
  accuracyOld: number;
  /** Fraction of examples the new model classifies correctly. */
  accuracyNew: number;
  /** 1 − accuracyOld. */
  errorRateOld: number;
  /** 1 − accuracyNew. */
  errorRateNew: number;
  /** Fraction of examples whose top-1 prediction changed (needs no labels). */
  churn: number;
  /** Negative flip rate: fraction of examples old gets right and new gets wrong. */
  nfr: number;
  /** Positive flip rate: fraction of examples old gets wrong and new gets right. */
  pfr: number;
  /** Negative flip impact: share of the new model's errors that are negative flips (0 when new makes no errors). */
  nfi: number;
  /** Positive flip impact: share of the new model's correct answers that are fixes (0 when new is never right). */
  pfi: number;
  /**
   * NFR / (accuracyOld · errorRateNew): negative flips relative to the rate expected if the
   * two models erred independently (1 = as independent, < 1 = fewer). null when the
   * denominator is 0 (then NFR is necessarily 0 as well).
   */
  relativeNfr: number | null;
  /** Churn that fixes errors; equals `pfr`. */
  goodChurn: number;
  /** Churn that breaks correct answers; equals `nfr`. */
  badChurn: number;
  /** Fraction of examples wrong under both models with different predictions. churn = pfr + nfr + wrongToWrongRate. */
  wrongToWrongRate: number;
  counts: FlipCounts;
}

/** Flip counts among the examples of one true class. */
export interface ClassFlips {
  classIndex: number;
  /** Examples whose true label is this class. */
  n: number;
  negativeFlips: number;
  positiveFlips: number;
  /** Examples of this class whose prediction changed. */
  churned: number;
}

/** Classifies each example into an {@link Outcome}. */
export function flipOutcomes(labels: Int32Array, predOld: Int32Array, predNew: Int32Array): Uint8Array {
  const n = checkSameLength({ labels, predOld, predNew });
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const a = predOld[i];
    const b = predNew[i];
    if (a === y) out[i] = b === y ? Outcome.BothCorrect : Outcome.NegativeFlip;
    else if (b === y) out[i] = Outcome.PositiveFlip;
    else out[i] = a === b ? Outcome.WrongSame : Outcome.WrongChanged;
  }
  return out;
}

/**
 * Tallies outcomes, over all examples or over the multiset `idx` of example indices (a
 * bootstrap resample).
 */
export function countOutcomes(outcomes: Uint8Array, idx?: Int32Array): FlipCounts {
  const tally = new Float64Array(OUTCOME_KINDS);
  if (idx) for (let i = 0; i < idx.length; i++) tally[outcomes[idx[i]]]++;
  else for (let i = 0; i < outcomes.length; i++) tally[outcomes[i]]++;
  const neg = tally[Outcome.NegativeFlip];
  const pos = tally[Outcome.PositiveFlip];
  const both = tally[Outcome.BothCorrect];
  const ww = tally[Outcome.WrongChanged];
  return {
    n: idx ? idx.length : outcomes.length,
    correctOld: both + neg,
    correctNew: both + pos,
    changed: neg + pos + ww,
    negativeFlips: neg,
    positiveFlips: pos,
    wrongToWrongChanges: ww,
  };
}

/** Turns counts into rates (see {@link FlipMetrics} for the 0/0 conventions). */
export function flipRates(c: FlipCounts): FlipMetrics {
  const n = c.n;
  const accuracyOld = c.correctOld / n;
  const accuracyNew = c.correctNew / n;
  const errorRateNew = 1 - accuracyNew;
  const nfr = c.negativeFlips / n;
  const pfr = c.positiveFlips / n;
  const errorsNew = n - c.correctNew;
  const expected = accuracyOld * errorRateNew;
  return {
    accuracyOld,
    accuracyNew,
    errorRateOld: 1 - accuracyOld,
    errorRateNew,
    churn: c.changed / n,
    nfr,
    pfr,
    nfi: errorsNew === 0 ? 0 : c.negativeFlips / errorsNew,
    pfi: c.correctNew === 0 ? 0 : c.positiveFlips / c.correctNew,
    relativeNfr: expected === 0 ? null : nfr / expected,
    goodChurn: pfr,
    badChurn: nfr,
    wrongToWrongRate: c.wrongToWrongChanges / n,
    counts: c,
  };
}

/** All flip metrics between an old and a new model's top-1 predictions on labelled examples. */
export function flipMetrics(labels: Int32Array, predOld: Int32Array, predNew: Int32Array): FlipMetrics {
  return flipRates(countOutcomes(flipOutcomes(labels, predOld, predNew)));
}

/** 1 where the prediction is right, 0 where wrong (e.g. input to McNemar's test). */
export function correctMask(labels: Int32Array, preds: Int32Array): Uint8Array {
  const n = checkSameLength({ labels, preds });
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = labels[i] === preds[i] ? 1 : 0;
  return out;
}

/** Throws InputError(source, …) unless every value is an integer class index in [0, numClasses). */
export function checkClassIndices(values: Int32Array, numClasses: number, source: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0 || v >= numClasses) {
      throw new InputError(source, `value ${v} at position ${i} is not a class index in [0, ${numClasses})`);
    }
  }
}

/** Negative flips, positive flips and churn broken down by true class (index = class). */
export function perClassFlips(
  labels: Int32Array,
  predOld: Int32Array,
  predNew: Int32Array,
  numClasses: number,
): ClassFlips[] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new InputError('numClasses', `must be a positive integer, got ${numClasses}`);
  }
  const outcomes = flipOutcomes(labels, predOld, predNew);
  checkClassIndices(labels, numClasses, 'labels');
  const rows: ClassFlips[] = Array.from({ length: numClasses }, (_, k) => ({
    classIndex: k,
    n: 0,
    negativeFlips: 0,
    positiveFlips: 0,
    churned: 0,
  }));
  for (let i = 0; i < outcomes.length; i++) {
    const row = rows[labels[i]];
    const o = outcomes[i];
    row.n++;
    if (o === Outcome.NegativeFlip) row.negativeFlips++;
    else if (o === Outcome.PositiveFlip) row.positiveFlips++;
    if (isChange(o)) row.churned++;
  }
  return rows;
}
