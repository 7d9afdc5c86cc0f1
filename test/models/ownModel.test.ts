/**
 * A team's own tfjs network as a Distillery model (models/ownModel.ts, models/layersNetwork.ts):
 * logits taken before a final softmax, save/load and plain tfjs directories with the sidecar,
 * fresh seeded copies of the architecture, and one clear error for each hazard.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../../src/engine/index.js';
import { fromLayersModel, MODEL_INPUT_JSON } from '../../src/models/ownModel.js';
import { buildNetwork } from '../../src/models/build.js';
import { FusedDense } from '../../src/models/denseLayer.js';
import { SeededDropout } from '../../src/models/layers.js';
import { loadArchitecture, loadModel, MODEL_JSON, saveModel, WEIGHTS_BIN } from '../../src/models/io.js';
import { predictLogits } from '../../src/models/predict.js';
import { CachedReference } from '../../src/train/reference.js';
import { trainModel } from '../../src/train/trainer.js';
import { crossEntropyObjective, distillationObjective } from '../../src/objectives/targetObjectives.js';
import { InputError } from '../../src/util/errors.js';
import type { Dataset } from '../../src/data/types.js';

await initEngine();
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'distillery-own-'));
after(() => fs.rm(tmp, { recursive: true, force: true }));

const CLASSES = ['a', 'b', 'c'];

/** A team's small conv net: conv + batch norm + pooling + dropout, ending in a softmax (unseeded, as teams write them). */
function teamConvNet(final: 'softmax' | 'linear' | 'sigmoid' = 'softmax'): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      tfl.layers.batchNormalization(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.dense({ units: 3, activation: final }),
    ],
  });
}

/** A functional net with a residual connection and a final Activation('softmax') layer. */
function teamResidualNet(): tfl.LayersModel {
  const x = tfl.input({ shape: [6] });
  const h = tfl.layers.dense({ units: 6, activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  const r = tfl.layers.add().apply([x, h]) as tfl.SymbolicTensor;
  const z = tfl.layers.dense({ units: 3 }).apply(r) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: tfl.layers.activation({ activation: 'softmax' }).apply(z) as tfl.SymbolicTensor });
}

function images(n: number): Float32Array {
  return Float32Array.from({ length: n * 64 }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5);
}

const weightsOf = (m: tfl.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));

test('a conv net ending in softmax: its logits are taken before the softmax and give its probabilities back', async () => {
  const net = teamConvNet();
  const own = await fromLayersModel(net, { classes: CLASSES, image: { scale: 1 / 255 } });
  assert.equal(own.meta.architecture.kind, 'layers');
  assert.deepEqual(own.meta.classNames, CLASSES);
  assert.deepEqual(own.meta.inputShape, [8, 8, 1]);
  assert.match(String(own.meta.recipe.params.logitsOf), /softmax activation of its final layer/);
  const x = images(5);
  const z = predictLogits(own.model, x, [8, 8, 1]);
  const p = tf.tidy(() => (net.predict(tf.tensor(x, [5, 8, 8, 1])) as tf.Tensor).dataSync());
  const q = tf.tidy(() => tf.softmax(tf.tensor2d(z, [5, 3])).dataSync());
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - q[i]) < 1e-6, `probability ${i}: ${p[i]} vs softmax of the logits ${q[i]}`);
  // the user's network is untouched: it still ends in its softmax
  assert.equal((net.layers.at(-1)!.getConfig() as { activation: string }).activation, 'softmax');
});

test('a functional net with a residual Add and a final Activation layer: the Activation is dropped', async () => {
  const net = teamResidualNet();
  const own = await fromLayersModel(net, { classes: CLASSES, columns: ['x1', 'x2', 'x3', 'x4', 'x5', 'x6'], labelColumn: 'y' });
  assert.ok(!own.model.layers.some((l) => l.getClassName() === 'Activation'));
  const x = Float32Array.from({ length: 18 }, (_, i) => (i % 7) - 3);
  const z = predictLogits(own.model, x, [6]);
  const p = tf.tidy(() => (net.predict(tf.tensor2d(x, [3, 6])) as tf.Tensor).dataSync());
  const q = tf.tidy(() => tf.softmax(tf.tensor2d(z, [3, 3])).dataSync());
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - q[i]) < 1e-6);
  assert.equal(own.meta.preprocessing.kind, 'tabular');
});

