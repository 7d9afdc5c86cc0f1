import { Rng } from '../../src/util/rng.js';

/** Random labels and two prediction vectors; each model is right with its own probability. */
export function randomPredictions(
  n: number,
  numClasses: number,
  seed: string | number,
  accOld = 0.7,
  accNew = 0.75,
): { labels: Int32Array; predOld: Int32Array; predNew: Int32Array } {
  const rng = new Rng(seed);
  const labels = new Int32Array(n);
  const predOld = new Int32Array(n);
  const predNew = new Int32Array(n);
  const guess = (y: number, acc: number): number => (rng.next() < acc ? y : rng.int(numClasses));
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(numClasses);
    predOld[i] = guess(labels[i], accOld);
    predNew[i] = guess(labels[i], accNew);
  }
  return { labels, predOld, predNew };
}

/** Random probability rows, row-major [n, K]. */
export function randomProbs(n: number, numClasses: number, rng: Rng): Float32Array {
  const p = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < numClasses; k++) s += p[i * numClasses + k] = rng.next() + 1e-3;
    for (let k = 0; k < numClasses; k++) p[i * numClasses + k] /= s;
  }
  return p;
}

export const i32 = (xs: number[]): Int32Array => Int32Array.from(xs);
