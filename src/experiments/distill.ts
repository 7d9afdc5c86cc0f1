/**
 * `distill()`: one call for a team's own training setup, in the spirit of Keras's `Distiller`
 * but with Distillery's cached teacher. Give the deployed model (a Distillery model, or a tfjs
 * network of your own with what it reads), the new model's architecture (default: the deployed
 * model's own, freshly initialised), the data and a registered method; get back the trained
 * network with its metadata, every epoch's numbers (each loss term too), and the comparison
 * with the deployed model — accuracy, churn, negative and positive flips with intervals.
 *
 *   const { trained, comparison } = await distill({
 *     base: { network: deployed, classes, columns },     // or a model from loadModel()
 *     newModel: myNewNetwork,                             // optional: its architecture is trained
 *     data: { train: { x, y }, test: { x: xTest, y: yTest } },
 *     method: { method: 'distill', lambda: 0.5 },
 *   });
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { subsetDataset, type Dataset } from '../data/types.js';
import { trainValidationSplit } from '../data/split.js';
import type { ModelConfig } from '../models/config.js';
import type { TrainedModel } from '../models/types.js';
import type { TrainingConfig } from '../models/recipe.js';
import { fromLayersModel, type ModelInput } from '../models/ownModel.js';
import { layersArchitecture, topologyInputShape } from '../models/layersNetwork.js';
import { predictLogits } from '../models/predict.js';
import { argmaxRows, softmax } from '../models/logits.js';
import { DEFAULT_TRAINING } from '../train/trainingParams.js';
import { trainUpdate, type UpdateOutcome } from '../methods/update.js';
import type { ReferenceSpec } from '../methods/referenceSpec.js';
import type { MethodName, UpdateMethodInput } from '../methods/registry.js';
import { compareModels, type ComparisonReport } from '../metrics/compare.js';
import type { EpochRecord } from '../train/callbacks.js';
import type { ProgressSink } from '../train/progress.js';
import { InputError } from '../util/errors.js';

/** Examples as a team holds them: features [n, …inputShape] and labels (class indices, or class names). */
export interface Examples {
  x: tf.Tensor | Float32Array;
  y: Int32Array | number[] | string[];
}

/** Data of a distill() call: a Distillery Dataset (preprocessed) or Examples, per part. */
export type DistillData = Dataset | Examples;

/** A team's deployed network with what it reads (models/ownModel.ts), as distill()'s base. */
export interface OwnNetwork extends ModelInput {
  network: tfl.LayersModel;
}

export interface DistillRequest {
  /** The deployed model: what churn is measured against, and the default teacher. */
  base: TrainedModel | OwnNetwork;
  /**
   * The new model's architecture: a tfjs network (its architecture; it is trained from a fresh
   * initialisation seeded by `seed`, not from its current weights) or an architecture config.
   * Default: the base model's own architecture. Never another one.
   */
  newModel?: tfl.LayersModel | ModelConfig;
  /** The teacher (default: the method's — the base model, or for ELODI an ensemble of the new model's architecture trained here). */
  reference?: ReferenceSpec;
  data: {
    train: DistillData;
    /** Early stopping and searches (default: a seeded 10% hold-out of `train`, stratified by class). */
    validation?: DistillData;
    /** Where the new model is compared with the base (default: the validation data). */
    test?: DistillData;
  };
  /** A registered method by name, or with its parameters, e.g. `{ method: 'kd', alpha: 0.9, temperature: 4 }`. */
  method: MethodName | UpdateMethodInput;
  /** Optimisation settings; unset fields take the defaults of the CLI and configs. */
  training?: Partial<TrainingConfig>;
  /** Default 1: the same seed, data and engine give the same model. */
  seed?: number;
  progress?: ProgressSink;
  /** Bootstrap resamples of the comparison's intervals (default 1000). */
  resamples?: number;
}

export interface DistillResult {
  /** The trained network and its metadata (save with saveModel). */
  trained: TrainedModel;
  /** The deployed model as Distillery runs it (a tfjs base: its logits, its metadata). */
  base: TrainedModel;
  /** Every epoch: loss, each named loss term, accuracy, validation numbers. */
  history: EpochRecord[];
  /** The new model against the deployed one on the test data. */
  comparison: ComparisonReport;
  /** Everything trainUpdate returned (a churn-budget sweep, the reference ensemble, …). */
  outcome: UpdateOutcome;
}

const VALIDATION_FRACTION = 0.1;

function isTrainedModel(b: DistillRequest['base']): b is TrainedModel {
  return (b as TrainedModel).meta !== undefined && (b as TrainedModel).model !== undefined;
}

