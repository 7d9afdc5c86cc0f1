/**
 * A release history: the pairwise churn, NFR and PFR between every two versions of a model
 * on one labelled set (entry [i][j]: version i as the old model, version j as the new one),
 * and each version's accuracy. Point estimates; `compare --old --new` gives one pair's CIs.
 */
import { checkSameLength, flipMetrics } from './flips.js';

export interface ReleaseHistory {
  versions: string[];
  n: number;
  accuracy: number[];
  churn: number[][];
  nfr: number[][];
  pfr: number[][];
}

export function releaseHistory(versions: string[], labels: Int32Array, preds: Int32Array[]): ReleaseHistory {
  for (const p of preds) checkSameLength({ labels, predictions: p });
  const pairwise = preds.map((a) => preds.map((b) => flipMetrics(labels, a, b)));
  const field = (k: 'churn' | 'nfr' | 'pfr') => pairwise.map((row) => row.map((m) => m[k]));
  return {
    versions,
    n: labels.length,
    accuracy: pairwise.map((row, i) => row[i].accuracyOld),
    churn: field('churn'),
    nfr: field('nfr'),
    pfr: field('pfr'),
  };
}
