import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, FAMILIES, metadataFor, randomFeatures, type Family } from './helpers.js';
import { buildModel, parameterCount } from '../../src/models/build.js';
import { loadModel, loadPlainModel, saveModel } from '../../src/models/io.js';
import { DISTILLERY_LAYER_CLASS_NAMES } from '../../src/models/layers.js';
import { predictLogits } from '../../src/models/predict.js';
import type { TrainedModel } from '../../src/models/types.js';
import { InputError } from '../../src/util/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'distillery-models-'));
after(() => fs.rm(tmpRoot, { recursive: true, force: true }));

function trainedModel(f: Family, seed = 3): TrainedModel {
  return { model: buildModel(f.config, f.inputShape, f.numClasses, seed), meta: metadataFor(f, seed) };
}

/** Saves a fresh model of `f` under tmpRoot/`name`; returns the directory and its logits on `x`. */
async function savedModel(f: Family, name: string, x: Float32Array): Promise<{ dir: string; logits: Float32Array }> {
  const trained = trainedModel(f);
  const dir = path.join(tmpRoot, name);
  await saveModel(dir, trained);
  const logits = predictLogits(trained.model, x, f.inputShape);
  trained.model.dispose();
  return { dir, logits };
}

function classNamesIn(dir: string): Promise<string[]> {
  return fs.readFile(path.join(dir, 'model.json'), 'utf8').then((t) => JSON.parse(t).modelTopology.config.layers.map((l: any) => l.class_name));
}

for (const f of FAMILIES) {
  test(`${f.name}: save → load round trip keeps predictions and metadata`, async () => {
    const x = randomFeatures(f, 6);
    const trained = trainedModel(f);
    const dir = path.join(tmpRoot, `roundtrip-${f.name}`);
    await saveModel(dir, trained);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['distillery.json', 'model.json', 'weights.bin']);
    const modelJson = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
    assert.equal(modelJson.format, 'layers-model');
    assert.equal(modelJson.convertedBy, null);
    assert.match(modelJson.generatedBy, /tfjs-layers/);
    assert.deepEqual(modelJson.weightsManifest[0].paths, ['weights.bin']);

    const loaded = await loadModel(dir);
    assert.deepEqual(loaded.meta, trained.meta);
    assert.equal(parameterCount(loaded.model), parameterCount(trained.model));
    // Bit for bit on purpose: the same weights through the same kernels on the same shapes in
    // this process, so any difference is a save/load defect, not rounding.
    assert.deepEqual(predictLogits(loaded.model, x, f.inputShape), predictLogits(trained.model, x, f.inputShape));
    const usesCustom = (await classNamesIn(dir)).some((c) => DISTILLERY_LAYER_CLASS_NAMES.includes(c));
    assert.equal(usesCustom, f.config.kind === 'transformer');

    const plain = await loadPlainModel(dir);
    assert.deepEqual(predictLogits(plain, x, f.inputShape), predictLogits(trained.model, x, f.inputShape));
    for (const m of [trained.model, loaded.model, plain]) m.dispose();
  });
}

test('saveModel replaces an existing model directory and leaves no temporary files', async () => {
  const [mlp, cnn] = FAMILIES;
  const dir = path.join(tmpRoot, 'replace', 'model');
  await saveModel(dir, trainedModel(mlp));
  await saveModel(dir, trainedModel(cnn));
  assert.deepEqual((await loadModel(dir)).meta.architecture, cnn.config);
  assert.deepEqual(await fs.readdir(path.dirname(dir)), ['model']);
});

test('a saved MLP and CNN load in a separate plain-tfjs process (tfjs-layers + cpu backend only)', async () => {
  const [mlp, cnn, transformer] = FAMILIES;
  const jobs = await Promise.all(
    [mlp, cnn, transformer].map(async (f) => {
      const x = randomFeatures(f, 3);
      const { dir, logits } = await savedModel(f, `plain-${f.name}`, x);
      return { dir, shape: [3, ...f.inputShape], x: Array.from(x), expected: Array.from(logits) };
    }),
  );
  const script = `
    import * as tf from '@tensorflow/tfjs-core';
    import * as tfl from '@tensorflow/tfjs-layers';
    import '@tensorflow/tfjs-backend-cpu';
    import { readFileSync } from 'node:fs';
    import { join } from 'node:path';
    await tf.setBackend('cpu');
    const handler = (dir) => ({
      load: () => tf.io.getModelArtifactsForJSON(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), async (manifest) => [
        manifest.flatMap((g) => g.weights),
        tf.io.CompositeArrayBuffer.join(manifest.flatMap((g) => g.paths).map((p) => new Uint8Array(readFileSync(join(dir, p))).buffer)),
      ]),
    });
    const results = [];
    for (const job of JSON.parse(process.env.PLAIN_JOBS)) {
      try {
        const model = await tfl.loadLayersModel(handler(job.dir));
        results.push({ logits: Array.from(model.predict(tf.tensor(job.x, job.shape)).dataSync()) });
      } catch (e) {
        results.push({ error: String(e.message) });
      }
    }
    console.log(JSON.stringify(results));
  `;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, PLAIN_JOBS: JSON.stringify(jobs) },
    encoding: 'utf8',
  });
  const results = JSON.parse(stdout.trim().split('\n').pop()!);
  for (const i of [0, 1]) {
    assert.equal(results[i].error, undefined);
    results[i].logits.forEach((v: number, k: number) => assert.ok(Math.abs(v - jobs[i].expected[k]) < 1e-6));
  }
  // The transformer needs Distillery's custom layers registered first (see loadPlainModel).
  assert.match(results[2].error, /Unknown layer: Distillery/);
});

