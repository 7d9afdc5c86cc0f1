/**
 * `compare` and `gate` slice by slice on real data: held-out letter rows with a `region`
 * column that no model reads, the deployed model a saved MLP directory, the update a
 * predictions CSV of a retrain whose answers were corrupted only where region = east and
 * x.box > 4. The slices, the discovered region, the per-slice gate (which blocks what the
 * whole-data gate passes), --flips keys, the report rebuilt from JSON, and bad input.
 */
import { runCli, runCliHere } from '../helpers/cli.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import { parseCsvText } from '../../src/data/csv.js';
import { GATE_BLOCKED_EXIT } from '../../src/cli/commands/gate.js';
import { applyPreprocessing, fitPreprocessing } from '../../src/data/preprocess.js';
import { initEngine } from '../../src/engine/index.js';
import { fitModel } from '../../src/methods/fit.js';
import { saveModel } from '../../src/models/io.js';
import { argmaxRows, predictLogits } from '../../src/models/predict.js';
import { crossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { Rng } from '../../src/util/rng.js';
import { confirmedRegionsByExample, type RegionDiscovery } from '../../src/metrics/regions.js';
import { columnTable } from '../../src/cli/sliceOptions.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-slices-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

await initEngine();
const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
const trainText = [lines[0], ...lines.slice(1, 3001)].join('\n') + '\n';
const heldOut = lines.slice(16001, 19001);
const rng = new Rng('regions');
const region = heldOut.map(() => ['east', 'west', 'north'][rng.int(3)]);
const testText = [`${lines[0]},"region"`, ...heldOut.map((l, i) => `${l},${region[i]}`)].join('\n') + '\n';
const testCsv = join(dir, 'test.csv');
writeFileSync(testCsv, testText);
// the labels alone (a file a team might keep beside prediction files)
const labelsCsv = join(dir, 'labels.csv');
writeFileSync(labelsCsv, ['"lettr"', ...heldOut.map((l) => l.split(',')[0])].join('\n') + '\n');

const trainRaw = parseCsvText(trainText, 'train.csv', { labelColumn: 'lettr' });
const spec = fitPreprocessing(trainRaw);
const testRaw = parseCsvText(testText, 'test.csv', { labelColumn: 'lettr' });
const testSet = applyPreprocessing(spec, testRaw);
const fit = (seed: number) =>
  fitModel({ architecture: { kind: 'mlp', hidden: [64] }, preprocessing: spec, train: applyPreprocessing(spec, trainRaw), objective: crossEntropyObjective(), training: { epochs: 20, batchSize: 64, optimizer: 'adam', learningRate: 0.01, patience: 0, monitor: 'loss' }, seed });
const v1 = (await fit(1)).trained;
const v1Dir = join(dir, 'v1');
await saveModel(v1Dir, v1);
const v2 = (await fit(2)).trained;
const xBox = testRaw.columns.indexOf('x.box');
const inPlanted = (i: number) => region[i] === 'east' && Number(testRaw.rows[i][xBox]) > 4;
const plant = new Rng('plant');
const predNew = argmaxRows(predictLogits(v2.model, testSet.features, [16]), 26).map((k, i) => (inPlanted(i) && plant.next() < 0.4 ? (testSet.labels[i] + 1) % 26 : k));
const names = spec.classNames;
const predictionsCsv = (file: string, pred: Int32Array) => (writeFileSync(file, 'prediction\n' + Array.from(pred, (k) => names[k]).join('\n') + '\n'), file);
const newCsv = predictionsCsv(join(dir, 'v2-planted.csv'), predNew);
const oldCsv = predictionsCsv(join(dir, 'v1.csv'), argmaxRows(predictLogits(v1.model, testSet.features, [16]), 26));

const pair = ['--old', v1Dir, '--new', newCsv, '--data', testCsv, '--label', 'lettr', '--resamples', '300'];
const PLANTED_SLICE = 'region = east and x.box > 4';

test('compare --slice-by: slices by a column no model reads, quantile bins, the true class and a crossing; regions found; slice keys in --flips', () => {
  assert.ok(!JSON.parse(readFileSync(join(v1Dir, 'distillery.json'), 'utf8')).preprocessing.columns.some((c: { name: string }) => c.name === 'region'), 'the deployed model does not read region');
  const json = join(dir, 'cmp.json');
  const flips = join(dir, 'flips.jsonl');
  const md = join(dir, 'cmp.md');
  const r = runCli(['compare', ...pair, '--slice-by', 'region,x.box:bins=4', '--slice-by', 'region*x.box:cuts=[4],lettr', '--find-regions', '--json', json, '--flips', flips, '--markdown', md]);
  assert.equal(r.code, 0, r.stderr);
  const cmp = JSON.parse(readFileSync(json, 'utf8'));
  assert.deepEqual(cmp.slices.slicings.map((s: { spec: string }) => s.spec), ['region', 'x.box:bins=4', 'region*x.box:cuts=[4]', 'lettr']);
  assert.deepEqual(cmp.slices.slicings[0].slices.map((s: { label: string }) => s.label), ['region = east', 'region = north', 'region = west']);
  assert.equal(cmp.slices.slicings[1].slices.length, 4, 'four quantile bins of x.box');
  assert.equal(cmp.slices.slicings[3].slices.length, 26, 'one slice per letter');
  for (const slicing of cmp.slices.slicings) assert.equal(slicing.slices.reduce((s: number, x: { n: number }) => s + x.n, 0), 3000, `${slicing.spec}: every row in one slice`);
  // the crossing singles out the planted slice: the highest NFR, far above the whole data's
  const crossing = cmp.slices.slicings[2].slices;
  const worst = crossing.reduce((a: { metrics: { nfr: { estimate: number } } }, b: { metrics: { nfr: { estimate: number } } }) => (b.metrics.nfr.estimate > a.metrics.nfr.estimate ? b : a));
  assert.equal(worst.label, PLANTED_SLICE);
  assert.ok(worst.metrics.nfr.low > 2 * cmp.slices.overall.metrics.nfr.estimate, `planted slice NFR ${worst.metrics.nfr.estimate} vs overall ${cmp.slices.overall.metrics.nfr.estimate}`);
  assert.equal(worst.n, heldOut.filter((_, i) => inPlanted(i)).length);
  // the same counts as the whole comparison
  assert.equal(cmp.slices.overall.counts.negativeFlips, cmp.counts.negativeFlips);
  // a discovered region close to the planted one (region = east and x.box > 4.5: the tree's threshold on integers), confirmed
  const discovered = cmp.regions as RegionDiscovery;
  const members = confirmedRegionsByExample(discovered, columnTable(testRaw));
  const planted = new Set(heldOut.map((_, i) => i).filter(inPlanted));
  const closeness = discovered.regions.map((r, k) => {
    if (!r.confirmed) return 0;
    const rows = members.map((m, i) => (m.includes(k) ? i : -1)).filter((i) => i >= 0);
    const inter = rows.filter((i) => planted.has(i)).length;
    return inter / (rows.length + planted.size - inter);
  });
  const best = closeness.indexOf(Math.max(...closeness));
  const found = discovered.regions[best];
  assert.ok(closeness[best] >= 0.7, `closest confirmed region: ${found.rule}, Jaccard ${closeness[best]} (${discovered.regions.map((x) => `${x.rule} ${x.confirmed}`).join('; ')})`);
  assert.ok(found.conditions.some((c) => c.column === 'region' && c.kind === 'in' && c.values.join() === 'east'), found.rule);
  assert.ok(found.conditions.some((c) => c.column === 'x.box'), found.rule);
  // --flips: each flipped row with its slice of every slicing and the confirmed regions it is in
  const records = readFileSync(flips, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(records.length, cmp.counts.changed);
  for (const rec of records) {
    const i = rec.row - 1;
    assert.equal(rec.slices.region, `region = ${region[i]}`);
    assert.equal(rec.slices['region*x.box:cuts=[4]'], `region = ${region[i]} and x.box ${Number(testRaw.rows[i][xBox]) > 4 ? '>' : '≤'} 4`);
    assert.equal(rec.slices.lettr, `lettr = ${rec.label}`);
    assert.deepEqual(rec.regions, members[i].map((k) => discovered.regions[k].rule), `row ${rec.row}`);
  }
  const text = readFileSync(md, 'utf8');
  assert.match(text, /##### By region\*x\.box:cuts=\[4\]: 6 slices/);
  assert.match(text, /#### Discovered regions: \d+ confirmed of \d+ tested/);
  assert.match(r.stdout, /Discovered regions: .* confirmed/);
  // the HTML report is rebuilt from the JSON with its slices and regions
  rmSync(join(dir, 'cmp.html'), { force: true });
  assert.equal(runCli(['report', json]).code, 0);
  const html = readFileSync(join(dir, 'cmp.html'), 'utf8');
  assert.match(html, /<section class="block" id="slices">/);
  assert.match(html, /<section class="block" id="regions">/);
});

test('gate per slice: the whole-data gate passes the planted update, the per-slice gate blocks it (flags or a policy file); the JSON says why', () => {
  const whole = runCli(['gate', ...pair, '--max-nfr', '0.12']);
  assert.equal(whole.code, 0, whole.stdout + whole.stderr);
  const json = join(dir, 'gate.json');
  const sliced = runCli(['gate', ...pair, '--max-nfr', '0.12', '--slice-by', 'region*x.box:cuts=[4]', '--max-slice-nfr', '0.15', '--json', json]);
  assert.equal(sliced.code, 3, sliced.stderr);
  assert.match(sliced.stdout, new RegExp(`FAIL {2}${PLANTED_SLICE} \\(\\d+ examples\\): NFR \\d+\\.\\d\\d% > 15\\.00%`));
  assert.match(sliced.stdout, /pass {2}5 of 6 slices of region\*x\.box:cuts=\[4\]: NFR ≤ 15\.00%/);
  const verdict = JSON.parse(readFileSync(json, 'utf8')).verdict;
  assert.equal(verdict.passed, false);
  assert.equal(verdict.checks.length, 1 + 6, 'the whole-data limit and one check per slice');
  assert.deepEqual(verdict.checks[0].slice, null);
  const failed = verdict.checks.filter((c: { passed: boolean }) => !c.passed);
  assert.equal(failed.length, 1);
  assert.equal(failed[0].limitName, 'maxSliceNfr');
  assert.equal(failed[0].slice.label, PLANTED_SLICE);
  assert.equal(failed[0].slice.spec, 'region*x.box:cuts=[4]');
  assert.ok(failed[0].interval.low <= failed[0].checked && failed[0].checked <= failed[0].interval.high);
  // the same from a policy file, deciding on the interval bound, with a relative limit against the deployed model's error
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'maxNfr: 0.12\nmaxSliceNfr: 0.15\nmaxRelativeIncrease: 1\ndecideOn: bound\nminSliceSize: 50\nslices:\n  - "region*x.box:cuts=[4]"\n  - lettr\n');
  const byFile = runCli(['gate', ...pair, '--policy', policy]);
  assert.equal(byFile.code, 3, byFile.stderr);
  assert.match(byFile.stdout, new RegExp(`FAIL {2}${PLANTED_SLICE} \\(\\d+ examples\\): NFR .*\\(upper 95% bound\\) > 15\\.00%`));
  assert.match(byFile.stdout, new RegExp(`FAIL {2}${PLANTED_SLICE} \\(\\d+ examples\\): error change \\+\\d+`));
});

/** Asserts exit 2, one line naming `problem`, and that `out` was not written. */
async function expectBadInput(args: string[], problem: RegExp, out?: string): Promise<void> {
  const r = await runCliHere(args);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('distillery:'));
  assert.equal(errLines.length, 1, r.stderr);
  assert.match(errLines[0], problem);
  if (out) assert.equal(existsSync(out), false, `${out} must not be written`);
}

test('bad input: an unknown slice column, bins < 2, a slice spec on prediction files without the data columns, contradictory limits — one line each, exit 2', async () => {
  const out = join(dir, 'never.json');
  const preds = ['--old', oldCsv, '--new', newCsv, '--label', 'lettr'];
  await expectBadInput(['-q', 'compare', ...preds, '--data', testCsv, '--slice-by', 'regoin', '--json', out], /^distillery: --slice-by: column "regoin" is not in .*test\.csv \(did you mean "region"\?\); its columns: x\.box, .*, region, lettr$/, out);
  await expectBadInput(['-q', 'compare', ...preds, '--data', testCsv, '--slice-by', 'x.box:bins=1', '--json', out], /^distillery: --slice-by: "x\.box:bins=1": bins must be an integer ≥ 2, got 1$/, out);
  await expectBadInput(['-q', 'compare', ...preds, '--data', testCsv, '--slice-by', 'region:bins=3', '--json', out], /--slice-by: "region:bins=3": column "region" is not numeric \(it holds "(east|west|north)"\): bins need numbers/, out);
  await expectBadInput(['-q', 'compare', ...preds, '--data', labelsCsv, '--slice-by', 'region', '--json', out], /^distillery: --slice-by: column "region" is not in .*labels\.csv, which holds only the label column "lettr": with prediction files, give as --data the rows they were made on, with their columns$/, out);
  // (the labels alone are enough to compare two prediction files, without slices)
  const labelsOnly = await runCliHere(['-q', 'compare', ...preds, '--data', labelsCsv, '--resamples', '50']);
  assert.equal(labelsOnly.code, 0, labelsOnly.stderr);
  assert.match(labelsOnly.stdout, /Old vs new model on 3000 examples/);
  await expectBadInput(['-q', 'compare', ...preds, '--data', testCsv, '--find-regions', 'regoin'], /--find-regions: column "regoin" is not in/);
  await expectBadInput(['-q', 'compare', ...preds, '--data', testCsv, '--min-slice-size', '10'], /--min-slice-size: applies to slices: give --slice-by/);
  await expectBadInput(['-q', 'compare', '--chain', oldCsv, newCsv, '--data', testCsv, '--label', 'lettr', '--slice-by', 'region'], /--slice-by: does not apply to --chain/);
  // gate: contradictory or impossible limits
  const gate = ['-q', 'gate', ...preds, '--data', testCsv];
  await expectBadInput([...gate, '--min-accuracy-gain', '0.1', '--max-churn', '0.05', '--json', out], /^distillery: --min-accuracy-gain: 0\.1 contradicts --max-churn 0\.05: the accuracy gain \(PFR − NFR\) never exceeds churn; no pair of models could pass both, so the limits must change$/, out);
  // #27 item 12: churn 0 or a prediction difference of 0 means a gain of exactly 0 — contradictory (exit 2)…
  await expectBadInput([...gate, '--max-churn', '0', '--min-accuracy-gain', '0.01', '--json', out], /^distillery: --min-accuracy-gain: 0\.01 contradicts --max-churn 0: .*a gain of exactly 0\); no pair of models could pass both/, out);
  const zeroPolicy = join(dir, 'zero-churn.yaml');
  writeFileSync(zeroPolicy, 'maxChurn: 0\n');
  await expectBadInput([...gate, '--policy', zeroPolicy, '--min-accuracy-gain', '0.01', '--decide-on', 'bound'], new RegExp(`^distillery: --min-accuracy-gain: 0\\.01 contradicts ${zeroPolicy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: maxChurn 0: `));
  // …while limits that identical models meet are a policy these models break: blocked, exit 3
  const blocked = await runCliHere([...gate, '--max-churn', '0', '--min-accuracy-gain', '0']);
  assert.equal(blocked.code, GATE_BLOCKED_EXIT, blocked.stderr);
  assert.match(blocked.stdout + blocked.stderr, /BLOCKED: churn \d+\.\d+% > 0\.00%/);
  await expectBadInput([...gate, '--max-slice-nfr', '0.1'], /--max-slice-nfr: is a limit per slice: give the slicings \(--slice-by\)/);
  await expectBadInput([...gate, '--max-slice-nfr', '0.1', '--slice-by', 'region', '--min-slice-size', '5000', '--json', out], /--min-slice-size: no slice of "region" has 5000 examples \(the largest has \d+\): no slice limit could be checked/, out);
  const policy = join(dir, 'bad-policy.yaml');
  writeFileSync(policy, 'maxSliceNfr: 0.1\nslices: ["x.box:bins=1"]\n');
  await expectBadInput([...gate, '--policy', policy], /bad-policy\.yaml: slices\.0: "x\.box:bins=1": bins must be an integer ≥ 2, got 1/);
  writeFileSync(policy, 'maxSliceNfr: 0.1\n');
  await expectBadInput([...gate, '--policy', policy], /bad-policy\.yaml: maxSliceNfr: is a limit per slice: give the slicings \(--slice-by, or slices: in .*bad-policy\.yaml\)$/);
});

test('images have no columns: slicing by a column is refused, by the true class accepted', { skip: !existsSync('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz') && 'Fashion-MNIST is not installed' }, async () => {
  const labels = gunzipSync(readFileSync('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz')).subarray(8);
  const classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  // two made-up prediction files: one right everywhere, one wrong on the first 300 images
  const right = join(dir, 'fm-right.csv');
  const wrong = join(dir, 'fm-wrong.csv');
  writeFileSync(right, 'prediction\n' + Array.from(labels, (k) => JSON.stringify(classes[k])).join('\n') + '\n');
  writeFileSync(wrong, 'prediction\n' + Array.from(labels, (k, i) => JSON.stringify(classes[i < 300 ? (k + 1) % 10 : k])).join('\n') + '\n');
  await expectBadInput(['-q', 'compare', '--old', right, '--new', wrong, '--data', 'fashion-mnist:test', '--slice-by', 'region'], /--slice-by: "region": fashion-mnist:test holds image data, which has no columns to slice by; slice by true-class or old-prediction/);
  const json = join(dir, 'fm.json');
  const ok = await runCliHere(['-q', 'compare', '--old', right, '--new', wrong, '--data', 'fashion-mnist:test', '--slice-by', 'true-class', '--resamples', '100', '--json', json]);
  assert.equal(ok.code, 0, ok.stderr);
  const slices = JSON.parse(readFileSync(json, 'utf8')).slices.slicings[0].slices;
  assert.equal(slices.length, 10);
  assert.equal(slices.reduce((s: number, x: { counts: { negativeFlips: number } }) => s + x.counts.negativeFlips, 0), 300);
});
