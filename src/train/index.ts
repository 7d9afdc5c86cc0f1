export * from './trainer.js';
export * from './reference.js';
export * from './progress.js';