test('save → load, and a directory saved by plain tfjs with distillery-input.json, give bit-identical logits', async () => {
  const net = teamConvNet();
  const own = await fromLayersModel(net, { classes: CLASSES, image: {} });
  const x = images(7);
  const z = predictLogits(own.model, x, [8, 8, 1]);
  const dir = path.join(tmp, 'saved');
  await saveModel(dir, own);
  const back = await loadModel(dir);
  assert.deepEqual(predictLogits(back.model, x, [8, 8, 1]), z);
  assert.deepEqual(back.meta.architecture, own.meta.architecture);

  // what a team's `model.save('file://…')` writes: model.json + weights.bin, the network as it is (softmax included)
  const plain = path.join(tmp, 'plain-tfjs');
  await fs.mkdir(plain);
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = tf.io.CompositeArrayBuffer.join(a.weightData!);
      await fs.writeFile(path.join(plain, MODEL_JSON), JSON.stringify({ modelTopology: a.modelTopology, format: 'layers-model', generatedBy: a.generatedBy, convertedBy: null, weightsManifest: [{ paths: [WEIGHTS_BIN], weights: a.weightSpecs }] }));
      await fs.writeFile(path.join(plain, WEIGHTS_BIN), new Uint8Array(weights));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  await assert.rejects(loadModel(plain), (e: unknown) => e instanceof InputError && /distillery\.json: not found .*distillery-input\.json/.test(e.message));
  await fs.writeFile(path.join(plain, MODEL_INPUT_JSON), JSON.stringify({ classes: CLASSES, image: { scale: 1 / 255 } }));
  const loaded = await loadModel(plain);
  assert.deepEqual(predictLogits(loaded.model, x, [8, 8, 1]), z);
  assert.equal(loaded.meta.architecture.kind, 'layers');
  // its architecture, as --new-model reads it, is the network's topology
  const arch = await loadArchitecture(path.join(plain, MODEL_JSON));
  assert.equal(arch.kind, 'layers');
});

test('a fresh network of the architecture: same seed same weights, another seed others; the same layer classes, trained with the fused Dense and seeded Dropout', async () => {
  const own = await fromLayersModel(teamConvNet(), { classes: CLASSES, image: {} });
  const a = await buildNetwork(own.meta.architecture, [8, 8, 1], 3, 7);
  const b = await buildNetwork(own.meta.architecture, [8, 8, 1], 3, 7);
  const c = await buildNetwork(own.meta.architecture, [8, 8, 1], 3, 8);
  assert.deepEqual(weightsOf(a), weightsOf(b));
  assert.notDeepEqual(weightsOf(a), weightsOf(c));
  assert.deepEqual(a.layers.map((l) => l.getClassName()), own.model.layers.map((l) => l.getClassName()));
  assert.ok(a.layers.some((l) => l instanceof FusedDense) && a.layers.some((l) => l instanceof SeededDropout));
  // outside buildNetwork, tfjs's own classes are registered again (a loaded model is plain tfjs)
  const plain = await tfl.models.modelFromJSON({ modelTopology: own.meta.architecture.kind === 'layers' ? own.meta.architecture.topology : {} } as never);
  assert.ok(!plain.layers.some((l) => l instanceof FusedDense || l instanceof SeededDropout));

  // training it twice with one seed gives the same weights, batch-norm statistics included
  const ds: Dataset = { features: images(48), featureShape: [8, 8, 1], labels: Int32Array.from({ length: 48 }, (_, i) => i % 3), classNames: CLASSES, source: 'toy' };
  const trainOnce = async () => {
    const m = await buildNetwork(own.meta.architecture, [8, 8, 1], 3, 5);
    await trainModel(m, ds, { objective: crossEntropyObjective(), epochs: 2, batchSize: 16, seed: 5 });
    return m;
  };
  const [m1, m2] = [await trainOnce(), await trainOnce()];
  assert.deepEqual(weightsOf(m1), weightsOf(m2));
  const bn = m1.layers.find((l) => l.getClassName() === 'BatchNormalization')!;
  const movingMean = bn.getWeights()[2].dataSync();
  assert.ok(movingMean.some((v) => v !== 0), 'batch normalisation updated its moving mean while training');
  for (const m of [a, b, c, plain, m1, m2]) m.dispose();
});

