import type { Dataset } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import type { TrainedModel } from '../models/types.js';
import { argmaxRows, checkCompatible, predictLogits } from '../models/predict.js';
import { CachedReference } from '../train/reference.js';
import { flipMetrics } from '../metrics/flips.js';
import type { TrainResult } from '../train/trainer.js';
import type { ProgressSink } from '../train/progress.js';
import { fitModel, type TrainingConfig } from './fit.js';
import { describeMethod, METHOD_DEFAULTS, objectiveFor, type UpdateMethodSpec } from './spec.js';

export interface UpdateRequest {
  /** The deployed model: the teacher, and what churn is measured against. */
  base: TrainedModel;
  /** Training data of the new model, preprocessed with the base model's preprocessing. */
  train: Dataset;
  /** Validation data (early stopping; the churn-budget search). */
  validation: Dataset;
  method: UpdateMethodSpec;
  /** Architecture of the new model (default: the base model's). */
  architecture?: ModelConfig;
  training: TrainingConfig;
  seed: number;
  progress?: ProgressSink;
  /** Prefix of progress labels (e.g. "seed 3"). */
  label?: string;
}

/** One λ tried by the churn-budget search, measured on validation data. */
export interface BudgetSweepPoint {
  lambda: number;
  validationAccuracy: number;
  validationChurn: number;
  withinBudget: boolean;
}

export interface UpdateOutcome {
  trained: TrainedModel;
  result: TrainResult;
  /** For churn-budget: every λ tried, in the order tried, and the one chosen. */
  sweep?: { points: BudgetSweepPoint[]; chosenLambda: number; budgetMet: boolean };
}

/** Base-model logits for every training row, computed once and cached for the whole run. */
export function teacherReference(base: TrainedModel, train: Dataset): CachedReference {
  return new CachedReference(predictLogits(base.model, train.features, train.featureShape), train.classNames.length);
}

function agreementStats(model: TrainedModel, basePred: Int32Array, ds: Dataset): { accuracy: number; churn: number } {
  const pred = argmaxRows(predictLogits(model.model, ds.features, ds.featureShape), ds.classNames.length);
  const m = flipMetrics(ds.labels, basePred, pred);
  return { accuracy: m.accuracyNew, churn: m.churn };
}

/**
 * Trains the new model from the base model and new data with one of the methods of
 * methods.md §1. The base model's logits on the training rows are computed once.
 */
export async function trainUpdate(req: UpdateRequest): Promise<UpdateOutcome> {
  checkCompatible(req.base.meta, req.train);
  checkCompatible(req.base.meta, req.validation);
  const reference = req.method.method === 'plain' || req.method.method === 'label-smoothing' ? undefined : teacherReference(req.base, req.train);
  if (req.method.method === 'churn-budget') return trainWithinChurnBudget(req, req.method, reference!);
  const objective = objectiveFor(req.method);
  const { trained, result } = await fitModel({
    architecture: req.architecture ?? req.base.meta.architecture,
    preprocessing: req.base.meta.preprocessing,
    train: req.train,
    validation: req.validation,
    objective,
    reference,
    training: req.training,
    seed: req.seed,
    recipe: { method: req.method.method, baseModelSeed: req.base.meta.seed },
    progress: req.progress,
    label: [req.label, describeMethod(req.method)].filter(Boolean).join(': '),
  });
  return { trained, result };
}

/**
 * Churn-budget form (methods.md §1): each churn bound ε has a λ with the same solution, so
 * search λ on validation data — a grid, then `refinements` bisections between the last λ
 * over the budget and the first within it — and return the most accurate model whose
 * validation churn against the base is within `maxChurn`. If no λ meets the budget, the
 * model with the lowest validation churn is returned and `budgetMet` is false.
 */
async function trainWithinChurnBudget(
  req: UpdateRequest,
  spec: Extract<UpdateMethodSpec, { method: 'churn-budget' }>,
  reference: CachedReference,
): Promise<UpdateOutcome> {
  const basePred = argmaxRows(
    predictLogits(req.base.model, req.validation.features, req.validation.featureShape),
    req.validation.classNames.length,
  );
  const candidates: { point: BudgetSweepPoint; outcome: { trained: TrainedModel; result: TrainResult } }[] = [];
  const tryLambda = async (lambda: number) => {
    const outcome = await fitModel({
      architecture: req.architecture ?? req.base.meta.architecture,
      preprocessing: req.base.meta.preprocessing,
      train: req.train,
      validation: req.validation,
      objective: objectiveFor({ method: 'distill', lambda }),
      reference,
      training: req.training,
      seed: req.seed,
      recipe: { method: 'churn-budget', maxChurn: spec.maxChurn, baseModelSeed: req.base.meta.seed },
      progress: req.progress,
      label: [req.label, `churn budget λ=${lambda.toFixed(3)}`].filter(Boolean).join(': '),
    });
    const s = agreementStats(outcome.trained, basePred, req.validation);
    const point = { lambda, validationAccuracy: s.accuracy, validationChurn: s.churn, withinBudget: s.churn <= spec.maxChurn };
    candidates.push({ point, outcome });
    return point;
  };

  const grid = [...(spec.lambdas ?? METHOD_DEFAULTS['churn-budget'].lambdas)].sort((a, b) => a - b);
  for (const lambda of grid) await tryLambda(lambda);
  for (let r = 0; r < (spec.refinements ?? METHOD_DEFAULTS['churn-budget'].refinements); r++) {
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
