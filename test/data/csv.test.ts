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
    ['nolabel.csv', 'a,b,c\n1,2,3\n', /label column "kind" not found; columns: a, b, c/, { labelColumn: 'kind' }],
    ['emptylabel.csv', 'a,label\n1,x\n2,\n', /line 3: label column "label" is empty/],
    ['onecolumn.csv', 'label\nx\ny\n', /no feature columns besides the label column "label"/],
    ['dupname.csv', 'a,a,label\n1,2,x\n', /column name "a" appears more than once/],
    ['noname.csv', 'a,,label\n1,2,x\n', /header column 2 has no name/],
    ['quote.csv', 'a,label\n"1,x\n', /not valid CSV: .*Quote Not Closed/],
    ['dropunknown.csv', 'a,b,label\n1,2,x\n', /column to drop "c" not found/, { dropColumns: ['c'] }],
    ['droplabel.csv', 'a,b,label\n1,2,x\n', /cannot drop the label column/, { dropColumns: ['label'] }],
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
