import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCli } from '../helpers/cli.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-transfer-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
const write = (name: string, rows: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, [lines[0], ...rows].join('\n') + '\n');
  return p;
};
const trainCsv = write('train.csv', lines.slice(1, 1201));
const quick = ['--epochs', '4', '--batch-size', '64'];
const teacher = join(dir, 'teacher');
const trained = runCli(['train', '--data', trainCsv, '--label', 'lettr', '--out', teacher, '--hidden', '128,128', '--seed', '1', ...quick, '--lr', '0.01']);
assert.equal(trained.code, 0, trained.stderr);

test('transfer: --help documents every flag with its default; a tree student through a chain, every model and the report in the run directory', () => {
  const help = runCli(['transfer', '--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--teacher', '--data', '--label', '--student', '--out', '--test', '--test-size', '--validation', '--candidate', '--rungs', '--methods', '--cap', '--floor', '--probe-layers', '--probe-top', '--search', '--seeds', '--jobs', '--epochs', '--lr', '--patience', '--monitor']) {
    assert.match(help.stdout, new RegExp(`${flag}\\b`), flag);
  }
  assert.match(help.stdout, /logreg \| mlp:<widths>/);
  assert.match(help.stdout, /profweight +CE\(y, z\) weighted/);

  const out = join(dir, 'run');
  const r = runCli([
    'transfer', '--teacher', teacher, '--data', trainCsv, '--student', 'tree:5', '--out', out, '--seeds', '1,2', '--jobs', '1',
    '--candidate', 'mlp:32', '--methods', 'plain,distill:lambda=0.5,profweight,sratio', '--cap', '4', '--floor', '0.2', ...quick,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /no transfer +\d+\.\d+% ± /);
  assert.match(r.stdout, /1-hop +\d+\.\d+% ± /);
  assert.match(r.stdout, /chain +\d+\.\d+% ± /);
  assert.match(r.stderr, /candidate 1\/1 mlp 32: (added|not added)/, 'progress over candidates');
  assert.match(r.stderr, /teacher → tree d=5: sratio cap=4: validation accuracy/, 'progress over hops and methods');
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(results.trials.length, 2);
  for (const t of results.trials) {
    assert.ok(t.arms.chain.validationAccuracy >= t.arms.oneHop.validationAccuracy && t.arms.oneHop.validationAccuracy >= t.arms.none.validationAccuracy);
    assert.equal(t.search.evaluated.length, 2, 'teacher → tree and teacher → mlp 32 → tree');
    assert.equal(t.intermediates.length, 1);
  }
  for (const m of ['student-no-transfer', 'student-1-hop', 'student-chain']) assert.ok(existsSync(join(out, 'seed-1', m, 'tree.json')), m);
  assert.ok(existsSync(join(out, 'seed-2', 'intermediates', 'mlp-32', 'model.json')));
  const preds = join(dir, 'tree-preds.csv');
  const p = runCli(['predict', '--model', join(out, 'seed-1', 'student-chain'), '--data', trainCsv, '--out', preds]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(readFileSync(preds, 'utf8').trim().split('\n').length, 1201, 'a saved tree predicts like any model');
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /## Chains evaluated/);
  assert.match(report, /teacher → mlp 32 → tree d=5/);
});

test('transfer: bad input gets one line naming the flag or file, exit 2, and no run directory', () => {
  const out = join(dir, 'never');
  const bad = (args: string[], message: RegExp) => {
    const r = runCli(['transfer', '--teacher', teacher, '--data', trainCsv, '--out', out, ...quick, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(out));
  };
  bad(['--student', 'mlp:256,256'], /--student: mlp 256-256 has \d+ parameters, not fewer than the teacher's/);
  bad(['--student', 'logreg', '--probe-layers', 'dense_9'], /--probe-layers: no layer "dense_9" in the teacher/);
  bad(['--student', 'logreg', '--cap', '0'], /--cap: must be a positive number/);
  bad(['--student', 'logreg', '--cap', '-2'], /--cap: must be a positive number/);
  bad(['--student', 'forest'], /--student: "forest" is not a student/);
  // a value the library or the experiment refuses is named as the user typed it (#27 item 9)
  bad(['--student', 'logreg', '--candidate', 'mlp:32', '--candidate', 'mlp:512'], /^distillery: --candidate mlp:512: mlp 512 has \d+ parameters, not between the student's \(\d+\) and the teacher's \(\d+\)\n$/);
  bad(['--student', 'logreg', '--candidate', 'mlp:x'], /^distillery: --candidate mlp:x: "mlp:x" is not an intermediate model/);
  bad(['--student', 'logreg', '--test-size', '5000'], /^distillery: --test-size: 5000 exceeds the 1200 examples of the data\n$/);
  bad(['--student', 'logreg', '--validation', '5000'], /^distillery: .*train\.csv: the split needs 5000 examples \(--validation 5000\) but the data has only 960\n$/);
  const unknown = write('unknown.csv', [...lines.slice(1, 200), lines[200].replace(/^"?[A-Z]"?,/, '"Ω",')]);
  const r = runCli(['transfer', '--teacher', teacher, '--data', unknown, '--student', 'logreg', '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown\.csv: has classes the teacher .* does not know: Ω/);
  const missing = runCli(['transfer', '--teacher', join(dir, 'nope'), '--data', trainCsv, '--student', 'logreg', '--out', out]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope: model directory not found/);
});

test('transfer as a YAML experiment: a candidate the teacher cannot hold is named by the config file and its key (#27 item 9)', () => {
  const config = join(dir, 'candidates.yaml');
  writeFileSync(config, `kind: transfer\ndata: ${trainCsv}\nlabelColumn: lettr\ntestSize: 200\nsplit: { train: rest, validation: 200 }\nteacher: { path: ${teacher} }\nstudent: logreg\ncandidates: [mlp:32, mlp:2048]\nseeds: [1]\n`);
  const out = join(dir, 'never-yaml');
  const r = runCli(['run', '--config', config, '--out', out, '-q']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^distillery: ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: candidates\\.1: mlp 2048 has \\d+ parameters, not between the student's \\(\\d+\\) and the teacher's \\(\\d+\\)\\n$`));
  assert.ok(!existsSync(out));
});
