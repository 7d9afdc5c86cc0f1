import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import { compareModels, flipMetrics, predictionDifference } from '../../src/metrics/index.js';
import { i32, randomPredictions, randomProbs } from './helpers.js';

const close = (a: number, b: number, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('compareModels: hand-computed example', () => {
  // labels [0,1,2,0], old [0,1,0,1], new [0,2,2,1] (see flips.test.ts):
  // acc 0.5 → 0.5, churn 0.5, NFR 0.25, PFR 0.25, NFI 0.5, PFI 0.5, relative NFR 1
  // PD: rows differ by (0, 0.5, 0.5, 0) → PD = 0.25
  const probsOld = Float32Array.from([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0]);
  const probsNew = Float32Array.from([1, 0, 0, 0, 0.5, 0.5, 0.5, 0, 0.5, 0, 1, 0]);
  const report = compareModels(
    {
      labels: i32([0, 1, 2, 0]),
      predOld: i32([0, 1, 0, 1]),
      predNew: i32([0, 2, 2, 1]),
      probsOld,
      probsNew,
      numClasses: 3,
      classNames: ['cat', 'dog', 'bird'],
    },
    { seed: 1, resamples: 200 },
  );
  const m = report.metrics;
  assert.equal(m.accuracyOld.estimate, 0.5);
  assert.equal(m.accuracyNew.estimate, 0.5);
  assert.equal(m.accuracyGain.estimate, 0);
  assert.equal(m.churn.estimate, 0.5);
  assert.equal(m.nfr.estimate, 0.25);
  assert.equal(m.pfr.estimate, 0.25);
  assert.equal(m.wrongToWrongRate.estimate, 0);
  assert.equal(m.nfi.estimate, 0.5);
  assert.equal(m.pfi.estimate, 0.5);
  assert.equal(m.relativeNfr?.estimate, 1);
  close(m.predictionDifference!.estimate, 0.25);
  assert.deepEqual(report.counts, {
    n: 4, correctOld: 2, correctNew: 2, changed: 2, negativeFlips: 1, positiveFlips: 1, wrongToWrongChanges: 0,
  });
  assert.deepEqual(report.perClass.map((c) => [c.className, c.n, c.negativeFlips, c.positiveFlips, c.churned]), [
    ['cat', 2, 0, 0, 0],
    ['dog', 1, 1, 0, 1],
    ['bird', 1, 0, 1, 1],
  ]);
  // one example only old gets right, one only new: p = 1
  assert.deepEqual(report.mcnemar, { onlyACorrect: 1, onlyBCorrect: 1, pValue: 1 });
  assert.deepEqual([report.n, report.numClasses, report.level, report.resamples, report.seed], [4, 3, 0.95, 200, 1]);
  // plain data: survives a JSON round trip unchanged
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

test('compareModels: random data, intervals and identities', () => {
  const n = 3000;
  const { labels, predOld, predNew } = randomPredictions(n, 4, 'cmp');
  const rng = new Rng('cmp-probs');
  const probsOld = randomProbs(n, 4, rng);
  const probsNew = randomProbs(n, 4, rng);
  const input = { labels, predOld, predNew, probsOld, probsNew, numClasses: 4 };
  const report = compareModels(input, { seed: 'x', resamples: 300 });
  const direct = flipMetrics(labels, predOld, predNew);
  for (const [key, ci] of Object.entries(report.metrics)) {
    assert.ok(ci, key);
    assert.ok(ci.low <= ci.estimate && ci.estimate <= ci.high, `${key}: ${JSON.stringify(ci)}`);
  }
  close(report.metrics.churn.estimate, direct.churn);
  close(report.metrics.relativeNfr!.estimate, direct.relativeNfr!);
  close(report.metrics.accuracyGain.estimate, direct.pfr - direct.nfr);
  close(report.metrics.predictionDifference!.estimate, predictionDifference(probsOld, probsNew, 4), 1e-9);
  assert.ok(report.metrics.accuracyGain.low > 0, 'new model (75%) is clearly better than old (70%)');
  assert.ok(report.mcnemar.pValue < 0.05);
  assert.deepEqual(report.perClass.map((c) => c.className), ['0', '1', '2', '3']);
  assert.deepEqual(compareModels(input, { seed: 'x', resamples: 300 }), report);
  assert.equal(compareModels({ labels, predOld, predNew, numClasses: 4 }, { seed: 1, resamples: 10 }).metrics.predictionDifference, null);
});

test('compareModels: undefined relative NFR is null', () => {
  // the new model is always right: ER_new = 0
  const r = compareModels({ labels: i32([0, 1, 1]), predOld: i32([1, 1, 0]), predNew: i32([0, 1, 1]), numClasses: 2 }, { seed: 1, resamples: 50 });
  assert.equal(r.metrics.relativeNfr, null);
  assert.equal(r.metrics.nfi.estimate, 0);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('compareModels: input errors', () => {
  const base = { labels: i32([0, 1]), predOld: i32([0, 1]), predNew: i32([1, 1]), numClasses: 2 };
  const opts = { seed: 1, resamples: 10 };
  const isInput = (source: string) => (e: unknown) => e instanceof InputError && e.source === source;
  assert.throws(() => compareModels({ ...base, predNew: i32([1]) }, opts), isInput('predictions'));
  assert.throws(() => compareModels({ ...base, predNew: i32([1, 2]) }, opts), isInput('predictions'));
  assert.throws(() => compareModels({ ...base, labels: i32([0, -1]) }, opts), isInput('labels'));
  assert.throws(() => compareModels({ ...base, probsOld: new Float32Array(4) }, opts), isInput('probabilities'));
  assert.throws(
    () => compareModels({ ...base, probsOld: new Float32Array(4), probsNew: new Float32Array(6) }, opts),
    isInput('probabilities'),
  );
  assert.throws(() => compareModels({ ...base, classNames: ['a'] }, opts), isInput('classNames'));
  assert.throws(() => compareModels({ ...base, numClasses: 0 }, opts), isInput('numClasses'));
});
