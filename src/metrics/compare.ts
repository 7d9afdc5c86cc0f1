/**
 * Full comparison of an old (deployed) and a new model on one labelled test set: every
 * flip metric with a bootstrap confidence interval, counts, per-class flips and McNemar's
 * test of the accuracy change. The result is a plain JSON-serialisable object.
 */
import { InputError } from '../util/errors.js';
import {
  bootstrapCIs,
  DEFAULT_LEVEL,
  DEFAULT_RESAMPLES,
  mcnemarTest,
  type BootstrapOptions,
  type ConfidenceInterval,
  type Interval,
  type McNemarResult,
} from './bootstrap.js';
import {
  checkClassIndices,
  checkSameLength,
  correctMask,
  countOutcomes,
  flipOutcomes,
  flipRates,
  perClassFlips,
  type ClassFlips,
  type FlipCounts,
  type FlipMetrics,
} from './flips.js';
import { meanAt, perExamplePredictionDifference } from './predictionDifference.js';
import { analyseFlips, type FlipAnalysis } from './flipAnalysis.js';

export interface CompareInput {
  /** True class index of each example. */
  labels: Int32Array;
  /** Top-1 predictions of the old (deployed) model. */
  predOld: Int32Array;
  /** Top-1 predictions of the new model. */
  predNew: Int32Array;
  /** Old model's class probabilities, row-major [n, numClasses] (optional; enables PD). */
  probsOld?: Float32Array;
  /** New model's class probabilities, row-major [n, numClasses]. */
  probsNew?: Float32Array;
  /** Both models' logits [n, numClasses], when known (the flip analysis' logit distances; else from the probabilities). */
  logitsOld?: Float32Array;
  logitsNew?: Float32Array;
  numClasses: number;
  /** Display names of the classes, by index. */
  classNames?: string[];
}

/** Rates of a comparison, each with its bootstrap interval. */
export interface ComparisonMetrics {
  accuracyOld: Interval;
  accuracyNew: Interval;
  /** accuracyNew − accuracyOld (= PFR − NFR), interval from the same paired resamples. */
  accuracyGain: Interval;
  churn: Interval;
  /** Negative flip rate (bad churn). */
  nfr: Interval;
  /** Positive flip rate (good churn). */
  pfr: Interval;
  wrongToWrongRate: Interval;
  nfi: Interval;
  pfi: Interval;
  /** null when undefined on the full test set (old never right or new never wrong). */
  relativeNfr: Interval | null;
  /** Prediction difference; null unless both probability matrices were given. */
  predictionDifference: Interval | null;
}

/** Flips among one true class, with the class's display name. */
export interface ClassFlipsReport extends ClassFlips {
  className: string;
}

/** Everything `distillery compare` reports; plain data, safe to JSON.stringify. */
export interface ComparisonReport {
  n: number;
  numClasses: number;
  /** Confidence level of every interval. */
  level: number;
  resamples: number;
  seed: number | string;
  counts: FlipCounts;
  metrics: ComparisonMetrics;
  /** One entry per class, in class-index order. */
  perClass: ClassFlipsReport[];
  /** McNemar's exact test: A = old model, B = new model. */
  mcnemar: McNemarResult;
  /** Old margin and logit distances of negative flips vs all examples; null without both models' probabilities. */
  flipAnalysis: FlipAnalysis | null;
}

/** Rates bootstrapped by {@link compareModels}, in the order of the statistic vector. */
const RATE_KEYS = [
  'accuracyOld',
  'accuracyNew',
  'churn',
  'nfr',
  'pfr',
  'wrongToWrongRate',
  'nfi',
  'pfi',
  'relativeNfr',
] as const satisfies readonly (keyof FlipMetrics)[];
type RateKey = (typeof RATE_KEYS)[number];

function toInterval(ci: ConfidenceInterval): Interval | null {
  if (!Number.isFinite(ci.estimate)) return null;
  // Intervals from too few finite resamples come back NaN; JSON has no NaN, so widen to the estimate.
  return {
    estimate: ci.estimate,
    low: Number.isFinite(ci.low) ? ci.low : ci.estimate,
    high: Number.isFinite(ci.high) ? ci.high : ci.estimate,
  };
}

