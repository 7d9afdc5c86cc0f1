import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignSlices, compareBySlice, parseSliceSpec, quantileCuts, sliceSpecText, splitSliceList, type SliceInput, type SliceStats } from '../../src/metrics/slices.js';
import { compareModels } from '../../src/metrics/compare.js';
import { contradictoryLimits, evaluateGate, renderGate } from '../../src/metrics/gate.js';
import { InputError } from '../../src/util/errors.js';
import { i32, randomPredictions } from './helpers.js';

/**
 * Twelve examples, three classes. Outcomes (old → new): 0 both right, 1 NF, 2 both right,
 * 3 NF, 4 both right, 5 wrong → another wrong, 6 NF, 7 PF, 8 NF, 9 PF, 10 both right, 11 NF.
 * region: east 0–3, west 4–8, north 9–10, missing 11; x = 1…12.
 */
const small: SliceInput = {
  labels: i32([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]),
  predOld: i32([0, 1, 2, 0, 1, 0, 0, 2, 2, 1, 1, 2]),
  predNew: i32([0, 2, 2, 1, 1, 1, 2, 1, 0, 0, 1, 1]),
  numClasses: 3,
  classNames: ['a', 'b', 'c'],
  columns: {
    region: ['east', 'east', 'east', 'east', 'west', 'west', 'west', 'west', 'west', 'north', 'north', 'NA'],
    x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(String),
  },
};

const EPS = 1e-12;
function expectSlice(s: SliceStats, want: { label: string; n: number; accOld: number; accNew: number; churn: number; nfr: number; pfr: number; relNfr: number | null; errInc: number | null }): void {
  assert.equal(s.label, want.label);
  assert.equal(s.n, want.n, `${want.label}: n`);
  const m = s.metrics;
  for (const [name, got, exp] of [['accuracyOld', m.accuracyOld.estimate, want.accOld], ['accuracyNew', m.accuracyNew.estimate, want.accNew], ['churn', m.churn.estimate, want.churn], ['nfr', m.nfr.estimate, want.nfr], ['pfr', m.pfr.estimate, want.pfr]] as const) {
    assert.ok(Math.abs(got - exp) < EPS, `${want.label}: ${name} ${got}, by hand ${exp}`);
  }
  if (want.relNfr === null) assert.equal(m.relativeNfr, null, `${want.label}: relative NFR undefined`);
  else assert.ok(Math.abs(m.relativeNfr!.estimate - want.relNfr) < 1e-9, `${want.label}: relative NFR ${m.relativeNfr?.estimate}, by hand ${want.relNfr}`);
  if (want.errInc === null) assert.equal(m.errorIncrease, null, `${want.label}: error change undefined`);
  else assert.ok(Math.abs(m.errorIncrease!.estimate - want.errInc) < 1e-9, `${want.label}: error change ${m.errorIncrease?.estimate}, by hand ${want.errInc}`);
  for (const v of Object.values(m)) if (v) assert.ok(v.low <= v.estimate + EPS && v.estimate <= v.high + EPS, `${want.label}: interval around its estimate`);
}

