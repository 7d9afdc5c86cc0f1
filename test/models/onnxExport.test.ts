/**
 * ONNX models out: `distillery export --format onnx` of an MLP trained on letter data, and
 * the ONNX of CNNs, of a team's own tfjs graph (batch normalisation, depthwise and same-padded
 * convolutions, a residual Add, pooling, Permute, Reshape, Concatenate) and of an averaged
 * ensemble on Fashion-MNIST images, run in onnxruntime, give Distillery's own logits within
 * float32 tolerance (two runtimes, sums in another order: relative 1e-4), and the exported
 * file reads back into Distillery as a model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../src/engine/index.js';
import { loadOnnxModel, onnxLogits } from '../../src/models/onnx.js';
import { exportOnnx } from '../../src/models/onnxExport.js';
import { importOnnxNetwork } from '../../src/models/onnxImport.js';
import { fromLayersModel } from '../../src/models/ownModel.js';
import { averagedModel } from '../../src/models/ensemble.js';
import { onnxProto } from '../../src/models/onnxProto.js';
const onnx = onnxProto();
import { loadModel } from '../../src/models/io.js';
import { buildModel } from '../../src/models/build.js';
import { predictLogits } from '../../src/models/predict.js';
import { applyPreprocessing, fitPreprocessing } from '../../src/data/preprocess.js';
import { loadData } from '../../src/data/builtin.js';
import { parseCsvText } from '../../src/data/csv.js';
import type { Dataset } from '../../src/data/types.js';
import type { TrainedModel } from '../../src/models/types.js';
import { runCliHere } from '../helpers/cli.js';

const TOLERANCE = 1e-4;

function letterCsv(from: number, to: number): string {
  const lines = gunzipSync(readFileSync(new URL('../../datasets/letter-recognition.csv.gz', import.meta.url))).toString('utf8').trim().split('\n');
  return [lines[0], ...lines.slice(1 + from, 1 + to)].join('\n') + '\n';
}

async function assertSameLogits(file: string, trained: TrainedModel, ds: Pick<Dataset, 'features' | 'featureShape'>): Promise<number> {
  const ort = await loadOnnxModel(file);
  try {
    const a = await onnxLogits(ort, ds);
    const b = predictLogits(trained.model, ds.features, ds.featureShape);
    assert.equal(a.length, b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
    assert.ok(worst <= TOLERANCE, `largest relative logit difference ${worst}`);
    return worst;
  } finally {
    await ort.session.release();
  }
}

/**
 * Every weight of `model` drawn uniformly (seeded): kernels in ±√(3 / fan-in), variances in
 * [0.5, 1.5], the rest in ±0.5, so that batch normalisation's statistics and biases matter.
 */
function randomiseWeights(model: tfl.LayersModel, seed: number): void {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  for (const w of model.weights) {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const name = w.originalName ?? w.name;
    const fanIn = shape.length > 1 ? n / shape[shape.length - 1] : 1;
    const draw = /variance/.test(name) ? () => 0.5 + next() : shape.length > 1 ? () => (2 * next() - 1) * Math.sqrt(3 / fanIn) : () => next() - 0.5;
    const values = tf.tensor(Float32Array.from({ length: n }, draw), shape);
    w.write(values);
    values.dispose();
  }
}

