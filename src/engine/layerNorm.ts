/**
 * Layer normalisation over the last axis as one tfjs op: `y = (x − mean) / sqrt(var + ε) · γ + β`.
 *
 * On the native engine it is a registered kernel pair (forward in one pass over each row;
 * gradients for x and γ in one pass each, recomputing the row statistics), instead of the
 * ~20 full-size tfjs ops and four tiled copies of tfjs-layers' LayerNormalization. On every other
 * backend the same function composes differentiable tfjs-core ops, so gradients flow anywhere.
 * Both paths agree to float32 rounding (the native statistics are accumulated in double).
 */
import * as tf from '@tensorflow/tfjs-core';

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
  const native = x.dtype === 'float32' && x.size > 0 && tf.getKernel(LAYER_NORM, tf.getBackend()) !== undefined;
  if (!native) return layerNormReference(x, gamma, beta, epsilon);
  // the kernel takes 1-D parameters (a reshape is free and differentiable)
  const g = gamma.rank === 1 ? gamma : tf.reshape(gamma, [d]);
  const b = beta.rank === 1 ? beta : tf.reshape(beta, [d]);
  return tf.engine().runKernel(LAYER_NORM, { x, gamma: g, beta: b }, { epsilon }) as tf.Tensor;
}

let registered = false;

/** The gradient of the native kernel (registered once, with the native backend). */
export function registerLayerNormGradient(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
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
  });
}
