import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadLetter } from '../../src/data/builtin.js';
import { parseCsvText } from '../../src/data/csv.js';
import { applyPreprocessing, featureShapeOf, fitPreprocessing, UNKNOWN_LABEL } from '../../src/data/preprocess.js';
import { splitUpdateScenario } from '../../src/data/split.js';
import type { Dataset, RawImages, RawTabular } from '../../src/data/types.js';
import { subsetRaw } from '../../src/data/types.js';
import { isInputError } from './fixtures.js';

/** Mean of feature column j. */
function columnMean(ds: Dataset, j: number): number {
  const d = ds.featureShape[0];
  let sum = 0;
  for (let i = 0; i < ds.labels.length; i++) sum += ds.features[i * d + j];
  return sum / ds.labels.length;
}

test('letter: standardisation is fitted on training rows only', async () => {
  const raw = await loadLetter();
  const split = splitUpdateScenario(raw.labels.length, { seed: 7, initial: 1000, validation: 100, newBatch: 1000, test: 2000 });
  const spec = fitPreprocessing(subsetRaw(raw, split.initial));
  assert.equal(spec.kind, 'tabular');
  assert.deepEqual(featureShapeOf(spec), [16]);
  assert.equal(spec.classNames.length, 26);
  assert.equal(spec.classNames[0], 'A');
  assert.equal(spec.classNames[25], 'Z');

  const train = applyPreprocessing(spec, subsetRaw(raw, split.initial));
  const test = applyPreprocessing(spec, subsetRaw(raw, split.test));
  let testDeviation = 0;
  for (let j = 0; j < 16; j++) {
    assert.ok(Math.abs(columnMean(train, j)) < 1e-5, `train column ${j} mean ≈ 0`);
    testDeviation += Math.abs(columnMean(test, j));
  }
  assert.ok(testDeviation > 1e-3, 'the test rows are standardised with the training statistics, not their own');
  assert.deepEqual(train.classNames, spec.classNames);
  assert.equal(test.labels.length, 2000);
  assert.ok(test.labels.every((k) => k >= 0 && k < 26));
});

