import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCliHere } from '../helpers/cli.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import { BUDGET_NOT_MET_EXIT } from '../../src/cli/commands/update.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-valdata-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
const csv = (name: string, from: number, to: number) => {
  const p = join(dir, name);
  writeFileSync(p, [lines[0], ...lines.slice(from, to)].join('\n') + '\n');
  return p;
};
const oldCsv = csv('old.csv', 1, 601);
const newCsv = csv('new.csv', 1, 1201);
const valCsv = csv('val.csv', 3001, 3301);
const quick = ['--epochs', '3', '--batch-size', '64', '--lr', '0.01', '-q'];

test('--validation-data: train and update validate on a separate file; a churn budget no λ meets exits 4 and says so', async () => {
  const base = join(dir, 'base');
  const r1 = await runCliHere(['train', '--data', oldCsv, '--label', 'lettr', '--validation-data', valCsv, '--hidden', '16', '--out', base, ...quick]);
  assert.equal(r1.code, 0, r1.stderr);
  const v2 = join(dir, 'v2');
  const r2 = await runCliHere(['update', '--base', base, '--data', newCsv, '--validation-data', valCsv, '--method', 'churn-budget', '--max-churn', '0', '--lambdas', '0', '--refinements', '0', '--out', v2, ...quick]);
  assert.equal(r2.code, BUDGET_NOT_MET_EXIT, r2.stderr);
  assert.match(r2.stdout, /val\. churn/);
  assert.match(r2.stderr, /^distillery: --max-churn: no λ met the churn budget of 0\.0+% \(lowest validation churn \d+\.\d+%\); .*v2 holds the lowest-churn model/);
  assert.ok(existsSync(join(v2, 'distillery.json')), 'the lowest-churn model is saved');
  // a budget that is met exits 0
  const r3 = await runCliHere(['update', '--base', base, '--data', newCsv, '--validation-data', valCsv, '--method', 'churn-budget', '--max-churn', '1', '--lambdas', '0', '--refinements', '0', '--out', join(dir, 'v3'), ...quick]);
  assert.equal(r3.code, 0, r3.stderr);
  const both = await runCliHere(['update', '--base', base, '--data', newCsv, '--validation-data', valCsv, '--validation', '0.2', '--out', join(dir, 'never'), ...quick]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^distillery: --validation: give either --validation \(a hold-out of --data\) or --validation-data, not both\n$/);
  const missing = await runCliHere(['train', '--data', oldCsv, '--label', 'lettr', '--validation-data', join(dir, 'nope.csv'), '--out', join(dir, 'never'), ...quick]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.csv: file not found/);
});

test('--validation larger than the data: train names the flag, not the library parameter (#27 item 11)', async () => {
  const base = join(dir, 'base-hold-out');
  const r1 = await runCliHere(['train', '--data', oldCsv, '--label', 'lettr', '--validation', '900', '--out', base, ...quick]);
  assert.equal(r1.code, 2, r1.stderr);
  assert.equal(r1.stderr, 'distillery: --validation: 900 exceeds the 600 examples of the data\n');
  assert.ok(!existsSync(base));
});
