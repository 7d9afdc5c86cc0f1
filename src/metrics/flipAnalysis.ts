/**
 * Where negative flips happen (the ELODI observation, Zhao et al. 2022): for the examples
 * the old model got right and the new one gets wrong, against all examples, the old
 * model's margin (top-1 minus top-2 probability: near 0 = near its decision boundary) and
 * the L2 and L∞ distances between old and new logits. Negative flips that sit far from the
 * boundary and show large logit distances are what logit difference inhibition targets.
 *
 * Logits are compared CENTRED (each row minus its mean), which removes the one degree of
 * freedom softmax ignores: the distances are then the same whether computed from a model's
 * logits or from its probabilities (centred log-probabilities; probabilities are floored at
 * 1e-12), so prediction files work too (our choice).
 */
import { InputError } from '../util/errors.js';

export const FLIP_ANALYSIS_QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9] as const;
const HISTOGRAM_BINS = 20;
const PROB_FLOOR = 1e-12;

/** One quantity over one group of examples. */
export interface DistributionSummary {
  n: number;
  mean: number | null;
  /** Quantiles at FLIP_ANALYSIS_QUANTILES (linear interpolation), null for an empty group. */
  quantiles: { q: number; value: number | null }[];
  /** Counts per bin of the quantity's shared `edges` (same bins for every group). */
  histogram: number[];
}

export interface QuantityAnalysis {
  /** Bin edges, HISTOGRAM_BINS + 1 values from 0 to the largest value over all examples. */
  edges: number[];
  all: DistributionSummary;
  negativeFlips: DistributionSummary;
  positiveFlips: DistributionSummary;
}

export interface FlipAnalysis {
  /** Old model's top-1 minus top-2 probability. */
  oldMargin: QuantityAnalysis;
  /** ‖centred z_old − centred z_new‖₂. */
  logitL2: QuantityAnalysis;
  /** max_k |centred z_old,k − centred z_new,k|. */
  logitLInf: QuantityAnalysis;
  /** Share of examples whose old margin is below 0.1 ("near the boundary"), among negative flips and among all. */
  nearBoundary: { threshold: number; negativeFlips: number | null; all: number };
}

export interface FlipAnalysisInput {
  labels: Int32Array;
  predOld: Int32Array;
  predNew: Int32Array;
  probsOld: Float32Array;
  probsNew: Float32Array;
  /** Logits [n, K], when known (else centred log-probabilities are used). */
  logitsOld?: Float32Array;
  logitsNew?: Float32Array;
  numClasses: number;
}

function centred(row: ArrayLike<number>, fromProbs: boolean, out: Float64Array): Float64Array {
  const K = out.length;
  let mean = 0;
  for (let k = 0; k < K; k++) {
    out[k] = fromProbs ? Math.log(Math.max(row[k], PROB_FLOOR)) : row[k];
    mean += out[k];
  }
  mean /= K;
  for (let k = 0; k < K; k++) out[k] -= mean;
  return out;
}

function quantileOfSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

function summarise(values: Float64Array, edges: number[]): DistributionSummary {
  const sorted = Float64Array.from(values).sort();
  const histogram = new Array<number>(edges.length - 1).fill(0);
  const top = edges[edges.length - 1];
  const width = top / (edges.length - 1);
  for (const v of values) histogram[width > 0 ? Math.min(Math.floor(v / width), edges.length - 2) : 0]++;
  return {
    n: values.length,
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
    quantiles: FLIP_ANALYSIS_QUANTILES.map((q) => ({ q, value: values.length ? quantileOfSorted(sorted, q) : null })),
    histogram,
  };
}

function analyseQuantity(values: Float64Array, negative: Uint8Array, positive: Uint8Array): QuantityAnalysis {
  let max = 0;
  for (const v of values) max = Math.max(max, v);
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, b) => (max * b) / HISTOGRAM_BINS);
  const pick = (mask: Uint8Array) => values.filter((_, i) => mask[i] === 1);
  return { edges, all: summarise(values, edges), negativeFlips: summarise(pick(negative), edges), positiveFlips: summarise(pick(positive), edges) };
}

/** Per example: the old margin, the logit distances and whether it is a negative or positive flip. */
export interface FlipQuantities {
  oldMargin: Float64Array;
  logitL2: Float64Array;
  logitLInf: Float64Array;
  negative: Uint8Array;
  positive: Uint8Array;
}

/** The per-example quantities behind {@link analyseFlips} (also the flipped-examples table of the HTML report). */
export function flipQuantities(input: FlipAnalysisInput): FlipQuantities {
  const { labels, predOld, predNew, probsOld, probsNew, numClasses: K } = input;
  const n = labels.length;
  if (probsOld.length !== n * K || probsNew.length !== n * K) throw new InputError('probabilities', `expected ${n}×${K} values per model`);
  for (const z of [input.logitsOld, input.logitsNew]) if (z && z.length !== n * K) throw new InputError('logits', `expected ${n}×${K} values per model`);
  const margin = new Float64Array(n);
  const l2 = new Float64Array(n);
  const linf = new Float64Array(n);
  const negative = new Uint8Array(n);
  const positive = new Uint8Array(n);
  const a = new Float64Array(K);
  const b = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const po = probsOld.subarray(i * K, (i + 1) * K);
    let top1 = -Infinity;
    let top2 = -Infinity;
    for (const p of po) {
      if (p > top1) [top1, top2] = [p, top1];
      else if (p > top2) top2 = p;
    }
    margin[i] = K > 1 ? top1 - top2 : 1;
    centred(input.logitsOld ? input.logitsOld.subarray(i * K, (i + 1) * K) : po, !input.logitsOld, a);
    centred(input.logitsNew ? input.logitsNew.subarray(i * K, (i + 1) * K) : probsNew.subarray(i * K, (i + 1) * K), !input.logitsNew, b);
    let s = 0;
    let m = 0;
    for (let k = 0; k < K; k++) {
      const d = Math.abs(a[k] - b[k]);
      s += d * d;
      m = Math.max(m, d);
    }
    l2[i] = Math.sqrt(s);
    linf[i] = m;
    const oldRight = predOld[i] === labels[i];
    const newRight = predNew[i] === labels[i];
    negative[i] = oldRight && !newRight ? 1 : 0;
    positive[i] = !oldRight && newRight ? 1 : 0;
  }
  return { oldMargin: margin, logitL2: l2, logitLInf: linf, negative, positive };
}

/** The flip analysis of two models on the same labelled examples. */
export function analyseFlips(input: FlipAnalysisInput): FlipAnalysis {
  const n = input.labels.length;
  const { oldMargin: margin, logitL2: l2, logitLInf: linf, negative, positive } = flipQuantities(input);
  const threshold = 0.1;
  let nearAll = 0;
  let nearNeg = 0;
  let nNeg = 0;
  for (let i = 0; i < n; i++) {
    const near = margin[i] < threshold ? 1 : 0;
    nearAll += near;
    if (negative[i]) {
      nNeg++;
      nearNeg += near;
    }
  }
  return {
    oldMargin: analyseQuantity(margin, negative, positive),
    logitL2: analyseQuantity(l2, negative, positive),
    logitLInf: analyseQuantity(linf, negative, positive),
    nearBoundary: { threshold, negativeFlips: nNeg ? nearNeg / nNeg : null, all: n ? nearAll / n : 0 },
  };
}
