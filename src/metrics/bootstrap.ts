/**
 * Statistical inference for the metrics: percentile bootstrap confidence intervals
 * (resampling test examples with replacement), a paired bootstrap test and McNemar's exact
 * test for two methods on the same test set, and t-intervals for a mean across seeds.
 *
 * All randomness goes through {@link Rng}: the same seed gives the same resamples and
 * therefore identical intervals.
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/** A point estimate with the bounds of its confidence interval. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** An {@link Interval} together with its confidence level (e.g. 0.95). */
export interface ConfidenceInterval extends Interval {
  level: number;
}

export interface BootstrapOptions {
  /** Number of bootstrap resamples; default 1000. */
  resamples?: number;
  /** Confidence level in (0, 1); default 0.95. */
  level?: number;
  /** Seed of the resampling stream (`new Rng(seed)`). */
  seed: number | string;
}

/**
 * A statistic of a resample. `idx` holds n example indices drawn with replacement (the
 * identity 0..n−1 for the point estimate). The buffer is reused between calls: read it,
 * don't keep it. Return NaN where the statistic is undefined on a resample.
 */
export type Statistic = (idx: Int32Array) => number;
/** Several statistics of one resample, always in the same order. */
export type MultiStatistic = (idx: Int32Array) => ArrayLike<number>;

export const DEFAULT_RESAMPLES = 1000;
export const DEFAULT_LEVEL = 0.95;

function checkLevel(level: number, source: string): number {
  if (!(level > 0 && level < 1)) throw new InputError(source, `confidence level must be in (0, 1), got ${level}`);
  return level;
}

function resolveOptions(n: number, opts: BootstrapOptions): { resamples: number; level: number } {
  if (!Number.isInteger(n) || n < 1) throw new InputError('bootstrap', `needs at least one example, got n=${n}`);
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new InputError('bootstrap', `resamples must be a positive integer, got ${resamples}`);
  }
  return { resamples, level: checkLevel(opts.level ?? DEFAULT_LEVEL, 'bootstrap') };
}

function identity(n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}

/**
 * Evaluates `statistic` on the full sample and on `resamples` bootstrap resamples (one
 * reused index buffer). Returns the point estimates and, per statistic, its resampled values.
 */
function bootstrapDistribution(
  n: number,
  statistic: MultiStatistic,
  resamples: number,
  seed: number | string,
): { estimates: number[]; samples: Float64Array[] } {
  const estimates = Array.from(statistic(identity(n)));
  const samples = estimates.map(() => new Float64Array(resamples));
  const rng = new Rng(seed);
  const idx = new Int32Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    const values = statistic(idx);
    if (values.length !== estimates.length) {
      throw new Error(`bootstrap statistic returned ${values.length} values, expected ${estimates.length}`);
    }
    for (let j = 0; j < values.length; j++) samples[j][b] = values[j];
  }
  return { estimates, samples };
}

/** Quantile (linear interpolation between order statistics, "type 7") of sorted values. */
function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Percentile interval of resampled values; non-finite values (undefined statistics) are ignored. */
function percentileInterval(estimate: number, samples: Float64Array, level: number): ConfidenceInterval {
  const finite = samples.filter(Number.isFinite).sort();
  const alpha = (1 - level) / 2;
  return { estimate, low: quantileSorted(finite, alpha), high: quantileSorted(finite, 1 - alpha), level };
}

/**
 * Percentile-bootstrap confidence interval of a statistic of n examples: resample the
 * examples with replacement `resamples` times and take the (1±level)/2 quantiles of the
 * statistic. Resamples where the statistic is NaN are left out.
 */
export function bootstrapCI(n: number, statistic: Statistic, opts: BootstrapOptions): ConfidenceInterval {
  return bootstrapCIs(n, (idx) => [statistic(idx)], opts)[0];
}

/**
 * Percentile-bootstrap intervals of several statistics from the same resamples (cheaper
 * than one bootstrap each, and the intervals are jointly consistent).
 */
export function bootstrapCIs(n: number, statistic: MultiStatistic, opts: BootstrapOptions): ConfidenceInterval[] {
  const { resamples, level } = resolveOptions(n, opts);
  const { estimates, samples } = bootstrapDistribution(n, statistic, resamples, opts.seed);
  return estimates.map((e, j) => percentileInterval(e, samples[j], level));
}

/** Result of a paired comparison of two methods on the same examples. */
export interface PairedTestResult {
  /** statA − statB on the full test set. */
  diff: number;
  /** Percentile-bootstrap interval of the difference. */
  low: number;
  high: number;
  level: number;
  /** Two-sided bootstrap p-value for "no difference" (resolution 1/resamples; 0 means < 2/resamples). */
  pValue: number;
}

/**
 * Two-sided p-value from resampled differences: twice the fraction of resampled
 * differences on the other side of 0 from the observed one (0 itself counts as the other
 * side), capped at 1. An observed difference of exactly 0 gives 1.
 */
