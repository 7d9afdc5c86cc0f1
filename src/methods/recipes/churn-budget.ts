import { z } from 'zod';
import type { Dataset } from '../../data/types.js';
import type { TrainedModel } from '../../models/types.js';
import { argmaxRows } from '../../models/logits.js';
import { accuracy, churn } from '../../models/agreement.js';
import { modelLogitsOn } from '../../models/predict.js';
import { distillationObjective } from '../../objectives/targetObjectives.js';
import type { TrainResult } from '../../train/trainer.js';
import { defineMethod, type BudgetSweepPoint, type MethodContext, type UpdateOutcome, unitInterval } from '../definition.js';
import { InputError } from '../../util/errors.js';

const params = z
  .object({
    maxChurn: unitInterval,
    lambdas: z.array(unitInterval).min(1).default([0, 0.2, 0.4, 0.6, 0.8, 0.9]),
    refinements: z.number().int().min(0).max(20).default(2),
  })
  .strict();

const predictions = (model: TrainedModel, ds: Dataset) => argmaxRows(modelLogitsOn(model, ds), ds.classNames.length);

/**
 * Churn-budget form (methods.md §1): each churn bound ε has a λ with the same solution, so
 * search λ on validation data — a grid, then `refinements` bisections between the last λ
 * over the budget and the first within it — and return the most accurate model whose
 * validation churn against the base is within `maxChurn`. If no λ meets the budget, the
 * model with the lowest validation churn is returned and `budgetMet` is false.
 */
async function trainWithinChurnBudget(ctx: MethodContext, spec: z.output<typeof params>): Promise<UpdateOutcome> {
  if (ctx.validation.labels.length === 0) {
    throw new InputError(ctx.validation.source, 'no validation examples: churn-budget chooses λ by the churn it measures on held-out validation data; hold some out (e.g. --validation 0.1)');
  }
  const basePred = predictions(ctx.base, ctx.validation);
  const candidates: { point: BudgetSweepPoint; outcome: { trained: TrainedModel; result: TrainResult } }[] = [];
  const tryLambda = async (lambda: number) => {
    const outcome = await ctx.fit(distillationObjective(lambda), {}, `churn budget λ=${lambda.toFixed(3)}`);
    const predicted = predictions(outcome.trained, ctx.validation);
    const validationChurn = churn(predicted, basePred);
    const point = { lambda, validationAccuracy: accuracy(predicted, ctx.validation.labels), validationChurn, withinBudget: validationChurn <= spec.maxChurn };
    candidates.push({ point, outcome });
    return point;
  };

  const grid = [...spec.lambdas].sort((a, b) => a - b);
  for (const lambda of grid) await tryLambda(lambda);
  for (let r = 0; r < spec.refinements; r++) {
    const sorted = candidates.map((c) => c.point).sort((a, b) => a.lambda - b.lambda);
    const firstWithin = sorted.findIndex((p) => p.withinBudget);
    if (firstWithin <= 0) break; // all within budget, or none: nothing to bisect
    const mid = (sorted[firstWithin - 1].lambda + sorted[firstWithin].lambda) / 2;
    if (sorted.some((p) => Math.abs(p.lambda - mid) < 1e-6)) break;
    await tryLambda(mid);
  }

  const within = candidates.filter((c) => c.point.withinBudget);
  const chosen = within.length
    ? within.reduce((a, b) =>
        b.point.validationAccuracy > a.point.validationAccuracy ||
        (b.point.validationAccuracy === a.point.validationAccuracy && b.point.validationChurn < a.point.validationChurn)
          ? b
          : a,
      )
    : candidates.reduce((a, b) => (b.point.validationChurn < a.point.validationChurn ? b : a));
  for (const c of candidates) if (c !== chosen) c.outcome.trained.model.dispose();
  chosen.outcome.trained.meta.recipe.chosenLambda = chosen.point.lambda;
  chosen.outcome.trained.meta.recipe.budgetMet = within.length > 0;
  return {
    ...chosen.outcome,
    sweep: { points: candidates.map((c) => c.point), chosenLambda: chosen.point.lambda, budgetMet: within.length > 0 },
  };
}

/** Distillation with λ chosen on validation data under a churn limit. */
export const churnBudget = defineMethod({
  name: 'churn-budget',
  description: 'search λ on validation data; most accurate model with churn ≤ --max-churn',
  params,
  flags: {
    maxChurn: { flag: '--max-churn', help: 'largest allowed validation churn vs the base model, a fraction (e.g. 0.05); required' },
    lambdas: { flag: '--lambdas', help: 'λ grid to search before refining', value: 'numbers' },
    refinements: { flag: '--refinements', help: 'bisections of λ after the grid' },
  },
  reference: 'base',
  label: (p) => `churn budget ≤${(p.maxChurn * 100).toFixed(1)}%`,
  train: trainWithinChurnBudget,
});