test('an update whose data adds a class widens a Dense output layer', async () => {
  const own = await fromLayersModel(teamConvNet('linear'), { classes: CLASSES, image: {} });
  const wider = await buildNetwork(own.meta.architecture, [8, 8, 1], 4, 1);
  assert.equal(wider.outputs[0].shape[1], 4);
  await assert.rejects(buildNetwork(own.meta.architecture, [9, 9, 1], 3, 1), /takes inputs of shape \[8, 8, 1\] but the data's examples have shape \[9, 9, 1\]/);
  wider.dispose();
});

test('hazards: each gives one clear error naming what is wrong', async () => {
  const rejects = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: unknown) => e instanceof InputError && re.test(e.message));
  await rejects(fromLayersModel(teamConvNet('sigmoid'), { classes: CLASSES, image: {} }), /^fromLayersModel: ends in a sigmoid activation; .*logits/);
  await rejects(fromLayersModel(teamConvNet(), { classes: ['a', 'b'], image: {} }), /outputs 3 scores but 2 classes are named/);
  await rejects(fromLayersModel(teamConvNet(), { classes: CLASSES }), /says nothing of the input/);
  await rejects(fromLayersModel(teamConvNet(), { classes: CLASSES, columns: ['x'] }), /the input it describes has shape \[1\] but the network takes \[8, 8, 1\]/);
  await rejects(fromLayersModel(teamConvNet(), { classes: CLASSES, image: {}, colums: ['x'] } as never), /Unrecognized key/i);
  await rejects(fromLayersModel({} as tfl.LayersModel, { classes: CLASSES, image: {} }), /is not a tfjs-layers LayersModel/);
  const x = tfl.input({ shape: [4] });
  const two = tfl.model({ inputs: x, outputs: [tfl.layers.dense({ units: 3 }).apply(x) as tfl.SymbolicTensor, tfl.layers.dense({ units: 2 }).apply(x) as tfl.SymbolicTensor] });
  await rejects(fromLayersModel(two, { classes: CLASSES, columns: ['a', 'b', 'c', 'd'] }), /has 1 inputs and 2 outputs/);

  // a custom layer that tfjs cannot rebuild from JSON is named
  class Scale extends tfl.layers.Layer {
    static className = 'TeamScale';
    override call(inputs: tf.Tensor | tf.Tensor[]) {
      return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
    }
  }
  const y = tfl.input({ shape: [4] });
  const custom = tfl.model({ inputs: y, outputs: tfl.layers.dense({ units: 3 }).apply(new Scale({ name: 'team_scale' }).apply(y)) as tfl.SymbolicTensor });
  await rejects(fromLayersModel(custom, { classes: CLASSES, columns: ['a', 'b', 'c', 'd'] }), /layer "team_scale" is of class TeamScale, which tfjs cannot rebuild from JSON; register it with tf.serialization.registerClass\(TeamScale\)/);

  // a reference that does not cover the training rows, or has another width, is refused before training
  const ds: Dataset = { features: new Float32Array(400 * 4).fill(0.5), featureShape: [4], labels: new Int32Array(400), classNames: CLASSES, source: 'toy' };
  const net = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3 })] });
  const train = (reference: CachedReference) => trainModel(net, ds, { objective: distillationObjective(0.5), reference, epochs: 1, seed: 1 });
  await rejects(train(new CachedReference(new Float32Array(10 * 3), 3)), /^reference: holds logits for 10 rows but the training data has 400 rows/);
  await rejects(train(new CachedReference(new Float32Array(400 * 2), 2)), /^reference: gives 2 logits per row but the training data has 3 classes/);
  assert.throws(() => new CachedReference(Float32Array.of(0, NaN, 1), 3), /reference: logit 1 \(row 0\) is NaN/);
  net.dispose();
});

test('a sidecar that is not valid is named with its problem', async () => {
  const own = await fromLayersModel(teamConvNet('linear'), { classes: CLASSES, image: {} });
  const dir = path.join(tmp, 'bad-sidecar');
  await saveModel(dir, own);
  await fs.rm(path.join(dir, 'distillery.json'));
  await fs.writeFile(path.join(dir, MODEL_INPUT_JSON), JSON.stringify({ classes: 'a,b,c', image: {} }));
  await assert.rejects(loadModel(dir), (e: unknown) => e instanceof InputError && e.message.startsWith(path.join(dir, MODEL_INPUT_JSON)) && /classes/.test(e.message));
  await fs.writeFile(path.join(dir, MODEL_INPUT_JSON), JSON.stringify({ classes: ['a', 'b'], image: {} }));
  await assert.rejects(loadModel(dir), /outputs 3 scores but 2 classes are named/);
});
