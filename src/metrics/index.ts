/** Metrics between an old and a new model: flips, churn, prediction difference, intervals and tests. */
export {
  Outcome,
  churn,
  correctMask,
  countOutcomes,
  flipMetrics,
  flipOutcomes,
  flipRates,
  perClassFlips,
  type ClassFlips,
  type FlipCounts,
  type FlipMetrics,
} from './flips.js';
export {
  perExamplePredictionDifference,
  predictionDifference,
  predictionDifferenceFromLogits,
} from './predictionDifference.js';
export {
  DEFAULT_LEVEL,
  DEFAULT_RESAMPLES,
  bootstrapCI,
  bootstrapCIs,
  mcnemarTest,
  meanCI,
  normalQuantile,
  pairedBootstrapTest,
  studentTQuantile,
  type BootstrapOptions,
  type ConfidenceInterval,
  type Interval,
  type McNemarResult,
  type MeanCI,
  type MultiStatistic,
  type PairedTestResult,
  type Statistic,
} from './bootstrap.js';
export {
  compareModels,
  type ClassFlipsReport,
  type CompareInput,
  type ComparisonMetrics,
  type ComparisonReport,
} from './compare.js';
export {
  GATE_LIMIT_NAMES,
  evaluateGate,
  renderGate,
  type GateCheck,
  type GateMetric,
  type GatePolicy,
  type GateVerdict,
} from './gate.js';
export {
  accuracyAtMatchedChurn,
  dominates,
  pairedDifference,
  pooledGap,
  relativeReduction,
  type MatchedChurnComparison,
  type SeedPoint,
} from './seedComparison.js';
export * from './flipAnalysis.js';
