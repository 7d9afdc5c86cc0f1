import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/engine/tfjs.js';
import {
  anchorObjective,
  codistillationObjective,
  crossEntropyObjective,
  distillationObjective,
  knowledgeDistillationObjective,
  labelSmoothingObjective,
  softTargetCrossEntropy,
  anchorTarget,
  distillationTarget,
  labelSmoothingTarget,
  ldiObjective,
  focalDistillationObjective,
  type Objective,
} from '../../src/objectives/index.js';
import { Rng } from '../../src/util/rng.js';

await tf.setBackend('cpu');

import { close } from './helpers.js';

const LN3 = Math.log(3);

test('soft-target cross entropy matches hand-computed values', () => {
  // logits [0, ln 3] → softmax [0.25, 0.75]
  const z = tf.tensor2d([[0, LN3], [0, LN3]]);
  const q = tf.tensor2d([[0, 1], [0.5, 0.5]]);
  // −ln 0.75 = 0.287682; −(0.5 ln 0.25 + 0.5 ln 0.75) = 0.836988
  close(softTargetCrossEntropy(q, z).dataSync(), [0.287682, 0.836988]);
});

test('distillation target is λ·σ(z_old) + (1−λ)·onehot(y)', () => {
  const t = distillationTarget(0.6, tf.tensor2d([[0, LN3]]), tf.tensor2d([[1, 0]]));
  // 0.6·[0.25, 0.75] + 0.4·[1, 0] = [0.55, 0.45]
  close(t.dataSync(), [0.55, 0.45]);
});

test('anchor target follows the base model where it is right and down-weights the label elsewhere', () => {
  const ref = tf.tensor2d([[0, LN3], [0, LN3]]); // base predicts class 1 for both rows
  const labels = tf.tensor1d([1, 0], 'int32');
  const oneHot = tf.tensor2d([[0, 1], [1, 0]]);
  const t = anchorTarget(0.5, 0.3, ref, labels, oneHot);
  // row 0 (base right): 0.5·[0.25, 0.75] + 0.5·[0, 1] = [0.125, 0.875]; row 1 (base wrong): 0.3·[1, 0]
  close(t.dataSync(), [0.125, 0.875, 0.3, 0]);
});

test('label smoothing target is (1−ε)·onehot + ε/K', () => {
  close(labelSmoothingTarget(0.1, tf.tensor2d([[1, 0, 0, 0]])).dataSync(), [0.925, 0.025, 0.025, 0.025]);
});

test('knowledge distillation loss matches its formula at T = 2', () => {
  const obj = knowledgeDistillationObjective(0.5, 2);
  const logits = tf.tensor2d([[1, 0]]);
  const reference = tf.tensor2d([[0, 2]]);
  const oneHot = tf.tensor2d([[1, 0]]);
  const loss = obj.perExampleLoss({ logits, reference, oneHot, labels: tf.tensor1d([0], 'int32') }).dataSync()[0];
  const sm = (a: number[]) => a.map((v) => Math.exp(v) / a.reduce((s, w) => s + Math.exp(w), 0));
  const ce = -Math.log(sm([1, 0])[0]);
  const pt = sm([0, 1]); // teacher at T=2: logits [0, 2]/2
  const ps = sm([0.5, 0]); // student at T=2
  const kl = pt[0] * Math.log(pt[0] / ps[0]) + pt[1] * Math.log(pt[1] / ps[1]);
  assert.ok(Math.abs(loss - (0.5 * ce + 0.5 * 4 * kl)) < 1e-5, `${loss}`);
});

test('λ = 0 distillation equals plain cross entropy and needs no teacher', () => {
  const obj = distillationObjective(0);
  assert.equal(obj.needsReference, false);
  const logits = tf.tensor2d([[0.3, -1, 2]]);
  const oneHot = tf.tensor2d([[0, 1, 0]]);
  const ctx = { logits, oneHot, labels: tf.tensor1d([1], 'int32') };
  close(obj.perExampleLoss(ctx).dataSync(), crossEntropyObjective().perExampleLoss(ctx).dataSync());
});