test('per-slice numbers equal a hand computation on a small table (categories with a missing value, quantile bins, a crossing)', () => {
  const r = compareBySlice(small, { slices: ['region', 'x:bins=3', 'region*true-class'], minSize: 3, resamples: 200, seed: 1 });
  assert.equal(r.n, 12);
  assert.deepEqual(r.slicings.map((s) => s.spec), ['region', 'x:bins=3', 'region*true-class']);
  // region: east, north, west (sorted), then missing; east and the missing row have no old error, so no error change
  const [east, north, west, missing] = r.slicings[0].slices;
  expectSlice(east, { label: 'region = east', n: 4, accOld: 1, accNew: 0.5, churn: 0.5, nfr: 0.5, pfr: 0, relNfr: 0.5 / (1 * 0.5), errInc: null });
  expectSlice(north, { label: 'region = north', n: 2, accOld: 0.5, accNew: 1, churn: 0.5, nfr: 0, pfr: 0.5, relNfr: null, errInc: (0 - 0.5) / 0.5 });
  expectSlice(west, { label: 'region = west', n: 5, accOld: 0.6, accNew: 0.4, churn: 0.8, nfr: 0.4, pfr: 0.2, relNfr: 0.4 / (0.6 * 0.6), errInc: (0.6 - 0.4) / 0.4 });
  expectSlice(missing, { label: 'region missing', n: 1, accOld: 1, accNew: 0, churn: 1, nfr: 1, pfr: 0, relNfr: 1, errInc: null });
  assert.deepEqual(r.slicings[0].slices.map((s) => s.small), [false, true, false, true], 'slices under 3 examples are marked small, not dropped');
  assert.deepEqual(west.counts, { n: 5, correctOld: 3, correctNew: 2, changed: 4, negativeFlips: 2, positiveFlips: 1, wrongToWrongChanges: 1 });
  // x in 3 quantile bins: the 4th and 8th of 12 sorted values are the cuts
  assert.deepEqual(r.slicings[1].cuts, [[4, 8]]);
  const [low, mid, high] = r.slicings[1].slices;
  expectSlice(low, { label: 'x ≤ 4', n: 4, accOld: 1, accNew: 0.5, churn: 0.5, nfr: 0.5, pfr: 0, relNfr: 1, errInc: null });
  expectSlice(mid, { label: '4 < x ≤ 8', n: 4, accOld: 0.5, accNew: 0.5, churn: 0.75, nfr: 0.25, pfr: 0.25, relNfr: 0.25 / (0.5 * 0.5), errInc: 0 });
  expectSlice(high, { label: 'x > 8', n: 4, accOld: 0.75, accNew: 0.5, churn: 0.75, nfr: 0.5, pfr: 0.25, relNfr: 0.5 / (0.75 * 0.5), errInc: (0.5 - 0.25) / 0.25 });
  // the crossing: only combinations with examples, in the order of the first dimension, then the second
  const cross = r.slicings[2].slices;
  assert.equal(cross[0].label, 'region = east and true class = a');
  assert.deepEqual(cross[0].values, ['east', 'a']);
  assert.equal(cross[0].n, 2); // rows 0 and 3
  assert.equal(cross[0].counts.negativeFlips, 1);
  assert.equal(cross.reduce((s, c) => s + c.n, 0), 12, 'every example in exactly one slice');
  // all examples: 5 NF, 2 PF of 12
  assert.ok(Math.abs(r.overall.metrics.nfr.estimate - 5 / 12) < EPS);
  assert.ok(Math.abs(r.overall.metrics.pfr.estimate - 2 / 12) < EPS);
});

test('explicit cut points, a numeric column by value, and the old prediction as a slicing', () => {
  const r = compareBySlice(small, { slices: ['x:cuts=[2.5,9]', 'x:cuts=6', 'old-prediction'], resamples: 50, seed: 2 });
  assert.deepEqual(r.slicings[0].slices.map((s) => [s.label, s.n]), [['x ≤ 2.5', 2], ['2.5 < x ≤ 9', 7], ['x > 9', 3]]);
  assert.deepEqual(r.slicings[1].slices.map((s) => [s.label, s.n]), [['x ≤ 6', 6], ['x > 6', 6]]);
  // old predictions: a on rows 0, 3, 5, 6; b on 1, 4, 9, 10; c on 2, 7, 8, 11
  assert.deepEqual(r.slicings[2].slices.map((s) => [s.label, s.n]), [['old prediction = a', 4], ['old prediction = b', 4], ['old prediction = c', 4]]);
  const byValue = assignSlices({ ...small, columns: { code: ['1', '2', '2', '3', '1', '1', '2', '3', '3', '3', '1', '2'] } }, 'code:values');
  assert.deepEqual(byValue.labels, ['code = 1', 'code = 2', 'code = 3']);
  assert.deepEqual(Array.from(byValue.slice), [0, 1, 1, 2, 0, 0, 1, 2, 2, 2, 0, 1]);
});