function bootstrapPValue(diff: number, samples: Float64Array): number {
  if (diff === 0 || !Number.isFinite(diff)) return 1;
  let other = 0;
  let valid = 0;
  for (const d of samples) {
    if (!Number.isFinite(d)) continue;
    valid++;
    if (diff > 0 ? d <= 0 : d >= 0) other++;
  }
  return valid === 0 ? 1 : Math.min(1, (2 * other) / valid);
}

/**
 * Paired bootstrap test for `statA − statB` where both statistics are computed on the same
 * resampled test examples (e.g. accuracy of method A and of method B). The pairing removes
 * the example-difficulty variance that two separate intervals would double count.
 */
export function pairedBootstrapTest(
  n: number,
  statA: Statistic,
  statB: Statistic,
  opts: BootstrapOptions,
): PairedTestResult {
  const { resamples, level } = resolveOptions(n, opts);
  const { estimates, samples } = bootstrapDistribution(n, (idx) => [statA(idx) - statB(idx)], resamples, opts.seed);
  const ci = percentileInterval(estimates[0], samples[0], level);
  return { diff: ci.estimate, low: ci.low, high: ci.high, level, pValue: bootstrapPValue(ci.estimate, samples[0]) };
}

/** McNemar's test of two classifiers' accuracy on the same examples. */
export interface McNemarResult {
  /** Examples only A gets right. */
  onlyACorrect: number;
  /** Examples only B gets right. */
  onlyBCorrect: number;
  /** Exact two-sided p-value: 2·P(X ≤ min) for X ~ Binomial(onlyA + onlyB, 1/2), capped at 1. */
  pValue: number;
}

/**
 * McNemar's exact test for paired accuracy: under "equally accurate", the discordant
 * examples split between A and B like fair coin flips. The binomial tail is computed
 * exactly (regularised incomplete beta) for any count, so no chi-square approximation is
 * needed.
 */
export function mcnemarTest(
  correctA: Uint8Array | ArrayLike<boolean>,
  correctB: Uint8Array | ArrayLike<boolean>,
): McNemarResult {
  if (correctA.length !== correctB.length) {
    throw new InputError('predictions', `lengths differ (${correctA.length} vs ${correctB.length})`);
  }
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < correctA.length; i++) {
    const a = Boolean(correctA[i]);
    const b = Boolean(correctB[i]);
    if (a && !b) onlyA++;
    else if (b && !a) onlyB++;
  }
  return { onlyACorrect: onlyA, onlyBCorrect: onlyB, pValue: binomialTwoSidedHalf(onlyA, onlyB) };
}

/** Exact two-sided sign-test p-value for counts a, b: 2·P(Binomial(a+b, 1/2) ≤ min(a, b)), capped at 1. */
function binomialTwoSidedHalf(a: number, b: number): number {
  const total = a + b;
  const m = Math.min(a, b);
  if (total === 0 || 2 * m >= total) return 1;
  // P(X ≤ m) for X ~ Bin(N, p) equals I_{1−p}(N − m, m + 1).
  return Math.min(1, 2 * regularizedIncompleteBeta(0.5, total - m, m + 1));
}

/** Mean across runs (e.g. seeds) with a Student-t confidence interval. */
export interface MeanCI {
  mean: number;
  /** t_{(1+level)/2, n−1} · s / √n; null with fewer than two values. */
  halfWidth: number | null;
  low: number | null;
  high: number | null;
  /** Sample standard deviation (n − 1 denominator); null with fewer than two values. */
  std: number | null;
  n: number;
  level: number;
}

/** Mean ± Student-t half-width of `values` (e.g. one metric over several seeds). */
export function meanCI(values: ArrayLike<number>, level = DEFAULT_LEVEL): MeanCI {
  checkLevel(level, 'meanCI');
  const n = values.length;
  if (n === 0) throw new InputError('meanCI', 'no values');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n < 2) return { mean, halfWidth: null, low: null, high: null, std: null, n, level };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = Math.sqrt(ss / (n - 1));
  const halfWidth = (studentTQuantile((1 + level) / 2, n - 1) * std) / Math.sqrt(n);
  return { mean, halfWidth, low: mean - halfWidth, high: mean + halfWidth, std, n, level };
}

// ---------------------------------------------------------------------------------------
// Distributions: log-gamma, regularised incomplete beta, Student-t and normal quantiles.

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, ~1e-15 relative error). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-15;
  const MAX_ITER = 100_000;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b) for a, b > 0 and x in [0, 1]. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** CDF of Student's t distribution with finite `df` > 0 degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Above this many degrees of freedom the t quantile uses its normal expansion. */
const LARGE_DF = 1e6;

/**
 * Quantile of Student's t: the t with P(T ≤ t) = p, for any df > 0 (Infinity gives the
 * normal quantile). Bisection on the exact CDF (~1e-12); for df > 1e6 the first-order
 * Cornish-Fisher expansion z + (z³ + z)/(4·df), whose error is O(df⁻²).
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new InputError('studentTQuantile', `probability must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new InputError('studentTQuantile', `degrees of freedom must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (df > LARGE_DF) {
    const z = normalQuantile(p);
    return df === Infinity ? z : z + (z ** 3 + z) / (4 * df);
  }
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Quantile of the standard normal distribution (Acklam's rational approximation, ~1e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new InputError('normalQuantile', `probability must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pLow) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
