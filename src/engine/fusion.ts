/**
 * The one decision every fused op makes: run as its registered kernel, or as the composition of
 * tfjs ops it replaces. Distillery's fused ops (FUSED_OPS, src/engine/kernels/index.ts) are the
 * dense layer (engine/dense.ts), layer normalisation (engine/layerNorm.ts), the soft-target cross
 * entropy (engine/softTargetCrossEntropy.ts), knowledge distillation's loss
 * (engine/knowledgeDistillation.ts), and LDI's penalty and training objective
 * (engine/logitDifference.ts); each asks `useFusedOp` with its forward kernel's name, then checks
 * the dtypes and shapes its kernel serves. Both paths give the same numbers (bit for bit, or to
 * float32 rounding where a kernel accumulates in double); the switch exists so that tests can
 * check that, and so that a profile can be taken without the fused ops: DISTILLERY_FUSED_OPS=0
 * turns every one of them off at start-up.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Whether fused ops run where their kernels are registered (tests switch it; DISTILLERY_FUSED_OPS=0 starts it off). */
export const fusedOps = { enabled: process.env.DISTILLERY_FUSED_OPS !== '0' };

/** Whether the fused op whose forward kernel is `kernelName` runs as that kernel: fused ops are on and the current backend has it. */
export function useFusedOp(kernelName: string): boolean {
  return fusedOps.enabled && tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}
