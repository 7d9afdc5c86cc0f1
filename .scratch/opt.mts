import * as tf from '@tensorflow/tfjs-core';
import '../src/engine/index.ts';
import { createOptimizer } from '../src/engine/optimizer.ts';
await tf.setBackend('cpu');
for (const make of [() => tf.train.adam(0.05), () => createOptimizer({ kind: 'adam', learningRate: 0.05 })]) {
  const base = tf.memory().numTensors;
  const a = tf.variable(tf.randomNormal([9, 12])), b = tf.variable(tf.randomNormal([12, 3]));
  const x = tf.randomNormal([16, 9]), y = tf.randomNormal([16, 3]);
  const opt = make();
  const counts = [tf.memory().numTensors - base];
  for (let i = 0; i < 4; i++) { opt.minimize(() => tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.relu(tf.matMul(x, a)), b)) as tf.Scalar); counts.push(tf.memory().numTensors - base); }
  console.log(opt.constructor.name, counts.join(' '));
}
