import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/models/build.js';
import { crossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { trainModel } from '../../src/train/trainer.js';
import { everySteps } from '../../src/train/callbacks.js';
import { decodeSnapshot, encodeSnapshot, type TrainingSnapshot } from '../../src/train/snapshots.js';
import { letterSplits } from '../helpers/letter.js';

const data = await letterSplits({ initial: 700, validation: 100, newBatch: 0, test: 100 });
const K = data.spec.classNames.length;
// Dropout included: its mask stream is part of the state a resumed run must restore.
const mlp = () => buildModel({ kind: 'mlp', hidden: [32], dropout: 0.2 }, [16], K, 9);
const opts = { objective: crossEntropyObjective(), batchSize: 64, learningRate: 0.01, epochs: 100, seed: 4, validation: data.validation };

// Same kernels on the same shapes in one process: a resumed run must give the identical weights.
test('a run resumed from a snapshot taken mid-epoch ends bit for bit where the uninterrupted run ends, with the same history', async () => {
  const total = 37; // 11 batches an epoch: the interruptions fall mid-epoch (25) and on an epoch's last batch (33)
  const straight = mlp();
  const full = await trainModel(straight, data.initial, { ...opts, maxSteps: total });
  for (const at of [25, 33]) {
    const first = mlp();
    let saved: TrainingSnapshot | undefined;
    await trainModel(first, data.initial, {
      ...opts,
      maxSteps: at,
      callbacks: [everySteps(at, async (_s, state) => void (saved = decodeSnapshot(encodeSnapshot(await state.snapshot()), 'memory')))],
    });
    assert.ok(saved?.inEpoch, `the snapshot at step ${at} is mid-epoch`);
    const resumed = mlp(); // a fresh process would build the model anew, then load the snapshot
    const result = await trainModel(resumed, data.initial, { ...opts, maxSteps: total, resumeFrom: saved });
    assert.equal(result.steps, total);
    assert.deepEqual(resumed.getWeights().map((w) => Array.from(w.dataSync())), straight.getWeights().map((w) => Array.from(w.dataSync())), `resumed at step ${at}`);
    assert.deepEqual(result.history, full.history);
    first.dispose();
    resumed.dispose();
  }
});
