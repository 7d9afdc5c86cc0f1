/** The models layer: building, custom layers, saving/loading and prediction. */
export * from './config.js';
export * from './types.js';
export * from './recipe.js';
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
export { predictLogits, logitsToProbs, checkCompatible, outputWidth } from './predict.js';
export { softmax, argmaxRows } from './logits.js';
export * from './probes.js';
export { fitTree, treeProbabilities, treeLogits, oneHotTargets, leafCount, type CartTree, type TreeConfig, type TreeNode } from './tree.js';
export { saveClassifier, loadClassifier, classifierLogits, disposeClassifier, networkClassifier, scoreClassifier, TREE_JSON, type Classifier, type LocalClassifier, type TrainedTree, type TreeMetadata } from './classifier.js';
