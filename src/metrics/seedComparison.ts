/**
 * Comparing training recipes across seeds on the accuracy–churn plane, with every trial of
 * one seed sharing its split, base model and test set (so differences are PAIRED by seed).
 *
 * - {@link pairedDifference}: mean over seeds of `a_s − b_s` with a Student-t interval;
 * - {@link relativeReduction}: mean over seeds of `1 − a_s / b_s` (e.g. the fraction of
 *   plain retraining's churn that a method removes);
 * - {@link accuracyAtMatchedChurn}: a recipe's accuracy against a sweep's (distillation along
 *   λ) at the same mean churn, by linear interpolation between the two sweep settings whose
 *   mean churn brackets the recipe's;
 * - {@link pooledGap}: the mean of several settings' matched-churn gaps (a recipe's frontier);
 * - {@link dominates}: whether one recipe is better on both axes beyond its intervals.
 */
import { InputError } from '../util/errors.js';
import { DEFAULT_LEVEL, meanCI, type MeanCI } from './bootstrap.js';

/** One recipe's test accuracy and churn (vs that seed's base model) for one seed. */
export interface SeedPoint {
  seed: number;
  accuracy: number;
  churn: number;
}

function bySeed(points: SeedPoint[], what: string): Map<number, SeedPoint> {
  const m = new Map<number, SeedPoint>();
  for (const p of points) {
    if (m.has(p.seed)) throw new InputError(what, `seed ${p.seed} appears twice`);
    m.set(p.seed, p);
  }
  return m;
}

/** The seeds of the first set, each checked to be present in every other set, and each set by seed. */
function commonSeeds(sets: SeedPoint[][]): { seeds: number[]; maps: Map<number, SeedPoint>[] } {
  const maps = sets.map((s, i) => bySeed(s, `points ${i}`));
  const seeds = [...maps[0].keys()];
  for (const [i, m] of maps.entries()) {
    if (m.size !== seeds.length || seeds.some((s) => !m.has(s))) throw new InputError('seed comparison', `point set ${i} does not have the same seeds as the first`);
  }
  if (seeds.length < 2) throw new InputError('seed comparison', 'needs at least two seeds');
  return { seeds, maps };
}

type Axis = 'accuracy' | 'churn';

/** Mean over seeds of `a[axis] − b[axis]` with its t-interval. */
export function pairedDifference(a: SeedPoint[], b: SeedPoint[], axis: Axis, level = DEFAULT_LEVEL): MeanCI {
  const { seeds, maps: [ma, mb] } = commonSeeds([a, b]);
  return meanCI(seeds.map((s) => ma.get(s)![axis] - mb.get(s)![axis]), level);
}

/** Mean over seeds of `1 − a[axis] / b[axis]` with its t-interval (positive: `a` is lower). */
export function relativeReduction(a: SeedPoint[], b: SeedPoint[], axis: Axis, level = DEFAULT_LEVEL): MeanCI {
  const { seeds, maps: [ma, mb] } = commonSeeds([a, b]);
  return meanCI(seeds.map((s) => 1 - ma.get(s)![axis] / mb.get(s)![axis]), level);
}

function mean(points: SeedPoint[], axis: Axis): number {
  return points.reduce((s, p) => s + p[axis], 0) / points.length;
}

export interface MatchedChurnComparison {
  /** The recipe's mean churn, where the sweep is evaluated. */
  churn: number;
  /** The two sweep settings (indices into the sweep) bracketing that churn, and the weight of the second. */
  between: [number, number];
  weight: number;
  /** Sweep accuracy at that churn minus the recipe's (per seed, same weights), with its t-interval. */
  accuracyGap: MeanCI;
  /** The per-seed gaps behind it, by seed. */
  gapsBySeed: Map<number, number>;
}

/**
 * The sweep's accuracy at the recipe's mean churn minus the recipe's accuracy. The sweep is a
 * list of settings (e.g. λ = 0, 0.2, 0.4, 0.6), each with per-seed points; their mean
 * (churn, accuracy) points are joined by straight lines in order of mean churn. Per seed the
 * gap is `(1−w)·acc_i + w·acc_j − acc_recipe` with the weight `w` found on the means, so the
 * interval is paired by seed. Null where the recipe's mean churn is outside the sweep's range
 * (no setting of the sweep reaches that churn level).
 */
export function accuracyAtMatchedChurn(sweep: SeedPoint[][], recipe: SeedPoint[], level = DEFAULT_LEVEL): MatchedChurnComparison | null {
  if (sweep.length < 2) throw new InputError('matched-churn comparison', 'the sweep needs at least two settings');
  const { seeds, maps: [r, ...bySetting] } = commonSeeds([recipe, ...sweep]);
  const order = sweep.map((pts, i) => ({ i, churn: mean(pts, 'churn') })).sort((x, y) => x.churn - y.churn);
  const c = mean(recipe, 'churn');
  if (c < order[0].churn || c > order[order.length - 1].churn) return null;
  let k = 0;
  while (k < order.length - 2 && c > order[k + 1].churn) k++;
  const lo = order[k], hi = order[k + 1];
  const weight = hi.churn === lo.churn ? 0 : (c - lo.churn) / (hi.churn - lo.churn);
  const a = bySetting[lo.i], b = bySetting[hi.i];
  const gaps = seeds.map((s) => (1 - weight) * a.get(s)!.accuracy + weight * b.get(s)!.accuracy - r.get(s)!.accuracy);
  return { churn: c, between: [lo.i, hi.i], weight, accuracyGap: meanCI(gaps, level), gapsBySeed: new Map(seeds.map((s, i) => [s, gaps[i]])) };
}

/**
 * Several settings of one recipe compared at matched churn as a whole: per seed the mean of
 * the settings' gaps, with its t-interval. Averaging over a recipe's settings compares the
 * two frontiers where they overlap, with less noise than any one setting.
 */
export function pooledGap(comparisons: MatchedChurnComparison[], level = DEFAULT_LEVEL): MeanCI {
  if (comparisons.length === 0) throw new InputError('pooled gap', 'no comparisons');
  const seeds = [...comparisons[0].gapsBySeed.keys()];
  for (const c of comparisons) {
    if (c.gapsBySeed.size !== seeds.length || seeds.some((s) => !c.gapsBySeed.has(s))) throw new InputError('pooled gap', 'the comparisons do not have the same seeds');
  }
  return meanCI(seeds.map((s) => comparisons.reduce((sum, c) => sum + c.gapsBySeed.get(s)!, 0) / comparisons.length), level);
}

/**
 * Whether `a` dominates `b` beyond the intervals: its churn is lower (the paired interval of
 * `churn_a − churn_b` lies below 0) AND its accuracy is higher (that of `acc_a − acc_b` lies
 * above 0), both at `level`.
 */
export function dominates(a: SeedPoint[], b: SeedPoint[], level = DEFAULT_LEVEL): boolean {
  const dc = pairedDifference(a, b, 'churn', level);
  const da = pairedDifference(a, b, 'accuracy', level);
  return dc.high! < 0 && da.low! > 0;
}
