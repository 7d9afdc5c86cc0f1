/**
 * The registered methods: one line per recipe. A new recipe is a file in this folder plus
 * its line here; types, config schema, CLI flags, help and report labels follow.
 */
export { anchor } from './anchor.js';
export { churnBudget } from './churn-budget.js';
export { codistill } from './codistill.js';
export { distill } from './distill.js';
export { elodi } from './elodi.js';
export { ensemble } from './ensemble.js';
export { focalDistill } from './focal-distill.js';
export { kd } from './kd.js';
export { labelSmoothing } from './label-smoothing.js';
export { ldi } from './ldi.js';
export { plain } from './plain.js';
export { profweight } from './profweight.js';
export { sratio } from './sratio.js';
