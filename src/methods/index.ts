export * from './spec.js';
export * from './fit.js';
export * from './update.js';
