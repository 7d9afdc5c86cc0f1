/**
 * The soft-target table (train/targetTable.ts): each row's targets computed once equal the targets
 * computed per batch bit for bit; a replaced reference (stale-peer refresh) is picked up before the
 * next batch; objectives without soft targets, or references that are not a fixed table, get none;
 * and a codistillation-style run with refreshes trains to the same weights with or without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tfjs.js';
import { buildModel } from '../../src/models/build.js';
import { predictLogits } from '../../src/models/predict.js';
import { anchorObjective, distillationObjective, knowledgeDistillationObjective, labelSmoothingObjective, referenceCrossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { trainModel } from '../../src/train/trainer.js';
import { CachedReference, staleReferenceRefresh, type ReferenceProvider } from '../../src/train/reference.js';
import { SoftTargetTable, softTargetTables } from '../../src/train/targetTable.js';
import { letterSplits } from '../helpers/letter.js';

const data = await letterSplits({ initial: 700, validation: 100, newBatch: 0, test: 100 });
const K = data.spec.classNames.length;
const teacherLogits = predictLogits(buildModel({ kind: 'mlp', hidden: [16] }, [16], K, 21), data.initial.features, [16]);

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

test('table rows are the per-batch targets bit for bit (distillation, anchor, label smoothing, the reference\'s probabilities)', () => {
  const reference = new CachedReference(teacherLogits.slice(), K);
  const idx = Int32Array.from([5, 0, 699, 17, 17, 300, 42]);
  for (const objective of [distillationObjective(0.4), anchorObjective(0.8, 0.2), labelSmoothingObjective(0.1), referenceCrossEntropyObjective()]) {
    const table = SoftTargetTable.for(objective, data.initial, reference)!;
    assert.ok(table, objective.name);
    const got = table.gather(idx, new Float32Array(idx.length * K)).slice();
    const want = tf.tidy(() => {
      const labels = tf.tensor1d(Int32Array.from(idx, (i) => data.initial.labels[i]), 'int32');
      const oneHot = tf.cast(tf.oneHot(labels, K), 'float32') as tf.Tensor2D;
      return objective.softTargets!({ labels, oneHot, reference: reference.rows(idx) }).dataSync() as Float32Array;
    });
    assert.deepEqual(bits(got), bits(want), objective.name);
  }
});

test('a replaced reference is picked up at the next gather', () => {
  const reference = new CachedReference(teacherLogits.slice(), K);
  const table = SoftTargetTable.for(distillationObjective(0.5), data.initial, reference)!;
  const idx = Int32Array.from([3]);
  const before = table.gather(idx, new Float32Array(K)).slice();
  reference.update(new Float32Array(teacherLogits.length)); // all-zero logits: uniform teacher
  const after = table.gather(idx, new Float32Array(K)).slice();
  assert.notDeepEqual(Array.from(after), Array.from(before));
  const y = data.initial.labels[3];
  after.forEach((q, k) => assert.ok(Math.abs(q - (0.5 / K + (k === y ? 0.5 : 0))) < 1e-6, `class ${k}: ${q}`));
});

test('no table for objectives without soft targets, or for references that are not a fixed table', () => {
  const reference = new CachedReference(teacherLogits.slice(), K);
  assert.equal(SoftTargetTable.for(knowledgeDistillationObjective(0.5, 2), data.initial, reference), undefined);
  const computed: ReferenceProvider = { numClasses: K, rows: (idx) => reference.rows(idx) };
  assert.equal(SoftTargetTable.for(distillationObjective(0.5), data.initial, computed), undefined);
  assert.ok(SoftTargetTable.for(labelSmoothingObjective(0.1), data.initial, undefined), 'label smoothing needs no reference');
});

test('training with stale-reference refreshes gives the same weights with and without the table', async () => {
  const run = async (on: boolean) => {
    softTargetTables.enabled = on;
    try {
      const reference = new CachedReference(teacherLogits.slice(), K);
      const model = buildModel({ kind: 'mlp', hidden: [24], dropout: 0.1 }, [16], K, 8);
      let version = 0;
      await trainModel(model, data.initial, {
        objective: distillationObjective(0.5),
        reference,
        epochs: 2,
        batchSize: 32,
        seed: 8,
        callbacks: [staleReferenceRefresh(reference, 7, () => teacherLogits.map((v) => v * (1 + 0.1 * ++version)))],
      });
      return model.getWeights().map((w) => bits(w.dataSync() as Float32Array));
    } finally {
      softTargetTables.enabled = true;
    }
  };
  const [withTable, without] = [await run(true), await run(false)];
  assert.deepEqual(withTable, without);
});
