/**
 * The release gate: limits on how a new model may differ from the deployed one, checked
 * against a comparison (compareModels). Pure: no I/O.
 *
 * Each limit is checked either on the point estimate or, with `decideOn: 'bound'`, on the
 * unfavourable end of its bootstrap interval (the upper end for a maximum, the lower end for
 * a minimum): the release then passes only if it is within the limit at the interval's
 * confidence level, which a small evaluation set cannot give by luck.
 */
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import type { ComparisonMetrics, ComparisonReport } from './compare.js';
import type { Interval } from './bootstrap.js';
import { sliceSpecSchema, type SliceComparison, type SliceMetricKey, type SliceStats } from './slices.js';

export type GateMetric = 'nfr' | 'churn' | 'relativeNfr' | 'predictionDifference' | 'accuracyGain' | 'accuracyNew' | 'errorIncrease';

/** Where a limit applies: the whole data, each slice, or both. */
export type GateScope = 'overall' | 'slices' | 'overall+slices';

/** The slice a check is about. */
export interface GateSliceRef {
  /** The slicing's canonical text, e.g. `region*x.box:bins=3`. */
  spec: string;
  /** The slice, e.g. "region = east and x.box ≤ 3". */
  label: string;
  n: number;
}

export interface GateCheck {
  /** Policy field this check comes from, e.g. 'maxNfr'. */
  limitName: GateLimitName;
  metric: GateMetric;
  kind: 'max' | 'min';
  limit: number;
  /** The metric with its interval; null when the comparison could not compute it. */
  interval: Interval | null;
  /** The number compared with the limit (estimate or interval end); null when undefined. */
  checked: number | null;
  passed: boolean;
  /** One line for people, e.g. "NFR 2.35% (upper 95% bound) > 2.00%". */
  reason: string;
  /** The slice checked; null for the whole data. */
  slice: GateSliceRef | null;
}

export interface GateVerdict {
  passed: boolean;
  decideOn: 'estimate' | 'bound';
  level: number;
  n: number;
  /** One entry per limit and (for slice limits) per slice checked. */
  checks: GateCheck[];
  /** Slices too small to check (fewer than `minSliceSize` examples): listed, not checked. */
  skippedSlices: GateSliceRef[];
  /** The smallest slice a slice limit is checked on; null without slice limits. */
  minSliceSize: number | null;
}

/** The limits a policy can set, defined once: field, metric, where it applies, direction, label, unit and allowed range. */
const LIMITS = [
  { limitName: 'maxNfr', metric: 'nfr', scope: 'overall', kind: 'max', label: 'NFR', percent: true, range: [0, 1], help: 'highest negative flip rate (old right, new wrong), e.g. 0.02' },
  { limitName: 'maxChurn', metric: 'churn', scope: 'overall', kind: 'max', label: 'churn', percent: true, range: [0, 1], help: 'highest churn (share of changed predictions)' },
  { limitName: 'maxRelativeNfr', metric: 'relativeNfr', scope: 'overall', kind: 'max', label: 'relative NFR', percent: false, range: [0, Infinity], help: 'highest relative NFR' },
  { limitName: 'maxPredictionDifference', metric: 'predictionDifference', scope: 'overall', kind: 'max', label: 'prediction difference', percent: true, range: [0, 1], help: 'highest prediction difference (needs probabilities from both models)' },
  { limitName: 'minAccuracyGain', metric: 'accuracyGain', scope: 'overall', kind: 'min', label: 'accuracy gain', percent: true, range: [-1, 1], help: 'lowest accuracy change new − old, e.g. -0.005 allows losing half a point' },
  { limitName: 'minAccuracy', metric: 'accuracyNew', scope: 'overall', kind: 'min', label: 'new accuracy', percent: true, range: [0, 1], help: 'lowest accuracy of the new model' },
  { limitName: 'maxSliceNfr', metric: 'nfr', scope: 'slices', kind: 'max', label: 'NFR', percent: true, range: [0, 1], help: 'highest negative flip rate in any slice (of the slicings given) with at least the minimum slice size, e.g. 0.05' },
  {
    limitName: 'maxRelativeIncrease',
    metric: 'errorIncrease',
    scope: 'overall+slices',
    kind: 'max',
    label: 'error change',
    percent: true,
    range: [0, Infinity],
    help: 'highest relative increase of the error rate over the deployed model\'s, (error new − error old) / error old, on the whole data and in every slice large enough, e.g. 0.1',
  },
] as const satisfies ReadonlyArray<{ limitName: string; metric: GateMetric; scope: GateScope; kind: 'max' | 'min'; label: string; percent: boolean; range: readonly [number, number]; help: string }>;

