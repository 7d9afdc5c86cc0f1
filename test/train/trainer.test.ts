import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tfjs.js';
import { buildModel } from '../../src/models/build.js';
import { argmaxRows, predictLogits } from '../../src/models/predict.js';
import { crossEntropyObjective, distillationObjective } from '../../src/objectives/targetObjectives.js';
import { trainModel, evaluate } from '../../src/train/trainer.js';
import { CachedReference, staleReferenceRefresh, type ReferenceProvider } from '../../src/train/reference.js';
import { InputError } from '../../src/util/errors.js';
import { everySteps } from '../../src/train/callbacks.js';
import { logProgress } from '../../src/train/progress.js';
import { letterSplits } from '../helpers/letter.js';
import { accuracy } from '../../src/models/agreement.js';

const data = await letterSplits({ initial: 800, validation: 200, newBatch: 0, test: 1000 });
const K = data.spec.classNames.length;
const mlp = (seed: number) => buildModel({ kind: 'mlp', hidden: [32] }, [16], K, seed);

async function weightsOf(model: ReturnType<typeof mlp>): Promise<number[]> {
  return model.getWeights().flatMap((w) => Array.from(w.dataSync()));
}

test('training on real data lowers the loss and beats chance by far', async () => {
  const model = mlp(1);
  const result = await trainModel(model, data.initial, { objective: crossEntropyObjective(), epochs: 15, batchSize: 32, learningRate: 0.01, seed: 1 });
  assert.equal(result.epochsRun, 15);
  assert.ok(result.history[14].loss < result.history[0].loss * 0.6, `loss ${result.history[0].loss} → ${result.history[14].loss}`);
  const acc = accuracy(argmaxRows(predictLogits(model, data.test.features, [16]), K), data.test.labels);
  assert.ok(acc > 0.5, `test accuracy ${acc}`);
});

