import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/engine/tfjs.js';
import {
  codistillationObjective,
  crossEntropyObjective,
  knowledgeDistillationObjective,
  labelSmoothingObjective,
  referenceCrossEntropyObjective,
  weightedSum,
} from '../../src/objectives/index.js';

await tf.setBackend('cpu');

const ctx = () => ({
  logits: tf.tensor2d([[0.3, -1, 2], [1, 0, 0]]),
  labels: tf.tensor1d([1, 0], 'int32'),
  oneHot: tf.tensor2d([[0, 1, 0], [1, 0, 0]]),
  reference: tf.tensor2d([[2, 0, 0], [0, 0, 1]]),
});
const values = (t: tf.Tensor) => Array.from(t.dataSync());

test('a weighted sum is Σ w_j · loss_j per example, with named terms and parameters', () => {
  const c = ctx();
  const ce = values(crossEntropyObjective().perExampleLoss(c));
  const ls = values(labelSmoothingObjective(0.2).perExampleLoss(c));
  const sum = weightedSum([[0.5, crossEntropyObjective()], [2, labelSmoothingObjective(0.2)]]);
  values(sum.perExampleLoss(c)).forEach((v, i) => assert.ok(Math.abs(v - (0.5 * ce[i] + 2 * ls[i])) < 1e-5));
  assert.equal(sum.needsReference, false);
  assert.deepEqual(sum.terms.map(([w, t]) => [w, t.name]), [[0.5, 'cross-entropy'], [2, 'smoothed-cross-entropy']]);
  assert.equal(sum.params['smoothed-cross-entropy.epsilon'], 0.2);
});

test('a term of weight 0 is skipped, so it needs no reference; repeated term names are refused', () => {
  const sum = weightedSum([[1, crossEntropyObjective()], [0, referenceCrossEntropyObjective()]]);
  assert.equal(sum.needsReference, false);
  const c = { ...ctx(), reference: undefined };
  assert.deepEqual(values(sum.perExampleLoss(c)), values(crossEntropyObjective().perExampleLoss(c)));
  assert.throws(() => weightedSum([[1, crossEntropyObjective()], [1, crossEntropyObjective()]]), /two terms are named "cross-entropy"/);
});

test('KD and codistillation are weighted sums of their terms', () => {
  const kd = knowledgeDistillationObjective(0.3, 2);
  assert.deepEqual(kd.terms.map(([w, t]) => [w, t.name]), [[0.7, 'cross-entropy'], [0.3, 'tempered-kl']]);
  assert.deepEqual(kd.params, { alpha: 0.3, temperature: 2 });
  const co = codistillationObjective(2);
  const c = ctx();
  const expected = values(crossEntropyObjective().perExampleLoss(c)).map((v, i) => v + 2 * values(referenceCrossEntropyObjective().perExampleLoss(c))[i]);
  values(co.perExampleLoss(c)).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5));
});
