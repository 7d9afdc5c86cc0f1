import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/index.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { runUpdateExperiment } from '../../src/experiments/updateExperiment.js';
import { runUpdateExperimentParallel } from '../../src/experiments/parallel.js';

await initEngine();

test('trials in worker threads give exactly the numbers of a sequential run', async () => {
  const cfg = parseExperimentConfig({
    seeds: [3, 4, 5],
    split: { initial: 300, validation: 100, newBatch: 300 },
    testSize: 1000,
    model: { kind: 'mlp', hidden: [32] },
    training: { epochs: 4, patience: 0 },
    methods: ['plain', { method: 'distill', lambda: 0.5 }],
    bootstrap: { resamples: 200 },
  });
  const sequential = await runUpdateExperiment(cfg);
  const parallel = await runUpdateExperimentParallel(cfg, {}, { jobs: 2 });
  // Bit for bit on purpose: worker threads of this process run the same engine and kernels
  // on the same shapes, so a trial must not depend on where or in which order it runs.
  assert.deepEqual(parallel.trials, sequential.trials);
  assert.deepEqual(parallel.base, sequential.base);
  assert.deepEqual(parallel.summary, sequential.summary);
  assert.deepEqual(parallel.trials.map((t) => t.seed), [3, 3, 4, 4, 5, 5]);
});

test('an error in a worker reaches the caller', async () => {
  const cfg = parseExperimentConfig({ seeds: [1, 2], split: { initial: 19000, validation: 100, newBatch: 1000 }, testSize: 100, training: { epochs: 1 } });
  await assert.rejects(runUpdateExperimentParallel(cfg, {}, { jobs: 2 }), /needs 20100 examples|only/);
});
