import type * as tf from '@tensorflow/tfjs-layers';
import type { ModelConfig } from './config.js';
import type { PreprocessingSpec } from '../data/types.js';
import type { ModelMetrics, ModelRecipe } from './recipe.js';

/** Stored beside model.json as distillery.json. */
export interface ModelMetadata {
  format: 'distillery-model';
  formatVersion: 1;
  libraryVersion: string;
  architecture: ModelConfig;
  /** Shape of one example, e.g. [16]. */
  inputShape: number[];
  classNames: string[];
  preprocessing: PreprocessingSpec;
  /** A unique id, given when the model is trained (absent in files of older versions). */
  id?: string;
  /** How it was trained: method and parameters, reference, objective, data sizes. */
  recipe: ModelRecipe;
  /** Measured after training: epochs run, best epoch, validation numbers. */
  metrics: ModelMetrics;
  seed: number;
  /** Tensor engine the model was trained on. */
  engine?: string;
  /**
   * The interface of the ONNX file the model was imported from (absent otherwise), kept by every
   * update trained from it, so `distillery export` writes a drop-in replacement of that file: the
   * same input name and layout, the same output name and scores. `layout` 'nchw': the graph takes
   * images [batch, c, h, w] (PyTorch's layout; Distillery's data and networks are NHWC, [h, w, c]);
   * 'nhwc': as Distillery's. `scores` 'probabilities': the file ended in a softmax (the export
   * adds one back; the network itself outputs logits).
   */
  onnxInterface?: OnnxInterface;
  createdAt: string;
}

/** How an ONNX file takes its input and gives its scores (ModelMetadata.onnxInterface). */
export interface OnnxInterface {
  input: string;
  layout: 'nchw' | 'nhwc';
  output: string;
  scores: 'logits' | 'probabilities';
}

/** A network (outputs logits) together with everything needed to use it on raw data. */
export interface TrainedModel {
  model: tf.LayersModel;
  meta: ModelMetadata;
}
