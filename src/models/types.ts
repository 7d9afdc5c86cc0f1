import type * as tf from '@tensorflow/tfjs-layers';
import type { ModelConfig } from './config.js';
import type { PreprocessingSpec } from '../data/types.js';

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
  /** How it was trained: method name and hyper-parameters, data sizes, epochs run. */
  recipe: Record<string, unknown>;
  /** Metrics measured after training (e.g. validation accuracy). */
  metrics: Record<string, unknown>;
  seed: number;
  /** Tensor engine the model was trained on. */
  engine?: string;
  createdAt: string;
}

/** A network (outputs logits) together with everything needed to use it on raw data. */
export interface TrainedModel {
  model: tf.LayersModel;
  meta: ModelMetadata;
}
