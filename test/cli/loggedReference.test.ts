/**
 * Logged predictions as the teacher (`update --reference-predictions`): the deployed model's
 * logits, logged to an NPY file, teach the same update as the model itself (softmax of the
 * logits is the model's own probabilities); bad files get one clear line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../../src/engine/index.js';
import { loadOnnxModel, onnxLogits } from '../../src/models/onnx.js';
import { loadModel } from '../../src/models/io.js';
import { predictLogits, argmaxRows } from '../../src/models/predict.js';
import { applyPreprocessing } from '../../src/data/preprocess.js';
import { parseCsvText } from '../../src/data/csv.js';
import { runCliHere } from '../helpers/cli.js';

const BASE = fileURLToPath(new URL('../fixtures/onnx/letter-mlp-v1.onnx', import.meta.url));

function letterCsv(from: number, to: number): string {
  const lines = gunzipSync(readFileSync(new URL('../../datasets/letter-recognition.csv.gz', import.meta.url))).toString('utf8').trim().split('\n');
  return [lines[0], ...lines.slice(1 + from, 1 + to)].join('\n') + '\n';
}

/** A little-endian float32 NPY file of shape [n, K]. */
function npy(values: Float32Array, n: number, K: number): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${K}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
}

test('update --reference-predictions: logged logits teach the update the deployed model would', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-logged-'));
  try {
    const trainCsv = letterCsv(2000, 2600);
    const train = join(dir, 'new.csv');
    writeFileSync(train, trainCsv);
    const ort = await loadOnnxModel(BASE);
    const rawTrain = parseCsvText(trainCsv, train, { labelColumn: 'lettr' });
    const logits = await onnxLogits(ort, applyPreprocessing(ort.meta.preprocessing, rawTrain));
    await ort.session.release();
    writeFileSync(join(dir, 'logged.npy'), npy(logits, 600, 26));

    const common = ['-q', 'update', '--base', BASE, '--data', train, '--method', 'distill', '--lambda', '0.7', '--epochs', '3', '--seed', '4'];
    const a = await runCliHere([...common, '--out', join(dir, 'a')]);
    assert.equal(a.code, 0, a.stderr);
    const b = await runCliHere([...common, '--reference-predictions', join(dir, 'logged.npy'), '--out', join(dir, 'b')]);
    assert.equal(b.code, 0, b.stderr);
    const ma = await loadModel(join(dir, 'a'));
    const mb = await loadModel(join(dir, 'b'));
    assert.equal(mb.meta.recipe.reference?.kind, 'logged');
    const hold = applyPreprocessing(ma.meta.preprocessing, parseCsvText(letterCsv(16000, 16800), 'holdout.csv', { labelColumn: 'lettr' }));
    const pa = argmaxRows(predictLogits(ma.model, hold.features, hold.featureShape), 26);
    const pb = argmaxRows(predictLogits(mb.model, hold.features, hold.featureShape), 26);
    const agree = pa.filter((p, i) => p === pb[i]).length / pa.length;
    // same seed, same targets up to float32 rounding of the logged logits
    assert.ok(agree >= 0.99, `the two updates agree on ${agree} of held-out rows`);
    ma.model.dispose();
    mb.model.dispose();

    // a file for other rows, and one with the wrong columns
    writeFileSync(join(dir, 'short.npy'), npy(logits.subarray(0, 26 * 10), 10, 26));
    const short = await runCliHere([...common, '--reference-predictions', join(dir, 'short.npy'), '--out', join(dir, 'c')]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /short\.npy: has 10 rows of scores but the training data has 600 rows/);
    writeFileSync(join(dir, 'bad.csv'), 'prediction,p:A\nA,1\n');
    const bad = await runCliHere([...common, '--reference-predictions', join(dir, 'bad.csv'), '--out', join(dir, 'c')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.csv: needs one p:<class> \(probability\) or z:<class> \(logit\) column per class/);
    const plain = await runCliHere(['-q', 'update', '--base', BASE, '--data', train, '--method', 'plain', '--reference-predictions', join(dir, 'logged.npy'), '--out', join(dir, 'c')]);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /--reference-predictions: does not apply to --method plain/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
