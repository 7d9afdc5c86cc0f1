/**
 * ONNX models out: `distillery export --format onnx` of an MLP trained on letter data, and
 * the ONNX of a CNN on Fashion-MNIST images, run in onnxruntime, give Distillery's own
 * logits within float32 tolerance (two runtimes, sums in another order: relative 1e-4),
 * and the exported file reads back into Distillery as a model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/index.js';
import { loadOnnxModel, onnxLogits } from '../../src/models/onnx.js';
import { exportOnnx } from '../../src/models/onnxExport.js';
import { loadModel } from '../../src/models/io.js';
import { buildModel } from '../../src/models/build.js';
import { predictLogits } from '../../src/models/predict.js';
import { applyPreprocessing, fitPreprocessing } from '../../src/data/preprocess.js';
import { loadData } from '../../src/data/builtin.js';
import { parseCsvText } from '../../src/data/csv.js';
import type { Dataset } from '../../src/data/types.js';
import type { TrainedModel } from '../../src/models/types.js';
import { runCliHere } from '../helpers/cliInProcess.js';

const TOLERANCE = 1e-4;

function letterCsv(from: number, to: number): string {
  const lines = gunzipSync(readFileSync(new URL('../../datasets/letter-recognition.csv.gz', import.meta.url))).toString('utf8').trim().split('\n');
  return [lines[0], ...lines.slice(1 + from, 1 + to)].join('\n') + '\n';
}

async function assertSameLogits(file: string, trained: TrainedModel, ds: Pick<Dataset, 'features' | 'featureShape'>): Promise<void> {
  const ort = await loadOnnxModel(file);
  try {
    const a = await onnxLogits(ort, ds);
    const b = predictLogits(trained.model, ds.features, ds.featureShape);
    assert.equal(a.length, b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
    assert.ok(worst <= TOLERANCE, `largest relative logit difference ${worst}`);
  } finally {
    await ort.session.release();
  }
}

test('export --format onnx: a trained MLP gives the same logits in onnxruntime and reads back', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-export-'));
  try {
    writeFileSync(join(dir, 'train.csv'), letterCsv(0, 800));
    const train = await runCliHere(['-q', 'train', '--data', join(dir, 'train.csv'), '--label', 'lettr', '--hidden', '32,16', '--epochs', '4', '--out', join(dir, 'm')]);
    assert.equal(train.code, 0, train.stderr);
    const out = join(dir, 'm.onnx');
    const exp = await runCliHere(['-q', 'export', '--model', join(dir, 'm'), '--format', 'onnx', '--out', out]);
    assert.equal(exp.code, 0, exp.stderr);
    const trained = await loadModel(join(dir, 'm'));
    const raw = parseCsvText(letterCsv(16000, 17000), 'holdout.csv', { labelColumn: 'lettr' });
    await assertSameLogits(out, trained, applyPreprocessing(trained.meta.preprocessing, raw));
    // and back: the exported file is a Distillery model again (imported and checked against onnxruntime)
    const back = await loadModel(out);
    assert.deepEqual(back.meta.architecture.kind === 'mlp' && back.meta.architecture.hidden, [32, 16]);
    assert.deepEqual(back.meta.classNames, trained.meta.classNames);
    back.model.dispose();
    trained.model.dispose();
    // a second export over our own file is fine; over a user's file it is refused
    assert.equal((await runCliHere(['-q', 'export', '--model', join(dir, 'm'), '--out', out])).code, 0);
    const refused = await runCliHere(['-q', 'export', '--model', join(dir, 'm'), '--out', join(dir, 'train.csv')]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /train\.csv: exists and is not a model file \(ONNX\) written by Distillery/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ONNX of a CNN (convolutions, pooling, NHWC ↔ NCHW) matches on Fashion-MNIST images', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-export-cnn-'));
  try {
    const raw = await loadData('fashion-mnist', { limit: 200 });
    const spec = fitPreprocessing(raw);
    const ds = applyPreprocessing(spec, raw);
    // seeded (untrained) weights: the export is a function of the weights, whatever they are
    const architecture = { kind: 'cnn' as const, conv: [{ filters: 4, kernel: 3, pool: 2 }, { filters: 6, kernel: 3, pool: 2 }], dense: [16] };
    const model = buildModel(architecture, ds.featureShape, ds.classNames.length, 7);
    const trained = { model, meta: { architecture, classNames: ds.classNames, inputShape: ds.featureShape, preprocessing: spec } } as unknown as TrainedModel;
    const file = join(dir, 'cnn.onnx');
    writeFileSync(file, exportOnnx(trained));
    await assertSameLogits(file, trained, ds);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
