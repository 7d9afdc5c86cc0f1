/**
 * distill(): a team's own tfjs network as the deployed model, every registered method
 * training an update of its architecture (or of a new network the team gives), each loss
 * term logged per epoch, and the comparison with the deployed model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { distill } from '../../src/experiments/distill.js';
import { METHOD_NAMES, type MethodName, type UpdateMethodInput } from '../../src/methods/registry.js';
import { concatDatasets } from '../../src/data/types.js';
import { InputError } from '../../src/util/errors.js';
import { fromLayersModel } from '../../src/models/ownModel.js';
import { letterSplits } from '../helpers/letter.js';

const s = await letterSplits({ initial: 400, validation: 200, newBatch: 400, test: 600 }, 4);
const columns = s.spec.kind === 'tabular' ? s.spec.columns.map((c) => c.name) : [];
const classes = s.spec.classNames;

/** The team's deployed network: dense + batch norm + dropout, softmax output, trained with tfjs's own fit on standardised features. */
async function deployedNetwork(): Promise<tfl.LayersModel> {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const net = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [16], units: 64, activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.batchNormalization(),
      tfl.layers.dropout({ rate: 0.1 }),
      tfl.layers.dense({ units: 26, activation: 'softmax', kernelInitializer: init(2) }),
    ],
  });
  net.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor2d(s.initial.features, [s.initial.labels.length, 16]);
  const y = tf.tensor1d(Float32Array.from(s.initial.labels));
  await net.fit(x, y, { epochs: 15, batchSize: 32, verbose: 0, shuffle: false });
  tf.dispose([x, y]);
  return net;
}

const net = await deployedNetwork();
// the team's columns are fed as they are: the letter splits are already standardised
const base = { network: net, classes, columns, labelColumn: 'lettr' };
const train = concatDatasets(s.initial, s.newBatch);
const data = { train: { x: train.features, y: Array.from(train.labels, (k) => classes[k]) }, validation: s.validation, test: s.test };
const training = { epochs: 3, batchSize: 32, patience: 0, learningRate: 0.003 };

const PARAMS: Partial<Record<MethodName, UpdateMethodInput>> = {
  'churn-budget': { method: 'churn-budget', maxChurn: 0.3, lambdas: [0.2, 0.6], refinements: 0 },
  profweight: { method: 'profweight', probeEpochs: 3 },
  sratio: { method: 'sratio' },
};

test('every registered method updates a team\'s own network: the same layer classes, each loss term logged, compared with the deployed model', async () => {
  const layerClasses = net.layers.map((l) => l.getClassName());
  const composite = new Set(['distill', 'kd', 'ldi', 'elodi', 'focal-distill', 'codistill']);
  for (const name of METHOD_NAMES) {
    const method = PARAMS[name] ?? name;
    const r = await distill({ base, data, method, training, seed: 2, reference: name === 'elodi' || name === 'ensemble' ? { kind: 'ensemble', members: 2 } : undefined });
    if (name === 'ensemble') {
      assert.equal(r.outcome.inferenceCost, 2);
    } else {
      assert.deepEqual(r.trained.model.layers.map((l) => l.getClassName()), layerClasses, `${name}: the update's layers`);
      assert.equal(r.trained.meta.architecture.kind, 'layers');
    }
    const m = r.comparison.metrics;
    assert.equal(r.comparison.n, s.test.labels.length);
    assert.ok(m.accuracyNew.estimate > 0.3, `${name}: accuracy ${m.accuracyNew.estimate}`);
    assert.ok(m.churn.estimate >= m.nfr.estimate, name);
    if (composite.has(name)) {
      const last = r.history.at(-1)!;
      assert.ok(last.terms && Object.keys(last.terms).length === 2, `${name}: two terms logged, got ${JSON.stringify(last.terms)}`);
      // the logged terms add up to the loss (same batches, same logits; float rounding apart)
      if (name !== 'codistill') {
        const sum = Object.values(last.terms).reduce((a, t) => a + t.weight * t.value, 0);
        assert.ok(Math.abs(sum - last.loss) < 1e-4 * (1 + last.loss), `${name}: Σ weight·term ${sum} vs loss ${last.loss}`);
      }
    }
  }
});

test('a new network of the team\'s: its architecture is trained from a seeded start, the same seed twice gives the same weights', async () => {
  const next = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [16], units: 32, activation: 'tanh' }), tfl.layers.dense({ units: 26 })] });
  const run = () => distill({ base, newModel: next, data, method: { method: 'kd', alpha: 0.7, temperature: 3 }, training, seed: 9 });
  const [a, b] = [await run(), await run()];
  assert.deepEqual(a.trained.model.layers.map((l) => l.getClassName()), ['Dense', 'Dense']);
  const w = (m: tfl.LayersModel) => m.getWeights().flatMap((t) => Array.from(t.dataSync()));
  assert.deepEqual(w(a.trained.model), w(b.trained.model));
  assert.notDeepEqual(w(a.trained.model), w(next), 'trained from its own seeded start, not the given network\'s weights');
  // a larger teacher than the deployed model: its logits are the reference, recorded as such
  const big = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [16], units: 128, activation: 'relu' }), tfl.layers.dense({ units: 26 })] });
  big.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: [] });
  await big.fit(tf.tensor2d(train.features, [train.labels.length, 16]), tf.tensor1d(Float32Array.from(train.labels)), { epochs: 5, verbose: 0 });
  const teacher = await fromLayersModel(big, { classes, columns, id: 'big-teacher' });
  const kd = await distill({ base, data, method: { method: 'kd', alpha: 0.9, temperature: 2 }, reference: { kind: 'model', model: teacher }, training, seed: 9 });
  assert.deepEqual(kd.trained.meta.recipe.reference, { kind: 'model', modelIds: ['big-teacher'] });
  assert.notDeepEqual(w(kd.trained.model), w(a.trained.model), 'another teacher, another model');
  // wrong shapes and unknown labels are named
  const wide = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [17], units: 26 })] });
  await assert.rejects(distill({ base, newModel: wide, data, method: 'distill', training }), (e: unknown) => e instanceof InputError && /^newModel: takes inputs of shape \[17\]/.test(e.message));
  await assert.rejects(distill({ base, data: { ...data, train: { x: train.features, y: Array.from(train.labels, () => 'zz') } }, method: 'plain', training }), (e: unknown) => e instanceof InputError && /^data\.train\.y: label 0 is "zz", not one of the 26 classes/.test(e.message));
});
