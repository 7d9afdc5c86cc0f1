/**
 * Discovered regions: readable conjunctions of a few conditions on the data's columns
 * ("x.box > 5 and high ≤ 6", "region = east") where the new model's negative flips are
 * concentrated, found without naming columns and confirmed on data the search never saw.
 *
 * 1. The examples are split at random (seeded) into a fit half and a confirmation half.
 * 2. On the fit half, a CART tree (models/tree.ts, the project's own; it takes example
 *    weights) is grown on "negative flip or not", the two classes weighted to equal mass so
 *    the splits chase where flips are denser, to depth `maxConditions` with at least
 *    `minSize` examples per leaf. Every node below the root is a candidate region: the
 *    conditions on its path, merged per column into one readable condition each.
 * 3. A candidate is kept when, on the fit half, it has at least `minSize` examples, its NFR
 *    is at least `minLift` times the half's NFR, and it has more negative than positive
 *    flips; the `maxCandidates` with the smallest fit-half p-value go on.
 * 4. On the confirmation half each kept candidate is tested once. Its p-value is the larger
 *    of two exact one-sided tests (an intersection–union test, valid at the level of each):
 *    - excess: its NFR is more than `minLift` times the NFR of the rest of the half (the
 *      exact conditional test of a ratio of Poisson rates, rateRatioTest);
 *    - asymmetry: the new model breaks more than it fixes there (the sign test: negative
 *      flips against Binomial(negative + positive flips, ½)). Two retrains that differ only
 *      in seed are exchangeable, so in any region defined by inputs and the true class their
 *      negative and positive flips have the same expectation: where a retrain merely churns
 *      (hard examples), this test does not fire, however high the NFR is there.
 *    The p-values are adjusted over the candidates tested (Holm by default: the chance of
 *    confirming any region where either effect is absent is at most `alpha`; or
 *    Benjamini–Hochberg, for the expected share of false ones among those confirmed).
 * 5. Confirmed regions are listed worst first; a region that narrows a confirmed one
 *    without a clearly higher NFR comes right after it (`refines`).
 *
 * Conditions are evaluated on the raw values: a missing value satisfies no numeric
 * condition and no "= value" condition (it does satisfy "≠ value"). Pure: no I/O.
 */
import { InputError } from '../util/errors.js';
import { readCell, sortedDistinct } from '../data/values.js';
import { Rng } from '../util/rng.js';
import { fitTree, type TreeNode } from '../models/tree.js';
import { bootstrapCI, DEFAULT_RESAMPLES, regularizedIncompleteBeta, type Interval } from './bootstrap.js';
import { checkClassIndices, checkSameLength, flipOutcomes, Outcome } from './flips.js';
import type { ColumnTable } from './slices.js';

/** How p-values are adjusted for the number of candidate regions tested. */
export const MULTIPLE_TESTING = ['holm', 'benjamini-hochberg'] as const;
export type MultipleTesting = (typeof MULTIPLE_TESTING)[number];

/** The settings of a region search, with their defaults (defined once: docs and reports read them here). */
export const REGION_DEFAULTS = {
  /** Level of the confirmation after adjustment. */
  alpha: 0.05,
  correction: 'holm' as MultipleTesting,
  /** Most conditions in a region (the depth of the tree). */
  maxConditions: 3,
  /** Fewest examples of a region in the fit half (and of a leaf of the tree). */
  minSize: 30,
  /** A candidate's NFR on the fit half is at least this many times the half's NFR. */
  minLift: 2,
  /** Most candidates tested on the confirmation half. */
  maxCandidates: 10,
  /** Of a text column, the most frequent values that conditions may name. */
  maxCategories: 50,
};

export interface RegionInput {
  labels: Int32Array;
  predOld: Int32Array;
  predNew: Int32Array;
  numClasses: number;
  /** The data's columns by name (see ColumnTable); regions are conditions on these. */
  columns: ColumnTable;
}

