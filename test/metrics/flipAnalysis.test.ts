import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyseFlips } from '../../src/metrics/flipAnalysis.js';
import { softmax } from '../../src/models/logits.js';

const near = (a: number | null, b: number, tol = 1e-5) => assert.ok(a !== null && Math.abs(a - b) <= tol, `${a} vs ${b}`);

// Four examples, three classes. Old logits and new logits per row; labels; predictions from the logits.
const zOld = new Float32Array([2, 0, 0, /**/ 0, 3, 0, /**/ 0.1, 0, 0, /**/ 0, 0, 1]);
const zNew = new Float32Array([0, 2, 0, /**/ 0, 3, 0.5, /**/ 0, 0.1, 0, /**/ 1, 0, 0]);
const labels = new Int32Array([0, 1, 0, 0]);
const argmax = (z: Float32Array) => Int32Array.from({ length: 4 }, (_, i) => { const r = Array.from(z.subarray(3 * i, 3 * i + 3)); return r.indexOf(Math.max(...r)); });
const predOld = argmax(zOld); // [0, 1, 0, 2]
const predNew = argmax(zNew); // [1, 1, 1, 0]
const input = { labels, predOld, predNew, probsOld: softmax(zOld, 3), probsNew: softmax(zNew, 3), numClasses: 3 };

test('flip analysis: margins and centred logit distances of negative flips vs all, by hand', () => {
  const fa = analyseFlips({ ...input, logitsOld: zOld, logitsNew: zNew });
  // negative flips: rows 0 (far from the boundary) and 2 (near it); positive flip: row 3
  assert.equal(fa.oldMargin.negativeFlips.n, 2);
  assert.equal(fa.oldMargin.positiveFlips.n, 1);
  assert.equal(fa.oldMargin.all.n, 4);
  const p0 = softmax(new Float32Array([2, 0, 0]), 3);
  const p2 = softmax(new Float32Array([0.1, 0, 0]), 3);
  near(fa.oldMargin.negativeFlips.mean, ((p0[0] - p0[1]) + (p2[0] - p2[1])) / 2);
  // row 0: centred old [4/3, −2/3, −2/3], centred new [−2/3, 4/3, −2/3] → diff [2, −2, 0]: L2 = √8, L∞ = 2
  // row 2: diff [0.1, −0.1, 0]: L2 = √0.02, L∞ = 0.1
  near(fa.logitL2.negativeFlips.mean, (Math.sqrt(8) + Math.sqrt(0.02)) / 2);
  near(fa.logitLInf.negativeFlips.quantiles.find((q) => q.q === 0.5)!.value, (2 + 0.1) / 2);
  // row 1 changes only the third logit by 0.5: centred diff [−1/6, −1/6, 1/3] → L∞ = 1/3
  const linfAll = fa.logitLInf.all.quantiles.find((q) => q.q === 0.5)!.value;
  // all L∞ values: [2, 1/3, 0.1, 1] → median (1/3 + 1)/2
  near(linfAll, (1 / 3 + 1) / 2);
  // one of the two negative flips is near the boundary (row 2), and 1 of 4 examples overall (row 3's old margin is 0.36)
  assert.equal(fa.nearBoundary.negativeFlips, 0.5);
  assert.equal(fa.nearBoundary.all, 0.25);
  // histograms count every example of the group once, over shared bins
  for (const q of [fa.oldMargin, fa.logitL2, fa.logitLInf]) {
    assert.equal(q.all.histogram.reduce((a, b) => a + b, 0), 4);
    assert.equal(q.negativeFlips.histogram.reduce((a, b) => a + b, 0), 2);
    assert.equal(q.edges.length, q.all.histogram.length + 1);
  }
});

test('from probabilities alone the distances equal those from logits (centred log-probabilities), within float32 rounding', () => {
  const fromLogits = analyseFlips({ ...input, logitsOld: zOld, logitsNew: zNew });
  const fromProbs = analyseFlips(input);
  for (const key of ['logitL2', 'logitLInf'] as const) {
    for (const g of ['all', 'negativeFlips', 'positiveFlips'] as const) {
      near(fromProbs[key][g].mean, fromLogits[key][g].mean!, 1e-5);
    }
  }
});
