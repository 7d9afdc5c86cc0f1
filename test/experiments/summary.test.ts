import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summariseTrials, type TrialMethodResult } from '../../src/experiments/updateExperiment.js';
import type { UpdateMethodSpec } from '../../src/methods/registry.js';

const rate = (estimate: number) => ({ estimate, low: estimate, high: estimate });
function trial(seed: number, methodIndex: number, spec: UpdateMethodSpec, accuracy: number): TrialMethodResult {
  const metrics = { accuracyNew: rate(accuracy), churn: rate(0.1), nfr: rate(0.01), pfr: rate(0.05), relativeNfr: rate(0.2), predictionDifference: rate(0.1) };
  return { seed, methodIndex, method: 'same label', spec, metrics: metrics as unknown as TrialMethodResult['metrics'], epochsRun: 1, inferenceCost: 1 };
}

test('two method entries with the same label are summarised apart, by their index', () => {
  const spec: UpdateMethodSpec = { method: 'distill', lambda: 0.5 };
  const trials = [trial(1, 0, spec, 0.8), trial(1, 1, spec, 0.6), trial(2, 0, spec, 0.8), trial(2, 1, spec, 0.6)];
  const summary = summariseTrials([spec, spec], trials, 0.95);
  assert.deepEqual(summary.map((s) => [s.methodIndex, s.seeds, s.accuracy.mean]), [[0, 2, 0.8], [1, 2, 0.6]]);
});
