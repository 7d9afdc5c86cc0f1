import type { Objective } from '../objectives/types.js';
import {
  anchorObjective,
  crossEntropyObjective,
  distillationObjective,
  labelSmoothingObjective,
} from '../objectives/objectives.js';

/**
 * How to train the new model (methods.md §1). `churn-budget` is not a single objective:
 * it searches the distillation λ under a churn limit (see churnBudget.ts).
 */
export type UpdateMethodSpec =
  | { method: 'plain' }
  | { method: 'distill'; lambda: number }
  | { method: 'anchor'; alpha: number; epsilon: number }
  | { method: 'label-smoothing'; epsilon: number }
  | { method: 'churn-budget'; maxChurn: number; lambdas?: number[]; refinements?: number };

/** Defaults used when a method's parameters are not given. */
export const METHOD_DEFAULTS = {
  distill: { lambda: 0.5 },
  anchor: { alpha: 0.5, epsilon: 0.5 },
  'label-smoothing': { epsilon: 0.1 },
  'churn-budget': { lambdas: [0, 0.2, 0.4, 0.6, 0.8, 0.9], refinements: 2 },
} as const;

export const METHOD_NAMES = ['plain', 'distill', 'anchor', 'label-smoothing', 'churn-budget'] as const;

/** The per-example objective of a single-objective method. */
export function objectiveFor(spec: Exclude<UpdateMethodSpec, { method: 'churn-budget' }>): Objective {
  switch (spec.method) {
    case 'plain':
      return crossEntropyObjective();
    case 'distill':
      return distillationObjective(spec.lambda);
    case 'anchor':
      return anchorObjective(spec.alpha, spec.epsilon);
    case 'label-smoothing':
      return labelSmoothingObjective(spec.epsilon);
  }
}

/** A short human label, e.g. "distill λ=0.5". */
export function describeMethod(spec: UpdateMethodSpec): string {
  switch (spec.method) {
    case 'plain':
      return 'plain retrain';
    case 'distill':
      return `distill λ=${spec.lambda}`;
    case 'anchor':
      return `anchor α=${spec.alpha} ε=${spec.epsilon}`;
    case 'label-smoothing':
      return `label smoothing ε=${spec.epsilon}`;
    case 'churn-budget':
      return `churn budget ≤${(spec.maxChurn * 100).toFixed(1)}%`;
  }
}
