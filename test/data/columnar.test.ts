/**
 * Parquet and Arrow IPC / Feather input: the same table as CSV, Parquet (every compression
 * DuckDB writes; INT32, INT64, DOUBLE and FLOAT, strings, a dictionary/ENUM column, nulls, a
 * DATE and a TIMESTAMP) and Arrow (file, Feather, stream) gives the same fitted preprocessing
 * and bit-identical features; bad files get one line naming the file (and the column).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { loadData } from '../../src/data/builtin.js';
import { fitPreprocessing, applyPreprocessing } from '../../src/data/preprocess.js';
import { dataFormatOf } from '../../src/data/formats.js';
import type { RawTabular } from '../../src/data/types.js';
import { rowOf, subsetRaw } from '../../src/data/types.js';
import { isInputError, makeTempDir, writeFixture } from './fixtures.js';
import { duckdbRun, mixedArrowTable, mixedCsv, mixedRows, PARQUET_COMPRESSIONS, writeArrow, writeMixedParquet } from './columnarFixtures.js';

const dir = makeTempDir();
const rows = mixedRows(90);
const csvPath = writeFixture(dir, 'mixed.csv', mixedCsv(rows));
const parquet = await writeMixedParquet(csvPath, dir);
const table = mixedArrowTable(rows);
const arrowFiles = ['mixed.arrow', 'mixed.feather', 'mixed.arrows'].map((name) => writeArrow(table, dir, name));

/** The fitted spec and features of a file, to compare with the CSV's. */
async function preprocessed(path: string) {
  const raw = await loadData(path);
  const spec = fitPreprocessing(raw);
  return { raw: raw as RawTabular, spec, ds: applyPreprocessing(spec, raw) };
}

test('a Parquet file, whatever its compression, and an Arrow file, Feather file or stream give the CSV\'s preprocessing and bit-identical features', async () => {
  const csv = await preprocessed(csvPath);
  assert.equal(csv.spec.kind, 'tabular');
  // the CSV itself exercises every column kind: numbers, categories, dates
  const kinds = csv.spec.kind === 'tabular' ? Object.fromEntries(csv.spec.columns.map((c) => [c.name, c.type])) : {};
  assert.deepEqual(kinds, { i32: 'numeric', i64: 'numeric', dbl: 'numeric', flt: 'numeric', str: 'categorical', cat: 'categorical', day: 'datetime', ts: 'datetime' });
  for (const path of [...PARQUET_COMPRESSIONS.map((c) => parquet[c]), parquet.v2, ...arrowFiles]) {
    const other = await preprocessed(path);
    assert.deepEqual(other.raw.columns, csv.raw.columns, path);
    assert.deepEqual(other.raw.labels, csv.raw.labels, path);
    assert.equal(other.raw.labelColumn, 'label');
    assert.deepEqual(other.spec, csv.spec, path);
    assert.deepEqual(other.ds.features, csv.ds.features, path);
    assert.deepEqual(other.ds.labels, csv.ds.labels, path);
  }
});

test('the format of a data file comes from its name: one function for every command', () => {
  assert.equal(dataFormatOf('x.parquet'), 'parquet');
  assert.equal(dataFormatOf('X.PARQUET'), 'parquet');
  assert.equal(dataFormatOf('x.arrow'), 'arrow');
  assert.equal(dataFormatOf('x.feather'), 'arrow');
  assert.equal(dataFormatOf('x.arrows'), 'arrow');
  assert.equal(dataFormatOf('x.csv.gz'), 'csv');
  assert.equal(dataFormatOf('x.parquet.gz'), undefined);
});