/** Rates that are defined for every non-empty sample (n ≥ 1 is checked up front). */
function defined(x: Interval | null): Interval {
  if (!x) throw new Error('internal error: a rate that is always defined came out undefined');
  return x;
}

function checkInput(input: CompareInput): void {
  const { labels, predOld, predNew, probsOld, probsNew, numClasses, classNames } = input;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new InputError('numClasses', `must be a positive integer, got ${numClasses}`);
  }
  const n = checkSameLength({ labels, predOld, predNew });
  checkClassIndices(labels, numClasses, 'labels');
  checkClassIndices(predOld, numClasses, 'predictions');
  checkClassIndices(predNew, numClasses, 'predictions');
  if ((probsOld === undefined) !== (probsNew === undefined)) {
    throw new InputError('probabilities', 'give both models\' probabilities or neither');
  }
  if (probsOld && probsNew) {
    for (const [name, p] of [['old', probsOld], ['new', probsNew]] as const) {
      if (p.length !== n * numClasses) {
        throw new InputError('probabilities', `${name} model has ${p.length} values, expected ${n}×${numClasses}`);
      }
    }
  }
  if (classNames && classNames.length !== numClasses) {
    throw new InputError('classNames', `${classNames.length} names for ${numClasses} classes`);
  }
}

/**
 * Compares an old and a new model on the same labelled examples: every rate with a
 * percentile-bootstrap interval (all rates from the same resamples of examples), counts,
 * per-class flips and McNemar's test of old vs new accuracy.
 */
export function compareModels(input: CompareInput, opts: BootstrapOptions): ComparisonReport {
  checkInput(input);
  const { labels, predOld, predNew, probsOld, probsNew, numClasses } = input;
  const outcomes = flipOutcomes(labels, predOld, predNew);
  const pd = probsOld && probsNew ? perExamplePredictionDifference(probsOld, probsNew, numClasses) : null;

  const statistic = (idx: Int32Array): number[] => {
    const m = flipRates(countOutcomes(outcomes, idx));
    const values = RATE_KEYS.map((k) => m[k] ?? NaN);
    values.push(m.accuracyNew - m.accuracyOld);
    if (pd) values.push(meanAt(pd, idx));
    return values;
  };
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const level = opts.level ?? DEFAULT_LEVEL;
  const cis = bootstrapCIs(outcomes.length, statistic, { resamples, level, seed: opts.seed });

  const at = (j: number): Interval | null => toInterval(cis[j]);
  const rate = (k: RateKey): Interval | null => at(RATE_KEYS.indexOf(k));
  const metrics: ComparisonMetrics = {
    accuracyOld: defined(rate('accuracyOld')),
    accuracyNew: defined(rate('accuracyNew')),
    accuracyGain: defined(at(RATE_KEYS.length)),
    churn: defined(rate('churn')),
    nfr: defined(rate('nfr')),
    pfr: defined(rate('pfr')),
    wrongToWrongRate: defined(rate('wrongToWrongRate')),
    nfi: defined(rate('nfi')),
    pfi: defined(rate('pfi')),
    relativeNfr: rate('relativeNfr'),
    predictionDifference: pd ? at(RATE_KEYS.length + 1) : null,
  };

  const names = input.classNames ?? Array.from({ length: numClasses }, (_, k) => String(k));
  const perClass = perClassFlips(labels, predOld, predNew, numClasses).map((c) => ({
    ...c,
    className: names[c.classIndex],
  }));

  return {
    n: outcomes.length,
    numClasses,
    level,
    resamples,
    seed: opts.seed,
    counts: countOutcomes(outcomes),
    metrics,
    perClass,
    mcnemar: mcnemarTest(correctMask(labels, predOld), correctMask(labels, predNew)),
    flipAnalysis: probsOld && probsNew ? analyseFlips({ labels, predOld, predNew, probsOld, probsNew, logitsOld: input.logitsOld, logitsNew: input.logitsNew, numClasses }) : null,
  };
}
