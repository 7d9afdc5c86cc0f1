import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitModel } from '../../src/methods/fit.js';
import { crossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { decodeSnapshot, type CheckpointStore } from '../../src/train/snapshots.js';
import type { TrainingCallback } from '../../src/train/callbacks.js';
import { letterSplits } from '../helpers/letter.js';

const data = await letterSplits({ initial: 600, validation: 150, newBatch: 0, test: 0 });

/** A store in memory that counts its saves. */
function memoryStore(): CheckpointStore & { bytes?: Uint8Array; saves: number } {
  const s = {
    where: 'memory',
    saves: 0,
    bytes: undefined as Uint8Array | undefined,
    load: async () => s.bytes,
    save: async (b: Uint8Array) => {
      s.bytes = b;
      s.saves++;
    },
  };
  return s;
}

class Killed extends Error {}
/** Ends the run like a kill at the end of epoch `epoch`, before its checkpoint (the caller's callbacks run first). */
const killAfterEpoch = (epoch: number): TrainingCallback => ({
  onEpochEnd(record) {
    if (record.epoch === epoch) throw new Killed();
  },
});

// Dropout, Adam, early stopping with a short patience: every kind of state a resume must restore.
const request = (epochs: number) => ({
  architecture: { kind: 'mlp' as const, hidden: [24], dropout: 0.3 },
  preprocessing: data.spec,
  train: data.initial,
  validation: data.validation,
  objective: crossEntropyObjective(),
  training: { epochs, batchSize: 32, optimizer: 'adam' as const, learningRate: 0.01, patience: 3, monitor: 'accuracy' as const },
  seed: 4,
});
const weightsOf = (m: Awaited<ReturnType<typeof fitModel>>) => m.trained.model.getWeights().map((w) => Array.from(w.dataSync()));

test('a run resumed from an epoch checkpoint ends with bit-identical weights and history', async () => {
  const full = await fitModel(request(12));
  for (const killAt of [2, 6, 10]) {
    const store = memoryStore();
    await assert.rejects(fitModel({ ...request(12), checkpoint: store, callbacks: [killAfterEpoch(killAt)] }), Killed);
    assert.equal(decodeSnapshot(store.bytes!, 'memory').epoch, killAt - 1);
    const resumed = await fitModel({ ...request(12), checkpoint: store });
    assert.deepEqual(weightsOf(resumed), weightsOf(full), `killed after epoch ${killAt}`);
    assert.deepEqual(resumed.result.history, full.result.history);
    assert.equal(resumed.result.bestEpoch, full.result.bestEpoch);
    resumed.trained.model.dispose();
  }
  full.trained.model.dispose();
});

test('a finished run resumes to the same model without training again', async () => {
  const store = memoryStore();
  const first = await fitModel({ ...request(4), checkpoint: store });
  const saves = store.saves;
  const again = await fitModel({ ...request(4), checkpoint: store });
  assert.equal(store.saves, saves, 'no epoch was trained again');
  assert.deepEqual(weightsOf(again), weightsOf(first));
});
