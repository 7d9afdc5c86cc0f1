/**
 * Batch normalisation: tfjs's FusedBatchNorm, and the one-pass gradient that replaces tfjs's
 * (src/engine/gradients.ts). Layer normalisation is a fused op of its own (src/engine/layerNorm.ts).
 */
import { BATCH_NORM_GRAD } from '../gradients.js';
import { allocF32, asF32, f32, isF32, make, size, type NativeKernelConfig } from '../kernelValues.js';

const fusedBatchNorm: NativeKernelConfig = {
  kernelName: 'FusedBatchNorm',
  create: ({ addon, cpu }) => (args) => {
    const { backend: b } = args;
    const { x, mean, variance, offset, scale } = args.inputs;
    const present = [x!, mean!, variance!, ...(offset ? [offset] : []), ...(scale ? [scale] : [])];
    if (!isF32(b, ...present) || present.some((t) => size(t.shape) === 0)) return cpu('FusedBatchNorm')(args);
    const out = allocF32(b, size(x!.shape));
    const eps = (args.attrs?.varianceEpsilon as number | undefined) ?? 0.001;
    addon.batchNorm(f32(b, x!), f32(b, mean!), f32(b, variance!), offset ? f32(b, offset) : null, scale ? f32(b, scale) : null, out, eps);
    return make(b, x!.shape, out);
  },
};

const batchNormGrad: NativeKernelConfig = {
  kernelName: BATCH_NORM_GRAD,
  create: ({ addon }) => (args) => {
    const { backend: b } = args;
    const { x, mean, variance, scale, dy } = args.inputs;
    const out = allocF32(b, size(x!.shape));
    addon.batchNormGrad(args.attrs!.which as 0 | 1 | 2 | 3, asF32(b, x!), asF32(b, mean!), asF32(b, variance!), scale ? asF32(b, scale) : null, asF32(b, dy!), out, args.attrs!.varianceEpsilon as number);
    return make(b, x!.shape, out);
  },
};

export const normalizationKernels: NativeKernelConfig[] = [fusedBatchNorm, batchNormGrad];