test('a slice\'s interval depends only on its own examples and the seed, not on the other slicings asked for', () => {
  const data = randomPredictions(2000, 4, 'intervals');
  const input = { ...data, numClasses: 4, columns: { group: Array.from({ length: 2000 }, (_, i) => ['p', 'q', 'r'][i % 3]), x: Array.from({ length: 2000 }, (_, i) => i) } };
  const a = compareBySlice(input, { slices: ['group'], resamples: 300, seed: 7 });
  const b = compareBySlice(input, { slices: ['x:bins=2', 'group'], resamples: 300, seed: 7 });
  assert.deepEqual(a.slicings[0], b.slicings[1]);
  const c = compareBySlice(input, { slices: ['group'], resamples: 300, seed: 8 });
  assert.notDeepEqual(a.slicings[0].slices[0].metrics.nfr, c.slicings[0].slices[0].metrics.nfr, 'another seed, other resamples');
  assert.equal(a.slicings[0].slices[0].metrics.nfr.estimate, c.slicings[0].slices[0].metrics.nfr.estimate);
});

test('slicings in text form: parsing, canonical text, commas inside brackets', () => {
  assert.deepEqual(splitSliceList('region, x:cuts=[1,2.5] ,true-class*old-prediction'), ['region', 'x:cuts=[1,2.5]', 'true-class*old-prediction']);
  assert.deepEqual(parseSliceSpec('x.box:bins=4'), [{ kind: 'column', column: 'x.box', bins: 4 }]);
  assert.deepEqual(parseSliceSpec('region*true-class'), [{ kind: 'column', column: 'region' }, { kind: 'trueClass' }]);
  assert.deepEqual(parseSliceSpec('when:hour'), [{ kind: 'column', column: 'when:hour' }], 'a colon not followed by an option is part of the name');
  for (const text of ['region', 'x:bins=3', 'x:cuts=[1,2.5]', 'x:values', 'region*old-prediction']) assert.equal(sliceSpecText(parseSliceSpec(text)), text);
  const bad = (text: string, problem: RegExp) => assert.throws(() => parseSliceSpec(text), (e: unknown) => e instanceof InputError && e.source === 'slices' && problem.test(e.message));
  bad('x:bins=1', /bins must be an integer ≥ 2, got 1/);
  bad('x:bins=two', /bins must be an integer ≥ 2, got "two"/);
  bad('x:cuts=[3,1]', /cut points must increase/);
  bad('x:cuts=[1,a]', /cut point "a" is not a number/);
  bad('a*b*c', /at most 2 dimensions/);
  bad('region*region', /crosses a dimension with itself/);
  bad('', /an empty slicing/);
});

test('bad input names the parameter: an unknown column, bins on a text column, too many distinct values', () => {
  assert.throws(() => compareBySlice(small, { slices: ['regoin'], seed: 1 }), (e: unknown) => e instanceof InputError && e.source === 'columns' && /"regoin" .* is not a column of the data: the columns are region, x/.test(e.message));
  assert.throws(() => compareBySlice(small, { slices: ['region:bins=2'], seed: 1 }), /slices: "region:bins=2": column "region" is not numeric \(it holds "east"\)/);
  const ids = { ...small, labels: new Int32Array(150), predOld: new Int32Array(150), predNew: new Int32Array(150), columns: { id: Array.from({ length: 150 }, (_, i) => `row-${i}`) } };
  assert.throws(() => compareBySlice(ids, { slices: ['id'], seed: 1 }), /column "id" has 150 distinct values \(at most 100\): slice by another column/);
  assert.throws(() => compareBySlice(small, { slices: ['region'], minSize: 0, seed: 1 }), /minSize: must be a positive integer/);
});

test('quantile cuts are data values, distinct and below the maximum (ties collapse bins)', () => {
  assert.deepEqual(quantileCuts(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 5), [2, 4, 6, 8]);
  assert.deepEqual(quantileCuts(Float64Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]), 5), [0]);
  assert.deepEqual(quantileCuts(Float64Array.from([3, 3, 3]), 4), []);
});

