import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subsetDataset } from '../../src/data/types.js';
import { codistillTogether } from '../../src/train/codistillTogether.js';
import { shardRows } from '../../src/codistill/shards.js';
import { buildModel } from '../../src/models/build.js';
import { crossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { trainModel } from '../../src/train/trainer.js';
import { argmaxRows, predictLogits } from '../../src/models/predict.js';
import { letterSplits } from '../helpers/letter.js';
import { churn } from '../../src/models/agreement.js';

const data = await letterSplits({ initial: 3000, validation: 100, newBatch: 0, test: 1500 });
const arch = { kind: 'mlp' as const, hidden: [32] };
const shards = [0, 1].map((i) => subsetDataset(data.initial, shardRows(3000, 2, i, 0, 7)));
const config = { steps: 240, syncEvery: 20, weight: 1, burnIn: 0.4, batchSize: 32, learningRate: 0.002 };
const predict = (m: ReturnType<typeof buildModel>) => argmaxRows(predictLogits(m, data.test.features, [16]), 26);

test('shards are disjoint, cover the rows, and grow by the overlap fraction', () => {
  const a = shardRows(1001, 3, 0, 0, 1), b = shardRows(1001, 3, 1, 0, 1), c = shardRows(1001, 3, 2, 0, 1);
  const all = new Set([...a, ...b, ...c]);
  assert.equal(all.size, 1001);
  assert.equal(a.length + b.length + c.length, 1001);
  assert.equal(shardRows(1001, 3, 0, 0.5, 1).length, a.length + Math.round(0.5 * a.length));
  assert.deepEqual(Array.from(shardRows(1001, 3, 0, 0.5, 1).subarray(0, a.length)), Array.from(a));
});

// Same kernels, same shapes, one process: synchronous rounds make a run a function of its seeds.
test('in-process codistillation is deterministic, and the copies end closer to each other than independent copies', async () => {
  const short = { ...config, steps: 60, burnIn: 0.25, syncEvery: 15 }; // distilling from step 15 on
  const { models: [s0] } = await codistillTogether({ architecture: arch, shards, seeds: [11, 12], config: short });
  const { models: [r0] } = await codistillTogether({ architecture: arch, shards, seeds: [11, 12], config: short });
  assert.deepEqual(r0.getWeights().map((w) => Array.from(w.dataSync())), s0.getWeights().map((w) => Array.from(w.dataSync())));
  const { models: [a0, a1] } = await codistillTogether({ architecture: arch, shards, seeds: [11, 12], config });
  // The same two copies trained without the peers' term (w = 0) disagree more.
  const { models: [p0, p1] } = await codistillTogether({ architecture: arch, shards, seeds: [11, 12], config: { ...config, weight: 0 } });
  const codistilled = churn(predict(a0), predict(a1));
  const independent = churn(predict(p0), predict(p1));
  assert.ok(codistilled < independent * 0.85, `codistilled copies disagree on ${codistilled}, independent ones on ${independent}`);
  // w = 0 is plain training: identical to trainModel on the shard with the same seed.
  const plain = buildModel(arch, [16], 26, 11);
  await trainModel(plain, shards[0], { objective: crossEntropyObjective(), maxSteps: 240, epochs: 100, batchSize: 32, learningRate: 0.002, seed: 11 });
  assert.deepEqual(plain.getWeights().map((w) => Array.from(w.dataSync())), p0.getWeights().map((w) => Array.from(w.dataSync())));
});
