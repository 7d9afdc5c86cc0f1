import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/util/errors.js';
import { churn, flipMetrics, perClassFlips } from '../../src/metrics/flips.js';
import { i32, randomPredictions } from './helpers.js';

const close = (a: number, b: number, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('flip metrics: small hand-computed example', () => {
  // labels [0,1,2,0], old [0,1,0,1], new [0,2,2,1]
  // ex0 both right; ex1 negative flip (1→2); ex2 positive flip (0→2); ex3 both wrong, same (1)
  // acc_old = 2/4, acc_new = 2/4, churn = 2/4, NFR = 1/4, PFR = 1/4, wrong→wrong = 0
  // NFI = 1 neg flip / 2 errors of new = 0.5; PFI = 1 pos flip / 2 correct of new = 0.5
  // relative NFR = 0.25 / (0.5 · 0.5) = 1
  const m = flipMetrics(i32([0, 1, 2, 0]), i32([0, 1, 0, 1]), i32([0, 2, 2, 1]));
  assert.equal(m.accuracyOld, 0.5);
  assert.equal(m.accuracyNew, 0.5);
  assert.equal(m.errorRateOld, 0.5);
  assert.equal(m.errorRateNew, 0.5);
  assert.equal(m.churn, 0.5);
  assert.equal(m.nfr, 0.25);
  assert.equal(m.pfr, 0.25);
  assert.equal(m.badChurn, 0.25);
  assert.equal(m.goodChurn, 0.25);
  assert.equal(m.wrongToWrongRate, 0);
  assert.equal(m.nfi, 0.5);
  assert.equal(m.pfi, 0.5);
  assert.equal(m.relativeNfr, 1);
  assert.deepEqual(m.counts, {
    n: 4, correctOld: 2, correctNew: 2, changed: 2, negativeFlips: 1, positiveFlips: 1, wrongToWrongChanges: 0,
  });
});

test('flip metrics: example with a wrong→wrong change', () => {
  // labels [0,0,1,1,2], old [1,0,1,2,0], new [2,1,1,2,2]
  // ex0 wrong→wrong changed (1→2); ex1 negative flip; ex2 both right; ex3 wrong, same; ex4 positive flip
  // acc_old = 2/5 = 0.4, acc_new = 2/5 = 0.4, ER_new = 0.6
  // churn = 3/5, NFR = PFR = wrong→wrong = 1/5
  // NFI = 1/3 (new errs on ex0, ex1, ex3); PFI = 1/2 (new right on ex2, ex4)
  // relative NFR = 0.2 / (0.4 · 0.6) = 0.8333…
  const m = flipMetrics(i32([0, 0, 1, 1, 2]), i32([1, 0, 1, 2, 0]), i32([2, 1, 1, 2, 2]));
  close(m.churn, 0.6);
  close(m.nfr, 0.2);
  close(m.pfr, 0.2);
  close(m.wrongToWrongRate, 0.2);
  close(m.nfi, 1 / 3);
  close(m.pfi, 0.5);
  close(m.relativeNfr!, 0.2 / (0.4 * 0.6));
  assert.equal(m.counts.changed, 3);
  assert.equal(m.counts.wrongToWrongChanges, 1);
});

test('flip metrics: 0/0 conventions', () => {
  // new is always right: no errors → NFI = 0, ER_new = 0 → relative NFR undefined (null)
  const perfect = flipMetrics(i32([0, 1]), i32([1, 1]), i32([0, 1]));
  assert.equal(perfect.nfi, 0);
  assert.equal(perfect.relativeNfr, null);
  assert.equal(perfect.pfi, 0.5);
  // new is never right: PFI = 0/0 → 0
  const hopeless = flipMetrics(i32([0, 1]), i32([0, 0]), i32([1, 0]));
  assert.equal(hopeless.pfi, 0);
  assert.equal(hopeless.nfi, 0.5);
  // old never right: relative NFR null
  assert.equal(flipMetrics(i32([0]), i32([1]), i32([1])).relativeNfr, null);
});

test('flip metrics: identities on random data', () => {
  for (const seed of [1, 2, 3]) {
    const { labels, predOld, predNew } = randomPredictions(2000, 5, seed);
    const m = flipMetrics(labels, predOld, predNew);
    close(m.churn, m.pfr + m.nfr + m.wrongToWrongRate);
    close(m.accuracyNew - m.accuracyOld, m.pfr - m.nfr);
    close(m.churn, churn(predOld, predNew));
    close(m.nfi, m.counts.negativeFlips / (m.counts.n - m.counts.correctNew));
    const perClass = perClassFlips(labels, predOld, predNew, 5);
    assert.equal(perClass.reduce((s, c) => s + c.n, 0), 2000);
    assert.equal(perClass.reduce((s, c) => s + c.negativeFlips, 0), m.counts.negativeFlips);
    assert.equal(perClass.reduce((s, c) => s + c.positiveFlips, 0), m.counts.positiveFlips);
    assert.equal(perClass.reduce((s, c) => s + c.churned, 0), m.counts.changed);
  }
});

test('perClassFlips: hand-computed', () => {
  // labels [0,1,2,0], old [0,1,0,1], new [0,2,2,1]
  // class 0: ex0 (both right), ex3 (wrong, same) → n 2, no flips, churned 0
  // class 1: ex1 negative flip → n 1, neg 1, churned 1
  // class 2: ex2 positive flip → n 1, pos 1, churned 1; class 3: empty
  assert.deepEqual(perClassFlips(i32([0, 1, 2, 0]), i32([0, 1, 0, 1]), i32([0, 2, 2, 1]), 4), [
    { classIndex: 0, n: 2, negativeFlips: 0, positiveFlips: 0, churned: 0 },
    { classIndex: 1, n: 1, negativeFlips: 1, positiveFlips: 0, churned: 1 },
    { classIndex: 2, n: 1, negativeFlips: 0, positiveFlips: 1, churned: 1 },
    { classIndex: 3, n: 0, negativeFlips: 0, positiveFlips: 0, churned: 0 },
  ]);
});

test('churn needs no labels', () => {
  // 2 of 5 predictions differ
  assert.equal(churn(i32([0, 1, 2, 3, 4]), i32([0, 1, 0, 3, 0])), 0.4);
  assert.equal(churn(i32([7]), i32([7])), 0);
});

test('errors on mismatched lengths, empty input and bad labels', () => {
  const isInput = (source: string) => (e: unknown) => e instanceof InputError && e.source === source;
  assert.throws(() => flipMetrics(i32([0, 1]), i32([0]), i32([0, 1])), isInput('predictions'));
  assert.throws(() => flipMetrics(i32([]), i32([]), i32([])), isInput('predictions'));
  assert.throws(() => churn(i32([0, 1]), i32([0])), isInput('predictions'));
  assert.throws(() => perClassFlips(i32([0, 5]), i32([0, 1]), i32([0, 1]), 3), isInput('labels'));
  assert.throws(() => perClassFlips(i32([0]), i32([0]), i32([0]), 0), isInput('numClasses'));
});
