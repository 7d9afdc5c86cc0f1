/**
 * Switches for Distillery's fused ops: `dense` (engine/dense.ts) and `softTargetCrossEntropy`
 * (engine/softTargetCrossEntropy.ts, and the knowledge-distillation op built on it,
 * engine/knowledgeDistillation.ts). When off, callers compose tfjs ops instead. Both paths give
 * the same numbers; the switches exist so that tests can check that, and so that a profile can be
 * taken without them (DISTILLERY_FUSED_OPS=0 turns both off at start-up).
 */
const on = process.env.DISTILLERY_FUSED_OPS !== '0';

export const fusedOps = { dense: on, softTargetCrossEntropy: on };
