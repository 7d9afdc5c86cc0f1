import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/models/build.js';
import { initEngine } from '../../src/engine/index.js';
import { chooseProbeLayers, profWeightLayers, profWeightWeights, sratioWeights } from '../../src/methods/exampleWeights.js';
import { fitModel } from '../../src/methods/fit.js';
import { trainUpdate } from '../../src/methods/update.js';
import { crossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { predictLogits } from '../../src/models/predict.js';
import { softmax } from '../../src/models/logits.js';
import type { Dataset } from '../../src/data/types.js';
import type { TrainedModel } from '../../src/models/types.js';
import { Rng } from '../../src/util/rng.js';
import { letterSplits } from '../helpers/letter.js';
import { assertAllClose } from '../helpers/tolerance.js';

await initEngine();

const values = (model: ReturnType<typeof buildModel>, layer: string) => model.getLayer(layer).getWeights().map((t) => Array.from(t.dataSync()));

/** x·W + b for one row (W row-major [in, out]). */
function affine(x: number[], W: number[], b: number[]): number[] {
  return b.map((bj, j) => bj + x.reduce((s, xi, i) => s + xi * W[i * b.length + j], 0));
}
function softmaxRow(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

test('ProfWeight: the weight is the mean probe confidence in the true label over the probed layers, at least the floor (by hand on a tiny model)', async () => {
  // A teacher of 2 features → 3 relu units → 3 classes, with its random initial weights.
  const teacher = buildModel({ kind: 'mlp', hidden: [3] }, [2], 3, 7);
  assert.deepEqual(profWeightLayers(teacher), ['dense_1', 'logits']);
  assert.deepEqual(chooseProbeLayers(teacher, { top: 1 }), ['logits']);
  assert.throws(() => chooseProbeLayers(teacher, { top: 2, layers: ['dense_9'] }), /probe layers: no layer "dense_9" in the teacher \(probe layers: dense_1, logits\)/);
  const rng = new Rng(3);
  const n = 8;
  const ds: Dataset = {
    features: Float32Array.from({ length: n * 2 }, () => rng.normal()),
    featureShape: [2],
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
    source: 'tiny',
  };
  const floor = 0.3;
  const trained = { model: teacher, meta: {} } as unknown as TrainedModel;
  const { weights, probes } = await profWeightWeights(trained, ds, { top: 2, floor, probeEpochs: 5, seed: 1 });
  assert.deepEqual(probes.map((p) => [p.layer, p.width]), [['dense_1', 3], ['logits', 3]]);
  const [W1, b1] = values(teacher, 'dense_1');
  const [W2, b2] = values(teacher, 'logits');
  let floored = 0;
  for (let i = 0; i < n; i++) {
    const x = Array.from(ds.features.subarray(2 * i, 2 * i + 2));
    const hidden = affine(x, W1, b1).map((v) => Math.max(0, v));
    const logits = affine(hidden, W2, b2);
    const conf = [hidden, logits].map((a, l) => softmaxRow(affine(a, Array.from(probes[l].kernel), Array.from(probes[l].bias)))[ds.labels[i]]);
    const mean = (conf[0] + conf[1]) / 2;
    if (mean < floor) floored++;
    // float32 kernels against float64 by hand: equal to rounding
    assert.ok(Math.abs(weights[i] - Math.max(floor, mean)) < 1e-5, `example ${i}: ${weights[i]} vs hand ${Math.max(floor, mean)}`);
  }
  assert.ok(floored > 0 && floored < n, `the floor binds for some examples only (${floored} of ${n})`);
  teacher.dispose();
});

test('SRatio: weight = teacher / student confidence in the label, clipped to [0, cap]; a zero student confidence gets the cap', () => {
  const K = 2;
  const teacher = Float32Array.from([0.8, 0.2, 0.3, 0.7, 0.9, 0.1, 0.5, 0.5]);
  const student = Float32Array.from([0.4, 0.6, 0.9, 0.1, 1, 0, 0.5, 0.5]);
  const labels = Int32Array.from([0, 1, 1, 0]);
  // 0.8/0.4 = 2; 0.7/0.1 = 7 → cap 3; 0.1/0 → cap; 0.5/0.5 = 1
  assertAllClose(sratioWeights(teacher, student, labels, K, 3), [2, 3, 3, 1], 1e-6, 'sratio weights');
  assert.throws(() => sratioWeights(teacher, student, labels, K, 0), /cap: must be a positive number, got 0/);
  assert.throws(() => sratioWeights(teacher, student, labels, K, -1), /cap: must be a positive number/);
});

test('SRatio recipe: the first pass is the plain student of the same seed, and the second trains on the clipped ratios', async () => {
  const s = await letterSplits({ initial: 600, validation: 150, newBatch: 0, test: 10 });
  const training = { epochs: 8, batchSize: 64, optimizer: 'adam' as const, learningRate: 3e-3, patience: 0 };
  const { trained: teacher } = await fitModel({ architecture: { kind: 'mlp', hidden: [32] }, preprocessing: s.spec, train: s.initial, objective: crossEntropyObjective(), training, seed: 1 });
  const request = { base: teacher, train: s.initial, validation: s.validation, architecture: { kind: 'mlp' as const, hidden: [] }, training, seed: 11 };
  const outcome = await trainUpdate({ ...request, method: { method: 'sratio', cap: 2 } });
  const plain = await trainUpdate({ ...request, method: 'plain' });
  const K = 26;
  const probs = (m: TrainedModel) => softmax(predictLogits(m.model, s.initial.features, s.initial.featureShape), K);
  const expected = sratioWeights(probs(teacher), probs(plain.trained), s.initial.labels, K, 2);
  // Same seed, data and kernels in one process: the first pass is the plain model.
  assertAllClose(outcome.exampleWeights!, expected, 1e-6, 'weights from the first pass');
  assert.ok(expected.some((w) => w === 2) && expected.some((w) => w < 1), 'some weights clipped at the cap, some below 1');
  assert.equal(outcome.trained.meta.recipe.exampleWeights, true);
  assert.equal(outcome.trained.meta.recipe.method, 'sratio');
  const plainLogits = predictLogits(plain.trained.model, s.validation.features, s.validation.featureShape);
  const differs = predictLogits(outcome.trained.model, s.validation.features, s.validation.featureShape).some((v, i) => Math.abs(v - plainLogits[i]) > 1e-4);
  assert.ok(differs, 'the weighted second pass is another model than the first pass');
  [teacher, outcome.trained, plain.trained].forEach((m) => m.model.dispose());
});
