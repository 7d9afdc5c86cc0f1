/**
 * ONNX models in: PyTorch MLPs trained on letter data (test/fixtures/onnx/make.py) run in
 * onnxruntime for compare/predict, and imported as Distillery networks for training
 * (update --base). The import is another code path for the same function: its logits
 * match onnxruntime's within float32 tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../../src/engine/index.js';
import { loadOnnxModel, onnx, onnxLogits } from '../../src/models/onnx.js';
import { importOnnxNetwork, ONNX_IMPORT_TOLERANCE } from '../../src/models/onnxImport.js';
import { predictLogits, argmaxRows } from '../../src/models/predict.js';
import { applyPreprocessing } from '../../src/data/preprocess.js';
import { parseCsvText } from '../../src/data/csv.js';
import { runCliHere } from '../helpers/cliInProcess.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const V1 = join(FIXTURES, 'letter-mlp-v1.onnx');
const V2 = join(FIXTURES, 'letter-mlp-v2.onnx');

/** Rows [from, to) of the letter file as CSV (make.py trained v1 on rows 0..1999, v2 on 0..3999). */
function letterRows(from: number, to: number): string {
  const lines = gunzipSync(readFileSync(new URL('../../datasets/letter-recognition.csv.gz', import.meta.url))).toString('utf8').trim().split('\n');
  return [lines[0], ...lines.slice(1 + from, 1 + to)].join('\n') + '\n';
}

test('an ONNX MLP from PyTorch: onnxruntime and the imported network agree, and it classifies held-out letters', async () => {
  await initEngine();
  const ort = await loadOnnxModel(V1);
  const net = await importOnnxNetwork(V1);
  try {
    assert.equal(net.meta.classNames.length, 26);
    assert.deepEqual(net.meta.architecture, { kind: 'mlp', hidden: [64], activation: 'relu' });
    const raw = parseCsvText(letterRows(16000, 17000), 'holdout.csv', { labelColumn: 'lettr' });
    const ds = applyPreprocessing(ort.meta.preprocessing, raw);
    const a = await onnxLogits(ort, ds);
    const b = predictLogits(net.model, ds.features, ds.featureShape);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
    assert.ok(worst <= ONNX_IMPORT_TOLERANCE, `largest relative logit difference ${worst}`);
    const pred = argmaxRows(a, 26);
    const acc = pred.filter((p, i) => p === ds.labels[i]).length / pred.length;
    // make.py reports 0.82 on rows 16000+; a broken input mapping would be near 1/26
    assert.ok(acc > 0.75, `held-out accuracy ${acc}`);
  } finally {
    net.model.dispose();
    await ort.session.release();
  }
});

test('compare, predict and update take .onnx models; bad ONNX files get one clear line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-'));
  try {
    const hold = join(dir, 'holdout.csv');
    writeFileSync(hold, letterRows(16000, 16800));
    const cmp = await runCliHere(['-q', 'compare', '--old', V1, '--new', V2, '--data', hold, '--json', join(dir, 'cmp.json'), '--flips', join(dir, 'flips.jsonl'), '--resamples', '100']);
    assert.equal(cmp.code, 0, cmp.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'cmp.json'), 'utf8'));
    // the flips file: one record per changed prediction, classes by name
    const flips = readFileSync(join(dir, 'flips.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(flips.length, report.counts.changed);
    assert.equal(flips.filter((f) => f.flip === 'negative').length, report.counts.negativeFlips);
    for (const f of flips) {
      assert.notEqual(f.old, f.new);
      if (f.flip === 'negative') assert.equal(f.old, f.label);
      if (f.flip === 'positive') assert.equal(f.new, f.label);
    }
    assert.equal(report.n, 800);
    assert.ok(report.metrics.accuracyNew.estimate > report.metrics.accuracyOld.estimate, 'v2 saw twice the data');
    assert.ok(report.flipAnalysis, 'logits from both ONNX models give the flip analysis');

    // a release history: v1 → v2 → v1 again; its pairs agree with the pairwise comparison
    const chain = await runCliHere(['-q', 'compare', '--chain', V1, V2, V1, '--data', hold, '--json', join(dir, 'history.json')]);
    assert.equal(chain.code, 0, chain.stderr);
    const h = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
    assert.equal(h.churn[0][1], report.metrics.churn.estimate);
    assert.equal(h.nfr[0][1], report.metrics.nfr.estimate);
    assert.equal(h.nfr[1][2], report.metrics.pfr.estimate, 'v2 → v1 undoes the fixes of v1 → v2');
    assert.equal(h.churn[0][2], 0);
    assert.deepEqual(h.accuracy, [report.metrics.accuracyOld.estimate, report.metrics.accuracyNew.estimate, report.metrics.accuracyOld.estimate]);
    assert.match(readFileSync(join(dir, 'history.html'), 'utf8'), /^<!DOCTYPE html>\n<!-- distillery-report -->/);

    const pred = await runCliHere(['-q', 'predict', '--model', V1, '--data', hold, '--out', join(dir, 'p.csv')]);
    assert.equal(pred.code, 0, pred.stderr);
    const rows = readFileSync(join(dir, 'p.csv'), 'utf8').trim().split('\n');
    assert.equal(rows.length, 801);
    const predicted = rows.slice(1).map((r) => r.split(',')[0]);
    const truth = letterRows(16000, 16800).trim().split('\n').slice(1).map((r) => r.split(',')[0].replace(/"/g, ''));
    const acc = predicted.filter((p, i) => p === truth[i]).length / predicted.length;
    assert.ok(Math.abs(acc - report.metrics.accuracyOld.estimate) < 1e-9, 'predict and compare see the same ONNX predictions');

    // the PyTorch model as the deployed base of a distillation update
    const train = join(dir, 'new.csv');
    writeFileSync(train, letterRows(2000, 2600));
    const upd = await runCliHere(['-q', 'update', '--base', V1, '--data', train, '--method', 'distill', '--lambda', '0.5', '--epochs', '3', '--out', join(dir, 'v2')]);
    assert.equal(upd.code, 0, upd.stderr);
    const meta = JSON.parse(readFileSync(join(dir, 'v2', 'distillery.json'), 'utf8'));
    assert.equal(meta.recipe.method, 'distill');
    assert.deepEqual(meta.classNames, report.classNames);
    assert.equal(meta.recipe.baseModel, V1);

    // bad files
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'not a model');
    const bad = await runCliHere(['-q', 'compare', '--old', junk, '--new', V2, '--data', hold]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^distillery: .*junk\.onnx: is not an ONNX model.*\n$/);
    const bare = onnx.ModelProto.decode(readFileSync(V1));
    bare.metadataProps = [];
    const noMeta = join(dir, 'no-meta.onnx');
    writeFileSync(noMeta, onnx.ModelProto.encode(bare).finish());
    const missing = await runCliHere(['-q', 'predict', '--model', noMeta, '--data', hold, '--out', join(dir, 'q.csv')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no-meta\.onnx: has no "distillery\.preprocessing" metadata/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