test('columns are chosen as in a CSV: --label by name or number, --ignore-columns, categorical overrides, an absent label for predict, --limit', async () => {
  const byNumber = (await loadData(parquet.snappy, { labelColumn: '1' })) as RawTabular;
  assert.equal(byNumber.labelColumn, 'i32');
  assert.deepEqual(byNumber.labels.slice(0, 3), rows.slice(0, 3).map((r) => String(r.i32)));
  const dropped = (await loadData(arrowFiles[0], { dropColumns: ['str', 'ts'], categorical: ['i32'] })) as RawTabular & { categorical?: string[] };
  assert.deepEqual(dropped.columns, ['i32', 'i64', 'dbl', 'flt', 'cat', 'day']);
  assert.deepEqual(dropped.categorical, ['i32']);
  const unlabelled = (await loadData(parquet.snappy, { labelColumn: 'truth', labelOptional: true })) as RawTabular;
  assert.equal(unlabelled.columns.length, 9);
  assert.ok(unlabelled.labels.every((l) => l === ''));
  const limited = await loadData(parquet.zstd, { limit: 5 });
  assert.equal(limited.labels.length, 5);
  // rows are numbered as rows (no header line), also after a subset
  assert.equal(rowOf(subsetRaw(limited, [3]), 0), 'row 4');
  await assert.rejects(loadData(parquet.snappy, { labelColumn: 'truth' }), isInputError(parquet.snappy, /^.*: label column "truth" not found \(give a column name or number 1–9\); columns: i32, i64, dbl, flt, str, cat, day, ts, label$/));
  await assert.rejects(loadData(parquet.snappy, { dropColumns: ['label'] }), isInputError(parquet.snappy, /cannot ignore the label column "label"/));
});

