/**
 * ONNX models in: PyTorch MLPs trained on letter data and a PyTorch CNN trained on
 * Fashion-MNIST (test/fixtures/onnx/make.py) run in onnxruntime for compare/predict, and
 * imported as Distillery networks for training (update --base). The import is another code
 * path for the same function: its logits match onnxruntime's within float32 tolerance
 * (ONNX_IMPORT_TOLERANCE: centred logits, relative to the row's largest; see onnxImport.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../../src/engine/index.js';
import { loadOnnxModel, onnxLogits } from '../../src/models/onnx.js';
import { onnxProto } from '../../src/models/onnxProto.js';
const onnx = onnxProto();
import { centredLogitDifference, importOnnxNetwork, ONNX_IMPORT_TOLERANCE } from '../../src/models/onnxImport.js';
import { exportOnnx } from '../../src/models/onnxExport.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { predictLogits, argmaxRows } from '../../src/models/predict.js';
import { applyPreprocessing } from '../../src/data/preprocess.js';
import { parseCsvText } from '../../src/data/csv.js';
import { loadData } from '../../src/data/builtin.js';
import type { Dataset } from '../../src/data/types.js';
import { trainUpdate } from '../../src/methods/update.js';
import { runCliHere } from '../helpers/cli.js';
import { assertAllClose } from '../helpers/tolerance.js';
import { withExternalData } from '../helpers/onnx.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const V1 = join(FIXTURES, 'letter-mlp-v1.onnx');
const V2 = join(FIXTURES, 'letter-mlp-v2.onnx');
const CNN = join(FIXTURES, 'fashion-cnn.onnx');
const RESNET = join(FIXTURES, 'tiny-resnet.onnx');

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

test('an ONNX model that keeps its weights in an external data file runs and imports exactly as the same model in one file; a missing data file gets one clear line', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-external-'));
  try {
    const { model: external, data } = withExternalData(V1, dir, 'v1-external.onnx');
    assert.ok(statSync(external).size + statSync(data).size <= statSync(V1).size + 1024 && statSync(data).size > 10_000, 'the weights are outside the model file');
    const raw = parseCsvText(letterRows(16000, 16500), 'holdout.csv', { labelColumn: 'lettr' });
    const [inOne, outside] = [await loadOnnxModel(V1), await loadOnnxModel(external)];
    const [netInOne, netOutside] = [await importOnnxNetwork(V1), await importOnnxNetwork(external)];
    try {
      const ds = applyPreprocessing(inOne.meta.preprocessing, raw);
      // the same bytes: the same logits from onnxruntime, the same imported weights
      assert.deepEqual(await onnxLogits(outside, ds), await onnxLogits(inOne, ds));
      assert.deepEqual(netOutside.model.getWeights().map((w) => w.dataSync()), netInOne.model.getWeights().map((w) => w.dataSync()));
    } finally {
      netInOne.model.dispose();
      netOutside.model.dispose();
      await inOne.session.release();
      await outside.session.release();
    }
    rmSync(data);
    const hold = join(dir, 'holdout.csv');
    writeFileSync(hold, letterRows(16000, 16100));
    for (const args of [['predict', '--model', external, '--data', hold, '--out', join(dir, 'p.csv')], ['update', '--base', external, '--data', hold, '--out', join(dir, 'v2')]]) {
      const r = await runCliHere(['-q', ...args]);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^distillery: .*v1-external\.onnx: tensor "[^"]+" keeps its data in v1-external\.onnx\.weights \(next to the model\), which is not there or not readable\n$/, args[0]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
    // a graph that takes 16 inputs whose metadata declares 3 columns: the model disagrees with
    // itself, whatever the data (which has those 3 columns) — the model file is named (#27 item 7)
    const narrow = editedOnnx(dir, 'narrow.onnx', V1, (m) => {
      const entry = m.metadataProps.find((p) => p.key === 'distillery.preprocessing')!;
      const spec = JSON.parse(entry.value!);
      entry.value = JSON.stringify({ ...spec, columns: spec.columns.slice(0, 3) });
    });
    for (const args of [['predict', '--model', narrow, '--data', hold, '--out', join(dir, 'r.csv')], ['compare', '--old', narrow, '--new', V2, '--data', hold], ['update', '--base', narrow, '--data', train, '--out', join(dir, 'v3')]]) {
      const r = await runCliHere(['-q', ...args]);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^distillery: .*narrow\.onnx: its graph input "[^"]+" is \[batch, 16\] but its "distillery\.preprocessing" metadata makes 3 inputs \(3 columns: x\.box, y\.box, width\): the model's metadata and graph disagree\n$/, args[0]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Rows [from, to) of a dataset. */
