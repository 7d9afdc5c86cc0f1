import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadCsv, parseCsvText } from '../../src/data/csv.js';
import { isInputError, makeTempDir, writeFixture } from './fixtures.js';

const dir = makeTempDir();

test('loads a CSV file: columns in file order, label column excluded, values as strings', async () => {
  const path = writeFixture(dir, 'simple.csv', 'age,colour,label\n31,red,yes\n 45 ,"blue, dark",no\n');
  const raw = await loadCsv(path);
  assert.equal(raw.kind, 'tabular');
  assert.equal(raw.source, path);
  assert.deepEqual(raw.columns, ['age', 'colour']);
  assert.deepEqual(raw.rows, [['31', 'red'], ['45', 'blue, dark']]);
  assert.deepEqual(raw.labels, ['yes', 'no']);
  assert.equal(raw.labelColumn, 'label');
});

test('default label column: a column named label/class/target/y, else the last column', () => {
  assert.equal(parseCsvText('Class,a,b\nx,1,2\n', 's').labelColumn, 'Class');
  assert.equal(parseCsvText('a,y,b\n1,x,2\n', 's').labelColumn, 'y');
  assert.equal(parseCsvText('a,b,outcome\n1,2,x\n', 's').labelColumn, 'outcome');
  assert.equal(parseCsvText('a,b,outcome\n1,2,x\n', 's', { labelColumn: 'a' }).labelColumn, 'a');
});

test('detects ; and tab delimiters, and honours a given one', () => {
  const semicolon = parseCsvText('a;b;label\n1,5;2;x\n', 's');
  assert.deepEqual(semicolon.rows, [['1,5', '2']]);
  const tab = parseCsvText('a\tb\tlabel\n1\t2\tx\n', 's');
  assert.deepEqual(tab.rows, [['1', '2']]);
  const given = parseCsvText('a|label\n1|x\n', 's', { delimiter: '|' });
  assert.deepEqual(given.rows, [['1']]);
});

test('reads gzipped files by their magic bytes, whatever the name', async () => {
  const path = writeFixture(dir, 'zipped.data', gzipSync('a,b,label\n1,2,x\n3,4,y\n'));
  const raw = await loadCsv(path);
  assert.deepEqual(raw.labels, ['x', 'y']);
});

test('dropColumns leaves columns out; categorical is recorded for preprocessing', () => {
  const raw = parseCsvText('id,zip,age,label\n1,02139,30,x\n', 's', { dropColumns: ['id'], categorical: ['zip'] });
  assert.deepEqual(raw.columns, ['zip', 'age']);
  assert.deepEqual(raw.categorical, ['zip']);
});

