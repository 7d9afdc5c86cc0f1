/**
 * Layer normalisation over the last axis as one tfjs op: `y = (x − mean) / sqrt(var + ε) · γ + β`.
 *
 * On the native engine it is a fused op (src/engine/fusion.ts), registered kernels: forward in
 * one pass over each row, gradients for x and γ in one pass each, recomputing the row
 * statistics, instead of the ~20 full-size tfjs ops and four tiled copies of tfjs-layers'
 * LayerNormalization. On every other backend (or with fused ops off) the same function composes
 * differentiable tfjs-core ops, so gradients flow anywhere. Both paths agree to float32 rounding
 * (the native statistics are accumulated in double).
 */
import * as tf from '@tensorflow/tfjs-core';
import { allocF32, asF32, make, size, type FusedOpConfig, type TensorInfo } from './kernelValues.js';
import { useFusedOp } from './fusion.js';

export const LAYER_NORM = 'DistilleryLayerNorm';
export const LAYER_NORM_GRAD_X = 'DistilleryLayerNormGradX';
export const LAYER_NORM_GRAD_GAMMA = 'DistilleryLayerNormGradGamma';

/** The composition of core ops used where no native kernel is registered. */
export function layerNormReference(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
  });
}

/** Layer normalisation of `x` over its last axis with scale `gamma` and offset `beta` (both [d]). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  const d = x.shape[x.shape.length - 1];
  if (gamma.size !== d || beta.size !== d) {
    throw new Error(`layerNorm: gamma and beta must have ${d} elements (the last axis of [${x.shape}]), got ${gamma.size} and ${beta.size}`);
  }
  const native = x.dtype === 'float32' && x.size > 0 && useFusedOp(LAYER_NORM);
  if (!native) return layerNormReference(x, gamma, beta, epsilon);
  // the kernel takes 1-D parameters (a reshape is free and differentiable)
  const g = gamma.rank === 1 ? gamma : tf.reshape(gamma, [d]);
  const b = beta.rank === 1 ? beta : tf.reshape(beta, [d]);
  return tf.engine().runKernel(LAYER_NORM, { x, gamma: g, beta: b }, { epsilon }) as tf.Tensor;
}

/** Rows and the normalised axis's length of x. */
const lnDims = (x: TensorInfo): [number, number] => {
  const d = x.shape[x.shape.length - 1];
  return [size(x.shape) / d, d];
};

/** The op: the forward kernel and the x and gamma gradient kernels (the addon's), and its gradient. */
export const layerNormOp: FusedOpConfig = {
  kernelName: LAYER_NORM,
  kernels: [
    {
      kernelName: LAYER_NORM,
      create: ({ addon }) => (args) => {
        const { backend: b } = args;
        const { x, gamma, beta } = args.inputs;
        const [rows, d] = lnDims(x!);
        const out = allocF32(b, size(x!.shape));
        addon.layerNorm(asF32(b, x!), asF32(b, gamma!), asF32(b, beta!), out, rows, d, args.attrs!.epsilon as number);
        return make(b, x!.shape, out);
      },
    },
    {
      kernelName: LAYER_NORM_GRAD_X,
      create: ({ addon }) => (args) => {
        const { backend: b } = args;
        const { x, gamma, dy } = args.inputs;
        const [rows, d] = lnDims(x!);
        const out = allocF32(b, size(x!.shape));
        addon.layerNormGradX(asF32(b, x!), asF32(b, gamma!), asF32(b, dy!), out, rows, d, args.attrs!.epsilon as number);
        return make(b, x!.shape, out);
      },
    },
    {
      kernelName: LAYER_NORM_GRAD_GAMMA,
      create: ({ addon }) => (args) => {
        const { backend: b } = args;
        const { x, dy } = args.inputs;
        const [rows, d] = lnDims(x!);
        const out = allocF32(b, d);
        addon.layerNormGradGamma(asF32(b, x!), asF32(b, dy!), out, rows, d, args.attrs!.epsilon as number);
        return make(b, [d], out);
      },
    },
  ],
  gradient: {
    kernelName: LAYER_NORM,
    inputsToSave: ['x', 'gamma'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gamma] = saved;
      const d = Array.isArray(dy) ? dy[0] : dy;
      const rowAxes = x.shape.slice(0, -1).map((_, i) => i);
      return {
        x: () => tf.engine().runKernel(LAYER_NORM_GRAD_X, { x, gamma, dy: d }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
        gamma: () => tf.engine().runKernel(LAYER_NORM_GRAD_GAMMA, { x, dy: d }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
        beta: () => (rowAxes.length > 0 ? tf.sum(d, rowAxes) : tf.clone(d)),
      };
    },
  },
};
