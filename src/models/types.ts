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
   * How a model imported from ONNX took its images there ('nchw': channels first, as PyTorch);
   * the network itself always takes NHWC. Export writes this layout back; updates keep it.
   */
  inputLayout?: 'nchw' | 'nhwc';
  createdAt: string;
}

/** A network (outputs logits) together with everything needed to use it on raw data. */
export interface TrainedModel {
  model: tf.LayersModel;
  meta: ModelMetadata;
}
