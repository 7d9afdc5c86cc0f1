import type { Dataset, PreprocessingSpec } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import type { TrainedModel } from '../models/types.js';
import type { ModelRecipe, TrainingConfig } from '../models/recipe.js';
import { checkCompatible } from '../models/predict.js';
import type { Objective } from '../objectives/types.js';
import type { ProgressSink } from '../train/progress.js';
import type { CheckpointStore } from '../train/snapshots.js';
import { fitModel } from './fit.js';
import { inheritOnnxInterface } from '../models/metadata.js';
import type { MethodContext, UpdateOutcome } from './definition.js';
import { ReferenceCache, referenceRecord } from './references.js';
import { resolveReference, type ReferenceContext, type ReferenceNames, type ReferenceSpec } from './referenceSpec.js';
import { describeMethod, methodNamed, methodParams, resolveMethod, type MethodName, type UpdateMethodInput } from './registry.js';

export type { BudgetSweepPoint, UpdateOutcome } from './definition.js';

export interface UpdateRequest {
  /** The deployed model: the default teacher, and what churn is measured against. */
  base: TrainedModel;
  /** Training data of the new model, preprocessed with the base model's preprocessing. */
  train: Dataset;
  /** Validation data (early stopping; the churn-budget search). */
  validation: Dataset;
  /** A registered method (methods/recipes), parameters left out take their defaults. */
  method: UpdateMethodInput | MethodName;
  /**
   * The teacher (default: the method's own — the base model, or for ELODI an ensemble of the new
   * architecture trained here): the base, an ensemble (models, a directory, or members to
   * train), logged logits, or peers. Resolved by resolveReference (referenceSpec.ts).
   */
  reference?: ReferenceSpec;
  /** Trains a reference ensemble when one is asked for (default: in this thread). */
  trainEnsemble?: ReferenceContext['trainEnsemble'];
  /** How errors name the reference's parts (default: the library's parameters; the CLI passes its flags). */
  referenceNames?: ReferenceNames;
  /** Shares reference logits between updates (e.g. every method of one experiment trial). */
  references?: ReferenceCache;
  /**
   * Preprocessing of the new model (default: the base model's). It may add classes to the
   * base model's (an update whose data has new classes): the base model's classes first, in
   * their order; `train` and `validation` are preprocessed with it.
   */
  preprocessing?: PreprocessingSpec;
  /** Architecture of the new model (default: the base model's). */
  architecture?: ModelConfig;
  training: TrainingConfig;
  seed: number;
  progress?: ProgressSink;
  /** Where each training run reports a large memory need before it starts (fitModel's `log`). */
  log?: (message: string) => void;
  /** Prefix of progress labels (e.g. "seed 3"). */
  label?: string;
  /** Log each named loss term per epoch (EpochRecord.terms). */
  logTerms?: boolean;
  /** A checkpoint store for each training run, in the order the method trains (train/snapshots.ts): the update resumes. */
  checkpoints?: () => CheckpointStore;
}

/**
 * Trains the new model from the base model and new data with a registered method. The
 * reference logits on the training rows are computed once (and shared through
 * `references`); the method's definition says whether it needs them.
 */
export async function trainUpdate(req: UpdateRequest): Promise<UpdateOutcome> {
  const preprocessing = req.preprocessing ?? req.base.meta.preprocessing;
  const expected = { inputShape: req.base.meta.inputShape, classNames: preprocessing.classNames };
  if (req.base.meta.classNames.some((c, k) => preprocessing.classNames[k] !== c)) {
    throw new Error('trainUpdate: the new preprocessing must keep the base model\'s classes first, in their order');
  }
  checkCompatible(expected, req.train);
  checkCompatible(expected, req.validation);
  const spec = resolveMethod(req.method);
  const def = methodNamed(spec.method);
  const params = methodParams(spec);
  const architecture = req.architecture ?? req.base.meta.architecture;
  const resolved = await resolveReference(
    spec,
    req.reference,
    { base: req.base, train: req.train, validation: req.validation, preprocessing, architecture, training: req.training, seed: req.seed, progress: req.progress, label: req.label, trainEnsemble: req.trainEnsemble },
    req.referenceNames,
  );
  const source = resolved?.source;
  const reference = source ? (req.references ?? new ReferenceCache()).get(source, req.base, req.train) : undefined;
  const label = describeMethod(spec);
  const ctx: MethodContext = {
    base: req.base,
    train: req.train,
    validation: req.validation,
    preprocessing,
    reference,
    source,
    architecture,
    training: req.training,
    seed: req.seed,
    progress: req.progress,
    logTerms: req.logTerms,
    fit: (objective: Objective, recipe, step: string, exampleWeights?: Float32Array) =>
      fitModel({
        architecture,
        preprocessing,
        train: req.train,
        validation: req.validation,
        objective,
        reference,
        exampleWeights,
        training: req.training,
        seed: req.seed,
        recipe: {
          method: spec.method,
          params: params as ModelRecipe['params'],
          ...(source ? { reference: referenceRecord(source, req.base) } : {}),
          baseModelSeed: req.base.meta.seed,
          ...recipe,
        },
        progress: req.progress,
        log: req.log,
        label: [req.label, step].filter(Boolean).join(': '),
        checkpoint: req.checkpoints?.(),
        logTerms: req.logTerms,
      }),
  };
  const outcome: UpdateOutcome = def.train ? await def.train(ctx, params) : await ctx.fit(def.objective!(params), {}, label);
  inheritOnnxInterface([outcome.trained, ...(outcome.members ?? [])], req.base);
  return resolved?.ensemble ? { ...outcome, reference: resolved } : outcome;
}

