import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCliHere } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';

const { dir, file, readJson } = scratchDir('distillery-classes-');

// Real rows: the letters A, B, C of the embedded UCI data (label column "lettr" first).
const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
const header = lines[0];
const rowsOf = (from: number, to: number, keep: string[]) => lines.slice(from, to).filter((l) => keep.includes(l.replace(/"/g, '').split(',')[0]));
const csv = (name: string, rows: string[]) => file(name, [header, ...rows].join('\n') + '\n');
const quick = ['--epochs', '6', '--batch-size', '64', '--lr', '0.01', '-q'];
const small = ['--hidden', '32'];

test('churn and flips on the union of classes, checked by hand: a class the old model lacks counts as its error', async () => {
  // label, old prediction, new prediction
  const cases = [
    ['A', 'A', 'A'],
    ['A', 'A', 'B'], // negative flip
    ['B', 'B', 'B'],
    ['C', 'A', 'C'], // positive flip: the old model cannot predict C
    ['C', 'B', 'A'], // wrong to wrong, a change
    ['B', 'A', 'B'], // positive flip
  ];
  const data = file('hand.csv', 'x,label\n' + cases.map(([y], i) => `${i},${y}`).join('\n') + '\n');
  const oldP = file('old-pred.csv', 'prediction,p:A,p:B\n' + cases.map(([, o]) => (o === 'A' ? 'A,0.7,0.3' : 'B,0.2,0.8')).join('\n') + '\n');
  const probsNew: Record<string, string> = { A: '0.6,0.3,0.1', B: '0.1,0.8,0.1', C: '0.1,0.2,0.7' };
  const newP = file('new-pred.csv', 'prediction,p:A,p:B,p:C\n' + cases.map(([, , n]) => `${n},${probsNew[n]}`).join('\n') + '\n');
  const json = join(dir, 'hand.json');
  const r = await runCliHere(['-q', 'compare', '--old', oldP, '--new', newP, '--data', data, '--json', json, '--resamples', '10']);
  assert.equal(r.code, 0, r.stderr);
  const m = readJson(json).metrics;
  assert.equal(readJson(json).numClasses, 3);
  assert.equal(m.accuracyOld.estimate, 3 / 6);
  assert.equal(m.accuracyNew.estimate, 4 / 6);
  assert.equal(m.churn.estimate, 4 / 6);
  assert.equal(m.nfr.estimate, 1 / 6);
  assert.equal(m.pfr.estimate, 2 / 6);
  // a class neither side has (D) is an error naming the row, with the remedy
  const withD = file('hand-d.csv', 'x,label\n' + cases.map(([y], i) => `${i},${i === 0 ? 'D' : y}`).join('\n') + '\n');
  const rd = await runCliHere(['compare', '--old', oldP, '--new', newP, '--data', withD, '--resamples', '10']);
  assert.equal(rd.code, 2);
  assert.match(rd.stderr, /hand-d\.csv: line 2: label "D" is not one of the classes: A, B, C \(a class no model was trained with: declare it with train --classes\)/);
  // the gate reads the same union: NFR 1/6 passes 0.2 and is blocked at 0.1
  assert.equal((await runCliHere(['-q', 'gate', '--old', oldP, '--new', newP, '--data', data, '--max-nfr', '0.2', '--resamples', '10'])).code, 0);
  assert.equal((await runCliHere(['-q', 'gate', '--old', oldP, '--new', newP, '--data', data, '--max-nfr', '0.1', '--resamples', '10'])).code, 3);
});

test('a base sample missing a class: --classes declares it, and update/compare/gate run', async () => {
  const baseCsv = csv('base.csv', rowsOf(1, 2500, ['A', 'B'])); // no C at all
  const newCsv = csv('new.csv', rowsOf(1, 4000, ['A', 'B', 'C']));
  const testCsv = csv('test.csv', rowsOf(6000, 8000, ['A', 'B', 'C']));
  const base = join(dir, 'base-abc');
  const r1 = await runCliHere(['train', '--data', baseCsv, '--label', 'lettr', '--classes', 'A,B,C', '--out', base, ...small, ...quick]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.deepEqual(readJson(join(base, 'distillery.json')).classNames, ['A', 'B', 'C']);
  const v2 = join(dir, 'v2-abc');
  const r2 = await runCliHere(['update', '--base', base, '--data', newCsv, '--method', 'distill', '--out', v2, ...quick]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(readJson(join(v2, 'distillery.json')).classNames, ['A', 'B', 'C']);
  const r3 = await runCliHere(['-q', 'gate', '--old', base, '--new', v2, '--data', testCsv, '--min-accuracy-gain', '0', '--resamples', '10']);
  assert.equal(r3.code, 0, r3.stdout + r3.stderr);

  // --classes-from: one class per line; a training label outside the list is one clear line
  const list = file('classes.txt', 'A\nB\n\n');
  const r4 = await runCliHere(['train', '--data', newCsv, '--label', 'lettr', '--classes-from', list, '--out', join(dir, 'never'), ...quick]);
  assert.equal(r4.code, 2);
  assert.match(r4.stderr, /new\.csv: line \d+: label "C" is not one of the model's classes: A, B/);
  const r5 = await runCliHere(['train', '--data', newCsv, '--label', 'lettr', '--classes', 'A,A,B', '--out', join(dir, 'never'), ...quick]);
  assert.equal(r5.code, 2);
  assert.match(r5.stderr, /--classes: class "A" is listed twice/);
});

test('an update whose data adds a class trains over the union; compare counts its examples as the old model\'s errors', async () => {
  const baseCsv = csv('base-ab.csv', rowsOf(1, 2500, ['A', 'B']));
  const newCsv = csv('new-abc.csv', rowsOf(1, 4000, ['A', 'B', 'C']));
  const testCsv = csv('test-abc.csv', rowsOf(6000, 8000, ['A', 'B', 'C']));
  const base = join(dir, 'base-ab');
  assert.equal((await runCliHere(['train', '--data', baseCsv, '--label', 'lettr', '--out', base, ...small, ...quick])).code, 0);
  assert.deepEqual(readJson(join(base, 'distillery.json')).classNames, ['A', 'B']);
  for (const method of ['distill', 'churn-budget']) {
    const v2 = join(dir, `v2-${method}`);
    const extra = method === 'churn-budget' ? ['--max-churn', '0.5', '--lambdas', '0,0.5', '--refinements', '0'] : [];
    const r = await runCliHere(['update', '--base', base, '--data', newCsv, '--method', method, ...extra, '--out', v2, ...quick]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: the data adds 1 class the base model lacks \(C\)/, 'a warning, shown with -q');
    assert.deepEqual(readJson(join(v2, 'distillery.json')).classNames, ['A', 'B', 'C']);
  }
  const v2 = join(dir, 'v2-distill');
  // every rate recomputed from the two models' own predictions
  const oldPred = join(dir, 'old.pred.csv');
  const newPred = join(dir, 'new.pred.csv');
  assert.equal((await runCliHere(['-q', 'predict', '--model', base, '--data', testCsv, '--out', oldPred])).code, 0);
  assert.equal((await runCliHere(['-q', 'predict', '--model', v2, '--data', testCsv, '--out', newPred])).code, 0);
  const column = (p: string) => readFileSync(p, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0].replace(/"/g, ''));
  const labels = column(testCsv);
  const [po, pn] = [column(oldPred), column(newPred)];
  const n = labels.length;
  const rate = (f: (i: number) => boolean) => labels.filter((_, i) => f(i)).length / n;
  const json = join(dir, 'union.json');
  const r = await runCliHere(['-q', 'compare', '--old', base, '--new', v2, '--data', testCsv, '--json', json, '--resamples', '10']);
  assert.equal(r.code, 0, r.stderr);
  const m = readJson(json).metrics;
  assert.ok(labels.filter((y) => y === 'C').length > 50);
  assert.ok(!po.includes('C'));
  assert.ok(m.accuracyOld.estimate <= 1 - rate((i) => labels[i] === 'C') + 1e-12, 'every C is an old error');
  assert.ok(Math.abs(m.accuracyOld.estimate - rate((i) => po[i] === labels[i])) < 1e-12);
  assert.ok(Math.abs(m.churn.estimate - rate((i) => po[i] !== pn[i])) < 1e-12);
  assert.ok(Math.abs(m.nfr.estimate - rate((i) => po[i] === labels[i] && pn[i] !== labels[i])) < 1e-12);
  assert.ok(m.accuracyNew.estimate > m.accuracyOld.estimate, 'the new model learnt C');
  assert.ok(m.predictionDifference !== null);
});