test('bad input: every problem is an InputError naming the file and the problem', async () => {
  const missing = `${dir}/no-such.csv`;
  await assert.rejects(loadCsv(missing), isInputError(missing, /file not found/));
  await assert.rejects(loadCsv(dir), isInputError(dir, /is a directory/));

  const cases: Array<[string, string, RegExp, Parameters<typeof loadCsv>[1]?]> = [
    ['empty.csv', '', /is empty/],
    ['blank.csv', '\n  \n', /is empty/],
    ['noheader.csv', '1,2,3\n4,5,6\n', /line 1 looks like data, not a header/],
    ['headeronly.csv', 'a,b,label\n', /header row but no data rows/],
    ['ragged.csv', 'a,b,label\n1,2,x\n3,4,y\n5,z\n', /line 4: has 2 fields but the header has 3/],
    ['nolabel.csv', 'a,b,c\n1,2,3\n', /label column "kind" not found \(give a column name or number 1–3\); columns: a, b, c/, { labelColumn: 'kind' }],
    ['emptylabel.csv', 'a,label\n1,x\n2,\n', /line 3: label column "label" is empty/],
    ['onecolumn.csv', 'label\nx\ny\n', /no feature columns besides the label column "label"/],
    ['dupname.csv', 'a,a,label\n1,2,x\n', /column name "a" appears more than once/],
    ['noname.csv', 'a,,label\n1,2,x\n', /line 1: column 2 has no name/],
    ['quote.csv', 'a,label\n"1,x\n', /not valid CSV: .*Quote Not Closed/],
    ['dropunknown.csv', 'a,b,label\n1,2,x\n', /column to ignore "c" not found/, { dropColumns: ['c'] }],
    ['droplabel.csv', 'a,b,label\n1,2,x\n', /cannot ignore the label column/, { dropColumns: ['label'] }],
    ['catunknown.csv', 'a,b,label\n1,2,x\n', /categorical column "q" not found/, { categorical: ['q'] }],
  ];
  for (const [name, content, problem, opts] of cases) {
    const path = writeFixture(dir, name, content);
    await assert.rejects(loadCsv(path, opts), isInputError(path, problem), name);
  }

  const corrupt = writeFixture(dir, 'corrupt.csv.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3, 4]));
  await assert.rejects(loadCsv(corrupt), isInputError(corrupt, /not a valid gzip file/));

  if (process.getuid?.() !== 0) {
    const locked = writeFixture(dir, 'locked.csv', 'a,label\n1,x\n');
    chmodSync(locked, 0o000);
    await assert.rejects(loadCsv(locked), isInputError(locked, /permission denied/));
  }
});

test('TSV rules: a " inside a field is data, the messages say TSV, fields count from 1', async () => {
  const path = writeFixture(dir, 'quotes.tsv', 'word\tgloss\tlabel\nsay\tto "utter" words\tverb\n"odd\t12" long\tnoun\n');
  const raw = await loadCsv(path);
  assert.deepEqual(raw.rows, [['say', 'to "utter" words'], ['"odd', '12" long']]);
  assert.deepEqual(raw.labels, ['verb', 'noun']);
  // the same text as CSV would be a quoting error; a ragged TSV names its line and says TSV
  const ragged = writeFixture(dir, 'ragged.tsv', 'a\tb\tlabel\n1\t2\tx\n3\ty\n');
  await assert.rejects(loadCsv(ragged), isInputError(ragged, /^[^:]+: line 3: has 2 fields but the header has 3$/));
  const noName = writeFixture(dir, 'noname.tsv', 'a\t\tlabel\n1\t2\tx\n');
  await assert.rejects(loadCsv(noName), isInputError(noName, /line 1: column 2 has no name/));
  assert.deepEqual(parseCsvText('a\tb\n1\t"2\n', 'given.txt', { delimiter: 'tab' }).labels, ['"2']);
  assert.throws(() => parseCsvText('a\tb\n1\t2\n3\n', 'given.txt', { delimiter: 'tab' }), /given\.txt: line 3: has 1 field but the header has 2/);
});

test('headerless files: --no-header names columns c1…cN or by --columns; the label by name or 1-based number', () => {
  const text = 'run\tto move fast\tverb\nhouse\ta building\tnoun\n';
  const generated = parseCsvText(text, 'g.tsv', { header: false, labelColumn: '3' });
  assert.deepEqual(generated.columns, ['c1', 'c2']);
  assert.equal(generated.labelColumn, 'c3');
  assert.deepEqual(generated.labels, ['verb', 'noun']);
  assert.deepEqual(generated.origins, [1, 2]);
  const named = parseCsvText(text, 'g.tsv', { columnNames: ['word', 'gloss', 'pos'], labelColumn: 'pos' });
  assert.deepEqual(named.columns, ['word', 'gloss']);
  assert.deepEqual(named.rows[0], ['run', 'to move fast']);
  // a header row: --label 1 is the first column unless a column is named "1"
  assert.equal(parseCsvText('k,a,b\nx,1,2\n', 's', { labelColumn: '1' }).labelColumn, 'k');
  assert.equal(parseCsvText('a,1,b\n5,x,2\n', 's', { labelColumn: '1' }).labelColumn, '1');
  const bad: Array<[string, object, RegExp]> = [
    [text, { columnNames: ['word', 'pos'] }, /g\.tsv: line 1 has 3 fields but --columns names 2$/],
    [text, { columnNames: ['w', 'w', 'p'] }, /--columns: column name "w" appears more than once$/],
    [text, { header: false, labelColumn: '4' }, /label column "4" not found \(give a column name or number 1–3\); columns: c1, c2, c3/],
    ['a\tb\n1\t2\t3\n', { header: false }, /line 2: has 3 fields but line 1 has 2/],
  ];
  for (const [t, opts, re] of bad) assert.throws(() => parseCsvText(t, 'g.tsv', opts), re);
  // the last column as a guessed label must look like labels, not like ids or free text
  const glosses = Array.from({ length: 150 }, (_, i) => `w${i}\tnoun\tgloss number ${i}`).join('\n');
  assert.throws(() => parseCsvText(glosses, 'g.tsv', { header: false }), /g\.tsv: the last column "c3" was taken as the label but has 150 different values in 150 rows \(an id or free text\?\): say which column holds the labels with --label/);
  assert.equal(parseCsvText(glosses, 'g.tsv', { header: false, labelColumn: '2' }).labels[0], 'noun');
  // a first line of long text is data, not a header: the message says what to do
  const gloss = 'x'.repeat(300);
  assert.throws(() => parseCsvText(`w\t${gloss}\tnoun\nrun\tgo\tverb\n`, 'h.tsv'), /h\.tsv: line 1 looks like data, not a header \(field 2 is 300 characters long\): without a header row, say so with --no-header/);
});
