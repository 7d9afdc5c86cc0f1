/**
 * A team's own tfjs network as the deployed model, from the command line (issue #23's
 * acceptance): a conv net with batch normalisation, trained by the team with tfjs's own
 * `fit` on Fashion-MNIST and saved as plain tfjs (model.json + weights.bin) with the sidecar
 * distillery-input.json, is updated with distillation and with ELODI (members of its own
 * architecture), saved, reloaded bit-identically, compared and gated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../src/engine/index.js';
import { FASHION_MNIST_DIR } from '../../src/data/idx.js';
import { loadIdxImages } from '../../src/data/idx.js';
import { applyPreprocessing } from '../../src/data/preprocess.js';
import type { PreprocessingSpec } from '../../src/data/types.js';
import { loadModel, loadPlainModel, MODEL_JSON, saveModel, WEIGHTS_BIN } from '../../src/models/io.js';
import { MODEL_INPUT_JSON } from '../../src/models/ownModel.js';
import { predictLogits } from '../../src/models/predict.js';
import { runCli } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';

await initEngine();
const { dir } = scratchDir('distillery-own-cli-');
const CLASSES = Array.from({ length: 10 }, (_, k) => String(k));

/** The first `n` (from `from`) images and labels of a Fashion-MNIST split as a gzipped IDX pair (labels are digits). */
function idxPair(split: 'train' | 't10k', from: number, n: number, name: string): string {
  const images = gunzipSync(readFileSync(path.join(FASHION_MNIST_DIR, `${split}-images-idx3-ubyte.gz`)));
  const labels = gunzipSync(readFileSync(path.join(FASHION_MNIST_DIR, `${split}-labels-idx1-ubyte.gz`)));
  const imgHeader = Buffer.from(images.subarray(0, 16));
  imgHeader.writeUInt32BE(n, 4);
  const labHeader = Buffer.from(labels.subarray(0, 8));
  labHeader.writeUInt32BE(n, 4);
  const imgFile = path.join(dir, `${name}-images.gz`);
  const labFile = path.join(dir, `${name}-labels.gz`);
  writeFileSync(imgFile, gzipSync(Buffer.concat([imgHeader, images.subarray(16 + from * 784, 16 + (from + n) * 784)])));
  writeFileSync(labFile, gzipSync(Buffer.concat([labHeader, labels.subarray(8 + from, 8 + from + n)])));
  return `${imgFile},${labFile}`;
}

