/**
 * Distillery: train model updates that stay consistent with the deployed model, measure
 * how two versions differ, and move knowledge between models. See README.md.
 */
export * from './data/index.js';
export * from './models/index.js';
export * from './objectives/index.js';
export * from './train/index.js';
export * from './methods/index.js';
export * from './metrics/index.js';
export * from './experiments/config.js';
export * from './experiments/updateExperiment.js';
export { distill, toDataset, type DistillRequest, type DistillResult, type DistillData, type Examples, type OwnNetwork } from './experiments/distill.js';
export { trainReferenceEnsemble } from './experiments/ensembleTraining.js';
export { parseTransferConfig, transferExperimentSchema, DEFAULT_HOP_GRID, type TransferExperimentConfig } from './experiments/transferConfig.js';
export { runTransferExperiment, runTransferExperimentParallel, prepareTransferData, transferTrialRows, trainTransferTeacher, type TransferExperimentResult, type TransferTrialOutcome, type TransferTrialRows, type TransferData } from './experiments/transferExperiment.js';
export { renderTransferMarkdown, renderTransferText, writeTransferRun } from './report/transferReport.js';
export * from './report/experimentReport.js';
export { renderComparison, renderTextTable, renderMarkdownTable, formatRate, formatCI, formatMeanCI } from './report/table.js';
export { initEngine, engineInfo, createOptimizer, type EngineChoice, type EngineInfo, type EngineOptions } from './engine/index.js';
export { DistilleryError, InputError } from './util/errors.js';
export { Rng } from './util/rng.js';
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