test('tabular: numeric columns standardised, missing values → 0, categorical one-hot over training categories', () => {
  const train = parseCsvText('age,colour,zip,label\n20,red,1,a\n40,blue,2,b\nNA,red,1,a\n', 'train.csv', { categorical: ['zip'] });
  const spec = fitPreprocessing(train);
  assert.ok(spec.kind === 'tabular');
  assert.deepEqual(spec.columns, [
    { name: 'age', type: 'numeric', mean: 30, std: 10 },
    { name: 'colour', type: 'categorical', categories: ['blue', 'red'] },
    { name: 'zip', type: 'categorical', categories: ['1', '2'] },
  ]);
  assert.deepEqual(featureShapeOf(spec), [5]);

  const other = parseCsvText('age,colour,zip,label\n50,green,2,b\n?,blue,,a\n', 'other.csv');
  const ds = applyPreprocessing(spec, other);
  assert.deepEqual(Array.from(ds.features), [2, 0, 0, 0, 1, /* row 2 */ 0, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(ds.labels), [1, 0]);
  assert.deepEqual(ds.featureShape, [5]);
  assert.equal(ds.source, 'other.csv');
});

test('tabular: a constant column gets std 1; columns are matched by name', () => {
  const spec = fitPreprocessing(parseCsvText('a,b,label\n3,1,x\n3,2,y\n', 't'));
  assert.ok(spec.kind === 'tabular');
  assert.deepEqual(spec.columns[0], { name: 'a', type: 'numeric', mean: 3, std: 1 });
  const reordered = applyPreprocessing(spec, parseCsvText('b,extra,a,label\n2,q,4,y\n', 'r'));
  assert.deepEqual(Array.from(reordered.features), [1, 1]);
});

test('class names: numeric labels sorted numerically, others lexicographically; given order kept', () => {
  const numeric = fitPreprocessing(parseCsvText('a,label\n1,10\n2,2\n3,1\n', 't'));
  assert.deepEqual(numeric.classNames, ['1', '2', '10']);
  const text = fitPreprocessing(parseCsvText('a,label\n1,b\n2,B\n3,a\n', 't'));
  assert.deepEqual(text.classNames, ['B', 'a', 'b']);
  const given = fitPreprocessing(parseCsvText('a,label\n1,b\n2,a\n', 't'), { classNames: ['b', 'a', 'c'] });
  assert.deepEqual(given.classNames, ['b', 'a', 'c']);
  assert.throws(
    () => fitPreprocessing(parseCsvText('a,label\n1,b\n2,z\n', 't'), { classNames: ['a', 'b'] }),
    isInputError('t', /line 3: label "z" is not one of the model's classes: a, b/),
  );
});

test('bad values: NaN/Infinity literals, unparseable numbers and unknown labels are InputErrors', () => {
  assert.throws(
    () => fitPreprocessing(parseCsvText('age,label\n1,x\nNaN,y\n', 'train.csv')),
    isInputError('train.csv', /line 3: column "age" value "NaN" is not a finite number/),
  );
  assert.throws(
    () => fitPreprocessing(parseCsvText('age,label\n1,x\n-inf,y\n', 'train.csv')),
    isInputError('train.csv', /line 3: column "age" value "-inf" is not a finite number/),
  );
  const spec = fitPreprocessing(parseCsvText('age,label\n1,A\n2,B\n', 'train.csv'));
  assert.throws(
    () => applyPreprocessing(spec, parseCsvText('age,label\n1,A\nabc,B\n', 'new.csv')),
    isInputError('new.csv', /line 3: column "age" value "abc" is not a number/),
  );
  assert.throws(
    () => applyPreprocessing(spec, parseCsvText('age,label\n1,A\n2,Z\n', 'new.csv')),
    isInputError('new.csv', /line 3: label "Z" is not one of the model's classes: A, B/),
  );
  assert.throws(
    () => applyPreprocessing(spec, parseCsvText('height,label\n1,A\n', 'new.csv')),
    isInputError('new.csv', /has no column "age", which the model needs; columns: height/),
  );
  const images: RawImages = { kind: 'image', source: 'img', pixels: new Uint8Array(4), shape: [2, 2, 1], labels: ['A'] };
  assert.throws(() => applyPreprocessing(spec, images), isInputError('img', /holds image data but the model expects tabular data/));
});

test('allowUnknownLabels maps unknown labels to -1 for prediction', () => {
  const spec = fitPreprocessing(parseCsvText('age,label\n1,A\n2,B\n', 'train.csv'));
  const ds = applyPreprocessing(spec, parseCsvText('age,label\n1,B\n2,?\n', 'new.csv'), { allowUnknownLabels: true });
  assert.deepEqual(Array.from(ds.labels), [1, UNKNOWN_LABEL]);
});

test('images: pixels scaled by 1/255, shape kept, mismatched shape rejected', () => {
  const raw: RawImages = { kind: 'image', source: 'img', pixels: Uint8Array.from([0, 255, 51, 102, 0, 0, 0, 0]), shape: [2, 2, 1], labels: ['1', '2'] };
  const spec = fitPreprocessing(raw);
  assert.deepEqual(featureShapeOf(spec), [2, 2, 1]);
  const ds = applyPreprocessing(spec, raw);
  assert.deepEqual(Array.from(ds.features.subarray(0, 4), (v) => Math.round(v * 1000) / 1000), [0, 1, 0.2, 0.4]);
  const wide: RawImages = { ...raw, pixels: new Uint8Array(6), shape: [2, 3, 1] };
  assert.throws(() => applyPreprocessing(spec, wide), isInputError('img', /images are 2×3×1 but the model expects 2×2×1/));
});

test('fitting on no rows is an InputError', () => {
  const empty: RawTabular = { kind: 'tabular', source: 'e', columns: ['a'], rows: [], labels: [], labelColumn: 'label' };
  assert.throws(() => fitPreprocessing(empty), isInputError('e', /no examples/));
});

test('a high-cardinality text column keeps only its most frequent categories', () => {
  const rows = Array.from({ length: 300 }, (_, i) => [i < 100 ? 'common' : `id-${i}`, String(i % 7)]);
  const raw: RawTabular = { kind: 'tabular', source: 'ids.csv', columns: ['id', 'x'], rows, labels: rows.map((_, i) => (i % 2 ? 'a' : 'b')), labelColumn: 'y' };
  const spec = fitPreprocessing(raw, { maxCategories: 10 });
  assert.ok(spec.kind === 'tabular');
  const idColumn = spec.columns[0];
  assert.ok(idColumn.type === 'categorical');
  assert.equal(idColumn.categories.length, 10);
  assert.ok(idColumn.categories.includes('common'));
  assert.equal(applyPreprocessing(spec, raw).featureShape[0], 11);
});

test('a date/time column becomes numeric parts (days, month, day, weekday, hour), standardised on training rows', () => {
  const raw = parseCsvText('when,x,label\n2024-03-01,1,a\n2024-03-02T06:00,2,b\n2024-03-03 12:30:00Z,3,a\nNA,4,b\n', 's.csv');
  const spec = fitPreprocessing(raw);
  assert.equal(spec.kind, 'tabular');
  if (spec.kind !== 'tabular') return;
  const when = spec.columns[0];
  assert.equal(when.type, 'datetime');
  if (when.type !== 'datetime') return;
  assert.deepEqual(when.parts.map((p) => p.part), ['days', 'month', 'dayOfMonth', 'weekday', 'hour']);
  // 2024-03-01 is a Friday (5), 03-02 Saturday (6), 03-03 Sunday (0): mean weekday 11/3
  const weekday = when.parts[3];
  assert.ok(Math.abs(weekday.mean - 11 / 3) < 1e-12);
  const hour = when.parts[4];
  assert.ok(Math.abs(hour.mean - (0 + 6 + 12.5) / 3) < 1e-12);
  const month = when.parts[1];
  assert.equal(month.std, 1); // constant part: a zero spread counts as 1
  const ds = applyPreprocessing(spec, raw);
  assert.deepEqual(ds.featureShape, [6]);
  const days = when.parts[0];
  assert.ok(Math.abs(ds.features[6 + 0] - (19784.25 - days.mean) / days.std) < 1e-5); // 2024-03-02T06:00 is day 19784.25
  assert.deepEqual(Array.from(ds.features.subarray(18, 23)), [0, 0, 0, 0, 0]); // NA: every part at its mean
  const bad = parseCsvText('when,x,label\n2024-02-31,1,a\n', 'bad.csv');
  assert.throws(() => applyPreprocessing(spec, bad), isInputError('bad.csv', /line 2: column "when" value "2024-02-31" is not a date/));
});

test('--categorical / --numeric override the inferred type; ids and timestamps are reported', () => {
  const rows = Array.from({ length: 30 }, (_, i) => `${i + 1},${1_700_000_000 + ((i * 7919) % 30) * 3600},u${i},${i % 3},${i % 2 ? 'a' : 'b'}`);
  const raw = parseCsvText(['id,ts,user,code,label', ...rows].join('\n'), 's.csv');
  const warnings: string[] = [];
  const spec = fitPreprocessing(raw, { categorical: ['code'], maxCategories: 10, onWarning: (m) => warnings.push(m) });
  if (spec.kind !== 'tabular') throw new Error('tabular');
  assert.deepEqual(spec.columns.map((c) => c.type), ['numeric', 'numeric', 'categorical', 'categorical']);
  assert.equal(warnings.length, 3, warnings.join('\n'));
  assert.match(warnings[0], /column "id" looks like a row id .*--ignore-columns id/);
  assert.match(warnings[1], /column "ts" looks like a Unix timestamp/);
  assert.match(warnings[2], /column "user" has 30 distinct values in 30 training rows \(an id, a timestamp or free text\?\): only the 10 most frequent/);
  const code = spec.columns[3];
  assert.deepEqual(code.type === 'categorical' && code.categories, ['0', '1', '2']);
  // --numeric: a text cell in a forced numeric column is an error naming it
  assert.throws(() => fitPreprocessing(raw, { numeric: ['user'] }), isInputError('s.csv', /line 2: column "user" value "u0" is not a number/));
  assert.throws(() => fitPreprocessing(raw, { numeric: ['code'], categorical: ['code'] }), isInputError('s.csv', /column "code" cannot be both categorical and numeric/));
  assert.throws(() => fitPreprocessing(raw, { numeric: ['nope'] }), isInputError('s.csv', /numeric column "nope" not found/));
});