/** The team's network: conv + batch norm + pooling, dropout, a softmax output (as a tfjs user writes it). */
function teamNetwork(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.batchNormalization(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dropout({ rate: 0.25 }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

/** Writes `net` the way tfjs's file:// handler does: model.json + weights.bin. */
async function savePlainTfjs(net: tfl.LayersModel, out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(path.join(out, MODEL_JSON), JSON.stringify({ modelTopology: a.modelTopology, format: 'layers-model', generatedBy: a.generatedBy, convertedBy: null, weightsManifest: [{ paths: [WEIGHTS_BIN], weights: a.weightSpecs }] }));
      writeFileSync(path.join(out, WEIGHTS_BIN), new Uint8Array(tf.io.CompositeArrayBuffer.join(a.weightData!)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
}

const skip = existsSync(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')) ? false : 'needs Debian dataset-fashion-mnist';

test('a team\'s own conv net (plain tfjs + distillery-input.json) is updated with distillation and ELODI, reloaded, compared and gated', { skip }, async () => {
  const oldData = idxPair('train', 0, 600, 'old');
  const newData = idxPair('train', 600, 1200, 'new');
  const testData = idxPair('t10k', 0, 500, 'test');
  const spec: PreprocessingSpec = { kind: 'image', classNames: CLASSES, shape: [28, 28, 1], scale: 1 / 255 };

  // the team trains and saves its deployed model with plain tfjs
  const [imgs, labs] = oldData.split(',');
  const old = applyPreprocessing(spec, await loadIdxImages(imgs, labs));
  const deployed = teamNetwork();
  deployed.compile({ optimizer: tf.train.adam(0.003), loss: 'sparseCategoricalCrossentropy' });
  const xs = tf.tensor(old.features, [old.labels.length, 28, 28, 1]);
  const ys = tf.tensor1d(Float32Array.from(old.labels));
  await deployed.fit(xs, ys, { epochs: 4, batchSize: 32, verbose: 0, shuffle: false });
  xs.dispose();
  ys.dispose();
  const teamDir = path.join(dir, 'team-v1');
  await savePlainTfjs(deployed, teamDir);
  writeFileSync(path.join(teamDir, MODEL_INPUT_JSON), JSON.stringify({ classes: CLASSES, image: { scale: 1 / 255 } }));
  const teamClasses = deployed.layers.map((l) => l.getClassName());

  // distillation from the deployed model: the new model is a fresh copy of the team's architecture
  const v2 = path.join(dir, 'v2');
  const train = ['--data', newData, '--epochs', '4', '--lr', '0.003', '--batch-size', '32', '--patience', '0', '--seed', '3'];
  let r = runCli(['update', '--base', teamDir, ...train, '--method', 'distill', '--lambda', '0.5', '--out', v2]);
  assert.equal(r.code, 0, r.stderr);
  const updated = await loadModel(v2);
  assert.deepEqual(updated.model.layers.map((l) => l.getClassName()), teamClasses, "the update's layers are the team's layer classes");
  assert.equal(updated.meta.architecture.kind, 'layers');
  assert.equal(updated.meta.recipe.method, 'distill');

  // saved → reloaded bit-identically, also by plain tfjs
  const test0 = applyPreprocessing(spec, await loadIdxImages(...(testData.split(',') as [string, string])));
  const z = predictLogits(updated.model, test0.features, test0.featureShape);
  const copy = path.join(dir, 'v2-copy');
  await saveModel(copy, updated);
  assert.deepEqual(predictLogits((await loadModel(copy)).model, test0.features, test0.featureShape), z);
  assert.deepEqual(predictLogits(await loadPlainModel(v2), test0.features, test0.featureShape), z);

  // ELODI: its reference ensemble's members are of the team's architecture too
  const v2e = path.join(dir, 'v2-elodi');
  const refs = path.join(dir, 'refs');
  r = runCli(['update', '--base', teamDir, ...train, '--method', 'elodi', '--members', '2', '--jobs', '1', '--save-reference', refs, '--out', v2e]);
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(path.join(refs, 'ensemble.json'), 'utf8'));
  assert.equal(manifest.architecture.kind, 'layers');
  const member = await loadModel(path.join(refs, 'member-1'));
  assert.deepEqual(member.model.layers.map((l) => l.getClassName()), teamClasses);
  assert.deepEqual((await loadModel(v2e)).model.layers.map((l) => l.getClassName()), teamClasses);

  // compared with the deployed model, and gated
  const cmp = path.join(dir, 'cmp.json');
  r = runCli(['compare', '--old', teamDir, '--new', v2, '--data', testData, '--json', cmp]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(cmp, 'utf8'));
  const metrics = report.metrics;
  assert.ok(metrics.churn.estimate > 0 && metrics.churn.estimate < 0.6, `churn ${metrics.churn.estimate}`);
  assert.ok(metrics.accuracyNew.estimate > 0.5, `new accuracy ${metrics.accuracyNew.estimate}`);
  r = runCli(['gate', '--old', teamDir, '--new', v2, '--data', testData, '--max-nfr', '0.5']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  r = runCli(['gate', '--old', teamDir, '--new', v2, '--data', testData, '--max-nfr', '0']);
  assert.equal(r.code, metrics.nfr.estimate > 0 ? 3 : 0, r.stdout + r.stderr);

  // --new-model: another architecture (a tfjs model.json), never silently the base's
  const mlp = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 32, activation: 'relu' }), tfl.layers.dense({ units: 10 })] });
  const mlpDir = path.join(dir, 'mlp-architecture');
  await savePlainTfjs(mlp, mlpDir);
  const v3 = path.join(dir, 'v3');
  r = runCli(['update', '--base', teamDir, ...train, '--method', 'distill', '--new-model', path.join(mlpDir, MODEL_JSON), '--out', v3]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await loadModel(v3)).model.layers.map((l) => l.getClassName()), ['Flatten', 'Dense', 'Dense']);
  // flag conflicts are found before anything is trained (the predictions file exists: a missing one is refused first)
  const logged = path.join(dir, 'p.csv');
  writeFileSync(logged, 'p:0\n1\n');
  r = runCli(['update', '--base', teamDir, ...train, '--method', 'elodi', '--reference-predictions', logged, '--members', '2', '--out', path.join(dir, 'never')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--reference-predictions: is the teacher: leave out --members/);
  assert.ok(!existsSync(path.join(dir, 'never')));
});