/** `d` as a Dataset in the base model's classes and input shape; `where` names the parameter in errors. */
export function toDataset(d: DistillData, base: TrainedModel, where: string): Dataset {
  const { classNames, inputShape } = base.meta;
  if ('features' in d && 'labels' in d) return d;
  if (!d || !('x' in d) || !('y' in d)) throw new InputError(where, 'must be a Dataset or { x, y } (features and labels)');
  const features = d.x instanceof tf.Tensor ? (d.x.dataSync() as Float32Array).slice() : d.x;
  if (!(features instanceof Float32Array)) throw new InputError(`${where}.x`, 'must be a tf.Tensor or a Float32Array');
  const size = inputShape.reduce((a, b) => a * b, 1);
  if (d.x instanceof tf.Tensor && d.x.shape.slice(1).join('x') !== inputShape.join('x')) {
    throw new InputError(`${where}.x`, `has shape [${d.x.shape.join(', ')}] but the model takes [batch, ${inputShape.join(', ')}]`);
  }
  if (features.length % size !== 0) throw new InputError(`${where}.x`, `${features.length} values do not form examples of shape [${inputShape.join(', ')}]`);
  const n = features.length / size;
  if (d.y.length !== n) throw new InputError(`${where}.y`, `has ${d.y.length} labels for ${n} examples`);
  const labels = new Int32Array(n);
  const index = new Map(classNames.map((c, k) => [c, k]));
  for (let i = 0; i < n; i++) {
    const v = d.y[i];
    const k = typeof v === 'string' ? index.get(v) : v;
    if (k === undefined || !Number.isInteger(k) || k < 0 || k >= classNames.length) {
      throw new InputError(`${where}.y`, `label ${i} is ${JSON.stringify(v)}, not one of the ${classNames.length} classes (${typeof v === 'string' ? classNames.join(', ') : `0…${classNames.length - 1}`})`);
    }
    labels[i] = k;
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) throw new InputError(`${where}.x`, `value ${i} (example ${Math.floor(i / size)}) is ${features[i]}`);
  }
  return { features, featureShape: inputShape.slice(), labels, classNames: classNames.slice(), source: where };
}

/** The architecture `newModel` names, checked to read the base model's inputs. */
function newArchitecture(newModel: DistillRequest['newModel'], base: TrainedModel): ModelConfig {
  if (newModel === undefined) return base.meta.architecture;
  if (typeof (newModel as tfl.LayersModel).toJSON === 'function') {
    const arch = layersArchitecture(newModel as tfl.LayersModel, 'newModel');
    const shape = topologyInputShape(arch.topology);
    if (shape && shape.join('x') !== base.meta.inputShape.join('x')) {
      throw new InputError('newModel', `takes inputs of shape [${shape.join(', ')}] but the base model's data has shape [${base.meta.inputShape.join(', ')}]`);
    }
    return arch;
  }
  return newModel as ModelConfig;
}

/**
 * Trains the new model from the deployed one with a registered method (every method of the
 * registry: distill, kd, anchor, ldi, elodi, focal-distill, profweight, sratio, codistill, …),
 * logging each loss term per epoch, and compares it with the deployed model.
 */
export async function distill(req: DistillRequest): Promise<DistillResult> {
  const base = isTrainedModel(req.base) ? req.base : await fromLayersModel(req.base.network, { ...baseInput(req.base), source: 'base' });
  const architecture = newArchitecture(req.newModel, base);
  const seed = req.seed ?? 1;
  const all = toDataset(req.data.train, base, 'data.train');
  let train = all;
  let validation: Dataset;
  if (req.data.validation) validation = toDataset(req.data.validation, base, 'data.validation');
  else {
    const split = trainValidationSplit(all.labels.length, VALIDATION_FRACTION, seed, { labels: all.labels });
    train = subsetDataset(all, split.train);
    validation = subsetDataset(all, split.validation);
  }
  const test = req.data.test ? toDataset(req.data.test, base, 'data.test') : validation;
  const training: TrainingConfig = { ...DEFAULT_TRAINING, ...req.training };
  const outcome = await trainUpdate({
    base,
    train,
    validation,
    method: req.method,
    reference: req.reference,
    architecture,
    training,
    seed,
    progress: req.progress,
    logTerms: true,
  });
  const K = base.meta.classNames.length;
  const oldLogits = predictLogits(base.model, test.features, test.featureShape);
  const newLogits = predictLogits(outcome.trained.model, test.features, test.featureShape);
  const comparison = compareModels(
    {
      labels: test.labels,
      predOld: argmaxRows(oldLogits, K),
      predNew: argmaxRows(newLogits, K),
      probsOld: softmax(oldLogits, K),
      probsNew: softmax(newLogits, K),
      logitsOld: oldLogits,
      logitsNew: newLogits,
      numClasses: K,
      classNames: base.meta.classNames,
    },
    { resamples: req.resamples, seed },
  );
  return { trained: outcome.trained, base, history: outcome.result.history, comparison, outcome };
}

function baseInput(b: OwnNetwork): ModelInput {
  const { network: _n, ...input } = b;
  return input;
}
