/**
 * Every kernel of the native backend that is not tfjs-cpu's own, in one list, as tfjs's backends
 * list theirs (register_all_kernels.ts): the kernels that replace tfjs-cpu's, by family, and
 * Distillery's fused ops with their gradient kernels. `registerNativeBackend`
 * (src/engine/nativeBackend.ts) registers them, and the fused ops' gradients, in one loop each.
 *
 * To add a kernel: a `NativeKernelConfig` in its family's file, in that file's list (and, for
 * native code, its function in native/src/<family>.cc and one line in native/src/addon.cc). To
 * add a fused op: a `FusedOpConfig` next to the op (its kernels, its gradient), here in FUSED_OPS;
 * the op asks `useFusedOp` (src/engine/fusion.ts) before it runs its kernel.
 */
import type { FusedOpConfig, NativeKernelConfig } from '../kernelValues.js';
import { denseOp } from '../dense.js';
import { layerNormOp } from '../layerNorm.js';
import { softTargetCrossEntropyOp } from '../softTargetCrossEntropy.js';
import { knowledgeDistillationOp } from '../knowledgeDistillation.js';
import { ldiCrossEntropyOp, ldiPenaltyOp } from '../logitDifference.js';
import { matmulKernels } from './matmul.js';
import { convolutionKernels } from './convolution.js';
import { reductionKernels } from './reductions.js';
import { elementwiseKernels } from './elementwise.js';
import { normalizationKernels } from './normalization.js';
import { movementKernels } from './movement.js';

/** Distillery's fused ops: each a kernel (with gradient kernels) in place of a composition of tfjs ops. */
export const FUSED_OPS: readonly FusedOpConfig[] = [denseOp, layerNormOp, softTargetCrossEntropyOp, knowledgeDistillationOp, ldiPenaltyOp, ldiCrossEntropyOp];

/** Every kernel the native backend has beyond tfjs-cpu's: each name once. */
export const NATIVE_KERNELS: readonly NativeKernelConfig[] = [
  ...matmulKernels,
  ...convolutionKernels,
  ...reductionKernels,
  ...elementwiseKernels,
  ...normalizationKernels,
  ...movementKernels,
  ...FUSED_OPS.flatMap((op) => op.kernels),
];
