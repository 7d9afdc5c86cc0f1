import * as tf from '@tensorflow/tfjs-core';

/**
 * Soft targets for the churn-reduction methods (methods.md §1). Each returns a [b, K]
 * matrix used as `q` in CE(q, z_new).
 */

/** Distillation from the base model: λ·σ(z_old) + (1−λ)·onehot(y). */
export function distillationTarget(lambda: number, referenceLogits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.mul(tf.softmax(referenceLogits), lambda), tf.mul(oneHot, 1 - lambda)) as tf.Tensor2D);
}

/**
 * Anchor / RCP (Milani Fard et al. 2016): where the base model is right (argmax z_old = y),
 * α·σ(z_old) + (1−α)·onehot(y); where it is wrong, ε·onehot(y).
 */
export function anchorTarget(
  alpha: number,
  epsilon: number,
  referenceLogits: tf.Tensor2D,
  labels: tf.Tensor1D,
  oneHot: tf.Tensor2D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const baseRight = tf.expandDims(tf.equal(tf.argMax(referenceLogits, -1), tf.cast(labels, 'int32')), 1);
    const anchored = tf.add(tf.mul(tf.softmax(referenceLogits), alpha), tf.mul(oneHot, 1 - alpha));
    const downWeighted = tf.mul(oneHot, epsilon);
    return tf.where(tf.tile(baseRight, [1, oneHot.shape[1]]), anchored, downWeighted) as tf.Tensor2D;
  });
}

/** Label smoothing: (1−ε)·onehot(y) + ε/K. */
export function labelSmoothingTarget(epsilon: number, oneHot: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.mul(oneHot, 1 - epsilon), epsilon / oneHot.shape[1]) as tf.Tensor2D);
}