test('a file of several row groups / record batches is read whole and in order', async () => {
  const n = 5000;
  const path = join(dir, 'groups.parquet');
  // row groups of 2048 rows, and DuckDB hands them over in chunks of 2048 rows
  await duckdbRun(`COPY (SELECT i * 0.5 AS x, CASE WHEN i % 1000 = 999 THEN NULL ELSE 'c' || (i % 7) END AS s, i % 3 AS label FROM range(${n}) t(i)) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  const expected = {
    rows: Array.from({ length: n }, (_, i) => [String(i * 0.5), i % 1000 === 999 ? '' : `c${i % 7}`]),
    labels: Array.from({ length: n }, (_, i) => String(i % 3)),
  };
  const pq = (await loadData(path)) as RawTabular;
  assert.deepEqual({ rows: pq.rows, labels: pq.labels }, expected);
  const half = (from: number, to: number) =>
    new arrow.Table({
      x: arrow.vectorFromArray(expected.rows.slice(from, to).map((r) => Number(r[0])), new arrow.Float64()),
      s: arrow.vectorFromArray(expected.rows.slice(from, to).map((r) => r[1] || null), new arrow.Utf8()),
      label: arrow.vectorFromArray(expected.labels.slice(from, to).map(Number), new arrow.Int32()),
    });
  const batches = half(0, 1234).concat(half(1234, n));
  assert.equal(batches.batches.length, 2);
  for (const name of ['groups.arrow', 'groups.arrows']) {
    const a = (await loadData(writeArrow(batches, dir, name))) as RawTabular;
    assert.deepEqual({ rows: a.rows, labels: a.labels }, expected, name);
  }
});

test('a pandas index column (__index_level_0__, written last by pyarrow) is an index, not the label or a feature', async () => {
  const path = join(dir, 'pandas.parquet');
  await duckdbRun(`COPY (SELECT i * 0.5 AS x, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS outcome, i * 10 + 7 AS __index_level_0__ FROM range(6) t(i)) TO '${path}' (FORMAT parquet)`);
  const raw = (await loadData(path)) as RawTabular;
  assert.equal(raw.labelColumn, 'outcome');
  assert.deepEqual(raw.columns, ['x']);
  assert.deepEqual(raw.labels, ['a', 'b', 'a', 'b', 'a', 'b']);
});

test('bad Parquet files: one line naming the file (and the column)', async () => {
  const good = readFileSync(parquet.snappy);
  const cases: [string, RegExp][] = [
    [join(dir, 'absent.parquet'), /: file not found$/],
    [writeFixture(dir, 'text.parquet', 'label,x\n1,2\n'), /: is not a Parquet file \(it does not start with the Parquet magic number PAR1\)$/],
    [writeFixture(dir, 'half.parquet', good.subarray(0, good.length >> 1)), /: is truncated: a Parquet file ends with its footer and the magic number PAR1, this one \(\d+ bytes\) does not$/],
    [writeFixture(dir, 'empty.parquet', ''), /: is not a Parquet file/],
  ];
  // the magic at both ends but the footer's length pointing outside the file
  const lying = Buffer.from(good);
  lying.writeUInt32LE(good.length * 2, good.length - 8);
  cases.push([writeFixture(dir, 'lying.parquet', lying), /: cannot be read as Parquet: .+/]);
  for (const [path, problem] of cases) {
    await assert.rejects(loadData(path), (e: Error) => isInputError(path, problem)(e) && !e.message.includes('\n'));
  }

  const nested = join(dir, 'nested.parquet');
  await duckdbRun(`COPY (SELECT i AS x, [i, i + 1] AS tags, {'a': i} AS rec, 'b'::BLOB AS raw, i % 2 AS label FROM range(4) t(i)) TO '${nested}' (FORMAT parquet)`);
  await assert.rejects(loadData(nested), isInputError(nested, /^.*: column "tags" has type BIGINT\[\], which Distillery cannot read \(numbers, booleans, strings, categories, dates and timestamps only\); leave it out with --ignore-columns$/));
  await assert.rejects(loadData(nested, { dropColumns: ['tags'] }), isInputError(nested, /column "rec" has type STRUCT\("a" BIGINT\)/));
  await assert.rejects(loadData(nested, { dropColumns: ['tags', 'rec'] }), isInputError(nested, /column "raw" has type BLOB/));
  const kept = (await loadData(nested, { dropColumns: ['tags', 'rec', 'raw'] })) as RawTabular;
  assert.deepEqual(kept.rows, [['0'], ['1'], ['2'], ['3']]);
  assert.deepEqual(kept.labels, ['0', '1', '0', '1']);

  const nullLabel = join(dir, 'null-label.parquet');
  await duckdbRun(`COPY (SELECT i AS x, CASE WHEN i = 2 THEN NULL ELSE i % 2 END AS label FROM range(4) t(i)) TO '${nullLabel}' (FORMAT parquet)`);
  await assert.rejects(loadData(nullLabel), isInputError(nullLabel, /^.*: row 3: label column "label" is empty \(null\)$/));

  const noRows = join(dir, 'no-rows.parquet');
  await duckdbRun(`COPY (SELECT i AS x, i AS label FROM range(4) t(i) WHERE i > 10) TO '${noRows}' (FORMAT parquet)`);
  await assert.rejects(loadData(noRows), isInputError(noRows, /: has no data rows$/));
});

test('bad Arrow files: one line naming the file (and the column)', async () => {
  const file = readFileSync(arrowFiles[0]);
  const stream = readFileSync(arrowFiles[2]);
  const cases: [string, RegExp][] = [
    [join(dir, 'absent.feather'), /: file not found$/],
    [writeFixture(dir, 'text.arrow', 'label,x\n1,2\n'), /: is not an Arrow IPC file or stream/],
    [writeFixture(dir, 'half.arrow', file.subarray(0, file.length >> 1)), /: is truncated: an Arrow IPC file ends with the magic number ARROW1, this one does not$/],
    [writeFixture(dir, 'half.arrows', stream.subarray(0, stream.length >> 1)), /: is truncated: an Arrow IPC stream ends with an end-of-stream marker, this one does not$/],
    [writeFixture(dir, 'v1.feather', Buffer.concat([Buffer.from('FEA1'), Buffer.alloc(20)])), /: is a Feather version 1 file, which Distillery cannot read/],
  ];
  for (const [path, problem] of cases) {
    await assert.rejects(loadData(path), (e: Error) => isInputError(path, problem)(e) && !e.message.includes('\n'));
  }
  const listTable = new arrow.Table({
    x: arrow.vectorFromArray([1, 2, 3, 4], new arrow.Float64()),
    tags: arrow.vectorFromArray([[1], [2], [3], [4]], new arrow.List(new arrow.Field('item', new arrow.Int32(), true))),
    label: arrow.vectorFromArray(['a', 'b', 'a', null], new arrow.Utf8()),
  });
  const listPath = writeArrow(listTable, dir, 'list.arrow');
  await assert.rejects(loadData(listPath), isInputError(listPath, /^.*: column "tags" has type List<Int32>, which Distillery cannot read/));
  await assert.rejects(loadData(listPath, { dropColumns: ['tags'] }), isInputError(listPath, /: row 4: label column "label" is empty \(null\)$/));
});

test('a float32 column is read as its exact double value (as pandas does), not as the shortest decimal of the float', async () => {
  const path = join(dir, 'float.parquet');
  await duckdbRun(`COPY (SELECT CAST(0.1 AS FLOAT) AS x, 1 AS label UNION ALL SELECT CAST(0.5 AS FLOAT), 2) TO '${path}' (FORMAT parquet)`);
  const raw = (await loadData(path)) as RawTabular;
  assert.deepEqual(raw.rows.map((r) => Number(r[0])), [Math.fround(0.1), 0.5]);
});
