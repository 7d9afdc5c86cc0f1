import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `f(a, b)` as one op with a zero gradient: the ops inside are not recorded on the
 * gradient tape (tfjs records nothing inside a custom-gradient op's forward pass), so
 * selections such as top-k class masks or argmax filters may use ops that have no
 * gradient (TopK, comparisons). For values that weight or select loss terms, never for
 * the loss itself.
 */
export function withoutGradient<T extends tf.Tensor>(f: (a: tf.Tensor, b: tf.Tensor) => T, a: tf.Tensor, b: tf.Tensor): T {
  // The zeros are made from shapes: the backward pass may run after the forward pass's
  // intermediate tensors (x, y among them) have been disposed.
  const [xShape, xType, yShape, yType] = [a.shape, a.dtype, b.shape, b.dtype];
  const op = tf.customGrad(((x: tf.Tensor, y: tf.Tensor) => ({
    value: f(x, y),
    gradFunc: () => [tf.zeros(xShape, xType), tf.zeros(yShape, yType)],
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as T;
}
