import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, FAMILIES, metadataFor, randomFeatures } from './helpers.js';
import { buildModel } from '../../src/models/build.js';
import { argmaxRows, checkCompatible, logitsToProbs, predictLogits } from '../../src/models/predict.js';
import { InputError } from '../../src/util/errors.js';

for (const f of FAMILIES) {
  test(`${f.name}: predictLogits batches correctly and leaks no tensors`, () => {
    const model = buildModel(f.config, f.inputShape, f.numClasses, 4);
    const n = 7;
    const x = randomFeatures(f, n);
    const whole = tf.tidy(() => (model.predict(tf.tensor(x, [n, ...f.inputShape])) as tf.Tensor).dataSync());
    const before = tf.memory().numTensors;
    const logits = predictLogits(model, x, f.inputShape, 3);
    assert.equal(tf.memory().numTensors, before);
    assert.ok(logits instanceof Float32Array);
    assert.equal(logits.length, n * f.numClasses);
    for (let i = 0; i < logits.length; i++) assert.ok(Math.abs(logits[i] - whole[i]) < 1e-5);
    assert.equal(predictLogits(model, new Float32Array(0), f.inputShape).length, 0);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
}

test('predictLogits rejects features that do not form whole examples', () => {
  const f = FAMILIES[0];
  const model = buildModel(f.config, f.inputShape, f.numClasses, 4);
  assert.throws(() => predictLogits(model, new Float32Array(7), [5]), /7 feature values do not form examples of shape \[5\]/);
  model.dispose();
});

test('logitsToProbs: stable row-wise softmax', () => {
  const p = logitsToProbs(Float32Array.from([0, 0, 1000, 1000, 1000, -1000]), 3);
  assert.deepEqual(Array.from(p.subarray(0, 3)), [0, 0, 1]);
  assert.ok(Math.abs(p[3] - 0.5) < 1e-6 && Math.abs(p[4] - 0.5) < 1e-6 && p[5] === 0);
  const q = logitsToProbs(Float32Array.from([1, 2, 3]), 3);
  const e = [1, 2, 3].map(Math.exp);
  const s = e[0] + e[1] + e[2];
  e.forEach((v, k) => assert.ok(Math.abs(q[k] - v / s) < 1e-6));
});

test('argmaxRows: largest entry per row, first on ties', () => {
  assert.deepEqual(Array.from(argmaxRows(Float32Array.from([1, 3, 2, 5, 5, 0, -1, -2, -3]), 3)), [1, 0, 0]);
});

test('checkCompatible names both shapes and the differing classes', () => {
  const meta = metadataFor(FAMILIES[0]); // input [5], classes class-0..2
  const ok = { featureShape: [5], classNames: ['class-0', 'class-1', 'class-2'], source: 'data.csv' };
  checkCompatible(meta, ok);
  const expectError = (ds: typeof ok, message: RegExp) =>
    assert.throws(() => checkCompatible(meta, ds), (e: unknown) => e instanceof InputError && e.source === 'data.csv' && message.test(e.message));
  expectError({ ...ok, featureShape: [6] }, /examples have shape \[6\] but the model expects \[5\]/);
  expectError({ ...ok, classNames: ['class-0', 'class-1', 'cat'] }, /data has classes the model lacks: cat; the model has classes the data lacks: class-2/);
  expectError({ ...ok, classNames: ['class-0', 'class-1'] }, /the model has classes the data lacks: class-2/);
  expectError({ ...ok, classNames: ['class-1', 'class-0', 'class-2'] }, /same classes in a different order/);
});