test('parameters outside [0, 1] are rejected with a message naming them', () => {
  assert.throws(() => distillationObjective(1.5), /lambda: must be a number in \[0, 1\]/);
  assert.throws(() => anchorObjective(0.5, -0.1), /epsilon/);
  assert.throws(() => labelSmoothingObjective(Number.NaN), /smoothing/);
});

/** Central finite differences of the summed loss with respect to the logits, in float64 via small steps on float32 tensors. */
function numericalGradient(obj: Objective, z: number[][], ref: number[][], y: number[], K: number): number[] {
  const h = 1e-2;
  const flat = z.flat();
  const grad: number[] = [];
  const lossAt = (values: number[]) =>
    tf.tidy(() => {
      const logits = tf.tensor2d(values, [z.length, K]);
      const labels = tf.tensor1d(y, 'int32');
      const oneHot = tf.cast(tf.oneHot(labels, K), 'float32') as tf.Tensor2D;
      return tf.sum(obj.perExampleLoss({ logits, labels, oneHot, reference: tf.tensor2d(ref) })).dataSync()[0];
    });
  for (let i = 0; i < flat.length; i++) {
    const plus = flat.slice();
    const minus = flat.slice();
    plus[i] += h;
    minus[i] -= h;
    grad.push((lossAt(plus) - lossAt(minus)) / (2 * h));
  }
  return grad;
}

test('autodiff gradients of every objective match numerical gradients', () => {
  const rng = new Rng(7);
  const K = 4;
  const z = Array.from({ length: 3 }, () => Array.from({ length: K }, () => rng.normal()));
  const ref = Array.from({ length: 3 }, () => Array.from({ length: K }, () => 2 * rng.normal()));
  const y = [0, 2, 3];
  const objectives = [
    crossEntropyObjective(),
    distillationObjective(0.7),
    anchorObjective(0.6, 0.4),
    labelSmoothingObjective(0.2),
    knowledgeDistillationObjective(0.5, 3),
    codistillationObjective(1),
    ldiObjective({ xi: 0.5, power: 2 }),
    ldiObjective({ xi: 0.2, power: 3, topK: 2, oneSided: true }),
    ldiObjective({ xi: 0.1, power: 2, relativeMargin: true }),
    focalDistillationObjective({ divergence: 'kl', temperature: 3 }),
    focalDistillationObjective({ divergence: 'lm', filter: 'negative-flip', alpha: 0.5, beta: 2 }),
  ];
  for (const obj of objectives) {
    const analytic = tf.tidy(() => {
      const labels = tf.tensor1d(y, 'int32');
      const oneHot = tf.cast(tf.oneHot(labels, K), 'float32') as tf.Tensor2D;
      const reference = tf.tensor2d(ref);
      const g = tf.grad((logits: tf.Tensor) => tf.sum(obj.perExampleLoss({ logits: logits as tf.Tensor2D, labels, oneHot, reference })));
      return Array.from(g(tf.tensor2d(z)).dataSync());
    });
    close(analytic, numericalGradient(obj, z, ref, y, K), 2e-3);
  }
});

test('the distillation gradient is softmax(z) − target', () => {
  const z = tf.tensor2d([[0.5, -0.2, 1.0]]);
  const ref = tf.tensor2d([[1, 0, 0]]);
  const oneHot = tf.tensor2d([[0, 0, 1]]);
  const obj = distillationObjective(0.4);
  const g = tf.grad((l: tf.Tensor) => tf.sum(obj.perExampleLoss({ logits: l as tf.Tensor2D, oneHot, reference: ref, labels: tf.tensor1d([2], 'int32') })))(z);
  const expected = tf.sub(tf.softmax(z), distillationTarget(0.4, ref, oneHot));
  close(g.dataSync(), expected.dataSync());
});
