import type { Dataset, PreprocessingSpec } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import type { TrainedModel } from '../models/types.js';
import { buildModel } from '../models/build.js';
import type { Objective } from '../objectives/types.js';
import { trainModel, type TrainResult } from '../train/trainer.js';
import type { ReferenceProvider } from '../train/reference.js';
import type { ProgressSink } from '../train/progress.js';
import { LIBRARY_VERSION } from '../version.js';
import { engineInfo } from '../engine/index.js';

/** Optimisation settings shared by every method (the "recipe" apart from the objective). */
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

/** Defaults of the CLI and of experiment configs (those of the main job, configs/letter-update.yaml). */
export const DEFAULT_TRAINING: Required<TrainingConfig> = {
  epochs: 150,
  batchSize: 32,
  optimizer: 'adam',
  learningRate: 1e-3,
  patience: 20,
  monitor: 'loss',
};

export interface FitRequest {
  architecture: ModelConfig;
  preprocessing: PreprocessingSpec;
  train: Dataset;
  validation?: Dataset;
  objective: Objective;
  reference?: ReferenceProvider;
  exampleWeights?: Float32Array;
  training: TrainingConfig;
  seed: number;
  /** Extra recipe fields recorded in the metadata (method name, teacher, …). */
  recipe?: Record<string, unknown>;
  progress?: ProgressSink;
  label?: string;
}

/** Builds a fresh model from its architecture (seeded), trains it, and returns it with its metadata. */
export async function fitModel(req: FitRequest): Promise<{ trained: TrainedModel; result: TrainResult }> {
  const model = buildModel(req.architecture, req.train.featureShape, req.train.classNames.length, req.seed);
  const result = await trainModel(model, req.train, {
    objective: req.objective,
    reference: req.reference,
    exampleWeights: req.exampleWeights,
    epochs: req.training.epochs,
    batchSize: req.training.batchSize,
    optimizer: req.training.optimizer,
    learningRate: req.training.learningRate,
    validation: req.validation,
    earlyStopping: req.validation && req.training.patience > 0 ? { patience: req.training.patience, monitor: req.training.monitor ?? 'loss' } : false,
    seed: req.seed,
    progress: req.progress,
    label: req.label,
  });
  const metrics: Record<string, unknown> = { epochsRun: result.epochsRun, bestEpoch: result.bestEpoch };
  // The model holds the weights of `bestEpoch`, whose validation numbers the trainer already measured.
  const best = result.history[result.bestEpoch - 1];
  if (req.validation && best) {
    metrics.validationAccuracy = best.valAccuracy;
    metrics.validationLoss = best.valLoss;
  }
  const trained: TrainedModel = {
    model,
    meta: {
      format: 'distillery-model',
      formatVersion: 1,
      libraryVersion: LIBRARY_VERSION,
      architecture: req.architecture,
      inputShape: req.train.featureShape.slice(),
      classNames: req.train.classNames.slice(),
      preprocessing: req.preprocessing,
      recipe: {
        ...req.recipe,
        objective: req.objective.name,
        objectiveParams: req.objective.params,
        training: req.training,
        trainExamples: req.train.labels.length,
        validationExamples: req.validation?.labels.length ?? 0,
        exampleWeights: req.exampleWeights ? true : false,
      },
      metrics,
      seed: req.seed,
      engine: engineInfo()?.backend,
      createdAt: new Date().toISOString(),
    },
  };
  return { trained, result };
}
