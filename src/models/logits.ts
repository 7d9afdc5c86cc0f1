import { InputError } from '../util/errors.js';

/**
 * Row-major logit matrices [n, K] as plain arrays: softmax and argmax. They sit below the
 * training and metrics layers, which both need them.
 */

/** Row-wise softmax of row-major [n, K] logits, numerically stable (subtracts each row's max). */
export function softmax(logits: Float32Array, numClasses: number): Float32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new InputError('logits', `number of classes must be a positive integer, got ${numClasses}`);
  if (logits.length === 0) throw new InputError('logits', 'no examples');
  if (logits.length % numClasses !== 0) throw new InputError('logits', `length ${logits.length} is not a multiple of ${numClasses} classes`);
  const out = new Float32Array(logits.length);
  for (let start = 0; start < logits.length; start += numClasses) {
    const end = start + numClasses;
    let max = -Infinity;
    for (let j = start; j < end; j++) if (logits[j] > max) max = logits[j];
    let sum = 0;
    for (let j = start; j < end; j++) sum += Math.exp(logits[j] - max);
    for (let j = start; j < end; j++) out[j] = Math.exp(logits[j] - max) / sum;
  }
  return out;
}

/** Index of the largest entry of each row of row-major [n, K] scores (first one on ties). */
export function argmaxRows(logits: Float32Array, K: number): Int32Array {
  const n = logits.length / K;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
    out[i] = best;
  }
  return out;
}

/**
 * Re-indexes row-major scores [n, from.length] (columns named by `from`) to the classes
 * `to`: a column of a class that `from` lacks gets `fill(row)` — for logits the row's
 * smallest logit (the model ranks a class it has never seen no higher than its least
 * likely one), for probabilities 0. Every class of `from` must be in `to`.
 */
export function alignColumns(scores: Float32Array, from: readonly string[], to: readonly string[], fill: 'row-min' | 'zero'): Float32Array {
  if (from.length === to.length && from.every((c, k) => c === to[k])) return scores;
  const position = new Map(to.map((c, k) => [c, k] as const));
  const missing = from.filter((c) => !position.has(c));
  if (missing.length) throw new InputError('logits', `classes ${missing.join(', ')} are not among ${to.join(', ')}`);
  const Kf = from.length;
  const Kt = to.length;
  const n = scores.length / Kf;
  const out = new Float32Array(n * Kt);
  for (let i = 0; i < n; i++) {
    let min = Infinity;
    for (let k = 0; k < Kf; k++) min = Math.min(min, scores[i * Kf + k]);
    out.fill(fill === 'zero' ? 0 : min, i * Kt, (i + 1) * Kt);
    for (let k = 0; k < Kf; k++) out[i * Kt + position.get(from[k])!] = scores[i * Kf + k];
  }
  return out;
}
