export * from './definition.js';
export * from './registry.js';
export * from './references.js';
export * from './fit.js';
export * from './update.js';
export * as recipes from './recipes/index.js';
