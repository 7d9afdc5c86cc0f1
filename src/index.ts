/**
 * Distillery: train model updates that stay consistent with the deployed model, measure
 * how two versions differ, and move knowledge between models. See README.md.
 *
 * The root export is what the README and docs/ use; every layer's full API is a subpath:
 * `distillery/data`, `/models`, `/objectives`, `/train`, `/methods`, `/metrics`,
 * `/experiments`, `/report`, `/engine` (docs/package.md). Importing sets no tfjs flag and
 * loads no optional package: ONNX, Redis and charts load their packages when used.
 */

// engine
export { initEngine, engineInfo, setEngineThreads, createOptimizer, type EngineChoice, type EngineInfo, type EngineOptions } from './engine/index.js';

// data
export { loadData, fitPreprocessing, applyPreprocessing, splitUpdateScenario, trainTestSplit, trainValidationSplit, type HoldOutOptions, builtinDatasets, type LoadDataOptions, type FitOptions, type ApplyOptions, type UpdateScenario } from './data/index.js';
export type { Dataset, RawData, RawTabular, RawImages, RawText, PreprocessingSpec } from './data/types.js';

// models
export {
  buildModel,
  buildNetwork,
  fromLayersModel,
  saveModel,
  loadModel,
  loadClassifier,
  predictLogits,
  logitsToProbs,
  softmax,
  argmaxRows,
  loadEnsemble,
  saveEnsemble,
  exportOnnx,
  importOnnxNetwork,
  type FromLayersModelOptions,
  type Ensemble,
  type Classifier,
  type OnnxExportOptions,
} from './models/index.js';
export type { TrainedModel, ModelMetadata } from './models/types.js';
export type { TrainingConfig } from './models/recipe.js';
export type { ModelConfig, MlpConfig, CnnConfig, TransformerConfig, LayersConfig, LayersTopology } from './models/config.js';

// objectives
export {
  crossEntropyObjective,
  distillationObjective,
  anchorObjective,
  labelSmoothingObjective,
  temperedKlObjective,
  referenceCrossEntropyObjective,
  knowledgeDistillationObjective,
  codistillationObjective,
  ldiObjective,
  focalDistillationObjective,
  phasedObjective,
  weightedSum,
} from './objectives/index.js';
export type { Objective } from './objectives/types.js';

// training
export { trainModel, type TrainOptions, type TrainResult } from './train/trainer.js';
export type { TrainingCallback, EpochRecord } from './train/callbacks.js';

// methods
export {
  fitModel,
  trainUpdate,
  resolveReference,
  checkReferenceSpec,
  describeMethod,
  METHODS,
  METHOD_NAMES,
  type FitRequest,
  type UpdateRequest,
  type UpdateOutcome,
  type ReferenceSpec,
  type MethodName,
  type UpdateMethodSpec,
  type UpdateMethodInput,
  type MethodDefinition,
} from './methods/index.js';

// metrics
export { compareModels, evaluateGate, renderGate, flipMetrics, churn, type CompareInput, type ComparisonReport, type GatePolicy, type GateVerdict, type BootstrapOptions } from './metrics/index.js';

// experiments
export { distill, trainReferenceEnsemble, parseExperimentConfig, loadExperimentConfig, runUpdateExperiment, runUpdateExperimentParallel, type DistillRequest, type DistillResult, type DistillData, type Examples, type OwnNetwork, type UpdateExperimentConfig, type UpdateExperimentResult } from './experiments/index.js';

// reports
export { renderComparison, renderTextTable, renderMarkdownTable, renderExperimentText, renderExperimentMarkdown, writeExperimentRun } from './report/index.js';

// errors and utilities
export { DistilleryError, InputError, ParamError, renameParams, withParamNames } from './util/errors.js';
export { MissingPackageError, type OptionalPackage } from './util/optional.js';
export { Rng, type RngState } from './util/rng.js';
export { LIBRARY_VERSION } from './version.js';

// ---- Slices and discovered regions (issue #26): where an update regresses ----
export {
  compareBySlice,
  assignSlices,
  parseSliceSpec,
  sliceSpecText,
  sliceSpecSchema,
  SLICE_METRICS,
  SLICE_SYNTAX,
  DEFAULT_MIN_SLICE_SIZE,
  DEFAULT_SLICE_BINS,
  type ColumnTable,
  type SliceAssignment,
  type SliceComparison,
  type SliceDimension,
  type SliceInput,
  type SliceMetrics,
  type SliceOptions,
  type SliceSpec,
  type SliceStats,
  type Slicing,
} from './metrics/slices.js';
export {
  findRegressedRegions,
  confirmedRegionsByExample,
  adjustPValues,
  conditionText,
  REGION_DEFAULTS,
  MULTIPLE_TESTING,
  type MultipleTesting,
  type RegionCondition,
  type RegionDiscovery,
  type RegionHalf,
  type RegionInput,
  type RegionOptions,
  type RegressedRegion,
} from './metrics/regions.js';
export { checkGatePolicy, SLICE_LIMIT_NAMES, type GateScope, type GateSliceRef } from './metrics/gate.js';
// ---- end of slices and discovered regions ----
