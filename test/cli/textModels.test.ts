/**
 * The default text model on real text every Debian system has: paragraphs of the licence texts
 * in /usr/share/common-licenses (package base-files), labelled by licence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliHere } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-text-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
// licences that do not share their wording (GPL-2, LGPL-2.1 repeat much of GPL-3)
const LICENCES = ['Apache-2.0', 'Artistic', 'CC0-1.0', 'GFDL-1.3', 'GPL-3', 'MPL-2.0'];
const paragraphs = LICENCES.flatMap((label) =>
  readFileSync(join('/usr/share/common-licenses', label), 'utf8')
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.split(' ').length >= 8)
    .map((text) => ({ text, label })),
);
const jsonl = (name: string, rows: typeof paragraphs) => {
  const p = join(dir, name);
  writeFileSync(p, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return p;
};
const testRows = paragraphs.filter((_, i) => i % 4 === 0);
const trainRows = paragraphs.filter((_, i) => i % 4 !== 0);
const quick = ['--epochs', '20', '--patience', '5', '--lr', '0.01', '-q'];

test('text: the default model is an MLP over TF-IDF n-grams; it learns real text, and an update may add a class', async () => {
  const base = join(dir, 'base');
  const oldTrain = jsonl('old.jsonl', trainRows.filter((r) => r.label !== 'MPL-2.0'));
  const r = await runCliHere(['train', '--data', oldTrain, '--classes', LICENCES.filter((l) => l !== 'MPL-2.0').join(','), '--out', base, ...quick]);
  assert.equal(r.code, 0, r.stderr);
  const meta = JSON.parse(readFileSync(join(base, 'distillery.json'), 'utf8'));
  assert.equal(meta.architecture.kind, 'mlp');
  assert.equal(meta.preprocessing.encoding, 'tfidf');
  assert.ok(meta.preprocessing.vocab.some((t: string) => t.includes(' ')), 'bigrams are terms');
  const v2 = join(dir, 'v2');
  const r2 = await runCliHere(['update', '--base', base, '--data', jsonl('new.jsonl', trainRows), '--method', 'distill', '--out', v2, ...quick]);
  assert.equal(r2.code, 0, r2.stderr);
  const json = join(dir, 'cmp.json');
  const r3 = await runCliHere(['compare', '--old', base, '--new', v2, '--data', jsonl('test.jsonl', testRows), '--json', json, '--resamples', '10']);
  assert.equal(r3.code, 0, r3.stderr);
  const m = JSON.parse(readFileSync(json, 'utf8')).metrics;
  const majority = Math.max(...LICENCES.map((l) => testRows.filter((r) => r.label === l).length)) / testRows.length;
  assert.ok(majority < 0.45);
  // far above always guessing the most common licence; the new model also reads MPL-2.0
  assert.ok(m.accuracyOld.estimate > majority + 0.15, `old ${m.accuracyOld.estimate}`);
  assert.ok(m.accuracyNew.estimate > m.accuracyOld.estimate, `new ${m.accuracyNew.estimate} vs old ${m.accuracyOld.estimate}`);
});

test('text: --model transformer reads token ids, with dropout', async () => {
  const tr = join(dir, 'tr');
  const r = await runCliHere(['train', '--data', jsonl('all.jsonl', trainRows), '--model', 'transformer', '--out', tr, '--epochs', '1', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const meta = JSON.parse(readFileSync(join(tr, 'distillery.json'), 'utf8'));
  assert.equal(meta.architecture.kind, 'transformer');
  assert.ok(meta.architecture.dropout > 0);
  assert.equal(meta.preprocessing.encoding ?? 'tokens', 'tokens');
  assert.equal(meta.inputShape[0], meta.preprocessing.maxLen);
});
