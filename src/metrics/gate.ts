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
import type { ComparisonReport } from './compare.js';
import type { Interval } from './bootstrap.js';

export type GateMetric = 'nfr' | 'churn' | 'relativeNfr' | 'predictionDifference' | 'accuracyGain' | 'accuracyNew';

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
}

export interface GateVerdict {
  passed: boolean;
  decideOn: 'estimate' | 'bound';
  level: number;
  n: number;
  checks: GateCheck[];
}

/** The limits a policy can set, defined once: field, metric, direction, label, unit and allowed range. */
const LIMITS = [
  { limitName: 'maxNfr', metric: 'nfr', kind: 'max', label: 'NFR', percent: true, range: [0, 1], help: 'highest negative flip rate (old right, new wrong), e.g. 0.02' },
  { limitName: 'maxChurn', metric: 'churn', kind: 'max', label: 'churn', percent: true, range: [0, 1], help: 'highest churn (share of changed predictions)' },
  { limitName: 'maxRelativeNfr', metric: 'relativeNfr', kind: 'max', label: 'relative NFR', percent: false, range: [0, Infinity], help: 'highest relative NFR' },
  { limitName: 'maxPredictionDifference', metric: 'predictionDifference', kind: 'max', label: 'prediction difference', percent: true, range: [0, 1], help: 'highest prediction difference (needs probabilities from both models)' },
  { limitName: 'minAccuracyGain', metric: 'accuracyGain', kind: 'min', label: 'accuracy gain', percent: true, range: [-1, 1], help: 'lowest accuracy change new − old, e.g. -0.005 allows losing half a point' },
  { limitName: 'minAccuracy', metric: 'accuracyNew', kind: 'min', label: 'new accuracy', percent: true, range: [0, 1], help: 'lowest accuracy of the new model' },
] as const satisfies ReadonlyArray<{ limitName: string; metric: GateMetric; kind: 'max' | 'min'; label: string; percent: boolean; range: readonly [number, number]; help: string }>;

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
  })
  .strict();

/** Limits of a release; every one is optional, at least one must be set. */
export type GatePolicy = z.infer<typeof gatePolicySchema>;

/** The names of the limits a policy can set. */
export const GATE_LIMIT_NAMES: readonly GateLimitName[] = LIMITS.map((l) => l.limitName);

function show(x: number, percent: boolean): string {
  return percent ? `${(100 * x).toFixed(2)}%` : x.toFixed(3);
}

/** Checks every limit of `policy` against `report`; throws when the policy sets none. */
export function evaluateGate(report: ComparisonReport, policy: GatePolicy): GateVerdict {
  const decideOn = policy.decideOn ?? 'estimate';
  const active = LIMITS.filter((l) => policy[l.limitName] !== undefined);
  if (active.length === 0) throw new Error(`the release gate needs at least one limit (${GATE_LIMIT_NAMES.join(', ')})`);
  const levelText = `${Math.round(100 * report.level)}%`;
  const checks = active.map((l): GateCheck => {
    const limit = policy[l.limitName]!;
    if (!Number.isFinite(limit)) throw new Error(`${l.limitName} must be a finite number, got ${limit}`);
    const interval = report.metrics[l.metric];
    const where = decideOn === 'bound' ? ` (${l.kind === 'max' ? 'upper' : 'lower'} ${levelText} bound)` : '';
    if (interval === null) {
      if (l.metric === 'predictionDifference') throw new Error(`${l.limitName} needs class probabilities from both models`);
      // relative NFR is undefined only when the old model is never right or the new one never
      // wrong: then there can be no negative flip, and the limit holds
      return { limitName: l.limitName, metric: l.metric, kind: l.kind, limit, interval, checked: null, passed: true, reason: `${l.label} undefined (no negative flip is possible on this data)` };
    }
    const checked = decideOn === 'estimate' ? interval.estimate : l.kind === 'max' ? interval.high : interval.low;
    const passed = l.kind === 'max' ? checked <= limit : checked >= limit;
    const op = passed ? (l.kind === 'max' ? '≤' : '≥') : l.kind === 'max' ? '>' : '<';
    return { limitName: l.limitName, metric: l.metric, kind: l.kind, limit, interval, checked, passed, reason: `${l.label} ${show(checked, l.percent)}${where} ${op} ${show(limit, l.percent)}` };
  });
  return { passed: checks.every((c) => c.passed), decideOn, level: report.level, n: report.n, checks };
}

/** The verdict as lines of text: one per check, then the decision. */
export function renderGate(verdict: GateVerdict): string {
  const lines = verdict.checks.map((c) => `  ${c.passed ? 'pass' : 'FAIL'}  ${c.reason}`);
  const failed = verdict.checks.filter((c) => !c.passed);
  lines.push(
    verdict.passed
      ? `release gate: PASSED (${verdict.checks.length} limit${verdict.checks.length > 1 ? 's' : ''}, ${verdict.n} examples, decided on ${verdict.decideOn === 'bound' ? 'interval bounds' : 'estimates'})`
      : `release gate: BLOCKED: ${failed.map((c) => c.reason).join('; ')}`,
  );
  return lines.join('\n');
}
