import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tfjs.js';
import { buildModel } from '../../src/models/build.js';
import { crossEntropyObjective } from '../../src/objectives/objectives.js';
import { snapshotOptimizer, type OptimizerSnapshot } from '../../src/engine/optimizer.js';
import { trainModel } from '../../src/train/trainer.js';
import { everySteps } from '../../src/train/callbacks.js';
import { letterSplits } from '../helpers/letter.js';

const data = await letterSplits({ initial: 700, validation: 100, newBatch: 0, test: 100 });
const K = data.spec.classNames.length;
// Dropout included: its mask stream is part of the state a resumed run must restore.
const mlp = () => buildModel({ kind: 'mlp', hidden: [32], dropout: 0.2 }, [16], K, 9);
const opts = { objective: crossEntropyObjective(), batchSize: 64, learningRate: 0.01, epochs: 100, seed: 4 };

// Same kernels on the same shapes in one process: a resumed run must give the identical weights.
test('a run resumed from a checkpoint (weights, optimizer state, step) ends bit for bit where the uninterrupted run ends', async () => {
  const total = 37; // 11 batches an epoch: the interruption falls mid-epoch
  const straight = mlp();
  await trainModel(straight, data.initial, { ...opts, maxSteps: total });

  const first = mlp();
  let saved: { weights: Float32Array[]; optimizer: OptimizerSnapshot } | undefined;
  await trainModel(first, data.initial, {
    ...opts,
    maxSteps: 25,
    callbacks: [everySteps(25, async (_s, state) => {
      saved = { weights: first.getWeights().map((w) => new Float32Array(w.dataSync())), optimizer: await snapshotOptimizer(state.optimizer) };
    })],
  });
  assert.ok(saved);
  const resumed = mlp(); // a fresh process would build the model anew, then load the checkpoint
  resumed.setWeights(saved.weights.map((w, i) => tf.tensor(w, resumed.weights[i].shape as number[])));
  const result = await trainModel(resumed, data.initial, { ...opts, maxSteps: total, resume: { steps: 25, optimizer: saved.optimizer } });
  assert.equal(result.steps, total);
  const a = straight.getWeights().map((w) => Array.from(w.dataSync()));
  const b = resumed.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(b, a);
});
