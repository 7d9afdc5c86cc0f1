/**
 * `predict`, `compare` and `gate` on a CSV larger than one block (PREDICT_BLOCK_ROWS) read and
 * predict it a block at a time: predict's file (CSV or Parquet) holds the predictions of the
 * whole table made at once, row for row; compare's numbers and flips are those of the whole
 * table (compare with --slice-by reads the table whole).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { runCliHere } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';
import { LETTER_CSV_PATH } from '../../src/data/builtin.js';
import { loadCsv } from '../../src/data/csv.js';
import { loadClassifier } from '../../src/models/classifier.js';
import { PREDICT_BLOCK_ROWS, predictWithModel, readPredictionsFile } from '../../src/cli/predictions.js';

const { dir, file } = scratchDir('distillery-predict-blocks-');

const lines = gunzipSync(readFileSync(LETTER_CSV_PATH)).toString('utf8').trim().split('\n');
const repeats = Math.ceil((PREDICT_BLOCK_ROWS * 1.3) / (lines.length - 1));
const rows = repeats * (lines.length - 1);
const big = file('big.csv', [lines[0], ...Array.from({ length: repeats }, () => lines.slice(1)).flat()].join('\n') + '\n');

/** A small model trained on 3,000 letter rows (two seeds: an old and a new version), once per seed. */
const models = new Map<number, Promise<string>>();
const trained = (seed: number) => models.get(seed) ?? models.set(seed, train(seed)).get(seed)!;
async function train(seed: number): Promise<string> {
  const model = `${dir}/model-${seed}`;
  const t = await runCliHere(['-q', 'train', '--data', file('train.csv', lines.slice(0, 3001).join('\n') + '\n'), '--label', 'lettr', '--hidden', '32', '--epochs', '2', '--seed', String(seed), '--out', model, '--force']);
  assert.equal(t.code, 0, t.stderr);
  return model;
}

test('predict streams a CSV of more than one block: the same predictions as the whole table at once, in CSV and Parquet', async () => {
  assert.ok(rows > PREDICT_BLOCK_ROWS);
  const model = await trained(1);

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

test('compare and gate read a CSV of more than one block: the numbers and flips of the table read whole', async () => {
  const [v1, v2] = [await trained(1), await trained(2)];
  const json = (name: string) => JSON.parse(readFileSync(`${dir}/${name}`, 'utf8'));
  const common = ['-q', 'compare', '--old', v1, '--new', v2, '--data', big, '--resamples', '20', '--force'];
  const streamed = await runCliHere([...common, '--json', `${dir}/streamed.json`, '--flips', `${dir}/streamed.jsonl`]);
  assert.equal(streamed.code, 0, streamed.stderr);
  const whole = await runCliHere([...common, '--json', `${dir}/whole.json`, '--flips', `${dir}/whole.jsonl`, '--slice-by', 'lettr']);
  assert.equal(whole.code, 0, whole.stderr);
  const [s, w] = [json('streamed.json'), json('whole.json')];
  // the same rows predicted in other batches: logits can differ in the last float32 bit, so the
  // means of probabilities agree to 1e-9 (relative) and everything counted is identical
  assert.equal(s.n, rows);
  const close = (a: unknown, b: unknown, at: string): void => {
    if (typeof a === 'number' && typeof b === 'number') assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)), `${at}: ${a} vs ${b}`);
    else if (a && typeof a === 'object') for (const k of Object.keys(a)) close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    else assert.equal(a, b, at);
  };
  close(s.metrics, w.metrics, 'metrics');
  assert.deepEqual(s.metrics.churn, w.metrics.churn);
  assert.deepEqual(s.metrics.nfr, w.metrics.nfr);
  const flips = (name: string) => readFileSync(`${dir}/${name}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const [fs, fw] = [flips('streamed.jsonl'), flips('whole.jsonl')];
  assert.ok(fs.length > 100, `${fs.length} flips`);
  assert.deepEqual(fs.map((f) => [f.index, f.features, f.old, f.new]), fw.map((f) => [f.index, f.features, f.old, f.new]));
  const gate = await runCliHere(['-q', 'gate', '--old', v1, '--new', v2, '--data', big, '--resamples', '20', '--max-nfr', '1']);
  assert.equal(gate.code, 0, gate.stderr);
});
