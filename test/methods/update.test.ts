import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatDatasets } from '../../src/data/types.js';
import { argmaxRows, predictLogits } from '../../src/models/predict.js';
import { fitModel, type TrainingConfig } from '../../src/methods/fit.js';
import { trainUpdate } from '../../src/methods/update.js';
import { crossEntropyObjective } from '../../src/objectives/objectives.js';
import { InputError } from '../../src/util/errors.js';
import { accuracy, disagreement, letterSplits } from '../helpers/letter.js';

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
  const churnPlain = disagreement(predict(plain.trained), basePred);
  const churnDistilled = disagreement(predict(distilled.trained), basePred);
  assert.ok(churnDistilled < 0.75 * churnPlain, `churn plain ${churnPlain}, distilled ${churnDistilled}`);
  assert.equal(distilled.trained.meta.recipe.method, 'distill');
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

test('churn budget returns the most accurate λ whose validation churn is within the budget', async () => {
  const outcome = await trainUpdate({
    base,
    train: updateTrain,
    validation: data.validation,
    method: { method: 'churn-budget', maxChurn: 0.12, lambdas: [0, 0.5, 0.95], refinements: 1 },
    training: { ...training, epochs: 15 },
    seed: 4,
  });
  const sweep = outcome.sweep!;
  assert.ok(sweep.points.length >= 3 && sweep.points.length <= 4);
  const within = sweep.points.filter((p) => p.withinBudget);
  if (sweep.budgetMet) {
    const best = Math.max(...within.map((p) => p.validationAccuracy));
    const chosen = sweep.points.find((p) => p.lambda === sweep.chosenLambda)!;
    assert.ok(chosen.withinBudget);
    assert.equal(chosen.validationAccuracy, best);
  } else {
    assert.equal(within.length, 0);
  }
  // The returned model is the one measured: its validation churn matches the sweep.
  const chosen = sweep.points.find((p) => p.lambda === sweep.chosenLambda)!;
  const valPred = argmaxRows(predictLogits(outcome.trained.model, data.validation.features, [16]), K);
  const baseVal = argmaxRows(predictLogits(base.model, data.validation.features, [16]), K);
  assert.equal(disagreement(valPred, baseVal), chosen.validationChurn);
  assert.equal(outcome.trained.meta.recipe.chosenLambda, sweep.chosenLambda);
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
