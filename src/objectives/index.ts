export * from './types.js';
export * from './crossEntropy.js';
export * from './targets.js';
export * from './targetObjectives.js';
export * from './weightedSum.js';
export * from './logitDifferenceInhibition.js';
export * from './focalDistillation.js';
export * from './phased.js';