export interface RegionOptions {
  /** Seed of the split into halves (and of the NFR intervals). */
  seed: number | string;
  /** Columns conditions may use; default every column of `columns`. */
  use?: string[];
  alpha?: number;
  correction?: MultipleTesting;
  maxConditions?: number;
  minSize?: number;
  minLift?: number;
  maxCandidates?: number;
  maxCategories?: number;
  /** Bootstrap resamples of each region's NFR interval on the confirmation half; default 1000. */
  resamples?: number;
}

/** One condition of a region, on one column. */
export type RegionCondition =
  /** low < x ≤ high (either side may be open: null). */
  | { column: string; kind: 'range'; low: number | null; high: number | null }
  /** The value is one of `values`. */
  | { column: string; kind: 'in'; values: string[] }
  /** The value is none of `values` (a missing value is none of them). */
  | { column: string; kind: 'notIn'; values: string[] };

/** A region's counts on one half of the data. */
export interface RegionHalf {
  /** Examples of the half in the region. */
  n: number;
  negativeFlips: number;
  positiveFlips: number;
  nfr: number;
  /** NFR of the half's examples outside the region. */
  nfrOutside: number;
  /** NFR in the region / NFR of the whole half (null when the half has no negative flip). */
  lift: number | null;
}

export interface RegressedRegion {
  /** The conditions joined by "and", e.g. "x.box > 5 and high ≤ 6". */
  rule: string;
  conditions: RegionCondition[];
  fit: RegionHalf;
  confirm: RegionHalf;
  /** NFR in the region on the confirmation half, with its percentile-bootstrap interval. */
  confirmNfr: Interval;
  /** p-values on the confirmation half: excess over the rest (Fisher), more broken than fixed (sign test), and their maximum. */
  pExcess: number;
  pAsymmetry: number;
  pValue: number;
  /** pValue adjusted over the candidates tested (Holm or Benjamini–Hochberg). */
  adjustedP: number;
  /** adjustedP ≤ alpha. */
  confirmed: boolean;
  /**
   * Index (into `regions`) of a confirmed region with fewer conditions whose examples include
   * this one's: this region only narrows it down (null when it does not).
   */
  refines: number | null;
}

/** What {@link findRegressedRegions} returns: plain data, safe to JSON.stringify. */
export interface RegionDiscovery {
  n: number;
  /** Rows (0-based) of each half, sizes only: the split is reproduced from the seed. */
  fitRows: number;
  confirmRows: number;
  seed: number | string;
  /** The settings used (defaults filled in). */
  settings: Required<Omit<RegionOptions, 'seed' | 'use'>> & { columns: string[] };
  /** NFR of each half. */
  fitNfr: number;
  confirmNfr: number;
  /**
   * Every candidate tested on the confirmation half: the confirmed ones first, highest NFR
   * (the lower end of its interval) first, except that a region narrowing a confirmed one
   * without a clearly higher NFR comes right after it; then the others by adjusted p-value.
   */
  regions: RegressedRegion[];
}

// ---------------------------------------------------------------------------------------
// Exact tests and adjustments.

/** P(X ≥ k) for X ~ Binomial(t, p). */
export function binomialUpperTail(k: number, t: number, p: number): number {
  if (k <= 0) return 1;
  if (k > t || p <= 0) return 0;
  if (p >= 1) return 1;
  // P(X ≥ k) = I_p(k, t − k + 1)
  return Math.min(1, regularizedIncompleteBeta(p, k, t - k + 1));
}

/**
 * One-sided exact test that negative flips are more than `ratio` times as frequent inside a
 * region (k of m examples) as outside it (kOut of mOut): conditional on the k + kOut flips,
 * the region's share is Binomial(k + kOut, π0) at the boundary rate ratio, π0 = ratio·m /
 * (ratio·m + mOut) (the exact conditional test of a ratio of Poisson rates, which flip counts
 * of a few percent follow closely; with ratio 1 it is close to Fisher's exact test).
 */
export function rateRatioTest(k: number, m: number, kOut: number, mOut: number, ratio: number): number {
  if (m === 0) return 1;
  if (mOut === 0) return 1;
  return binomialUpperTail(k, k + kOut, (ratio * m) / (ratio * m + mOut));
}