export type GateLimitName = (typeof LIMITS)[number]['limitName'];

/** A limit's definition (for the CLI's flags and help). */
export type GateLimit = (typeof LIMITS)[number];
export const GATE_LIMITS: readonly GateLimit[] = LIMITS;

/** A release policy as written in a YAML/JSON file: every limit optional, plus `decideOn`. */
export const gatePolicySchema = z
  .object({
    ...(Object.fromEntries(LIMITS.map((l) => [l.limitName, z.number().min(l.range[0]).max(l.range[1]).optional()])) as Record<GateLimitName, z.ZodOptional<z.ZodNumber>>),
    /** Check the point estimates (default) or the unfavourable interval ends. */
    decideOn: z.enum(['estimate', 'bound']).optional(),
    /** The slicings the slice limits apply to (text form or structured, see slices.ts). */
    slices: z.array(sliceSpecSchema).min(1).optional(),
    /** Slices with fewer examples are listed, not checked (default DEFAULT_MIN_SLICE_SIZE). */
    minSliceSize: z.number().int().min(1).optional(),
  })
  .strict();

/** Limits of a release; every one is optional, at least one must be set. */
export type GatePolicy = z.infer<typeof gatePolicySchema>;

/** The names of the limits a policy can set. */
export const GATE_LIMIT_NAMES: readonly GateLimitName[] = LIMITS.map((l) => l.limitName);

function show(x: number, percent: boolean): string {
  return percent ? `${(100 * x).toFixed(2)}%` : x.toFixed(3);
}

/** The names of the limits that apply to slices. */
export const SLICE_LIMIT_NAMES: readonly GateLimitName[] = LIMITS.filter((l) => l.scope !== 'overall').map((l) => l.limitName);

/**
 * Throws an InputError (naming the policy's fields through `name`) when the policy's limits
 * contradict each other or cannot apply: limits no release could meet together, slice limits
 * without slicings, a minimum slice size without slicings.
 */
export function checkGatePolicy(policy: GatePolicy, name: (field: GateLimitName | 'slices' | 'minSliceSize') => string = (f) => f): void {
  if (!GATE_LIMIT_NAMES.some((k) => policy[k] !== undefined)) throw new InputError('policy', `the release gate needs at least one limit (${GATE_LIMIT_NAMES.join(', ')})`);
  const contradiction = contradictoryLimits(policy);
  if (contradiction) {
    const [field, other] = [name(contradiction.field), name(contradiction.by)];
    // the other limit without the place both come from (a policy file), once is enough
    const at = field.lastIndexOf(': ');
    const place = at < 0 ? '' : field.slice(0, at + 2);
    const shown = place && other.startsWith(place) ? other.slice(place.length) : other;
    throw new InputError(field, `${policy[contradiction.field]} contradicts ${shown} ${policy[contradiction.by]}: ${contradiction.why}; no pair of models could pass both, so the limits must change`);
  }
  const hasSlices = (policy.slices?.length ?? 0) > 0;
  const sliceLimit = SLICE_LIMIT_NAMES.find((k) => policy[k] !== undefined && LIMITS.find((l) => l.limitName === k)!.scope === 'slices');
  if (sliceLimit && !hasSlices) throw new InputError(name(sliceLimit), `is a limit per slice: give the slicings (${name('slices')})`);
  if (policy.minSliceSize !== undefined && !hasSlices) throw new InputError(name('minSliceSize'), `applies to slices: give the slicings (${name('slices')})`);
}

