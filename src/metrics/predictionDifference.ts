/**
 * Prediction difference (PD) between two models' class probabilities (methods.md,
 * "Metrics"): `PD = mean_x Σ_k |p1_k(x) − p2_k(x)| / 2`, the mean total-variation distance
 * between the two predictive distributions. For two retrains of the same recipe it measures
 * how reproducible training is. With K = 2 it equals `mean |p1 − p2|` of the positive-class
 * probability, since both classes' differences have the same size.
 *
 * Matrices are row-major [n, K]; sums are accumulated in float64.
 */
import { InputError } from '../util/errors.js';
import { softmax } from '../models/logits.js';

/** Number of rows of a row-major [n, K] matrix; throws InputError(source, …) on bad shapes. */
function rowsOf(a: Float32Array, b: Float32Array, numClasses: number, source: string): number {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new InputError(source, `number of classes must be a positive integer, got ${numClasses}`);
  }
  if (a.length !== b.length) throw new InputError(source, `lengths differ (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new InputError(source, 'no examples');
  if (a.length % numClasses !== 0) {
    throw new InputError(source, `length ${a.length} is not a multiple of ${numClasses} classes`);
  }
  return a.length / numClasses;
}

/** Per-example PD: `Σ_k |p1_k − p2_k| / 2` for each row, in [0, 1] for probability rows. */
export function perExamplePredictionDifference(
  probs1: Float32Array,
  probs2: Float32Array,
  numClasses: number,
): Float64Array {
  const n = rowsOf(probs1, probs2, numClasses, 'probabilities');
  const out = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < numClasses; k++, o++) s += Math.abs(probs1[o] - probs2[o]);
    out[i] = s / 2;
  }
  return out;
}

/** Mean of `values`, or of `values[idx[j]]` over a multiset of indices (a bootstrap resample). */
export function meanAt(values: ArrayLike<number>, idx?: Int32Array): number {
  let s = 0;
  if (idx) {
    for (let i = 0; i < idx.length; i++) s += values[idx[i]];
    return s / idx.length;
  }
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/** Prediction difference: mean total-variation distance between two models' class probabilities. */
export function predictionDifference(probs1: Float32Array, probs2: Float32Array, numClasses: number): number {
  return meanAt(perExamplePredictionDifference(probs1, probs2, numClasses));
}

/** Prediction difference between two models given their logits (softmax applied to each). */
export function predictionDifferenceFromLogits(
  logits1: Float32Array,
  logits2: Float32Array,
  numClasses: number,
): number {
  rowsOf(logits1, logits2, numClasses, 'logits');
  return predictionDifference(softmax(logits1, numClasses), softmax(logits2, numClasses), numClasses);
}
