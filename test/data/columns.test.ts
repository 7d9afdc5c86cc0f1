/**
 * Columnar tables: the column-wise preprocessing gives bit-identical specs and features to the
 * row-wise one it replaced (rowwiseReference.ts, fed by csv-parse's cells), on fixtures, on a
 * random table and on the letter dataset; subsets, `rows` and tabularFromColumns.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { parseCsvText } from '../../src/data/csv.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import { isColumnar, tabularColumns, tabularFromColumns } from '../../src/data/columns.js';
import { applyPreprocessing, fitPreprocessing } from '../../src/data/preprocess.js';
import { splitRaw, subsetRaw, type RawTabular } from '../../src/data/types.js';
import { referenceApply, referenceFit, type RowTable } from './rowwiseReference.js';

/** The cells of `text` as csv-parse reads them (the reader before the columnar one), label last. */
function rowTable(text: string, dropFirst = 0): RowTable {
  const records = parse(text, { delimiter: ',', relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  const [header, ...rows] = records;
  const last = header.length - 1;
  return { columns: header.slice(dropFirst, last), rows: rows.map((r) => r.slice(dropFirst, last)), labels: rows.map((r) => r[last]) };
}

function assertSameAsReference(text: string, what: string, opts: { categorical?: string[]; maxCategories?: number } = {}): void {
  const raw = parseCsvText(text, what);
  assert.ok(isColumnar(raw));
  const spec = fitPreprocessing(raw, opts);
  const ref = referenceFit(rowTable(text), opts);
  assert.equal(spec.kind, 'tabular');
  if (spec.kind !== 'tabular') return;
  // deepStrictEqual compares the means and spreads exactly (Object.is)
  assert.deepStrictEqual(spec.columns, ref.columns, what);
  assert.deepStrictEqual(spec.classNames, ref.classNames, what);
  const features = applyPreprocessing(spec, raw).features;
  const expected = referenceApply(ref.columns, rowTable(text));
  assert.ok(Buffer.from(features.buffer).equals(Buffer.from(expected.buffer)), `${what}: features differ`);
  // and on a subset (validation rows), with the fitted spec
  const pick = Array.from({ length: Math.ceil(raw.labels.length / 3) }, (_, i) => (i * 7) % raw.labels.length);
  const sub = subsetRaw(raw, pick);
  assert.ok(isColumnar(sub));
  const rows = rowTable(text);
  const subExpected = referenceApply(ref.columns, { columns: rows.columns, rows: pick.map((i) => rows.rows[i]), labels: pick.map((i) => rows.labels[i]) });
  assert.ok(Buffer.from(applyPreprocessing(spec, sub).features.buffer).equals(Buffer.from(subExpected.buffer)), `${what}: subset features differ`);
}

test('fixtures: numeric (with missing markers and trailing zeros), categorical, dates, forced categorical: the row-wise results bit for bit', () => {
  const text = [
    'age,colour,zip,when,price,code,label',
    '20,red,02139,2024-03-01,1.50,7,a',
    '40,blue,2139,2024-03-02T06:00,2.25,7,b',
    'NA,red,NA,2024-03-03 12:30:00Z,?,8,a',
    '33.5,,00001,NA,1e3,x,b',
    '-0,green,12,2023-12-31,0.10,y,a',
    '?,blue,12,2024-01-15T23:59,-7.000,y,b',
  ].join('\n');
  assertSameAsReference(text, 'fixture.csv');
  assertSameAsReference(text, 'fixture.csv', { categorical: ['zip', 'age', 'price'] });
  assertSameAsReference(text, 'fixture.csv', { maxCategories: 2, categorical: ['zip'] });
});

test('a random table of 3,000 rows: the row-wise results bit for bit', () => {
  let a = 11;
  const r = () => ((a = (a * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const lines = ['x1,x2,x3,big,cat,label'];
  for (let i = 0; i < 3000; i++) {
    const x = (r() - 0.5) * 1000;
    lines.push([x.toFixed(3), String(x / 7), r() < 0.05 ? 'NA' : x.toPrecision(4), String(Math.round(r() * 1e17)), `c${Math.floor(r() * 150)}`, `k${Math.floor(r() * 5)}`].join(','));
  }
  assertSameAsReference(lines.join('\n') + '\n', 'random.csv');
  assertSameAsReference(lines.join('\n') + '\n', 'random.csv', { categorical: ['big'] });
});

test('the letter dataset: the row-wise results bit for bit', () => {
  const text = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8');
  // the letter file has its label first: move it last for the reference table
  const moved = text
    .trim()
    .split('\n')
    .map((line) => {
      const [label, ...rest] = line.split(',');
      return [...rest, label].join(',');
    })
    .join('\n');
  assertSameAsReference(moved, 'letter');
});

test('rows is computed on first read; a spread copy with new rows is read by its rows', () => {
  const raw = parseCsvText('a,b,label\n1,x,p\n2,y,q\n3,z,p\n', 's.csv');
  assert.deepEqual(raw.rows, [['1', 'x'], ['2', 'y'], ['3', 'z']]);
  const firstTwo: RawTabular = { ...raw, rows: raw.rows.slice(0, 2), labels: raw.labels.slice(0, 2) };
  assert.ok(!isColumnar(firstTwo));
  const spec = fitPreprocessing(firstTwo);
  assert.deepEqual(spec.kind === 'tabular' && spec.columns[0], { name: 'a', type: 'numeric', mean: 1.5, std: 0.5 });
});

test('tabularFromColumns: typed columns as a reader of another format gives them', () => {
  const raw = tabularFromColumns({
    source: 'p.parquet',
    names: ['x', 'c'],
    columns: [Float64Array.from([1, NaN, 3]), ['u', 'v', 'u']],
    labels: ['a', 'b', 'a'],
    labelColumn: 'label',
  });
  assert.deepEqual(raw.rows, [['1', 'u'], ['', 'v'], ['3', 'u']]);
  assert.deepEqual(tabularColumns(raw).map((c) => c.kind), ['numeric', 'text']);
  const same = parseCsvText('x,c,label\n1,u,a\n,v,b\n3,u,a\n', 'p.csv');
  const spec = fitPreprocessing(raw);
  assert.deepStrictEqual(spec, fitPreprocessing(same));
  assert.deepEqual(applyPreprocessing(spec, raw).features, applyPreprocessing(spec, same).features);
  assert.throws(() => tabularFromColumns({ source: 's', names: ['x'], columns: [new Float64Array(2)], labels: ['a'], labelColumn: 'y' }), /column "x" has 2 values but there are 1 labels/);
});

test('apply, written a block of rows at a time, still names the bad cell that column-by-column order finds first', () => {
  const rows = Array.from({ length: 3000 }, (_, i) => `${i % 10},${i % 7},${i % 2 ? 'p' : 'q'}`);
  const spec = fitPreprocessing(parseCsvText(['a,b,label', ...rows].join('\n'), 'train.csv'));
  // column b is bad at line 3, column a only at line 2900 (another block): a's error comes first, as before
  const bad = rows.slice();
  bad[1] = '1,oops,p';
  bad[2898] = 'NaN,1,q';
  // a text column parses as text, so b's bad cell is checked at apply time
  assert.throws(() => applyPreprocessing(spec, parseCsvText(['a,b,label', ...bad].join('\n'), 'new.csv')), /new\.csv: line 2900: column "a" value "NaN" is not a finite number/);
});

test('splitRaw with release: each part has the same cells as subsetRaw, and the table keeps its labels but no cells', () => {
  const text = [
    'age,colour,price,label',
    '20,red,1.50,a',
    '40,blue,2.25,b',
    'NA,red,?,a',
    '33.5,,1e3,b',
    '-0,green,0.10,a',
    '?,blue,-7.000,b',
  ].join('\n');
  const parts = [
    [5, 0, 3, 1],
    [4, 2],
  ];
  const expected = parts.map((p) => subsetRaw(parseCsvText(text, 'fixture.csv'), p));
  const raw = parseCsvText(text, 'fixture.csv');
  const [train, validation] = splitRaw(raw, parts, { release: true });
  [train, validation].forEach((part, p) => {
    assert.ok(isColumnar(part));
    assert.deepStrictEqual(part.rows, expected[p].rows);
    assert.deepStrictEqual(part.labels, expected[p].labels);
    assert.deepStrictEqual(part.origins, expected[p].origins);
    assert.deepStrictEqual(tabularColumns(part), tabularColumns(expected[p]));
  });
  assert.equal(raw.labels.length, 6);
  assert.ok(!isColumnar(raw));
  assert.throws(() => raw.rows, /fixture\.csv were handed to its parts/);
  // without release the table keeps its cells
  const kept = parseCsvText(text, 'fixture.csv');
  const [again] = splitRaw(kept, parts);
  assert.deepStrictEqual(again.rows, expected[0].rows);
  assert.deepStrictEqual(kept.rows, parseCsvText(text, 'fixture.csv').rows);
});
