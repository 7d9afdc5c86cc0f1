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