test('every broken model directory gives an InputError naming the path', async () => {
  const f = FAMILIES[0];
  const good = (await savedModel(f, 'good', randomFeatures(f, 1))).dir;
  let n = 0;
  /** A copy of the good directory, changed by `breakIt`; returns the copy's path. */
  const broken = async (breakIt: (dir: string) => Promise<unknown>) => {
    const dir = path.join(tmpRoot, `broken-${n++}`);
    await fs.cp(good, dir, { recursive: true });
    await breakIt(dir);
    return dir;
  };
  const json = async (dir: string, file: string, change: (j: any) => void) => {
    const j = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8'));
    change(j);
    await fs.writeFile(path.join(dir, file), JSON.stringify(j));
  };
  const cases: [string, string, RegExp][] = [];
  const add = (dir: string, named: string, message: RegExp) => cases.push([dir, named, message]);

  const missing = path.join(tmpRoot, 'no-such-model');
  add(missing, missing, /model directory not found/);
  const file = path.join(tmpRoot, 'a-file');
  await fs.writeFile(file, 'x');
  add(file, file, /is not a directory/);
  for (const name of ['model.json', 'weights.bin', 'distillery.json']) {
    const dir = await broken((d) => fs.rm(path.join(d, name)));
    add(dir, path.join(dir, name), /: not found \(a model directory holds model\.json, weights\.bin and distillery\.json[);]/);
  }
  for (const name of ['model.json', 'distillery.json']) {
    const dir = await broken((d) => fs.writeFile(path.join(d, name), '{"format": '));
    add(dir, path.join(dir, name), /is not valid JSON/);
  }
  let dir = await broken(async (d) => fs.writeFile(path.join(d, 'weights.bin'), (await fs.readFile(path.join(d, 'weights.bin'))).subarray(0, 40)));
  add(dir, path.join(dir, 'weights.bin'), /holds 40 bytes but .*model\.json describes \d+ bytes/);
  dir = await broken((d) => json(d, 'distillery.json', (j) => (j.format = 'something-else')));
  add(dir, path.join(dir, 'distillery.json'), /format "something-else"; expected "distillery-model"/);
  dir = await broken((d) => json(d, 'distillery.json', (j) => (j.formatVersion = 2)));
  add(dir, path.join(dir, 'distillery.json'), /formatVersion 2/);
  dir = await broken((d) => json(d, 'model.json', (j) => delete j.weightsManifest));
  add(dir, path.join(dir, 'model.json'), /no valid weightsManifest/);
  dir = await broken((d) => json(d, 'model.json', (j) => (j.format = 'graph-model')));
  add(dir, path.join(dir, 'model.json'), /format "graph-model"; expected "layers-model"/);
  dir = await broken((d) => json(d, 'model.json', (j) => (j.modelTopology.config.layers[1].class_name = 'NoSuchLayer')));
  add(dir, path.join(dir, 'model.json'), /cannot be loaded as a tfjs LayersModel: Unknown layer: NoSuchLayer\.[^\n]*$/);
  dir = await broken((d) => json(d, 'distillery.json', (j) => [j.classNames, j.preprocessing.classNames].forEach((c) => c.push('extra'))));
  add(dir, dir, /outputs 3 logits but distillery\.json lists 4 classes/);
  const twoMore = (j: any) => j.preprocessing.columns.push({ name: 'y1', type: 'numeric', mean: 0, std: 1 }, { name: 'y2', type: 'numeric', mean: 0, std: 1 });
  dir = await broken((d) => json(d, 'distillery.json', (j) => ((j.inputShape = [7]), twoMore(j))));
  add(dir, dir, /inputs of shape \[5\] but distillery\.json says \[7\]/);
  // distillery.json's own parts must agree: its preprocessing's width is the input shape, its classes the class names
  dir = await broken((d) => json(d, 'distillery.json', twoMore));
  add(dir, path.join(dir, 'distillery.json'), /its preprocessing produces inputs of shape \[7\] but its inputShape is \[5\]/);
  dir = await broken((d) => json(d, 'distillery.json', (j) => j.classNames.push('extra')));
  add(dir, path.join(dir, 'distillery.json'), /its preprocessing lists other classes than classNames/);

  for (const [target, named, message] of cases) {
    await assert.rejects(
      loadModel(target),
      (e: unknown) => e instanceof InputError && e.source === named && e.message.startsWith(named) && message.test(e.message),
      `${target}: expected ${message}`,
    );
  }
});