async function fashion(rows: number): Promise<Dataset> {
  const raw = await loadData('fashion-mnist:test', { limit: rows });
  return applyPreprocessing(fitPreprocessing(raw), raw);
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

/** A team's own network: batch normalisation, same/valid/padded, strided, dilated and depthwise convolutions, a residual Add, pooling, Permute, Reshape, Concatenate. */
function ownCnn(): tfl.LayersModel {
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => layer.apply(x) as tfl.SymbolicTensor;
  const input = tfl.input({ shape: [28, 28, 1], name: 'pixels' });
  let x = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'stem' }), input);
  x = apply(tfl.layers.batchNormalization({ name: 'stem_bn' }), x);
  x = apply(tfl.layers.activation({ activation: 'relu', name: 'stem_relu' }), x);
  let y = apply(tfl.layers.zeroPadding2d({ padding: [[1, 1], [2, 0]], name: 'pad' }), x);
  y = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, name: 'depthwise' }), y); // 28 × 28 × 16
  y = apply(tfl.layers.conv2d({ filters: 8, kernelSize: [1, 3], activation: 'elu', name: 'pointwise' }), y); // 28 × 26
  y = apply(tfl.layers.zeroPadding2d({ padding: [[0, 0], [1, 1]], name: 'pad_back' }), y);
  y = apply(tfl.layers.batchNormalization({ name: 'block_bn', center: false }), y);
  x = apply(tfl.layers.add({ name: 'residual' }), [x, y]);
  x = apply(tfl.layers.leakyReLU({ alpha: 0.1, name: 'leaky' }), x);
  x = apply(tfl.layers.averagePooling2d({ poolSize: 2, name: 'avg' }), x); // 14
  x = apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'max_same' }), x); // 7
  const a = apply(tfl.layers.conv2d({ filters: 6, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh', name: 'dilated' }), x);
  const b = apply(tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid', name: 'strided' }), x); // 4
  const pooled = apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }), a);
  const channelsFirst = apply(tfl.layers.permute({ dims: [3, 1, 2], name: 'channels_first' }), b);
  const flat = apply(tfl.layers.reshape({ targetShape: [4 * 4 * 4], name: 'flat' }), channelsFirst);
  const both = apply(tfl.layers.concatenate({ name: 'both' }), [pooled, flat]);
  let z = apply(tfl.layers.dense({ units: 16, activation: 'relu', name: 'hidden' }), both);
  z = apply(tfl.layers.dropout({ rate: 0.3, name: 'drop' }), z);
  z = apply(tfl.layers.dense({ units: 10, name: 'logits' }), z);
  return tfl.model({ inputs: input, outputs: z, name: 'own_cnn' });
}