/** Adjusted p-values (same order as `p`): Holm's step-down or Benjamini–Hochberg's step-up. */
export function adjustPValues(p: readonly number[], method: MultipleTesting): number[] {
  const m = p.length;
  const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b] || a - b);
  const out = new Array<number>(m);
  if (method === 'holm') {
    let running = 0;
    order.forEach((i, r) => {
      running = Math.max(running, Math.min(1, (m - r) * p[i]));
      out[i] = running;
    });
  } else {
    let running = 1;
    for (let r = m - 1; r >= 0; r--) {
      const i = order[r];
      running = Math.min(running, Math.min(1, (m * p[i]) / (r + 1)));
      out[i] = running;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Columns as features of the tree, and conditions on raw values.

interface ColumnView {
  name: string;
  /** Numeric value per example (NaN missing) for numeric columns; null for text columns. */
  numbers: Float64Array | null;
  /** Text per example (null missing) for text columns. */
  texts: (string | null)[];
}

type Feature = { column: number; kind: 'number'; fill: number } | { column: number; kind: 'is'; value: string };

function viewColumn(name: string, values: ArrayLike<string | number | null | undefined>, n: number): ColumnView {
  if (values.length !== n) throw new InputError('columns', `"${name}" has ${values.length} values for ${n} examples`);
  const texts = Array.from({ length: n }, (_, i): string | null => {
    const v = values[i];
    if (v === null || v === undefined) return null;
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
    const t = v.trim();
    return readCell(t).kind === 'missing' ? null : t;
  });
  const numeric = texts.some((t) => t !== null) && texts.every((t) => t === null || readCell(t).kind === 'number');
  return { name, numbers: numeric ? Float64Array.from(texts, (t) => (t === null ? NaN : Number(t))) : null, texts };
}

function holds(c: RegionCondition, view: ColumnView, i: number): boolean {
  if (c.kind === 'range') {
    const x = view.numbers![i];
    return !Number.isNaN(x) && (c.low === null || x > c.low) && (c.high === null || x <= c.high);
  }
  const t = view.texts[i];
  return c.kind === 'in' ? t !== null && c.values.includes(t) : t === null || !c.values.includes(t);
}

const num = (x: number) => String(Number(x.toPrecision(6)));

/** A condition as text: "x > 3", "3 < x ≤ 7", "region = east", "region ∉ {a, b}". */
export function conditionText(c: RegionCondition): string {
  if (c.kind === 'range') {
    if (c.low !== null && c.high !== null) return `${num(c.low)} < ${c.column} ≤ ${num(c.high)}`;
    return c.low !== null ? `${c.column} > ${num(c.low)}` : `${c.column} ≤ ${num(c.high!)}`;
  }
  const set = (vs: string[]) => `{${vs.join(', ')}}`;
  if (c.kind === 'in') return c.values.length === 1 ? `${c.column} = ${c.values[0]}` : `${c.column} ∈ ${set(c.values)}`;
  return c.values.length === 1 ? `${c.column} ≠ ${c.values[0]}` : `${c.column} ∉ ${set(c.values)}`;
}

/** Adds a split to a path's conditions, merging it with the column's condition so far. */
function addCondition(conds: RegionCondition[], feature: Feature, view: ColumnView, left: boolean, threshold: number): RegionCondition[] {
  const out = conds.slice();
  const at = out.findIndex((c) => c.column === view.name);
  if (feature.kind === 'number') {
    const prev = at >= 0 ? (out[at] as Extract<RegionCondition, { kind: 'range' }>) : { column: view.name, kind: 'range' as const, low: null, high: null };
    const next = left ? { ...prev, high: prev.high === null ? threshold : Math.min(prev.high, threshold) } : { ...prev, low: prev.low === null ? threshold : Math.max(prev.low, threshold) };
    if (at >= 0) out[at] = next;
    else out.push(next);
    return out;
  }
  // an indicator "column = value": left (≤ 0.5) is "≠ value", right is "= value"
  const prev = at >= 0 ? out[at] : undefined;
  if (!left) {
    const next: RegionCondition = { column: view.name, kind: 'in', values: [feature.value] };
    if (at >= 0) out[at] = next;
    else out.push(next);
  } else if (prev?.kind === 'in') {
    // already "= v" and now "≠ w" (w ≠ v): nothing new
  } else {
    const values = prev?.kind === 'notIn' ? sortedDistinct([...prev.values, feature.value]) : [feature.value];
    const next: RegionCondition = { column: view.name, kind: 'notIn', values };
    if (at >= 0) out[at] = next;
    else out.push(next);
  }
  return out;
}

function checkOptions(opts: RegionOptions): Required<Omit<RegionOptions, 'seed' | 'use'>> {
  const s = { ...REGION_DEFAULTS, resamples: DEFAULT_RESAMPLES, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Required<RegionOptions>;
  const int = (name: keyof RegionOptions, min: number) => {
    const v = s[name] as number;
    if (!(Number.isInteger(v) && v >= min)) throw new InputError(name, `must be an integer ≥ ${min}, got ${v}`);
  };
  int('maxConditions', 1);
  int('minSize', 1);
  int('maxCandidates', 1);
  int('maxCategories', 1);
  int('resamples', 10);
  if (!(s.alpha > 0 && s.alpha < 1)) throw new InputError('alpha', `must be in (0, 1), got ${s.alpha}`);
  if (!(s.minLift >= 1 && Number.isFinite(s.minLift))) throw new InputError('minLift', `must be a number ≥ 1, got ${s.minLift}`);
  if (!MULTIPLE_TESTING.includes(s.correction)) throw new InputError('correction', `must be one of ${MULTIPLE_TESTING.join(', ')}, got ${s.correction}`);
  const { seed: _s, use: _u, ...settings } = s;
  return settings;
}

/**
 * Finds readable regions where the new model's negative flips are concentrated, on one
 * random half of the examples, and confirms them on the other (see the file's comment for
 * the procedure and its error control).
 */
export function findRegressedRegions(input: RegionInput, opts: RegionOptions): RegionDiscovery {
  const settings = checkOptions(opts);
  const n = checkSameLength({ labels: input.labels, predOld: input.predOld, predNew: input.predNew });
  checkClassIndices(input.labels, input.numClasses, 'labels');
  checkClassIndices(input.predOld, input.numClasses, 'predictions');
  checkClassIndices(input.predNew, input.numClasses, 'predictions');
  const names = opts.use ?? Object.keys(input.columns);
  for (const c of names) {
    if (!(c in input.columns)) throw new InputError('use', `"${c}" is not a column of the data: the columns are ${Object.keys(input.columns).join(', ') || '(none)'}`);
  }
  if (names.length === 0) throw new InputError('columns', 'no columns to state regions with');
  const views = names.map((c) => viewColumn(c, input.columns[c], n));
  const outcomes = flipOutcomes(input.labels, input.predOld, input.predNew);

  // the halves
  const order = new Rng(`${opts.seed}/regions`).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const fitRows = order.slice(0, Math.floor(n / 2)).sort();
  const confirmRows = order.slice(Math.floor(n / 2)).sort();

  // features of the tree, from the fit half: numeric columns as they are (missing: the fit half's median), text columns as indicators of their most frequent values
  const features: Feature[] = [];
  views.forEach((v, j) => {
    if (v.numbers) {
      const xs = Array.from(fitRows, (i) => v.numbers![i]).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
      features.push({ column: j, kind: 'number', fill: xs.length ? xs[Math.floor(xs.length / 2)] : 0 });
    } else {
      const counts = new Map<string, number>();
      for (const i of fitRows) {
        const t = v.texts[i];
        if (t !== null) counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, settings.maxCategories);
      for (const [value] of top) features.push({ column: j, kind: 'is', value });
    }
  });
  const half = (rows: Int32Array) => {
    let neg = 0;
    for (const i of rows) if (outcomes[i] === Outcome.NegativeFlip) neg++;
    return neg;
  };
  const fitNeg = half(fitRows);
  const confirmNeg = half(confirmRows);
  const result = (regions: RegressedRegion[]): RegionDiscovery => ({
    n,
    fitRows: fitRows.length,
    confirmRows: confirmRows.length,
    seed: opts.seed,
    settings: { ...settings, columns: names },
    fitNfr: fitNeg / Math.max(1, fitRows.length),
    confirmNfr: confirmNeg / Math.max(1, confirmRows.length),
    regions,
  });
  if (fitNeg === 0 || fitNeg === fitRows.length || features.length === 0 || fitRows.length < 2 * settings.minSize) return result([]);

  const d = features.length;
  const x = new Float32Array(fitRows.length * d);
  const targets = new Float32Array(fitRows.length * 2);
  const weights = new Float32Array(fitRows.length);
  fitRows.forEach((i, r) => {
    features.forEach((f, j) => {
      const v = views[f.column];
      x[r * d + j] = f.kind === 'number' ? (Number.isNaN(v.numbers![i]) ? f.fill : v.numbers![i]) : v.texts[i] === f.value ? 1 : 0;
    });
    const neg = outcomes[i] === Outcome.NegativeFlip;
    targets[r * 2 + (neg ? 1 : 0)] = 1;
    weights[r] = neg ? 0.5 / fitNeg : 0.5 / (fitRows.length - fitNeg);
  });
  const tree = fitTree({ features: x, numFeatures: d, numClasses: 2, targets, weights }, { kind: 'tree', maxDepth: settings.maxConditions, minLeaf: settings.minSize });

  // every node below the root: the conditions on its path
  const paths: RegionCondition[][] = [];
  const walk = (k: number, conds: RegionCondition[]) => {
    if (conds.length) paths.push(conds);
    const node = tree.nodes[k] as TreeNode;
    if (node.feature < 0) return;
    const split = node as Extract<TreeNode, { left: number }>;
    const f = features[split.feature];
    walk(split.left, addCondition(conds, f, views[f.column], true, split.threshold));
    walk(split.right, addCondition(conds, f, views[f.column], false, split.threshold));
  };
  walk(0, []);

  const viewOf = new Map(views.map((v) => [v.name, v] as const));
  const inRegion = (conds: RegionCondition[], i: number) => conds.every((c) => holds(c, viewOf.get(c.column)!, i));
  const stats = (conds: RegionCondition[], rows: Int32Array, totalNeg: number): RegionHalf & { members: number[] } => {
    const members: number[] = [];
    let neg = 0;
    let pos = 0;
    for (const i of rows) {
      if (!inRegion(conds, i)) continue;
      members.push(i);
      if (outcomes[i] === Outcome.NegativeFlip) neg++;
      else if (outcomes[i] === Outcome.PositiveFlip) pos++;
    }
    const m = members.length;
    const rest = rows.length - m;
    const halfNfr = totalNeg / rows.length;
    return { n: m, negativeFlips: neg, positiveFlips: pos, nfr: m ? neg / m : 0, nfrOutside: rest ? (totalNeg - neg) / rest : 0, lift: totalNeg ? (m ? neg / m : 0) / halfNfr : null, members };
  };
  const pValues = (h: RegionHalf, rows: number, totalNeg: number) => {
    const pExcess = rateRatioTest(h.negativeFlips, h.n, totalNeg - h.negativeFlips, rows - h.n, settings.minLift);
    const pAsymmetry = binomialUpperTail(h.negativeFlips, h.negativeFlips + h.positiveFlips, 0.5);
    return { pExcess, pAsymmetry, pValue: Math.max(pExcess, pAsymmetry) };
  };

  // candidates on the fit half: big enough, NFR ≥ minLift × the half's, more broken than fixed; distinct row sets (the shorter rule kept)
  const fitNfr = fitNeg / fitRows.length;
  const seen = new Map<string, number>();
  const candidates: { conds: RegionCondition[]; fit: RegionHalf; p: number }[] = [];
  for (const conds of paths) {
    const { members, ...fit } = stats(conds, fitRows, fitNeg);
    if (fit.n < settings.minSize || fit.n === fitRows.length || fit.nfr < settings.minLift * fitNfr || fit.negativeFlips <= fit.positiveFlips) continue;
    const key = members.join(',');
    const p = pValues(fit, fitRows.length, fitNeg).pValue;
    const prev = seen.get(key);
    if (prev !== undefined) {
      if (conds.length < candidates[prev].conds.length) candidates[prev] = { conds, fit, p };
      continue;
    }
    seen.set(key, candidates.length);
    candidates.push({ conds, fit, p });
  }
  candidates.sort((a, b) => a.p - b.p || b.fit.negativeFlips - a.fit.negativeFlips || a.conds.length - b.conds.length);
  const tested = candidates.slice(0, settings.maxCandidates);

  // confirmation
  const confirmed = tested.map((c) => {
    const { members, ...confirm } = stats(c.conds, confirmRows, confirmNeg);
    const own = Uint8Array.from(members, (i) => (outcomes[i] === Outcome.NegativeFlip ? 1 : 0));
    const rule = c.conds.map(conditionText).join(' and ');
    const ci = own.length
      ? bootstrapCI(own.length, (idx) => {
          let s = 0;
          for (let r = 0; r < idx.length; r++) s += own[idx[r]];
          return s / idx.length;
        }, { resamples: settings.resamples, level: 1 - settings.alpha, seed: `${opts.seed}/regions/${rule}` })
      : { estimate: 0, low: 0, high: 0 };
    return { rule, conditions: c.conds, fit: c.fit, confirm, confirmNfr: { estimate: ci.estimate, low: ci.low, high: ci.high }, ...pValues(confirm, confirmRows.length, confirmNeg) };
  });
  const adjusted = adjustPValues(confirmed.map((r) => r.pValue), settings.correction);
  const judged = confirmed.map((r, k): RegressedRegion => ({ ...r, adjustedP: adjusted[k], confirmed: adjusted[k] <= settings.alpha, refines: null }));
  const byP = (a: RegressedRegion, b: RegressedRegion) => a.adjustedP - b.adjustedP || a.pValue - b.pValue;
  // confirmed regions, worst first (the lower end of their NFR interval on the confirmation half)
  const worstFirst = judged.filter((r) => r.confirmed).sort((a, b) => b.confirmNfr.low - a.confirmNfr.low || byP(a, b));
  // a confirmed region inside another confirmed one with fewer conditions (on every example) refines it; its parent is the nearest such region
  const members = new Map(worstFirst.map((r) => [r, new Set(Array.from({ length: n }, (_, i) => i).filter((i) => inRegion(r.conditions, i)))] as const));
  const parent = new Map<RegressedRegion, RegressedRegion>();
  for (const r of worstFirst) {
    const inside = worstFirst.filter((p) => p !== r && p.conditions.length < r.conditions.length && [...members.get(r)!].every((i) => members.get(p)!.has(i)));
    if (inside.length) parent.set(r, inside.reduce((a, b) => (b.conditions.length > a.conditions.length ? b : a)));
  }
  // a refinement no clearly worse than its parent (its NFR interval's lower end not above the parent's upper end) is listed right after the parent
  const listed: RegressedRegion[] = [];
  const deferred = new Map<RegressedRegion, RegressedRegion[]>();
  const emit = (r: RegressedRegion): void => {
    listed.push(r);
    for (const child of deferred.get(r) ?? []) emit(child);
  };
  for (const r of worstFirst) {
    const p = parent.get(r);
    if (p && !(r.confirmNfr.low > p.confirmNfr.high) && !listed.includes(p)) deferred.set(p, [...(deferred.get(p) ?? []), r]);
    else emit(r);
  }
  const regions = [...listed, ...judged.filter((r) => !r.confirmed).sort(byP)];
  for (const [child, p] of parent) child.refines = regions.indexOf(p);
  return result(regions);
}

/** For each example, the confirmed regions of a discovery that contain it (indices into `discovery.regions`), given the same columns. */
export function confirmedRegionsByExample(discovery: RegionDiscovery, columns: ColumnTable): number[][] {
  const out: number[][] = Array.from({ length: discovery.n }, () => []);
  const views = new Map<string, ColumnView>();
  const view = (c: string) => views.get(c) ?? views.set(c, viewColumn(c, columns[c] ?? [], discovery.n)).get(c)!;
  discovery.regions.forEach((r, k) => {
    if (!r.confirmed) return;
    for (let i = 0; i < discovery.n; i++) if (r.conditions.every((c) => holds(c, view(c.column), i))) out[i].push(k);
  });
  return out;
}
