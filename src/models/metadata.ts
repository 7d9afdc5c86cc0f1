/**
 * The one place a model's distillery.json is made: the format fields, the library version,
 * a fresh id and the creation time are filled in here; the caller gives what it knows
 * (architecture, data shape and classes, preprocessing, recipe, metrics, seed).
 */
import { randomUUID } from 'node:crypto';
import type { ModelMetadata, TrainedModel } from './types.js';
import type { ModelRecipe } from './recipe.js';
import { engineInfo } from '../engine/index.js';
import { LIBRARY_VERSION } from '../version.js';

/** The value of distillery.json's `format` field, for networks and trees alike. */
export const MODEL_FORMAT = 'distillery-model';

/** The fields a caller of modelMetadata gives; the others are filled in. */
type MetadataFields<M> = Omit<M, 'format' | 'formatVersion' | 'libraryVersion' | 'createdAt' | 'engine' | 'id'> & {
  /** Default: a new random id. `null` leaves the id out (e.g. an ONNX file's own id comes later). */
  id?: string | null;
  /** Default: the engine this process runs on. `null` leaves it out (a model not trained here). */
  engine?: string | null;
};

/** Metadata of a network or a tree: `fields` plus format, version, id, engine and time. */
export function modelMetadata<M extends { format: typeof MODEL_FORMAT; formatVersion: 1; libraryVersion: string; createdAt: string; id?: string; engine?: string }>(fields: MetadataFields<M>): M {
  const { id, engine, ...rest } = fields;
  const resolvedEngine = engine === null ? undefined : (engine ?? engineInfo()?.backend);
  return {
    format: MODEL_FORMAT,
    formatVersion: 1,
    libraryVersion: LIBRARY_VERSION,
    ...(id === null ? {} : { id: id ?? randomUUID() }),
    ...rest,
    ...(resolvedEngine ? { engine: resolvedEngine } : {}),
    createdAt: new Date().toISOString(),
  } as unknown as M;
}

/** The recipe of a model that was not trained by Distillery (imported from tfjs or ONNX). */
export function importedRecipe(method: string, params: ModelRecipe['params'] = {}): ModelRecipe {
  return {
    method,
    params,
    objective: 'unknown',
    objectiveParams: {},
    training: { epochs: 0, batchSize: 0, optimizer: 'adam', learningRate: 0, patience: 0 },
    trainExamples: 0,
    validationExamples: 0,
    exampleWeights: false,
  };
}

/** Shorthand for a network's metadata. */
export const networkMetadata = (fields: MetadataFields<ModelMetadata>): ModelMetadata => modelMetadata<ModelMetadata>(fields);

/**
 * Models trained from `base` keep the ONNX interface of a base imported from an ONNX file
 * (ModelMetadata.onnxInterface), so that their export is a drop-in replacement of that file.
 */
export function inheritOnnxInterface(models: TrainedModel[], base: Pick<TrainedModel, 'meta'>): void {
  const onnxInterface = base.meta.onnxInterface;
  if (onnxInterface) for (const m of models) m.meta = { ...m.meta, onnxInterface };
}
