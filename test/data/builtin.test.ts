import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { builtinDatasets, loadBuiltin, loadData, loadLetter } from '../../src/data/builtin.js';
import { fitPreprocessing } from '../../src/data/preprocess.js';
import { isInputError, makeTempDir, writeFixture } from './fixtures.js';

const dir = makeTempDir();

test('letter: 20,000 rows × 16 integer columns, 26 classes, label column lettr', async () => {
  const raw = await loadLetter();
  assert.equal(raw.source, 'letter');
  assert.equal(raw.labelColumn, 'lettr');
  assert.equal(raw.rows.length, 20000);
  assert.equal(raw.labels.length, 20000);
  assert.equal(raw.columns.length, 16);
  assert.ok(raw.rows.every((row) => row.length === 16 && row.every((v) => /^\d+$/.test(v))));
  assert.deepEqual(raw.rows[0], ['2', '8', '3', '5', '1', '8', '13', '0', '6', '6', '10', '8', '0', '8', '0', '8']);
  assert.equal(raw.labels[0], 'T');
  const spec = fitPreprocessing(raw);
  assert.equal(spec.classNames.length, 26);
  assert.ok(spec.kind === 'tabular' && spec.columns.every((c) => c.type === 'numeric'));
});

test('loadData dispatches on built-in names, file extensions and IDX pairs', async () => {
  assert.deepEqual(Object.keys(builtinDatasets).sort(), ['fashion-mnist', 'letter']);
  const letter = await loadData('letter', { limit: 50 });
  assert.equal(letter.kind, 'tabular');
  assert.equal(letter.labels.length, 50);

  const fashionTest = await loadData('fashion-mnist:test', { limit: 5 });
  assert.equal(fashionTest.kind, 'image');
  assert.equal(fashionTest.labels.length, 5);

  const csv = writeFixture(dir, 'd.tsv.gz', gzipSync('a\tb\tlabel\n1\t2\tx\n3\t4\ty\n5\t6\tx\n'));
  const tabular = await loadData(csv, { limit: 2 });
  assert.ok(tabular.kind === 'tabular');
  assert.deepEqual(tabular.labels, ['x', 'y']);

  const jsonl = writeFixture(dir, 'd.jsonl', '{"text":"hello there","label":"a"}\n');
  assert.equal((await loadData(jsonl)).kind, 'text');

  const images = Buffer.concat([Buffer.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]), Buffer.from([200])]);
  const labels = Buffer.from([0, 0, 8, 1, 0, 0, 0, 1, 4]);
  const pair = `${writeFixture(dir, 'img.idx', images)},${writeFixture(dir, 'lab.idx', labels)}`;
  const idx = await loadData(pair);
  assert.ok(idx.kind === 'image');
  assert.deepEqual(idx.labels, ['4']);
});

test('loadData and loadBuiltin: unknown names and formats are InputErrors', async () => {
  await assert.rejects(loadData('mnist-of-dreams'), isInputError('mnist-of-dreams', /not a built-in dataset \(built-ins: letter, fashion-mnist\)/));
  const odd = writeFixture(dir, 'data.xlsx', 'x');
  await assert.rejects(loadData(odd), isInputError(odd, /unknown data format/));
  await assert.rejects(loadBuiltin('letter', 'test'), isInputError('letter', /no separate test split/));
  await assert.rejects(loadBuiltin('cifar'), isInputError('cifar', /not a built-in dataset/));
  await assert.rejects(loadData('letter', { limit: 0 }), isInputError('letter', /limit must be a positive integer/));
});