test('the same seed gives identical weights; another seed does not', async () => {
  const run = async (seed: number) => {
    const model = mlp(seed);
    await trainModel(model, data.initial, { objective: crossEntropyObjective(), epochs: 2, seed });
    return weightsOf(model);
  };
  const a = await run(5);
  const b = await run(5);
  const c = await run(6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('early stopping keeps the weights of the best validation epoch', async () => {
  const model = mlp(2);
  // A large learning rate makes validation loss turn up quickly.
  const result = await trainModel(model, data.initial, {
    objective: crossEntropyObjective(),
    epochs: 200,
    learningRate: 0.05,
    validation: data.validation,
    earlyStopping: { patience: 3 },
    seed: 2,
  });
  assert.ok(result.stoppedEarly, 'expected early stopping');
  const best = Math.min(...result.history.map((h) => h.valLoss!));
  assert.equal(result.history[result.bestEpoch - 1].valLoss, best);
  assert.ok(Math.abs(evaluate(model, data.validation).loss - best) < 1e-4);
});

test("early stopping on validation accuracy keeps the most accurate epoch (ties: the lower loss)", async () => {
  const model = mlp(2);
  const result = await trainModel(model, data.initial, {
    objective: crossEntropyObjective(),
    epochs: 200,
    learningRate: 0.05,
    validation: data.validation,
    earlyStopping: { patience: 3, monitor: 'accuracy' },
    seed: 2,
  });
  assert.ok(result.stoppedEarly, 'expected early stopping');
  const bestAcc = Math.max(...result.history.map((h) => h.valAccuracy!));
  const kept = result.history[result.bestEpoch - 1];
  assert.equal(kept.valAccuracy, bestAcc);
  const tied = result.history.filter((h) => h.valAccuracy === bestAcc && h.epoch <= result.bestEpoch);
  assert.equal(kept.valLoss, Math.min(...tied.map((h) => h.valLoss!)));
  // stopped `patience` epochs after the last improvement
  assert.equal(result.epochsRun, result.bestEpoch + 3);
  assert.ok(Math.abs(evaluate(model, data.validation).accuracy - bestAcc) < 1e-6);
});

test('example weights act: zero weight on one class leaves it unlearned', async () => {
  const target = data.initial.labels[0];
  const weights = Float32Array.from(data.initial.labels, (y) => (y === target ? 0 : 1));
  const model = mlp(3);
  await trainModel(model, data.initial, { objective: crossEntropyObjective(), exampleWeights: weights, epochs: 15, learningRate: 0.01, seed: 3 });
  const pred = argmaxRows(predictLogits(model, data.test.features, [16]), K);
  const ofClass = [...data.test.labels.keys()].filter((i) => data.test.labels[i] === target);
  const recall = ofClass.filter((i) => pred[i] === target).length / ofClass.length;
  assert.ok(recall < 0.1, `recall of the zero-weight class is ${recall}`);
});

test('reference logits are asked for exactly the rows of each batch, every row once per epoch', async () => {
  const teacher = mlp(4);
  const cached = new CachedReference(predictLogits(teacher, data.initial.features, [16]), K);
  const seen: number[] = [];
  let steps = 0;
  const recording: ReferenceProvider = {
    numClasses: K,
    rows: (idx) => {
      seen.push(...idx);
      return cached.rows(idx);
    },
  };
  const counting = { onBatchBegin: () => void steps++ };
  const result = await trainModel(mlp(5), data.initial, { objective: distillationObjective(0.5), reference: recording, epochs: 2, batchSize: 64, seed: 4, callbacks: [counting] });
  assert.equal(steps, result.steps);
  assert.equal(seen.length, 2 * data.initial.labels.length);
  assert.deepEqual([...new Set(seen)].sort((a, b) => a - b), [...data.initial.labels.keys()]);
});

test('an objective that needs a teacher without one is refused', async () => {
  await assert.rejects(trainModel(mlp(6), data.initial, { objective: distillationObjective(0.5), epochs: 1, seed: 1 }), /needs reference logits/);
});

test('plain log-line progress reports epochs and the final state', async () => {
  const lines: string[] = [];
  await trainModel(mlp(7), data.initial, { objective: crossEntropyObjective(), epochs: 4, seed: 7, validation: data.validation, progress: logProgress((l) => lines.push(l), 2), label: 'unit' });
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^unit: 2\/4 loss=\d/);
  assert.match(lines[2], /^unit: done at 4\/4 .*val_acc=/);
});

test('training leaks no tensors', async () => {
  const model = mlp(8);
  await trainModel(model, data.initial, { objective: crossEntropyObjective(), epochs: 1, seed: 8 });
  const before = tf.memory().numTensors;
  await trainModel(model, data.initial, { objective: crossEntropyObjective(), epochs: 2, seed: 8, validation: data.validation, earlyStopping: { patience: 1 } });
  assert.equal(tf.memory().numTensors, before);
});

test('maxSteps ends training after that many optimizer steps, mid-epoch', async () => {
  const result = await trainModel(mlp(9), data.initial, { objective: crossEntropyObjective(), epochs: 5, batchSize: 64, maxSteps: 7, seed: 9 });
  assert.equal(result.steps, 7);
  assert.equal(result.epochsRun, 1);
  assert.equal(result.stoppedEarly, false);
});

test('callbacks see every hook in order, and one can stop training', async () => {
  const events: string[] = [];
  const result = await trainModel(mlp(10), data.initial, {
    objective: crossEntropyObjective(),
    epochs: 5,
    batchSize: 400,
    seed: 10,
    callbacks: [
      {
        onTrainBegin: () => void events.push('train-begin'),
        onEpochBegin: (e) => void events.push(`epoch-begin ${e}`),
        onBatchBegin: (s) => void events.push(`batch-begin ${s}`),
        onBatchEnd: (s, loss) => void events.push(`batch-end ${s} ${Number.isFinite(loss)}`),
        onEpochEnd: (r, state) => {
          events.push(`epoch-end ${r.epoch}`);
          if (r.epoch === 2) state.stopTraining = true;
        },
        onTrainEnd: (state) => void events.push(`train-end ${state.steps}`),
      },
    ],
  });
  assert.deepEqual(events, [
    'train-begin',
    'epoch-begin 1', 'batch-begin 0', 'batch-end 1 true', 'batch-begin 1', 'batch-end 2 true', 'epoch-end 1',
    'epoch-begin 2', 'batch-begin 2', 'batch-end 3 true', 'batch-begin 3', 'batch-end 4 true', 'epoch-end 2',
    'train-end 4',
  ]);
  assert.equal(result.epochsRun, 2);
  assert.equal(result.stoppedEarly, true);
});

test('stale-reference refresh replaces the reference logits every R steps, before the step', async () => {
  const K2 = K;
  const cached = new CachedReference(new Float32Array(data.initial.labels.length * K2), K2);
  const reloads: number[] = [];
  const seenFirst: number[] = [];
  const watching: ReferenceProvider = { numClasses: K2, rows: (idx) => { const t = cached.rows(idx); seenFirst.push(t.dataSync()[0]); return t; } };
  await trainModel(mlp(11), data.initial, {
    objective: distillationObjective(0.5),
    reference: watching,
    epochs: 1,
    batchSize: 100,
    seed: 11,
    callbacks: [staleReferenceRefresh(cached, 3, (step) => (reloads.push(step), new Float32Array(cached.size * K2).fill(step + 1)))],
  });
  assert.deepEqual(reloads, [0, 3, 6]);
  assert.deepEqual(seenFirst, [1, 1, 1, 4, 4, 4, 7, 7]);
});

test('example weights that are NaN, negative or all zero are refused with a clear error', async () => {
  const n = data.initial.labels.length;
  const run = (w: Float32Array) => trainModel(mlp(12), data.initial, { objective: crossEntropyObjective(), exampleWeights: w, epochs: 1, seed: 12 });
  const withAt = (i: number, v: number) => Float32Array.from({ length: n }, (_, j) => (j === i ? v : 1));
  await assert.rejects(run(withAt(5, Number.NaN)), (e: unknown) => e instanceof InputError && /example weights: weight 5 is NaN/.test(e.message));
  await assert.rejects(run(withAt(2, -1)), (e: unknown) => e instanceof InputError && /weight 2 is -1; weights must not be negative/.test(e.message));
  await assert.rejects(run(new Float32Array(n)), (e: unknown) => e instanceof InputError && /every weight is 0/.test(e.message));
  await assert.rejects(run(new Float32Array(n - 1).fill(1)), /weights for/);
});

test('checkpoint publication every R steps is a callback (everySteps), after the step', async () => {
  const published: number[] = [];
  const result = await trainModel(mlp(13), data.initial, {
    objective: crossEntropyObjective(),
    epochs: 2,
    batchSize: 100,
    seed: 13,
    callbacks: [everySteps(5, (step, state) => void published.push(step, state.steps))],
  });
  assert.equal(result.steps, 16);
  assert.deepEqual(published, [5, 5, 10, 10, 15, 15]);
  assert.throws(() => everySteps(0, () => {}), /positive integer/);
});

test('an objective asking for inference logits gets the dropout-free pass of the same rows, with gradients through it', async () => {
  const model = buildModel({ kind: 'mlp', hidden: [32], dropout: 0.5 }, [16], K, 3);
  const seen: { maxGap: number; trainGap: number }[] = [];
  const probe = {
    name: 'probe',
    params: {},
    needsReference: false,
    needsInferenceLogits: true,
    perExampleLoss: (ctx: Parameters<ReturnType<typeof crossEntropyObjective>['perExampleLoss']>[0]) => {
      if (seen.length < 3) {
        const inference = ctx.inferenceLogits!;
        // recompute the inference pass from the model: the trainer's copy must match it
        const again = model.apply(tf.tensor2d(lastBatch!, [inference.shape[0], 16]), { training: false }) as tf.Tensor2D;
        seen.push({
          maxGap: tf.max(tf.abs(tf.sub(inference, again))).dataSync()[0],
          trainGap: tf.max(tf.abs(tf.sub(ctx.logits, inference))).dataSync()[0],
        });
      }
      // the loss is the inference pass's cross entropy only: training must still learn
      return crossEntropyObjective().perExampleLoss({ ...ctx, logits: ctx.inferenceLogits! });
    },
  };
  let lastBatch: Float32Array | undefined;
  const rows = data.initial;
  // remember the features of each training pass (the trainer's x) to recompute the inference pass
  const original = model.apply.bind(model);
  model.apply = ((x: tf.Tensor, kw?: { training?: boolean }) => {
    if (kw?.training) lastBatch = (x as tf.Tensor).dataSync() as Float32Array;
    return original(x, kw);
  }) as typeof model.apply;
  const before = accuracy(argmaxRows(predictLogits(model, data.test.features, [16]), K), data.test.labels);
  await trainModel(model, rows, { objective: probe, epochs: 5, batchSize: 32, learningRate: 0.01, seed: 3 });
  const after = accuracy(argmaxRows(predictLogits(model, data.test.features, [16]), K), data.test.labels);
  assert.equal(seen.length, 3);
  for (const s of seen) {
    assert.ok(s.maxGap < 1e-5, `inference logits differ from a dropout-free pass by ${s.maxGap}`);
    assert.ok(s.trainGap > 1e-3, 'the training pass (dropout 0.5) should differ from the inference pass');
  }
  assert.ok(after > before + 0.2, `accuracy ${before} → ${after}: gradients must flow through the inference pass`);
});
