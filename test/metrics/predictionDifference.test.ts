import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import {
  perExamplePredictionDifference,
  predictionDifference,
  predictionDifferenceFromLogits,
} from '../../src/metrics/predictionDifference.js';
import { softmax } from '../../src/models/logits.js';
import { randomProbs } from './helpers.js';

const close = (a: number, b: number, eps = 1e-6): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);
const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

test('PD: hand-computed three-class example', () => {
  // row 0: p1 [0.5,0.3,0.2], p2 [0.2,0.3,0.5] → (0.3 + 0 + 0.3)/2 = 0.3
  // row 1: identical rows → 0
  // PD = (0.3 + 0)/2 = 0.15
  const p1 = f32([0.5, 0.3, 0.2, 0.1, 0.1, 0.8]);
  const p2 = f32([0.2, 0.3, 0.5, 0.1, 0.1, 0.8]);
  const per = perExamplePredictionDifference(p1, p2, 3);
  close(per[0], 0.3);
  close(per[1], 0);
  close(predictionDifference(p1, p2, 3), 0.15);
});

test('PD: binary case equals mean |p1 − p2| of the positive-class probability', () => {
  const rng = new Rng('pd-binary');
  const n = 500;
  const p1 = randomProbs(n, 2, rng);
  const p2 = randomProbs(n, 2, rng);
  let meanAbs = 0;
  for (let i = 0; i < n; i++) meanAbs += Math.abs(p1[2 * i + 1] - p2[2 * i + 1]);
  meanAbs /= n;
  close(predictionDifference(p1, p2, 2), meanAbs, 1e-6);
  // hand example: positive-class probs 0.9 vs 0.6 and 0.2 vs 0.4 → (0.3 + 0.2)/2 = 0.25
  close(predictionDifference(f32([0.1, 0.9, 0.8, 0.2]), f32([0.4, 0.6, 0.6, 0.4]), 2), 0.25);
});

test('PD: bounds and symmetry on random data', () => {
  const rng = new Rng('pd-random');
  const a = randomProbs(200, 4, rng);
  const b = randomProbs(200, 4, rng);
  const pd = predictionDifference(a, b, 4);
  assert.ok(pd > 0 && pd <= 1);
  close(pd, predictionDifference(b, a, 4), 1e-12);
  assert.equal(predictionDifference(a, a, 4), 0);
  // one-hot rows on different classes are as far apart as possible: PD = 1
  assert.equal(predictionDifference(f32([1, 0, 0]), f32([0, 0, 1]), 3), 1);
});

test('softmax is numerically stable and rows sum to 1', () => {
  const p = softmax(f32([1000, 1001, 1002, -1000, 0, 1000]), 3);
  for (const x of p) assert.ok(Number.isFinite(x));
  close(p[0] + p[1] + p[2], 1);
  close(p[3] + p[4] + p[5], 1);
  // softmax([0, 1, 2]) = e^k / (1 + e + e²)
  const z = 1 + Math.E + Math.E ** 2;
  close(p[0], 1 / z);
  close(p[2], Math.E ** 2 / z);
  close(p[5], 1);
});

test('PD from logits equals PD of the softmax probabilities', () => {
  const rng = new Rng('pd-logits');
  const z1 = Float32Array.from({ length: 60 }, () => rng.normal() * 3);
  const z2 = Float32Array.from({ length: 60 }, () => rng.normal() * 3);
  close(predictionDifferenceFromLogits(z1, z2, 3), predictionDifference(softmax(z1, 3), softmax(z2, 3), 3), 1e-12);
  // shifting every logit of a row by a constant changes nothing
  const shifted = z1.map((v) => v + 50);
  close(predictionDifferenceFromLogits(z1, shifted, 3), 0, 1e-6);
});

test('PD: shape errors', () => {
  const isInput = (e: unknown): boolean => e instanceof InputError;
  assert.throws(() => predictionDifference(f32([0.5, 0.5]), f32([1, 0, 0, 1]), 2), isInput);
  assert.throws(() => predictionDifference(f32([0.5, 0.5, 1]), f32([1, 0, 0]), 2), isInput);
  assert.throws(() => predictionDifference(f32([]), f32([]), 2), isInput);
  assert.throws(() => softmax(f32([1, 2, 3]), 2), isInput);
});