/**
 * Two limits of the whole data that no pair of models could meet together, on any data — the
 * policy is contradictory (exit 2), not a release these models fail (exit 3). Only the maxima
 * bound what the minimum accuracy gain can reach:
 * - gain = PFR − NFR ≤ PFR ≤ churn, so a minimum gain above the maximum churn is unreachable
 *   (maxChurn 0 means identical predictions: gain exactly 0, so any minimum gain > 0);
 * - a prediction difference of 0 means identical probabilities on every row, hence identical
 *   predictions (each is the most probable class), churn 0 and gain 0.
 * The other limits are independent: any other combination is met by some pair of models on some
 * data (a minimum accuracy by models that are right; maxima by models that agree), so a gate
 * that blocks it blocks these models. The same holds for interval ends (`decideOn: bound`): the
 * bounds come from the same resamples, where gain ≤ churn in each. Returns the minimum and the
 * limit it contradicts, with why.
 */
export function contradictoryLimits(policy: GatePolicy): { field: GateLimitName; by: GateLimitName; why: string } | undefined {
  const gain = policy.minAccuracyGain;
  if (gain === undefined) return undefined;
  if (policy.maxChurn !== undefined && gain > policy.maxChurn) {
    return { field: 'minAccuracyGain', by: 'maxChurn', why: `the accuracy gain (PFR − NFR) never exceeds churn${policy.maxChurn === 0 ? ' (churn 0: identical predictions, a gain of exactly 0)' : ''}` };
  }
  if (policy.maxPredictionDifference === 0 && gain > 0) {
    return { field: 'minAccuracyGain', by: 'maxPredictionDifference', why: 'a prediction difference of 0 means identical probabilities, so identical predictions and a gain of exactly 0' };
  }
  return undefined;
}

const ref = (spec: string, s: SliceStats): GateSliceRef => ({ spec, label: s.label, n: s.n });

/**
 * Checks every limit of `policy` against `report` (and, for limits per slice, against
 * `slices`, from compareBySlice on the same data); throws when the policy sets none or its
 * limits contradict each other (checkGatePolicy), or when no slice of a slicing is large
 * enough to check.
 */
export function evaluateGate(report: ComparisonReport, policy: GatePolicy, slices?: SliceComparison): GateVerdict {
  checkGatePolicy(policy);
  const decideOn = policy.decideOn ?? 'estimate';
  const active = LIMITS.filter((l) => policy[l.limitName] !== undefined);
  const levelText = `${Math.round(100 * report.level)}%`;
  const sliceLimits = active.filter((l) => l.scope !== 'overall');
  if (sliceLimits.length && !slices) throw new InputError('slices', `${sliceLimits.map((l) => l.limitName).join(', ')} need the comparison by slice (compareBySlice)`);
  const minSliceSize = sliceLimits.length ? slices!.minSize : null;

  const check = (l: (typeof LIMITS)[number], interval: Interval | null, slice: GateSliceRef | null, counts?: SliceStats['counts']): GateCheck => {
    const limit = policy[l.limitName]!;
    if (!Number.isFinite(limit)) throw new Error(`${l.limitName} must be a finite number, got ${limit}`);
    const where = decideOn === 'bound' ? ` (${l.kind === 'max' ? 'upper' : 'lower'} ${levelText} bound)` : '';
    const inSlice = slice ? `${slice.label} (${slice.n} examples): ` : '';
    const base = { limitName: l.limitName, metric: l.metric, kind: l.kind, limit, interval, slice };
    if (interval === null) {
      if (l.metric === 'predictionDifference') throw new Error(`${l.limitName} needs class probabilities from both models`);
      if (l.metric === 'errorIncrease' && counts && counts.correctNew < counts.n) {
        // the deployed model makes no error here and the new one does: an unbounded increase
        return { ...base, checked: null, passed: false, reason: `${inSlice}${l.label} unbounded: the deployed model makes no error, the new one ${counts.n - counts.correctNew}` };
      }
      // relative NFR is undefined only when the old model is never right or the new one never
      // wrong (no negative flip is possible); the error change only when neither model errs
      return { ...base, checked: null, passed: true, reason: `${inSlice}${l.label} undefined (${l.metric === 'errorIncrease' ? 'neither model makes an error' : 'no negative flip is possible on this data'})` };
    }
    const checked = decideOn === 'estimate' ? interval.estimate : l.kind === 'max' ? interval.high : interval.low;
    const passed = l.kind === 'max' ? checked <= limit : checked >= limit;
    const op = passed ? (l.kind === 'max' ? '≤' : '≥') : l.kind === 'max' ? '>' : '<';
    const value = l.metric === 'errorIncrease' && checked > 0 ? `+${show(checked, l.percent)}` : show(checked, l.percent);
    return { ...base, checked, passed, reason: `${inSlice}${l.label} ${value}${where} ${op} ${show(limit, l.percent)}` };
  };

  const checks: GateCheck[] = [];
  const skippedSlices: GateSliceRef[] = [];
  for (const l of active) {
    if (l.scope !== 'slices') {
      if (l.metric === 'errorIncrease') checks.push(check(l, slices!.overall.metrics.errorIncrease, null, slices!.overall.counts));
      else checks.push(check(l, report.metrics[l.metric as keyof ComparisonMetrics], null));
    }
  }
  for (const slicing of slices?.slicings ?? []) {
    if (!sliceLimits.length) break;
    const big = slicing.slices.filter((s) => !s.small);
    if (big.length === 0) {
      const largest = Math.max(...slicing.slices.map((s) => s.n));
      throw new InputError('minSliceSize', `no slice of "${slicing.spec}" has ${slices!.minSize} examples (the largest has ${largest}): no slice limit could be checked`);
    }
    for (const s of slicing.slices) if (s.small) skippedSlices.push(ref(slicing.spec, s));
    for (const l of sliceLimits) for (const s of big) checks.push(check(l, s.metrics[l.metric as SliceMetricKey], ref(slicing.spec, s), s.counts));
  }
  return { passed: checks.every((c) => c.passed), decideOn, level: report.level, n: report.n, checks, skippedSlices, minSliceSize };
}

