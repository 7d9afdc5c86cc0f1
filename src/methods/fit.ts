import type { Dataset, PreprocessingSpec } from '../data/types.js';
import type { ModelConfig } from '../models/config.js';
import type { TrainedModel } from '../models/types.js';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ModelMetrics, ModelRecipe, TrainingConfig } from '../models/recipe.js';
import { buildNetwork } from '../models/build.js';
import { textMismatch } from '../models/io.js';
import { availableMemory, checkEstimateFits, checkFitsInMemory, memoryReport, type DataSize } from '../models/memory.js';
import { exampleSize } from '../data/types.js';
import { networkSize } from '../models/layersNetwork.js';
import { networkMetadata } from '../models/metadata.js';
import { InputError } from '../util/errors.js';
import type { Objective } from '../objectives/types.js';
import { trainModel, type TrainResult } from '../train/trainer.js';
import type { ReferenceProvider } from '../train/reference.js';
import type { TrainingCallback } from '../train/callbacks.js';
import { checkpointCallback, loadSnapshot, type CheckpointStore } from '../train/snapshots.js';
import type { ProgressSink } from '../train/progress.js';
import { DEFAULT_TRAINING } from '../train/trainingParams.js';

export type { TrainingConfig } from '../models/recipe.js';


/** The recipe fields a caller names; the rest (objective, training, data sizes) fitModel records itself. */
export type RecipeFields = Pick<ModelRecipe, 'method'> & Partial<Omit<ModelRecipe, 'objective' | 'objectiveParams' | 'training' | 'trainExamples' | 'validationExamples' | 'exampleWeights' | 'maxSteps'>>;

export interface FitRequest {
  architecture: ModelConfig;
  preprocessing: PreprocessingSpec;
  train: Dataset;
  validation?: Dataset;
  objective: Objective;
  reference?: ReferenceProvider;
  exampleWeights?: Float32Array;
  training: TrainingConfig;
  /** Stop after this many optimizer steps, whatever `training.epochs` says. */
  maxSteps?: number;
  /** Training callbacks (after early stopping, before progress); see train/callbacks.ts. */
  callbacks?: TrainingCallback[];
  /** Log each named loss term per epoch (trainModel's `logTerms`). */
  logTerms?: boolean;
  /** Checkpoint every epoch here, and continue from the snapshot it holds (train/snapshots.ts). */
  checkpoint?: CheckpointStore;
  seed: number;
  /** What the metadata records about the method (default: method 'base', no parameters). */
  recipe?: RecipeFields;
  progress?: ProgressSink;
  label?: string;
  /** Where a large memory need is reported before training starts (memoryReport); not reported without it. */
  log?: (message: string) => void;
}

/** The data `req` trains on, as the memory estimate counts it (models/memory.ts dataBytes). */
export function dataSizeOf(req: Pick<FitRequest, 'train' | 'validation' | 'objective' | 'reference' | 'exampleWeights'>): DataSize {
  return {
    source: req.train.source,
    trainRows: req.train.labels.length,
    validationRows: req.validation?.labels.length ?? 0,
    exampleSize: exampleSize(req.train),
    numClasses: req.train.classNames.length,
    // the trainer's soft-target table, and a reference's logits for every training row
    perRowTables: (req.objective.softTargets ? 1 : 0) + (req.reference ? 1 : 0),
    exampleWeights: req.exampleWeights !== undefined,
  };
}

/** Builds a fresh model from its architecture (seeded), trains it, and returns it with its metadata. */
export async function fitModel(req: FitRequest): Promise<{ trained: TrainedModel; result: TrainResult }> {
  const mismatch = textMismatch(req.architecture, req.preprocessing);
  if (mismatch) throw new InputError(req.train.source, mismatch);
  const batch = Math.min(req.training.batchSize ?? DEFAULT_TRAINING.batchSize, req.train.labels.length);
  const available = availableMemory();
  const data = dataSizeOf(req);
  // a team's own architecture is measured once built (it existed as a network already)
  let need = req.architecture.kind !== 'layers' ? checkFitsInMemory(req.architecture, req.train.featureShape, req.train.classNames.length, batch, available, data) : undefined;
  const model = await buildNetwork(req.architecture, req.train.featureShape, req.train.classNames.length, req.seed);
  if (req.architecture.kind === 'layers') {
    try {
      need = checkEstimateFits(networkSize(model), 'layers', batch, available, data);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  const report = memoryReport(need!, available);
  if (report !== undefined) req.log?.(report);
  const resumeFrom = req.checkpoint ? await loadSnapshot(req.checkpoint) : undefined;
  const callbacks = [...(req.callbacks ?? []), ...(req.checkpoint ? [checkpointCallback(req.checkpoint)] : [])];
  const result = await trainModel(model, req.train, {
    objective: req.objective,
    reference: req.reference,
    exampleWeights: req.exampleWeights,
    epochs: req.training.epochs,
    maxSteps: req.maxSteps,
    batchSize: req.training.batchSize,
    optimizer: req.training.optimizer,
    learningRate: req.training.learningRate,
    validation: req.validation,
    earlyStopping: req.validation && req.training.patience > 0 ? { patience: req.training.patience, monitor: req.training.monitor ?? 'loss' } : false,
    callbacks,
    resumeFrom,
    logTerms: req.logTerms,
    seed: req.seed,
    progress: req.progress,
    label: req.label,
  });
  return { trained: describeTrained(req, model, result), result };
}

/** A trained model with the metadata of how `req` trained it (fitModel's, or a method's own training). */
export function describeTrained(req: Omit<FitRequest, 'reference' | 'callbacks' | 'checkpoint' | 'progress' | 'label' | 'logTerms'>, model: LayersModel, result: TrainResult): TrainedModel {
  const metrics: ModelMetrics = { epochsRun: result.epochsRun, bestEpoch: result.bestEpoch };
  // The model holds the weights of `bestEpoch`, whose validation numbers the trainer already measured.
  const best = result.history[result.bestEpoch - 1];
  if (req.validation && best) {
    metrics.validationAccuracy = best.valAccuracy;
    metrics.validationLoss = best.valLoss;
  }
  const recipe: ModelRecipe = {
    params: {},
    ...(req.recipe ?? { method: 'base' }),
    objective: req.objective.name,
    objectiveParams: req.objective.params,
    training: req.training,
    ...(req.maxSteps !== undefined ? { maxSteps: req.maxSteps } : {}),
    trainExamples: req.train.labels.length,
    validationExamples: req.validation?.labels.length ?? 0,
    exampleWeights: req.exampleWeights ? true : false,
  };
  return {
    model,
    meta: networkMetadata({
      architecture: req.architecture,
      inputShape: req.train.featureShape.slice(),
      classNames: req.train.classNames.slice(),
      preprocessing: req.preprocessing,
      recipe,
      metrics,
      seed: req.seed,
    }),
  };
}
