/** Running a network on model-ready features, and checking that data fits a model. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ModelMetadata, TrainedModel } from './types.js';
import { alignColumns } from './logits.js';
import { InputError } from '../util/errors.js';

/** Number of classes (width of the logits) a network outputs. */
export function outputWidth(model: LayersModel): number {
  const shape = model.outputs[0].shape;
  return shape[shape.length - 1] as number;
}

/**
 * Logits of `model` for `features` (row-major [n, ...featureShape]) as row-major [n, K],
 * computed `batchSize` examples at a time in inference mode. Allocates no lasting tensors.
 */
export function predictLogits(model: LayersModel, features: Float32Array, featureShape: number[], batchSize = 512): Float32Array {
  const d = featureShape.reduce((a, b) => a * b, 1);
  if (d === 0 || features.length % d !== 0) {
    throw new Error(`predictLogits: ${features.length} feature values do not form examples of shape [${featureShape}]`);
  }
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new Error(`predictLogits: batch size must be a positive integer, got ${batchSize}`);
  const n = features.length / d;
  const K = outputWidth(model);
  const out = new Float32Array(n * K);
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    // the tidy returns the tensor, not its values: tfjs scans a tidy's result for tensors, element by element for an array
    const logits = tf.tidy(() => model.predict(tf.tensor(features.subarray(start * d, (start + b) * d), [b, ...featureShape]), { batchSize: b }) as tf.Tensor);
    out.set(logits.dataSync(), start * K);
    logits.dispose();
  }
  return out;
}

/**
 * Logits of a trained model on `ds`, in the columns of `ds.classNames`: a class the model
 * was not trained on (an update that adds classes) gets the row's smallest logit.
 */
export function modelLogitsOn(m: TrainedModel, ds: { features: Float32Array; featureShape: number[]; classNames: string[] }): Float32Array {
  return alignColumns(predictLogits(m.model, ds.features, ds.featureShape), m.meta.classNames, ds.classNames, 'row-min');
}

/** Row-wise softmax of row-major logits [n, K] (numerically stable). */
export { softmax as logitsToProbs, argmaxRows } from './logits.js';

function describeClassDifference(model: string[], data: string[]): string {
  const missing = model.filter((c) => !data.includes(c));
  const extra = data.filter((c) => !model.includes(c));
  const parts: string[] = [];
  if (extra.length) parts.push(`the data has classes the model lacks: ${extra.join(', ')}`);
  if (missing.length) parts.push(`the model has classes the data lacks: ${missing.join(', ')}`);
  if (!parts.length) parts.push(`same classes in a different order: model [${model.join(', ')}], data [${data.join(', ')}]`);
  return parts.join('; ');
}

/**
 * Throws an InputError (source: the data's source) when examples of `ds` cannot be fed to
 * the model described by `meta`: a different feature shape, or different class names or
 * class order (class indices would mean different things).
 */
export function checkCompatible(meta: Pick<ModelMetadata, 'inputShape' | 'classNames'>, ds: { featureShape: number[]; classNames: string[]; source: string }): void {
  if (meta.inputShape.join('x') !== ds.featureShape.join('x')) {
    throw new InputError(ds.source, `examples have shape [${ds.featureShape.join(', ')}] but the model expects [${meta.inputShape.join(', ')}]`);
  }
  const same = meta.classNames.length === ds.classNames.length && meta.classNames.every((c, i) => c === ds.classNames[i]);
  if (!same) throw new InputError(ds.source, `classes do not match the model's: ${describeClassDifference(meta.classNames, ds.classNames)}`);
}