/** Failed checks the final line of renderGate names (all are listed above it). */
const MAX_REASONS = 3;

/** The verdict as lines of text: one per check on the whole data, per failing slice, and per slicing a line for the slices within each limit; then the decision. */
export function renderGate(verdict: GateVerdict): string {
  const lines: string[] = [];
  const groups = new Map<string, GateCheck[]>();
  for (const c of verdict.checks) {
    if (c.slice === null || !c.passed) lines.push(`  ${c.passed ? 'pass' : 'FAIL'}  ${c.reason}`);
    if (c.slice === null) continue;
    const key = `${c.limitName}\u0000${c.slice.spec}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const group of groups.values()) {
    const ok = group.filter((c) => c.passed);
    if (!ok.length) continue;
    const l = LIMITS.find((x) => x.limitName === group[0].limitName)!;
    lines.push(`  pass  ${ok.length} of ${group.length} slices of ${group[0].slice!.spec}: ${l.label} ${l.kind === 'max' ? '≤' : '≥'} ${show(group[0].limit, l.percent)}`);
  }
  const skipped = new Map<string, number>();
  for (const s of verdict.skippedSlices) skipped.set(s.spec, (skipped.get(s.spec) ?? 0) + 1);
  for (const [spec, count] of skipped) lines.push(`  skip  ${count} slice${count > 1 ? 's' : ''} of ${spec} below ${verdict.minSliceSize} examples (listed in the report, not checked)`);
  const failed = verdict.checks.filter((c) => !c.passed);
  const limits = new Set(verdict.checks.map((c) => c.limitName)).size;
  lines.push(
    verdict.passed
      ? `release gate: PASSED (${verdict.checks.length === limits ? `${limits} limit${limits > 1 ? 's' : ''}` : `${limits} limit${limits > 1 ? 's' : ''}, ${verdict.checks.length} checks`}, ${verdict.n} examples, decided on ${verdict.decideOn === 'bound' ? 'interval bounds' : 'estimates'})`
      : `release gate: BLOCKED: ${failed.slice(0, MAX_REASONS).map((c) => c.reason).join('; ')}${failed.length > MAX_REASONS ? `; and ${failed.length - MAX_REASONS} more (above)` : ''}`,
  );
  return lines.join('\n');
}