test('ONNX of a team\'s own tfjs graph (BN, depthwise, same padding, residual Add, pooling, Permute, Reshape, Concatenate) matches in onnxruntime and imports back', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-export-layers-'));
  const net = ownCnn();
  try {
    randomiseWeights(net, 11);
    const ds = await fashion(300);
    const trained = await fromLayersModel(net, { classes: ds.classNames, image: { shape: [28, 28, 1] } });
    assert.equal(trained.meta.architecture.kind, 'layers');
    const file = join(dir, 'own.onnx');
    writeFileSync(file, exportOnnx(trained));
    const worst = await assertSameLogits(file, trained, ds);
    const proto = onnx.ModelProto.decode(readFileSync(file));
    const ops = proto.graph!.node!.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'Transpose').length, 1, `one Transpose, NHWC input to NCHW (measured difference ${worst}): ${ops.join(' ')}`);
    for (const op of ['Conv', 'BatchNormalization', 'Pad', 'Add', 'LeakyRelu', 'AveragePool', 'MaxPool', 'GlobalAveragePool', 'Reshape', 'Concat', 'Gemm']) assert.ok(ops.includes(op), op);
    assert.equal(proto.graph!.input![0].name, 'features');
    // and back into Distillery: the graph imported (NHWC input, Transpose, depthwise Conv…) as a layers network
    const back = await importOnnxNetwork(file);
    try {
      assert.equal(back.meta.onnxInterface?.layout, 'nhwc');
      await assertSameLogits(file, back, ds);
    } finally {
      back.model.dispose();
    }
  } finally {
    net.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ONNX of activations: gelu, swish, mish, selu, hardSigmoid, softplus, softsign, relu6, elu, ReLU, softmax', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-export-act-'));
  const input = tfl.input({ shape: [16] });
  let x = input;
  for (const activation of ['gelu', 'swish', 'mish', 'selu', 'hardSigmoid', 'softplus', 'softsign', 'relu6', 'elu'] as const) {
    x = tfl.layers.dense({ units: 12, activation: activation as 'relu', name: `dense_${activation}` }).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.reLU({ maxValue: 4, name: 'capped' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 5, activation: 'softmax', name: 'out' }).apply(x) as tfl.SymbolicTensor;
  const net = tfl.model({ inputs: input, outputs: x });
  try {
    randomiseWeights(net, 5);
    const raw = parseCsvText(letterCsv(0, 300), 'letters.csv', { labelColumn: 'lettr' });
    const ds = applyPreprocessing(fitPreprocessing(raw), raw);
    const classes = ['a', 'b', 'c', 'd', 'e'];
    const logits = await fromLayersModel(net, { classes, columns: Array.from({ length: 16 }, (_, i) => `x${i}`) });
    logits.model.dispose();
    // the network as it is, its softmax included (Distillery's import would take the softmax off)
    const trained = { model: net, meta: logits.meta };
    const file = join(dir, 'act.onnx');
    writeFileSync(file, exportOnnx(trained));
    await assertSameLogits(file, trained, ds);
    assert.equal(onnx.ModelProto.decode(readFileSync(file)).graph!.node!.at(-1)!.opType, 'Softmax');
  } finally {
    net.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ONNX of an averaged ensemble: one graph, each member nested, the mean of their logits', async () => {
  await initEngine();
  const dir = mkdtempSync(join(tmpdir(), 'distillery-export-ens-'));
  const ds = await fashion(200);
  const architecture = { kind: 'cnn' as const, conv: [{ filters: 4, kernel: 3, pool: 2 }], dense: [12] };
  const preprocessing = { kind: 'image', classNames: ds.classNames, shape: [28, 28, 1], scale: 1 / 255 };
  const members = [3, 4, 5].map((seed) => ({ model: buildModel(architecture, ds.featureShape, 10, seed), meta: { architecture, classNames: ds.classNames, inputShape: ds.featureShape, preprocessing } }) as unknown as TrainedModel);
  try {
    const trained = { model: averagedModel(members), meta: members[0].meta };
    const file = join(dir, 'ensemble.onnx');
    writeFileSync(file, exportOnnx(trained));
    await assertSameLogits(file, trained, ds);
    const nodes = onnx.ModelProto.decode(readFileSync(file)).graph!.node!;
    assert.equal(nodes.filter((n) => n.opType === 'Conv').length, 3);
    assert.equal(nodes[nodes.length - 1].opType, 'Mean');
    assert.equal(nodes.filter((n) => n.opType === 'Transpose' && n.input![0] === 'features').length, 1, 'the members share the input\'s transpose to NCHW');
  } finally {
    for (const m of members) m.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export refusals: a transformer, a layer without an ONNX export, a decision tree; one line naming the library parameter', async () => {
  await initEngine();
  const transformer = { kind: 'transformer' as const, vocabSize: 50, maxLen: 8, dModel: 8, heads: 2, layers: 1, ff: 16 };
  const model = buildModel(transformer, [8], 3, 1);
  const meta = { architecture: transformer, classNames: ['a', 'b', 'c'], inputShape: [8] } as unknown as TrainedModel['meta'];
  assert.throws(() => exportOnnx({ model, meta }), /^InputError: exportOnnx model: is a transformer: its attention, position-embedding and padding-mask layers are Distillery's own, with no ONNX export/);
  assert.throws(() => exportOnnx({ model, meta }, { source: '--model' }), /^InputError: --model: is a transformer/);
  model.dispose();
  const input = tfl.input({ shape: [6, 4] });
  const rnn = tfl.layers.simpleRNN({ units: 5, name: 'recurrent' }).apply(input) as tfl.SymbolicTensor;
  const net = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3 }).apply(rnn) as tfl.SymbolicTensor });
  const own = { model: net, meta: { architecture: { kind: 'layers' }, classNames: ['a', 'b', 'c'], inputShape: [6, 4], preprocessing: { kind: 'tabular' } } } as unknown as TrainedModel;
  assert.throws(() => exportOnnx(own), /^InputError: exportOnnx model: layer "recurrent" \(SimpleRNN\) has no ONNX export \(exported: Dense, Conv2D/);
  net.dispose();
  const tree = { model: undefined, meta: { architecture: { kind: 'tree', maxDepth: 2, minLeaf: 1 } } } as unknown as TrainedModel;
  assert.throws(() => exportOnnx(tree), /^InputError: exportOnnx model: is a decision tree: ONNX export covers networks$/);
});
