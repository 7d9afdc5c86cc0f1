/** The models layer: building, custom layers, saving/loading and prediction. */
export * from './config.js';
export * from './types.js';
export { buildModel, parameterCount } from './build.js';
export {
  registerDistilleryLayers,
  DISTILLERY_LAYER_CLASS_NAMES,
  MultiHeadSelfAttention,
  PositionEmbedding,
  PaddingMask,
  MaskedMeanPool,
  SeededDropout,
  deriveSeed,
} from './layers.js';
export { saveModel, loadModel, loadPlainModel, MODEL_JSON, WEIGHTS_BIN, METADATA_JSON } from './io.js';
export { predictLogits, logitsToProbs, argmaxRows, checkCompatible, outputWidth } from './predict.js';
export * from './probes.js';
