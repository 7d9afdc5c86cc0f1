/**
 * createOptimizer off the native engine: the frugal backprop (tensors freed as backprop moves
 * on) with tfjs's own Adam update, bit-identical to tf.train.adam and never holding more tensors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/engine/index.js';
import { createOptimizer, NativeAdamOptimizer } from '../../src/engine/optimizer.js';
import { randArr, rng, T } from './helpers.js';

test('on the cpu backend createOptimizer(adam) trains exactly like tf.train.adam', async () => {
  await tf.setBackend('cpu');
  const r = rng(4);
  const x0 = randArr(r, [16, 9]), w0 = randArr(r, [9, 12]), w1 = randArr(r, [12, 3]), y0 = randArr(r, [16, 3]);
  const train = (make: () => tf.Optimizer): { weights: Float32Array[]; peak: number } => {
    const base = tf.memory().numTensors;
    const a = tf.variable(T(w0)), b = tf.variable(T(w1));
    const opt = make();
    let peak = 0;
    for (let i = 0; i < 5; i++) {
      opt.minimize(() => {
        const h = tf.relu(tf.matMul(T(x0), a));
        const loss = tf.losses.softmaxCrossEntropy(T(y0), tf.matMul(h, b)) as tf.Scalar;
        return loss;
      });
      peak = Math.max(peak, tf.memory().numTensors - base);
    }
    const weights = [a, b].map((v) => v.dataSync().slice() as Float32Array);
    [a, b].forEach((v) => v.dispose());
    opt.dispose();
    return { weights, peak };
  };
  const stock = train(() => tf.train.adam(0.05));
  const ours = createOptimizer({ kind: 'adam', learningRate: 0.05 });
  assert.ok(ours instanceof NativeAdamOptimizer);
  ours.dispose();
  const frugal = train(() => createOptimizer({ kind: 'adam', learningRate: 0.05 }));
  frugal.weights.forEach((w, i) => assert.deepEqual(w, stock.weights[i], `weights ${i}`));
  assert.ok(frugal.peak <= stock.peak, `tensors alive: ${frugal.peak} vs ${stock.peak}`);
});
