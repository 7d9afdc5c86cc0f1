import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCli } from '../helpers/cli.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import { METHOD_NAMES } from '../../src/methods/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// Real data, as a user would have it: the letter CSV split into three files (label column renamed).
const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
const header = lines[0].replace('"lettr"', 'letter');
const write = (name: string, rows: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, [header, ...rows].join('\n') + '\n');
  return p;
};
const oldCsv = write('old.csv', lines.slice(1, 1201));
const newCsv = write('new.csv', lines.slice(1, 2401));
const testCsv = write('test.csv', lines.slice(5001, 6001));
const quick = ['--epochs', '8', '--batch-size', '64', '--lr', '0.01'];

test('--help documents every command', () => {
  const top = runCli(['--help']);
  assert.equal(top.code, 0);
  for (const cmd of ['demo', 'run', 'train', 'update', 'compare', 'gate', 'predict']) assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
  for (const cmd of ['demo', 'run', 'train', 'update', 'compare', 'gate', 'predict']) {
    const r = runCli([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, /Usage: distillery/);
  }
  const updateHelp = runCli(['update', '--help']).stdout;
  // --method choices, parameter flags and the method list come from the registry
  for (const m of METHOD_NAMES) assert.match(updateHelp, new RegExp(`^  ${m} +\\S`, 'm'), m);
  for (const flag of ['--lambda', '--alpha', '--temperature', '--weight', '--max-churn', '--smoothing']) assert.ok(updateHelp.includes(flag), flag);
});

test('train → update → predict → compare on real CSV files', () => {
  const base = join(dir, 'base');
  const r1 = runCli(['train', '--data', oldCsv, '--label', 'letter', '--out', base, '--seed', '3', ...quick]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, /saved .*validation accuracy \d+\.\d+%/);
  assert.deepEqual(readdirSync(base).sort(), ['distillery.json', 'model.json', 'weights.bin']);
  const meta = JSON.parse(readFileSync(join(base, 'distillery.json'), 'utf8'));
  assert.equal(meta.classNames.length, 26);
  assert.equal(meta.preprocessing.kind, 'tabular');
  assert.equal(meta.seed, 3);
  assert.ok(meta.engine);

  const v2 = join(dir, 'v2');
  const r2 = runCli(['update', '--base', base, '--data', newCsv, '--method', 'distill', '--lambda', '0.6', '--out', v2, ...quick]);
  assert.equal(r2.code, 0, r2.stderr);
  const meta2 = JSON.parse(readFileSync(join(v2, 'distillery.json'), 'utf8'));
  assert.equal(meta2.recipe.method, 'distill');
  assert.equal(meta2.recipe.objectiveParams.lambda, 0.6);
  const kd = join(dir, 'kd');
  const r3 = runCli(['update', '--base', base, '--data', newCsv, '--method', 'kd', '--alpha', '0.3', '--temperature', '2', '--out', kd, ...quick]);
  assert.equal(r3.code, 0, r3.stderr);
  const meta3 = JSON.parse(readFileSync(join(kd, 'distillery.json'), 'utf8'));
  assert.deepEqual([meta3.recipe.method, meta3.recipe.params], ['kd', { alpha: 0.3, temperature: 2 }]);
  assert.deepEqual(meta3.recipe.reference, { kind: 'base', modelIds: [meta.id] });

  const p1 = join(dir, 'p1.csv');
  const p2 = join(dir, 'p2.csv');
  assert.equal(runCli(['predict', '--model', base, '--data', testCsv, '--out', p1]).code, 0);
  assert.equal(runCli(['predict', '--model', v2, '--data', testCsv, '--out', p2]).code, 0);
  assert.equal(readFileSync(p1, 'utf8').trim().split('\n').length, 1001);

  const j1 = join(dir, 'cmp-models.json');
  const j2 = join(dir, 'cmp-preds.json');
  const c1 = runCli(['compare', '--old', base, '--new', v2, '--data', testCsv, '--json', j1, '--markdown', join(dir, 'cmp.md')]);
  assert.equal(c1.code, 0, c1.stderr);
  assert.match(c1.stdout, /churn/i);
  const c2 = runCli(['compare', '--old', p1, '--new', p2, '--data', testCsv, '--label', 'letter', '--json', j2]);
  assert.equal(c2.code, 0, c2.stderr);
  const a = JSON.parse(readFileSync(j1, 'utf8'));
  const b = JSON.parse(readFileSync(j2, 'utf8'));
  assert.equal(a.n, 1000);
  assert.deepEqual(a.counts, b.counts, 'models and their prediction files give the same comparison');
  assert.ok(a.metrics.churn.estimate > 0 && a.metrics.churn.estimate < 0.5);
  assert.ok(a.metrics.churn.low <= a.metrics.churn.estimate && a.metrics.churn.estimate <= a.metrics.churn.high);
  assert.ok(Math.abs(a.metrics.predictionDifference.estimate - b.metrics.predictionDifference.estimate) < 1e-4);
  assert.ok(existsSync(join(dir, 'cmp.md')));
});

/** Asserts a one-line error naming `name`, exit code 2, and nothing left at `out`. */
function expectBadInput(args: string[], name: RegExp, out?: string): void {
  const r = runCli(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('distillery:'));
  assert.equal(errLines.length, 1, r.stderr);
  assert.match(errLines[0], name);
  if (out) {
    assert.equal(existsSync(out), false, `${out} must not exist after a failure`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no temporary leftovers');
  }
}

test('bad input gets a one-line error naming the problem, exit code 2, and no partial output', () => {
  const out = join(dir, 'never');
  expectBadInput(['train', '--data', join(dir, 'missing.csv'), '--out', out], /missing\.csv: file not found/, out);
  const ragged = write('ragged.csv', [lines[1], '1,2,3']);
  expectBadInput(['train', '--data', ragged, '--label', 'letter', '--out', out], /ragged\.csv: line 3/, out);
  expectBadInput(['train', '--data', oldCsv, '--label', 'nope', '--out', out], /old\.csv: .*nope/, out);
  const nan = write('nan.csv', [...lines.slice(1, 50), lines[50].replace(/,(\d+)$/, ',NaN')]);
  expectBadInput(['train', '--data', nan, '--label', 'letter', '--out', out], /nan\.csv: .*NaN/i, out);
  // (update data with a label the base model has never seen adds a class: test/cli/classes.test.ts)
  const base = join(dir, 'base');
  expectBadInput(['update', '--base', join(dir, 'no-model'), '--data', newCsv, '--out', out], /no-model/, out);
  expectBadInput(['update', '--base', base, '--data', newCsv, '--lambda', '2', '--out', out], /--lambda/, out);
  expectBadInput(['update', '--base', base, '--data', newCsv, '--method', 'churn-budget', '--out', out], /--max-churn/, out);
  expectBadInput(['update', '--base', base, '--data', newCsv, '--method', 'anchor', '--lambda', '0.3', '--out', out], /--lambda: does not apply to --method anchor/, out);
  expectBadInput(['update', '--base', base, '--data', newCsv, '--method', 'kd', '--temperature', '0', '--out', out], /--temperature/, out);
  // A model whose input does not match the data (16 features vs 15).
  const narrow = join(dir, 'narrow.csv');
  writeFileSync(narrow, lines.slice(0, 300).map((l) => l.split(',').slice(0, 16).join(',')).join('\n').replace('"lettr"', 'letter'));
  expectBadInput(['compare', '--old', base, '--new', base, '--data', narrow], /narrow\.csv: .*(column|feature)/);
  const badPreds = join(dir, 'bad-preds.csv');
  writeFileSync(badPreds, 'prediction\nA\nB\n');
  expectBadInput(['compare', '--old', badPreds, '--new', badPreds, '--data', testCsv, '--label', 'letter'], /bad-preds\.csv: has 2 predictions but .* has 1000 rows/);
  const r = runCli(['train', '--nonsense']);
  assert.equal(r.code, 2);
});

test('gate: exit 0 when the new model is within the limits, 3 when it is not, 2 for a gate without limits', () => {
  // Predictions files for the 1000 test rows: old wrong on rows 0–99, new wrong on rows 50–79
  // (the same answers) and 900–919: NFR 2%, churn 9%, accuracy 90% → 95%.
  const labels = lines.slice(5001, 6001).map((l) => l.split(',')[0].replace(/"/g, ''));
  const other = (y: string) => (y === 'A' ? 'B' : 'A');
  const preds = (wrong: (i: number) => boolean) => 'prediction\n' + labels.map((y, i) => (wrong(i) ? other(y) : y)).join('\n') + '\n';
  const oldP = join(dir, 'gate-old.csv'), newP = join(dir, 'gate-new.csv');
  writeFileSync(oldP, preds((i) => i < 100));
  writeFileSync(newP, preds((i) => (i >= 50 && i < 80) || (i >= 900 && i < 920)));
  const base = ['gate', '--old', oldP, '--new', newP, '--data', testCsv, '--label', 'letter'];

  const ok = runCli([...base, '--max-nfr', '0.03', '--min-accuracy-gain', '0']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /pass {2}NFR 2\.00% ≤ 3\.00%/);
  assert.match(ok.stdout, /release gate: PASSED/);

  const verdictFile = join(dir, 'gate.json');
  const blocked = runCli([...base, '--max-nfr', '0.025', '--decide-on', 'bound', '--json', verdictFile]);
  assert.equal(blocked.code, 3, blocked.stderr);
  assert.match(blocked.stdout, /FAIL {2}NFR \d\.\d\d% \(upper 95% bound\) > 2\.50%/);
  assert.match(blocked.stderr, /release blocked/);
  const json = JSON.parse(readFileSync(verdictFile, 'utf8'));
  assert.equal(json.verdict.passed, false);
  assert.equal(json.comparison.n, 1000);
  assert.equal(json.comparison.counts.negativeFlips, 20);

  // a policy file, overridden by a flag
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'maxChurn: 0.05\nminAccuracy: 0.9\n');
  const byFile = runCli([...base, '--policy', policy]);
  assert.equal(byFile.code, 3);
  assert.match(byFile.stdout, /FAIL {2}churn 9\.00% > 5\.00%/);
  assert.equal(runCli([...base, '--policy', policy, '--max-churn', '0.1']).code, 0);

  expectBadInput(base, /no limits given/);
  writeFileSync(policy, 'maxNFR: 0.02\n');
  expectBadInput([...base, '--policy', policy], /policy\.yaml: .*maxNFR|policy\.yaml: .*Unrecognized/);
  expectBadInput([...base, '--max-pd', '0.1'], /--max-pd: needs class probabilities/);
  expectBadInput([...base, '--max-nfr', '2'], /--max-nfr/);
});
