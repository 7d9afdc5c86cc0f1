/** `distillery/experiments`: experiments declared in YAML or code, and their runners. */
export * from './config.js';
export * from './updateExperiment.js';
export { runUpdateExperimentParallel, runTransferExperimentParallel, type ParallelOptions } from './parallel.js';
export type { QueueOptions } from './queueOptions.js';
export { distill, toDataset, type DistillRequest, type DistillResult, type DistillData, type Examples, type OwnNetwork } from './distill.js';
export { trainReferenceEnsemble } from './ensembleTraining.js';
export { parseTransferConfig, transferExperimentSchema, DEFAULT_HOP_GRID, type TransferExperimentConfig } from './transferConfig.js';
export { runTransferExperiment, prepareTransferData, transferTrialRows, trainTransferTeacher, type TransferExperimentResult, type TransferTrialOutcome, type TransferTrialRows, type TransferData } from './transferExperiment.js';
export {
  REPRODUCIBILITY_RECIPES,
  reproducibilitySchema,
  parseReproducibilityConfig,
  loadReproducibilityConfig,
  type ReproducibilityRecipe,
  type ReproducibilityConfig,
  type ReproducibilityResult,
  type PairMetrics,
  type RecipeSummary,
} from './reproducibility.js';
export { runReproducibility, type ReproducibilityHooks } from './reproducibilityStudy.js';
