import { z } from 'zod';
import type { Dataset, PreprocessingSpec } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import type { TrainedModel } from '../models/types.js';
import type { ModelRecipe, TrainingConfig } from '../models/recipe.js';
import type { Objective } from '../objectives/types.js';
import type { TrainResult } from '../train/trainer.js';
import type { CachedReference } from '../train/reference.js';
import type { ProgressSink } from '../train/progress.js';
import type { ReferenceKind, ReferenceSource, ResolvedReference } from './references.js';

/** A method parameter that is a weight or a rate: a number in [0, 1]. */
export const unitInterval = z.number().min(0).max(1);

/** A command-line flag of one method parameter, e.g. `--lambda` for distill's `lambda`. */
export interface MethodFlag {
  /** The flag, e.g. "--lambda"; methods may share a flag for a parameter of the same name. */
  flag: string;
  /** What it means for this method (the default is appended from the schema). */
  help: string;
  /** How the value is written: a number (default), a comma-separated list of numbers, a switch without a value, or one of `choices`. */
  value?: 'number' | 'numbers' | 'boolean' | 'choice';
  /** The allowed values of a 'choice' flag. */
  choices?: readonly string[];
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
  /** Networks run per prediction (default 1; the ensemble paragon runs m). */
  inferenceCost?: number;
  /** When the new model IS an ensemble: its members (the model shares their weights; dispose these, not it). */
  members?: TrainedModel[];
  /** For reweighting methods (ProfWeight, SRatio): the weight of each training example. */
  exampleWeights?: Float32Array;
  /** The teacher when it was an ensemble loaded or trained for this update (to save it; dispose its members when `trained`). */
  reference?: ResolvedReference;
}

/** Everything a method that trains itself (e.g. a search) may use. */
export interface MethodContext {
  base: TrainedModel;
  train: Dataset;
  validation: Dataset;
  /** The new model's preprocessing (the base's, with any classes the data adds). */
  preprocessing: PreprocessingSpec;
  /** The reference logits for the training rows (when the method needs one). */
  reference?: CachedReference;
  /** Where those logits come from (e.g. the ensemble's members). */
  source?: ReferenceSource;
  /** Fits a new model on `train` with `objective` (architecture, seed, data, reference, training settings fixed), optionally with example weights. */
  fit(objective: Objective, recipe: Partial<ModelRecipe>, label: string, exampleWeights?: Float32Array): Promise<{ trained: TrainedModel; result: TrainResult }>;
  architecture: ModelConfig;
  training: TrainingConfig;
  seed: number;
  progress?: ProgressSink;
  /** Whether training logs each loss term per epoch (`fit` does it itself; a method that trains otherwise passes it on). */
  logTerms?: boolean;
}

/**
 * One training recipe for the new model: the single definition from which the types, the
 * YAML schema, `--method` choices and flags, `--help` and report labels are all derived.
 * Register a new one in recipes/index.ts.
 */
export interface MethodDefinition<N extends string = string, S extends z.ZodObject = z.ZodObject> {
  name: N;
  /** One line for `--help`. */
  description: string;
  /** Parameters with their defaults and ranges. */
  params: S;
  /** Command-line flags of the parameters that have one. */
  flags: Partial<Record<keyof z.output<S> & string, MethodFlag>>;
  /** Where its reference logits come from by default, or 'none' for a method without a teacher. */
  reference: ReferenceKind | 'none';
  /**
   * Usable as one hop of a transfer chain (`distillery transfer`, `kind: transfer`): it trains a
   * student, possibly of another family, from a single teacher model (the chain's previous model).
   */
  transferHop?: boolean;
  /** A short label for reports, e.g. "distill λ=0.5". */
  label(params: z.output<S>): string;
  /** The per-example objective, for a method that is one objective… */
  objective?(params: z.output<S>): Objective;
  /** …or its own training procedure (e.g. a search over objectives). */
  train?(ctx: MethodContext, params: z.output<S>): Promise<UpdateOutcome>;
}

/** Declares a method, keeping its name's literal type (what UpdateMethodSpec is derived from). */
export function defineMethod<const N extends string, S extends z.ZodObject>(def: MethodDefinition<N, S>): MethodDefinition<N, S> {
  if (!def.objective === !def.train) throw new Error(`method "${def.name}" needs exactly one of objective() and train()`);
  return def;
}
