import { test } from 'node:test';
import '../../src/engine/tfjs.js';
import assert from 'node:assert/strict';
import { averageLogits, CachedReference, logMeanProbabilities } from '../../src/train/reference.js';
import { softmax } from '../../src/models/logits.js';

const a = Float32Array.from([0, Math.log(3), 2, 2]); // rows: [0.25, 0.75], [0.5, 0.5]
const b = Float32Array.from([Math.log(3), 0, 0, 0]); // rows: [0.75, 0.25], [0.5, 0.5]

test('softmax of logMeanProbabilities is the mean of the members\' probabilities', () => {
  const p = softmax(logMeanProbabilities([a, b], 2), 2);
  [0.5, 0.5, 0.5, 0.5].forEach((v, i) => assert.ok(Math.abs(p[i] - v) < 1e-6, `${i}: ${p[i]}`));
});

test('averageLogits is the element-wise mean; CachedReference gathers the asked rows', () => {
  assert.deepEqual(Array.from(averageLogits([a, b])), Array.from(a, (v, i) => Math.fround((v + b[i]) / 2)));
  const ref = new CachedReference(a, 2);
  assert.deepEqual(Array.from(ref.rows(Int32Array.from([1, 0, 1])).dataSync()), [2, 2, a[0], a[1], 2, 2]);
});
