import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCliHere } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';

const { dir, file, readJson } = scratchDir('distillery-tables-');
const quick = ['--epochs', '3', '--batch-size', '64', '--lr', '0.01', '--hidden', '16', '-q'];

// Real rows of the UCI letter data as a headerless TSV: a row id, a date, the letter, a quoted note, 16 features.
const letter = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n').slice(1, 801);
const tsv = letter
  .map((line, i) => {
    const [y, ...x] = line.replace(/"/g, '').split(',');
    const day = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000 * 7).toISOString().slice(0, 16);
    return [String(i + 1), day, y, `said "${y}"`, ...x].join('\t');
  })
  .join('\n');
const headerless = file('letters.tsv', tsv + '\n');

test('a headerless TSV: --no-header, --label by number, --ignore-columns, a date column expanded to parts', async () => {
  const model = join(dir, 'm');
  const r = await runCliHere(['train', '--data', headerless, '--no-header', '--label', '3', '--ignore-columns', '4', '--out', model, ...quick]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: column "c1" looks like a row id/, '-q hides progress, not warnings');
  const silenced = await runCliHere(['--no-warnings', 'train', '--data', headerless, '--no-header', '--label', '3', '--ignore-columns', '4', '--out', join(dir, 'm-no-warnings'), ...quick]);
  assert.equal(silenced.code, 0, silenced.stderr);
  assert.doesNotMatch(silenced.stderr, /warning/, '--no-warnings');
  const spec = readJson(join(model, 'distillery.json')).preprocessing;
  assert.equal(spec.labelColumn, 'c3');
  const types = Object.fromEntries(spec.columns.map((c: { name: string; type: string }) => [c.name, c.type]));
  assert.equal(types.c2, 'datetime');
  assert.equal(types.c4, undefined); // ignored: the quoted note is not a feature
  assert.equal(spec.columns.length, 1 + 1 + 16);
  assert.equal(readJson(join(model, 'distillery.json')).classNames.length, 26);
  // the same file predicts with --no-header; without it, line 1 is refused as a header of data
  const preds = join(dir, 'p.csv');
  const p = await runCliHere(['-q', 'predict', '--model', model, '--data', headerless, '--no-header', '--out', preds]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(readFileSync(preds, 'utf8').trim().split('\n').length, 801);
  const named = await runCliHere(['train', '--data', headerless, '--columns', ['id', 'when', 'letter', 'note', ...Array.from({ length: 16 }, (_, j) => `x${j + 1}`)].join(','), '--label', 'letter', '--ignore-columns', 'id,note', '--out', join(dir, 'named'), ...quick]);
  assert.equal(named.code, 0, named.stderr);
  assert.equal(readJson(join(dir, 'named', 'distillery.json')).preprocessing.columns[0].name, 'when');
});

test('bad table flags: one line naming the flag or file, exit 2', async () => {
  const jsonl = file('t.jsonl', '{"text": "a b", "label": "x"}\n{"text": "c d", "label": "y"}\n');
  const cases: Array<[string[], RegExp]> = [
    [['--data', jsonl, '--categorical', 'a'], /^distillery: --categorical: applies to tables \(CSV\/TSV\) only; .*t\.jsonl holds text data\n$/],
    [['--data', headerless, '--no-header', '--label', '3', '--numeric', 'c4'], /letters\.tsv: line \d+: column "c4" value "said "[A-Z]"" is not a number/],
    [['--data', headerless, '--no-header', '--label', '30'], /label column "30" not found \(give a column name or number 1–20\)/],
    [['--data', headerless, '--columns', 'a,b'], /letters\.tsv: line 1 has 20 fields but --columns names 2/],
    [['--data', headerless, '--no-header', '--ignore-columns', 'c99'], /column to ignore "c99" not found/],
    [['--data', headerless, '--no-header', '--max-categories', '0'], /--max-categories: 0 is outside/],
  ];
  for (const [args, re] of cases) {
    const r = await runCliHere(['train', ...args, '--out', join(dir, 'never'), ...quick]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