/**
 * 1000 examples: the old model is wrong on rows 0–99; the new one on rows 50–79 (the same
 * answers) and 900–919 (20 negative flips). region "r1" is rows 900–949 (all 20 negative
 * flips: NFR 40%), "r2" rows 950–959, "r0" the rest. Whole data: NFR 2%, error 10% → 5%.
 */
function gateScenario() {
  const n = 1000, K = 3;
  const labels = new Int32Array(n), predOld = new Int32Array(n), predNew = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % K;
    const wrong = (labels[i] + 1) % K;
    predOld[i] = i < 100 ? wrong : labels[i];
    predNew[i] = (i >= 50 && i < 80) || (i >= 900 && i < 920) ? wrong : labels[i];
  }
  const region = Array.from({ length: n }, (_, i) => (i >= 900 && i < 950 ? 'r1' : i >= 950 && i < 960 ? 'r2' : 'r0'));
  const input = { labels, predOld, predNew, numClasses: K };
  const report = compareModels(input, { resamples: 400, seed: 3 });
  const bySlice = (minSize?: number, slicings = ['region']) => compareBySlice({ ...input, columns: { region } }, { slices: slicings, minSize, resamples: 400, seed: 3 });
  return { report, slices: bySlice(), bySlice };
}

test('gate per slice: the whole data passes, the slice that regresses blocks; small slices are listed, not checked', () => {
  const { report, slices, bySlice } = gateScenario();
  const whole = evaluateGate(report, { maxNfr: 0.03 });
  assert.equal(whole.passed, true);
  const v = evaluateGate(report, { maxNfr: 0.03, maxSliceNfr: 0.1, slices: [parseSliceSpec('region')] }, slices);
  assert.equal(v.passed, false);
  // one entry per check: the whole-data limit, then one per slice large enough
  assert.deepEqual(v.checks.map((c) => [c.limitName, c.slice?.label ?? null, c.passed]), [['maxNfr', null, true], ['maxSliceNfr', 'region = r0', true], ['maxSliceNfr', 'region = r1', false]]);
  const r1 = v.checks[2];
  assert.equal(r1.slice?.n, 50);
  assert.ok(Math.abs(r1.interval!.estimate - 0.4) < EPS);
  assert.equal(r1.reason, 'region = r1 (50 examples): NFR 40.00% > 10.00%');
  assert.deepEqual(v.skippedSlices, [{ spec: 'region', label: 'region = r2', n: 10 }]);
  assert.equal(v.minSliceSize, 30);
  const text = renderGate(v);
  assert.match(text, /FAIL {2}region = r1 \(50 examples\): NFR 40\.00% > 10\.00%/);
  assert.match(text, /skip {2}1 slice of region below 30 examples/);
  assert.match(text, /BLOCKED: region = r1/);
  // a minimum size of 5 checks r2 as well
  const withSmall = evaluateGate(report, { maxSliceNfr: 0.1, slices: [parseSliceSpec('region')], minSliceSize: 5 }, bySlice(5));
  assert.equal(withSmall.checks.length, 3);
  assert.deepEqual(withSmall.skippedSlices, []);
});

