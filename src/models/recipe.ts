/** What a saved model records about how it was trained (distillery.json `recipe` and `metrics`). */

/** Optimisation settings shared by every method (the recipe apart from the objective). */
export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  optimizer: 'adam' | 'sgd';
  learningRate: number;
  /** Early-stopping patience in epochs on the monitored validation metric (0 = off). */
  patience: number;
  /** Early stopping's validation metric: 'loss' (cross entropy) or 'accuracy' (default 'loss'). */
  monitor?: 'loss' | 'accuracy';
}

/** A method parameter as recorded: a number, a list of numbers, a string or a flag. */
export type ParamValue = number | number[] | string | boolean;

/** Where the reference (teacher) logits came from: the source's kind and the ids of its models. */
export interface ReferenceRecord {
  kind: string;
  /** Ids (`ModelMetadata.id`, else the seed as `seed:<n>`) of the models behind the logits; empty for logged predictions. */
  modelIds: string[];
}

export interface ModelRecipe {
  /** The registered method, or 'base' for a model trained on labels alone by `train`. */
  method: string;
  /** The method's parameters, defaults filled in. */
  params: Record<string, ParamValue>;
  /** The objective the trainer minimised, and its parameters. */
  objective: string;
  objectiveParams: Record<string, number | string | boolean>;
  /** The reference logits' source, for methods that use one. */
  reference?: ReferenceRecord;
  training: TrainingConfig;
  /** Optimizer steps the run was limited to, when it was. */
  maxSteps?: number;
  trainExamples: number;
  validationExamples: number;
  exampleWeights: boolean;
  /** Seed of the deployed model an update started from. */
  baseModelSeed?: number;
  /** Directory of that model, when the CLI loaded it from one. */
  baseModel?: string;
  /** The training data as named on the command line. */
  data?: string;
  /** The ensemble directory that served as the reference (`update --reference`). */
  referenceDir?: string;
  /** An old model retrained toward its own ensemble (ELODI's retrain-old variant). */
  retrainedOld?: boolean;
  /** churn-budget: the λ chosen on validation data, and whether it met the budget. */
  chosenLambda?: number;
  budgetMet?: boolean;
}

export interface ModelMetrics {
  epochsRun: number;
  /** Epoch whose weights the model holds (1-based). */
  bestEpoch: number;
  /** Validation numbers of that epoch, when there was validation data. */
  validationAccuracy?: number;
  validationLoss?: number;
}
