/**
 * `predict` on a CSV larger than one block (PREDICT_BLOCK_ROWS) reads, predicts and writes it a
 * block at a time: the file it writes (CSV or Parquet) holds the predictions of the whole table
 * made at once, row for row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { runCliHere } from '../helpers/cliInProcess.js';
import { scratchDir } from '../helpers/scratch.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import { loadCsv } from '../../src/data/csv.js';
import { loadClassifier } from '../../src/models/classifier.js';
import { PREDICT_BLOCK_ROWS, predictWithModel, readPredictionsFile } from '../../src/cli/predictions.js';

const { dir, file } = scratchDir('distillery-predict-blocks-');

test('predict streams a CSV of more than one block: the same predictions as the whole table at once, in CSV and Parquet', async () => {
  const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
  const train = file('train.csv', lines.slice(0, 3001).join('\n') + '\n');
  const repeats = Math.ceil((PREDICT_BLOCK_ROWS * 1.3) / (lines.length - 1));
  const big = file('big.csv', [lines[0], ...Array.from({ length: repeats }, () => lines.slice(1)).flat()].join('\n') + '\n');
  const rows = repeats * (lines.length - 1);
  assert.ok(rows > PREDICT_BLOCK_ROWS);
  const model = `${dir}/model`;
  const t = await runCliHere(['-q', 'train', '--data', train, '--label', 'lettr', '--hidden', '32', '--epochs', '2', '--out', model]);
  assert.equal(t.code, 0, t.stderr);

  // the table at once, through the library
  const whole = await predictWithModel(await loadClassifier(model), await loadCsv(big, { labelColumn: 'lettr' }), model);
  const K = whole.classNames!.length;
  for (const out of [file('p.csv', ''), `${dir}/p.parquet`]) {
    const r = await runCliHere(['-q', 'predict', '--model', model, '--data', big, '--out', out, '--force']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`wrote ${rows} predictions`));
    const got = await readPredictionsFile(out);
    assert.equal(got.predicted.length, rows);
    assert.deepEqual(got.classNames, whole.classNames);
    // the CSV rounds probabilities to 6 significant digits; Parquet stores float32: the same rows' models, so within 1e-6
    let worst = 0;
    let differ = 0;
    for (let i = 0; i < rows; i++) {
      if (got.predicted[i] !== whole.predicted[i]) differ++;
      for (let k = 0; k < K; k++) worst = Math.max(worst, Math.abs(got.probs![i * K + k] - whole.probs![i * K + k]));
    }
    assert.equal(differ, 0, `${out}: ${differ} predictions differ`);
    assert.ok(worst <= 1e-6, `${out}: probabilities differ by up to ${worst}`);
  }
});
