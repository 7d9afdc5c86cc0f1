import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareModels } from '../../src/metrics/compare.js';
import { evaluateGate, renderGate } from '../../src/metrics/gate.js';

/**
 * 1000 examples: the old model is wrong on rows 0–99; the new one is wrong on rows 50–79
 * (the same wrong answers) and on rows 900–919 (20 negative flips), right elsewhere.
 * So NFR 2%, PFR 7%, churn 9%, accuracy 90% → 95%.
 */
function scenario(withProbs = false) {
  const n = 1000, K = 3;
  const labels = new Int32Array(n);
  const predOld = new Int32Array(n), predNew = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % K;
    const wrong = (labels[i] + 1) % K;
    predOld[i] = i < 100 ? wrong : labels[i];
    predNew[i] = (i >= 50 && i < 80) || (i >= 900 && i < 920) ? wrong : labels[i];
  }
  const probs = (pred: Int32Array) => Float32Array.from({ length: n * K }, (_, j) => (pred[Math.floor(j / K)] === j % K ? 0.8 : 0.1));
  const report = compareModels(
    { labels, predOld, predNew, numClasses: K, ...(withProbs ? { probsOld: probs(predOld), probsNew: probs(predNew) } : {}) },
    { resamples: 400, level: 0.95, seed: 3 },
  );
  return report;
}

test('limits are checked on the estimates: NFR 2% passes a 3% limit and fails a 1.5% one', () => {
  const report = scenario();
  assert.equal(report.metrics.nfr.estimate, 0.02);
  const pass = evaluateGate(report, { maxNfr: 0.03, maxChurn: 0.1, minAccuracyGain: 0, minAccuracy: 0.95 });
  assert.equal(pass.passed, true);
  assert.deepEqual(pass.checks.map((c) => c.passed), [true, true, true, true]);
  const fail = evaluateGate(report, { maxNfr: 0.015, maxChurn: 0.1 });
  assert.equal(fail.passed, false);
  assert.equal(fail.checks[0].reason, 'NFR 2.00% > 1.50%');
  assert.equal(fail.checks[1].passed, true);
  assert.match(renderGate(fail), /BLOCKED: NFR 2\.00% > 1\.50%/);
  assert.match(renderGate(pass), /PASSED \(4 limits, 1000 examples, decided on estimates\)/);
});

test("'bound' decides on the unfavourable interval end: a 2.5% NFR limit passes on the estimate, not on the upper bound", () => {
  const report = scenario();
  assert.ok(report.metrics.nfr.high > 0.025, `upper bound ${report.metrics.nfr.high}`);
  assert.equal(evaluateGate(report, { maxNfr: 0.025 }).passed, true);
  const strict = evaluateGate(report, { maxNfr: 0.025, decideOn: 'bound' });
  assert.equal(strict.passed, false);
  assert.equal(strict.checks[0].checked, report.metrics.nfr.high);
  assert.match(strict.checks[0].reason, /upper 95% bound/);
  // for a minimum, the lower end: accuracy gain +5 points, lower bound below 5
  const gain = evaluateGate(report, { minAccuracyGain: 0.05, decideOn: 'bound' });
  assert.equal(gain.checks[0].checked, report.metrics.accuracyGain.low);
  assert.equal(gain.passed, false);
});

test('prediction difference needs probabilities; a gate without limits is an error', () => {
  assert.throws(() => evaluateGate(scenario(), { maxPredictionDifference: 0.1 }), /needs class probabilities/);
  const withProbs = evaluateGate(scenario(true), { maxPredictionDifference: 0.1 });
  // 90 changed predictions, each moving 0.7 of probability mass: PD = 0.09 · 0.7
  assert.ok(Math.abs(withProbs.checks[0].interval!.estimate - 0.063) < 1e-6);
  assert.equal(withProbs.passed, true);
  assert.throws(() => evaluateGate(scenario(), {}), /at least one limit/);
});
