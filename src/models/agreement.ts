import { InputError } from '../util/errors.js';
import { argmaxRows } from './logits.js';

/**
 * Top-1 agreement of class predictions (one class index per row): with the labels — accuracy —
 * and with another model's predictions — churn. The one definition of each, below every layer
 * that measures them: the trainer, the methods (churn-budget, transfer hops, ProfWeight's
 * probes), metrics/ (which re-exports churn), codistillation and the experiments.
 */

/** Throws InputError(source, …) unless all arrays are non-empty and of equal length; returns the length. */
export function checkSameLength(arrays: Record<string, ArrayLike<unknown>>, source = 'predictions'): number {
  const entries = Object.entries(arrays);
  const n = entries[0][1].length;
  for (const [name, a] of entries) {
    if (a.length !== n) {
      const sizes = entries.map(([k, v]) => `${k}=${v.length}`).join(', ');
      throw new InputError(source, `lengths differ (${sizes})`);
    }
    if (a.length === 0) throw new InputError(source, `${name} is empty`);
  }
  return n;
}

/** Rows whose predicted class equals the label. */
export function countCorrect(pred: Int32Array, labels: Int32Array): number {
  if (pred.length !== labels.length) throw new InputError('predictions', `lengths differ (predictions=${pred.length}, labels=${labels.length})`);
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) correct++;
  return correct;
}

/** Accuracy: the fraction of rows whose predicted class equals the label (NaN for no rows). */
export function accuracy(pred: Int32Array, labels: Int32Array): number {
  return countCorrect(pred, labels) / pred.length;
}

/** Accuracy of row-major scores [n, K] — logits or probabilities — predicting each row's argmax (argmaxRows). */
export function scoresAccuracy(scores: Float32Array, labels: Int32Array, numClasses: number): number {
  return accuracy(argmaxRows(scores, numClasses), labels);
}

/** Churn: fraction of examples on which two models' top-1 predictions differ (no labels needed). */
export function churn(predA: Int32Array, predB: Int32Array): number {
  const n = checkSameLength({ predA, predB });
  let changed = 0;
  for (let i = 0; i < n; i++) if (predA[i] !== predB[i]) changed++;
  return changed / n;
}
