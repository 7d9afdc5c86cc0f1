import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/engine/tfjs.js';
import { ldiClassMask, ldiObjective, weightedSum, crossEntropyObjective } from '../../src/objectives/index.js';
import { close, lossOf } from './helpers.js';

await tf.setBackend('cpu');

test('LDI over every class but the true one, two-sided and one-sided, by hand', () => {
  const z = [[1, 3, 0], [0, -2, 1]];
  const ref = [[0, 1, 0.2], [0, 1, 0]];
  const y = [0, 2];
  // row 0: |diff| = [1, 2, 0.2] → d = [0.5, 1.5, 0]; S = {1, 2} → (2.25 + 0) / 2
  // row 1: |diff| = [0, 3, 1] → d = [0, 2.5, 0.5]; S = {0, 1} → (0 + 6.25) / 2
  close(lossOf(ldiObjective({ xi: 0.5, power: 2 }), z, ref, y), [1.125, 3.125]);
  // one-sided: only z_new − z_ref > ξ counts; row 1's class 1 fell below the reference → 0
  close(lossOf(ldiObjective({ xi: 0.5, power: 2, oneSided: true }), z, ref, y), [1.125, 0]);
  // p = 1, ξ = 0: mean |diff| over S
  close(lossOf(ldiObjective({ xi: 0, power: 1 }), z, ref, y), [(2 + 0.2) / 2, (0 + 3) / 2]);
  // relative margin: ξ·|max z_ref| = 0.5·1 on both rows → same as ξ = 0.5 here; scale the reference by 4
  const ref4 = ref.map((r) => r.map((v) => 4 * v));
  // row 0: margin 0.5·4 = 2, |diff| = [1, 1, 0.8] → d = 0 everywhere; row 1: margin 2, |diff| = [0, 6, 1] → d = [0, 4, 0] → 16/2
  close(lossOf(ldiObjective({ xi: 0.5, power: 2, relativeMargin: true }), z, ref4, y), [0, 8]);
});

test('LDI top-k chooses the k largest new logits PER EXAMPLE, never rows of the batch', () => {
  // row A: true class 0 has the largest logit; the top-1 other class is 2
  // row B: true class 3 is largest; the top-1 other class is 0
  const z = [[5, 0, 1, 0], [0.5, 0, 0.2, 9]];
  const ref = [[0, 0, 0, 0], [0, 0, 0, 0]];
  const y = [0, 3];
  const top1 = ldiObjective({ xi: 0, power: 2, topK: 1 });
  close(lossOf(top1, z, ref, y), [1, 0.25]);
  // each row's value is the same alone as in the batch: the selection never looks across rows
  close(lossOf(top1, [z[0]], [ref[0]], [y[0]]), [1]);
  close(lossOf(top1, [z[1]], [ref[1]], [y[1]]), [0.25]);
  // top-2: A picks {2, 1 or 3 (tied at 0)} → (1 + 0)/2; B picks {0, 2} → (0.25 + 0.04)/2
  close(lossOf(ldiObjective({ xi: 0, power: 2, topK: 2 }), z, ref, y), [0.5, 0.145]);
  // the mask itself: exactly k ones per row, never the true class
  const mask = tf.tidy(() => ldiClassMask(tf.tensor2d(z), tf.tensor2d([[1, 0, 0, 0], [0, 0, 0, 1]]), 1).arraySync());
  assert.deepEqual(mask, [[0, 0, 1, 0], [1, 0, 0, 0]]);
});

test('LDI with α: α·LDI + (1−α)·CE composes as a weighted sum', () => {
  const z = [[1, 3, 0]];
  const ref = [[0, 1, 0.2]];
  const ce = lossOf(crossEntropyObjective(), z, ref, [0])[0];
  const obj = weightedSum([[0.2, crossEntropyObjective()], [0.8, ldiObjective({ xi: 0.5 })]]);
  close(lossOf(obj, z, ref, [0]), [0.2 * ce + 0.8 * 1.125]);
});

test('LDI refuses bad options naming the parameter', () => {
  assert.throws(() => ldiObjective({ xi: -0.1 }), /xi: must be a number ≥ 0/);
  assert.throws(() => ldiObjective({ power: 0 }), /power: must be a number > 0/);
  assert.throws(() => ldiObjective({ topK: 1.5 }), /top-k/);
  assert.throws(() => lossOf(ldiObjective({ topK: 3 }), [[1, 2, 3]], [[0, 0, 0]], [0]), /top-k: must be below the number of classes \(3\)/);
});