function rows(ds: Dataset, from: number, to: number): Dataset {
  const d = ds.featureShape.reduce((a, b) => a * b, 1);
  return { ...ds, features: ds.features.slice(from * d, to * d), labels: ds.labels.slice(from, to) };
}

/** Layer classes of a network, in order. */
const classesOf = (m: { model: { layers: { getClassName(): string }[] } }) => m.model.layers.map((l) => l.getClassName());

/** A copy of an ONNX file with `edit` applied to its decoded model. */
function editedOnnx(dir: string, name: string, from: string, edit: (m: InstanceType<typeof onnx.ModelProto>) => void): string {
  const m = onnx.ModelProto.decode(readFileSync(from));
  edit(m);
  const file = join(dir, name);
  writeFileSync(file, onnx.ModelProto.encode(m).finish());
  return file;
}

test('a PyTorch CNN (NCHW input, BatchNorm, max and average pooling): imported as a layers network, it matches onnxruntime on Fashion-MNIST test images', async () => {
  await initEngine();
  const ort = await loadOnnxModel(CNN);
  const net = await importOnnxNetwork(CNN);
  const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-cnn-'));
  try {
    assert.equal(ort.meta.layout, 'nchw', 'the graph takes [batch, 1, 28, 28]: PyTorch\'s layout, read from its input shape');
    assert.deepEqual(ort.meta.inputShape, [28, 28, 1], 'Distillery feeds it its own NHWC images');
    assert.equal(net.meta.architecture.kind, 'layers');
    assert.deepEqual(net.meta.inputShape, [28, 28, 1]);
    assert.deepEqual(net.meta.onnxInterface, { input: 'images', layout: 'nchw', output: 'logits', scores: 'logits' });
    assert.equal(net.meta.recipe.method, 'onnx');
    // one standard tfjs layer per ONNX op; the Permute puts the channels first before Flatten, as PyTorch flattens
    assert.deepEqual(classesOf(net), ['InputLayer', 'Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Conv2D', 'BatchNormalization', 'Activation', 'AveragePooling2D', 'Permute', 'Flatten', 'Dense', 'Activation', 'Dense']);
    const test = applyPreprocessing(ort.meta.preprocessing, await loadData('fashion-mnist:test', { limit: 1000 }));
    const a = await onnxLogits(ort, test);
    const b = predictLogits(net.model, test.features, test.featureShape);
    const diff = centredLogitDifference(a, b, 10);
    // measured 5.6e-7 (onnxruntime folds BatchNormalization into the convolutions; tfjs does not)
    assert.ok(diff.worst <= ONNX_IMPORT_TOLERANCE, `largest centred logit difference ${diff.worst} (relative to the row's largest)`);
    const pred = argmaxRows(a, 10);
    const acc = pred.filter((p, i) => p === test.labels[i]).length / pred.length;
    assert.deepEqual(argmaxRows(b, 10), pred, 'the same predictions');
    // make.py reports 0.82 on the 10,000 test images; NHWC pixels fed to an NCHW graph as they are would not reach this
    assert.ok(acc > 0.75, `test accuracy ${acc}`);
    // the ONNX interface is kept when the model is saved and loaded
    await saveModel(join(dir, 'm'), net);
    const back = await loadModel(join(dir, 'm'));
    assert.deepEqual(back.meta.onnxInterface, net.meta.onnxInterface);
    assertAllClose(predictLogits(back.model, test.features, [28, 28, 1]), b, 1e-6, 'logits after save and load');
    back.model.dispose();
  } finally {
    net.model.dispose();
    await ort.session.release();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PyTorch CNN → ONNX → Distillery distillation update → ONNX: the export matches Distillery in onnxruntime and takes the original\'s NCHW input', async () => {
  await initEngine();
  const base = await importOnnxNetwork(CNN);
  const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-update-'));
  try {
    const data = applyPreprocessing(base.meta.preprocessing, await loadData('fashion-mnist', { limit: 4800 }));
    // rows 4000+ were not seen by the PyTorch model (make.py trains on the first 4,000)
    const outcome = await trainUpdate({
      base,
      train: rows(data, 4000, 4600),
      validation: rows(data, 4600, 4800),
      method: { method: 'distill', lambda: 0.5 },
      training: { epochs: 3, batchSize: 64, optimizer: 'adam', learningRate: 0.003, patience: 0 },
      seed: 1,
    });
    const v2 = outcome.trained;
    assert.equal(v2.meta.recipe.method, 'distill');
    assert.deepEqual(v2.meta.architecture, base.meta.architecture, 'the update is a fresh network of the imported architecture');
    assert.deepEqual(classesOf(v2), classesOf(base));
    assert.deepEqual(v2.meta.onnxInterface, base.meta.onnxInterface, 'the update keeps the ONNX interface of its base');
    const file = join(dir, 'v2.onnx');
    writeFileSync(file, exportOnnx(v2));
    const proto = onnx.ModelProto.decode(readFileSync(file));
    const input = proto.graph!.input![0];
    assert.equal(input.name, 'images');
    assert.deepEqual(input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)), ['batch', 1, 28, 28], 'NCHW, like the PyTorch original: a drop-in replacement');
    assert.equal(proto.graph!.output![0].name, 'logits');
    // the convolutions run in NCHW from the input on: no Transpose anywhere (the Permute before Flatten undoes itself)
    assert.deepEqual(proto.graph!.node!.map((n) => n.opType), ['Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Conv', 'BatchNormalization', 'Relu', 'AveragePool', 'Flatten', 'Gemm', 'Relu', 'Gemm']);
    const ort = await loadOnnxModel(file);
    try {
      assert.equal(ort.meta.layout, 'nchw');
      const test = applyPreprocessing(base.meta.preprocessing, await loadData('fashion-mnist:test', { limit: 500 }));
      const a = await onnxLogits(ort, test);
      const b = predictLogits(v2.model, test.features, test.featureShape);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
      // measured 6e-7: float32 sums in another order
      assert.ok(worst <= 1e-4, `largest relative logit difference ${worst}`);
      const acc = argmaxRows(a, 10).filter((p, i) => p === test.labels[i]).length / 500;
      assert.ok(acc > 0.3, `the update learnt something in 3 short epochs: test accuracy ${acc}`);
    } finally {
      await ort.session.release();
    }
    v2.model.dispose();
  } finally {
    base.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ONNX image models: the layout is read from the graph input or distillery.layout, and a graph Distillery cannot rebuild gets one clear error naming the node', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-bad-'));
  const meta = (key: string, value: string) => (m: InstanceType<typeof onnx.ModelProto>) => {
    m.metadataProps = [...m.metadataProps.filter((p) => p.key !== key), onnx.StringStringEntryProto.create({ key, value })];
  };
  try {
    const nhwc = editedOnnx(dir, 'says-nhwc.onnx', CNN, meta('distillery.layout', 'nhwc'));
    await assert.rejects(loadOnnxModel(nhwc), /says-nhwc\.onnx: its "distillery\.layout" metadata says nhwc but its graph input "images" is \[batch, 1, 28, 28\], not \[batch, 28, 28, 1\]/);
    const spec = JSON.parse(onnx.ModelProto.decode(readFileSync(CNN)).metadataProps.find((p) => p.key === 'distillery.preprocessing')!.value!);
    const wrongShape = editedOnnx(dir, 'shape.onnx', CNN, meta('distillery.preprocessing', JSON.stringify({ ...spec, shape: [32, 32, 1] })));
    await assert.rejects(importOnnxNetwork(wrongShape), /shape\.onnx: its graph input "images" is \[batch, 1, 28, 28\], but its preprocessing makes 32×32×1 images: the graph must take \[batch, 32, 32, 1\] \(NHWC\) or \[batch, 1, 32, 32\] \(NCHW\)/);
    const odd = editedOnnx(dir, 'odd-op.onnx', CNN, (m) => {
      m.graph!.node![2].opType = 'HardSwish';
    });
    await assert.rejects(importOnnxNetwork(odd), (e: Error) => {
      assert.match(e.message, /odd-op\.onnx: cannot be a training base or teacher: Distillery cannot rebuild its graph as a tfjs network \(node 2 "\/features\/features\.2\/Relu" \(HardSwish\): is not an op Distillery imports/);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
    const grouped = editedOnnx(dir, 'grouped.onnx', CNN, (m) => {
      // the second convolution as 2 groups of 4 input channels
      const w = m.graph!.initializer!.find((t) => t.name === 'features.4.weight')!;
      w.dims = [16, 4, 3, 3];
      w.rawData = w.rawData!.subarray(0, 16 * 4 * 9 * 4);
      m.graph!.node![4].attribute!.find((a) => a.name === 'group')!.i = 2;
    });
    await assert.rejects(importOnnxNetwork(grouped), /node 4 "\/features\/features\.4\/Conv" \(Conv\): a grouped convolution \(group 2 of 8 channels\); tfjs has group 1 and depthwise \(group = channels\) convolutions/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a small PyTorch ResNet (folded BatchNorm, strided padded stem, padded MaxPool, residual block, depthwise conv, view-flatten, Concat, Softmax output) imports and exports back as the same function', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-onnx-resnet-'));
  const net = await importOnnxNetwork(RESNET);
  const ort = await loadOnnxModel(RESNET);
  try {
    assert.deepEqual(net.meta.onnxInterface, { input: 'x', layout: 'nchw', output: 'probs', scores: 'probabilities' });
    const classes = classesOf(net);
    for (const c of ['ZeroPadding2D', 'Conv2D', 'MaxPooling2D', 'Add', 'DepthwiseConv2D', 'LeakyReLU', 'AveragePooling2D', 'Permute', 'Flatten', 'Concatenate', 'Dense']) assert.ok(classes.includes(c), `${c} in ${classes.join(' ')}`);
    // fixed pseudo-random images in [0, 1) (NHWC, as Distillery's data)
    const x = Float32Array.from({ length: 64 * 16 * 16 * 3 }, (_, i) => ((i * 7919) % 256) / 256);
    const ds = { features: x, featureShape: [16, 16, 3] };
    const want = await onnxLogits(ort, ds); // log-probabilities
    const got = predictLogits(net.model, x, ds.featureShape); // the logits before the softmax
    const diff = centredLogitDifference(want, got, 5);
    // measured 1.9e-7
    assert.ok(diff.worst <= ONNX_IMPORT_TOLERANCE, `largest centred logit difference ${diff.worst}`);
    // exported, it is a drop-in replacement: input "x" NCHW, output "probs" (probabilities: a Softmax added back)
    const file = join(dir, 'back.onnx');
    writeFileSync(file, exportOnnx(net));
    const proto = onnx.ModelProto.decode(readFileSync(file));
    assert.equal(proto.graph!.input![0].name, 'x');
    assert.deepEqual(proto.graph!.input![0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)), ['batch', 3, 16, 16]);
    assert.equal(proto.graph!.output![0].name, 'probs');
    assert.equal(proto.graph!.node!.at(-1)!.opType, 'Softmax');
    assert.equal(proto.graph!.node!.filter((n) => n.opType === 'Transpose').length, 0);
    const back = await loadOnnxModel(file);
    try {
      assert.equal(back.meta.output, 'probabilities');
      // measured 9.5e-8
      assertAllClose(await onnxLogits(back, ds), want, 1e-5, 'log-probabilities of the exported file vs the original');
    } finally {
      await back.session.release();
    }
  } finally {
    net.model.dispose();
    await ort.session.release();
    rmSync(dir, { recursive: true, force: true });
  }
});
