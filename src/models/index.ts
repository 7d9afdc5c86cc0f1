/** The models layer: building, custom layers, saving/loading and prediction. */
export * from './config.js';
export * from './types.js';
export * from './recipe.js';
export { buildModel, buildNetwork, parameterCount } from './build.js';
export { fromLayersModel, modelInputSchema, MODEL_INPUT_JSON, type ModelInput, type FromLayersModelOptions } from './ownModel.js';
export { layersArchitecture, outputActivation, UNSEEDED_RANDOM_LAYERS } from './layersNetwork.js';
export { modelMetadata, networkMetadata, MODEL_FORMAT } from './metadata.js';
export { loadEnsemble, saveEnsemble, averagedModel, loadModelOrEnsemble, ensembleManifest, datasetFingerprint, type Ensemble, type EnsembleManifest } from './ensemble.js';
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
export { saveModel, loadModel, loadPlainModel, loadArchitecture, MODEL_JSON, WEIGHTS_BIN, METADATA_JSON } from './io.js';
export { predictLogits, logitsToProbs, checkCompatible, outputWidth } from './predict.js';
export { softmax, argmaxRows } from './logits.js';
export { accuracy, countCorrect, scoresAccuracy } from './agreement.js';
export * from './probes.js';
export { fitTree, treeProbabilities, treeLogits, oneHotTargets, leafCount, type CartTree, type TreeConfig, type TreeNode } from './tree.js';
export { saveClassifier, loadClassifier, classifierLogits, disposeClassifier, networkClassifier, scoreClassifier, TREE_JSON, type Classifier, type LocalClassifier, type TrainedTree, type TreeMetadata } from './classifier.js';
export { exportOnnx, ONNX_OPSET, type ExportOptions as OnnxExportOptions } from './onnxExport.js';
export { importOnnxNetwork } from './onnxImport.js';
export { isOnnxPath, loadOnnxModel, onnxLogits, type OnnxMetadata, type OnnxModel, type OnnxSession } from './onnx.js';
