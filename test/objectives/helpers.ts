import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Objective } from '../../src/objectives/index.js';

/** Element-wise |a − b| ≤ tol (float32 objectives against float64 hand values). */
export const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

/** Per-example losses of `obj` for logits `z`, reference logits `ref` and labels `y`. */
export function lossOf(obj: Objective, z: number[][], ref: number[][], y: number[]): number[] {
  return tf.tidy(() => {
    const labels = tf.tensor1d(y, 'int32');
    const oneHot = tf.cast(tf.oneHot(labels, z[0].length), 'float32') as tf.Tensor2D;
    return Array.from(obj.perExampleLoss({ logits: tf.tensor2d(z), labels, oneHot, reference: tf.tensor2d(ref) }).dataSync());
  });
}