test("gate per slice decides on the estimate or the interval's upper end; maxRelativeIncrease compares the error with the deployed model's", () => {
  const { report, slices, bySlice } = gateScenario();
  const policy = { maxSliceNfr: 0.45, slices: [parseSliceSpec('region')] };
  assert.equal(evaluateGate(report, policy, slices).passed, true, 'NFR 40% ≤ 45% on the estimate');
  const bound = evaluateGate(report, { ...policy, decideOn: 'bound' }, slices);
  const r1 = bound.checks.find((c) => c.slice?.label === 'region = r1')!;
  assert.ok(r1.interval!.high > 0.45, `upper bound ${r1.interval!.high} of 20 flips in 50`);
  assert.equal(r1.checked, r1.interval!.high);
  assert.equal(bound.passed, false);
  assert.match(r1.reason, /upper 95% bound/);
  // the error halves overall (10% → 5%), but in r1 the deployed model made no error and the new one makes 20
  const rel = evaluateGate(report, { maxRelativeIncrease: 0.2, slices: [parseSliceSpec('region')] }, slices);
  const overall = rel.checks.find((c) => c.slice === null)!;
  assert.ok(Math.abs(overall.interval!.estimate - -0.5) < EPS);
  assert.equal(overall.passed, true);
  const broken = rel.checks.find((c) => c.slice?.label === 'region = r1')!;
  assert.equal(broken.passed, false);
  assert.equal(broken.checked, null);
  assert.match(broken.reason, /error change unbounded: the deployed model makes no error, the new one 20/);
  // without slicings, maxRelativeIncrease checks the whole data only
  const alone = evaluateGate(report, { maxRelativeIncrease: 0.2 }, bySlice(undefined, []));
  assert.deepEqual(alone.checks.map((c) => [c.limitName, c.slice, c.passed]), [['maxRelativeIncrease', null, true]]);
});

test('contradictory or impossible limits are bad input, not a blocked release', () => {
  const { report, slices, bySlice } = gateScenario();
  const throwsInput = (fn: () => unknown, source: string, problem: RegExp) => assert.throws(fn, (e: unknown) => e instanceof InputError && e.source === source && problem.test(e.message), `${source}: ${problem}`);
  throwsInput(() => evaluateGate(report, { minAccuracyGain: 0.05, maxChurn: 0.02 }), 'minAccuracyGain', /0\.05 contradicts maxChurn 0\.02: the accuracy gain \(PFR − NFR\) never exceeds churn; no pair of models could pass both/);
  // #27 item 12: maxChurn 0 means identical predictions, a gain of exactly 0; so does a prediction difference of 0
  throwsInput(() => evaluateGate(report, { minAccuracyGain: 0.01, maxChurn: 0 }), 'minAccuracyGain', /0\.01 contradicts maxChurn 0: .*identical predictions, a gain of exactly 0\)/);
  throwsInput(() => evaluateGate(report, { minAccuracyGain: 0.01, maxPredictionDifference: 0 }), 'minAccuracyGain', /0\.01 contradicts maxPredictionDifference 0: .*identical probabilities/);
  for (const decideOn of ['estimate', 'bound'] as const) {
    throwsInput(() => evaluateGate(report, { minAccuracyGain: 0.01, maxChurn: 0, decideOn }), 'minAccuracyGain', /contradicts maxChurn 0/);
  }
  // limits some pair of models meets (identical models: churn 0, gain 0; a gain equal to the churn:
  // every change a fix) are a policy: these models fail it, a blocked release, not bad input
  for (const policy of [{ minAccuracyGain: 0, maxChurn: 0 }, { minAccuracyGain: 0, maxPredictionDifference: 0, maxNfr: 0 }, { minAccuracyGain: 0.02, maxChurn: 0.02 }, { minAccuracyGain: -0.01, maxChurn: 0 }, { minAccuracy: 0.99, maxChurn: 0 }]) {
    assert.equal(contradictoryLimits(policy), undefined, JSON.stringify(policy));
    const verdict = evaluateGate({ ...report, metrics: { ...report.metrics, predictionDifference: report.metrics.churn } }, policy);
    assert.equal(verdict.passed, false, JSON.stringify(policy));
  }
  throwsInput(() => evaluateGate(report, { maxSliceNfr: 0.1 }, slices), 'maxSliceNfr', /is a limit per slice: give the slicings \(slices\)/);
  throwsInput(() => evaluateGate(report, { maxNfr: 0.1, minSliceSize: 10 }), 'minSliceSize', /applies to slices/);
  throwsInput(() => evaluateGate(report, { maxSliceNfr: 0.1, slices: [parseSliceSpec('region')], minSliceSize: 2000 }, bySlice(2000)), 'minSliceSize', /no slice of "region" has 2000 examples \(the largest has 940\)/);
  throwsInput(() => evaluateGate(report, {}), 'policy', /at least one limit/);
});
