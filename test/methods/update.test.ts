import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatDatasets } from '../../src/data/types.js';
import { argmaxRows, predictLogits } from '../../src/models/predict.js';
import { fitModel, type TrainingConfig } from '../../src/methods/fit.js';
import { trainUpdate } from '../../src/methods/update.js';
import { ReferenceCache } from '../../src/methods/references.js';
import { crossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { InputError } from '../../src/util/errors.js';
import { letterSplits } from '../helpers/letter.js';
import { accuracy, churn } from '../../src/models/agreement.js';

const data = await letterSplits({ initial: 600, validation: 200, newBatch: 600, test: 2000 });
const K = data.spec.classNames.length;
const training: TrainingConfig = { epochs: 25, batchSize: 64, optimizer: 'adam', learningRate: 0.01, patience: 0, monitor: 'loss' };
const updateTrain = concatDatasets(data.initial, data.newBatch);
const { trained: base } = await fitModel({
  architecture: { kind: 'mlp', hidden: [64] },
  preprocessing: data.spec,
  train: data.initial,
  validation: data.validation,
  objective: crossEntropyObjective(),
  training,
  seed: 1,
});
const predict = (m: typeof base) => argmaxRows(predictLogits(m.model, data.test.features, [16]), K);
const basePred = predict(base);

test('distillation with λ = 0.9 stays far closer to the base model than plain retraining', async () => {
  const plain = await trainUpdate({ base, train: updateTrain, validation: data.validation, method: { method: 'plain' }, training, seed: 2 });
  const distilled = await trainUpdate({ base, train: updateTrain, validation: data.validation, method: { method: 'distill', lambda: 0.9 }, training, seed: 2 });
  const churnPlain = churn(predict(plain.trained), basePred);
  const churnDistilled = churn(predict(distilled.trained), basePred);
  assert.ok(churnDistilled < 0.75 * churnPlain, `churn plain ${churnPlain}, distilled ${churnDistilled}`);
  assert.equal(distilled.trained.meta.recipe.method, 'distill');
  assert.deepEqual(distilled.trained.meta.recipe.params, { lambda: 0.9 });
  assert.deepEqual(distilled.trained.meta.recipe.objectiveParams, { lambda: 0.9 });
});

test('the teacher runs once per training example, not once per step', async () => {
  const originalPredict = base.model.predict.bind(base.model);
  let rows = 0;
  base.model.predict = ((x: any, args?: any) => {
    rows += x.shape[0];
    return originalPredict(x, args);
  }) as typeof base.model.predict;
  try {
    const out = await trainUpdate({ base, train: updateTrain, validation: data.validation, method: { method: 'anchor', alpha: 0.5, epsilon: 0.5 }, training: { ...training, epochs: 3 }, seed: 3 });
    assert.equal(rows, updateTrain.labels.length);
    assert.ok(out.result.steps > 3 * 10);
  } finally {
    base.model.predict = originalPredict;
  }
});

const valPredOf = (m: typeof base) => argmaxRows(predictLogits(m.model, data.validation.features, [16]), K);

test('churn budget, met: every λ is within a budget of 100%, and the most accurate one is returned', async () => {
  const outcome = await trainUpdate({
    base,
    train: updateTrain,
    validation: data.validation,
    method: { method: 'churn-budget', maxChurn: 1, lambdas: [0, 0.5, 0.95], refinements: 1 },
    training: { ...training, epochs: 8 },
    seed: 4,
  });
  const sweep = outcome.sweep!;
  assert.equal(sweep.budgetMet, true);
  assert.equal(sweep.points.length, 3, 'nothing to bisect when all are within the budget');
  assert.ok(sweep.points.every((p) => p.withinBudget));
  const chosen = sweep.points.find((p) => p.lambda === sweep.chosenLambda)!;
  assert.equal(chosen.validationAccuracy, Math.max(...sweep.points.map((p) => p.validationAccuracy)));
  // The returned model is the one measured: its validation churn matches the sweep.
  assert.equal(churn(valPredOf(outcome.trained), valPredOf(base)), chosen.validationChurn);
  assert.equal(outcome.trained.meta.recipe.chosenLambda, sweep.chosenLambda);
  assert.equal(outcome.trained.meta.recipe.budgetMet, true);
});

test('churn budget, unmet: with a budget of 0 and only plain retraining, the lowest-churn model comes back flagged', async () => {
  const outcome = await trainUpdate({
    base,
    train: updateTrain,
    validation: data.validation,
    method: { method: 'churn-budget', maxChurn: 0, lambdas: [0, 0.1], refinements: 2 },
    training: { ...training, epochs: 8 },
    seed: 4,
  });
  const sweep = outcome.sweep!;
  assert.equal(sweep.budgetMet, false);
  assert.ok(sweep.points.every((p) => !p.withinBudget && p.validationChurn > 0));
  const lowest = Math.min(...sweep.points.map((p) => p.validationChurn));
  assert.equal(sweep.points.find((p) => p.lambda === sweep.chosenLambda)!.validationChurn, lowest);
  assert.equal(churn(valPredOf(outcome.trained), valPredOf(base)), lowest);
  assert.equal(outcome.trained.meta.recipe.budgetMet, false);
});

test('codistill trains the new model together with a peer: w = 0 is plain training, w > 0 changes it; recorded without a reference', async () => {
  const short = { ...training, epochs: 3 }; // 19 steps an epoch: burn-in 23 steps, then 34 codistilled
  const weightsOf = (m: typeof base) => m.model.getWeights().map((w) => Array.from(w.dataSync()));
  const plain = await trainUpdate({ base, train: updateTrain, validation: data.validation, method: { method: 'plain' }, training: short, seed: 6 });
  const alone = await trainUpdate({ base, train: updateTrain, validation: data.validation, method: { method: 'codistill', weight: 0, syncEvery: 10 }, training: short, seed: 6 });
  assert.deepEqual(weightsOf(alone.trained), weightsOf(plain.trained));
  const out = await trainUpdate({ base, train: updateTrain, validation: data.validation, method: { method: 'codistill', weight: 1, syncEvery: 10 }, training: short, seed: 6 });
  assert.notDeepEqual(weightsOf(out.trained), weightsOf(plain.trained));
  assert.equal(out.result.steps, 57);
  assert.equal(out.trained.meta.recipe.method, 'codistill');
  assert.deepEqual(out.trained.meta.recipe.params, { weight: 1, syncEvery: 10, burnIn: 0.4, burnInSteps: 23 });
  assert.equal(out.trained.meta.recipe.reference, undefined);
  assert.equal(out.trained.meta.recipe.objective, 'codistillation');
  assert.ok(accuracy(predict(out.trained), data.test.labels) > 0.3);
  for (const m of [plain, alone, out]) m.trained.model.dispose();
});

test('kd trains from the registry, recording method, parameters and reference', async () => {
  for (const method of [{ method: 'kd', alpha: 0.7, temperature: 2 }] as const) {
    const out = await trainUpdate({ base, train: updateTrain, validation: data.validation, method, training: { ...training, epochs: 3 }, seed: 6 });
    const { method: name, ...params } = method;
    assert.equal(out.trained.meta.recipe.method, name);
    assert.deepEqual(out.trained.meta.recipe.params, params);
    assert.deepEqual(out.trained.meta.recipe.reference, { kind: 'base', modelIds: [base.meta.id!] });
    assert.ok(accuracy(predict(out.trained), data.test.labels) > 0.3);
    out.trained.model.dispose();
  }
});

test('reference sources: one cache serves several methods; ensembles and logged logits are read as given', async () => {
  const references = new ReferenceCache();
  const originalPredict = base.model.predict.bind(base.model);
  let rows = 0;
  base.model.predict = ((x: any, args?: any) => ((rows += x.shape[0]), originalPredict(x, args))) as typeof base.model.predict;
  try {
    for (const method of ['distill', 'anchor'] as const) {
      const out = await trainUpdate({ base, train: updateTrain, validation: data.validation, method, references, training: { ...training, epochs: 1 }, seed: 7 });
      out.trained.model.dispose();
    }
  } finally {
    base.model.predict = originalPredict;
  }
  assert.equal(rows, updateTrain.labels.length, 'the base model ran once for both methods');

  const ensemble = { kind: 'ensemble' as const, models: [base, base] };
  const viaEnsemble = references.get(ensemble, base, updateTrain);
  const viaBase = references.get({ kind: 'base' }, base, updateTrain);
  const idx = Int32Array.from([0, 5, 9]);
  assert.deepEqual(Array.from(viaEnsemble.rows(idx).dataSync()), Array.from(viaBase.rows(idx).dataSync()));
  assert.equal(references.get(ensemble, base, updateTrain), viaEnsemble);

  const logged = new Float32Array(updateTrain.labels.length * K).fill(0.25);
  const out = await trainUpdate({ base, train: updateTrain, validation: data.validation, method: 'kd', reference: { kind: 'logged', logits: logged, source: 'logged.csv' }, training: { ...training, epochs: 1 }, seed: 8 });
  assert.deepEqual(out.trained.meta.recipe.reference, { kind: 'logged', modelIds: [] });
  out.trained.model.dispose();
  await assert.rejects(
    trainUpdate({ base, train: updateTrain, validation: data.validation, method: 'kd', reference: { kind: 'logged', logits: logged.subarray(1), source: 'logged.csv' }, training, seed: 8 }),
    (e: unknown) => e instanceof InputError && /^logged\.csv: has/.test(e.message),
  );
});

test('data whose classes differ from the base model is refused with an InputError', async () => {
  const fewer = { ...updateTrain, classNames: updateTrain.classNames.slice(0, 5) };
  await assert.rejects(
    trainUpdate({ base, train: fewer, validation: data.validation, method: { method: 'plain' }, training, seed: 5 }),
    (e: unknown) => e instanceof InputError,
  );
});

test('base model accuracy is well above chance (sanity of the fixture)', () => {
  assert.ok(accuracy(basePred, data.test.labels) > 0.5);
});
