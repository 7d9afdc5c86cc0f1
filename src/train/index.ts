export * from './trainer.js';
export * from './callbacks.js';
export * from './earlyStopping.js';
export * from './reference.js';
export * from './progress.js';
export * from './peers.js';
export * from './codistillTogether.js';
