import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/index.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { runUpdateExperiment } from '../../src/experiments/updateExperiment.js';
import type { ProgressSink } from '../../src/train/progress.js';

await initEngine();

test('a YAML experiment runs kd, codistill and an ensemble reference trained once per seed and shared', async () => {
  const cfg = parseExperimentConfig({
    seeds: [2],
    split: { initial: 200, validation: 100, newBatch: 200 },
    testSize: 500,
    model: { kind: 'mlp', hidden: [16] },
    training: { epochs: 2, patience: 0 },
    methods: [
      'kd',
      { method: 'codistill', weight: 0.5 },
      { method: 'distill', lambda: 0.5, reference: { kind: 'ensemble', members: 2 } },
      { method: 'kd', reference: { kind: 'ensemble', members: 2 } },
      { method: 'distill', lambda: 0.5 },
    ],
    bootstrap: { resamples: 50 },
  });
  const labels: string[] = [];
  const recording: ProgressSink = { start: (label) => void labels.push(label), update() {}, stop() {} };
  const result = await runUpdateExperiment(cfg, { progress: recording });
  assert.deepEqual(labels.filter((l) => l.includes('ensemble member')), ['seed 2: ensemble member 1/2', 'seed 2: ensemble member 2/2']);
  assert.deepEqual(result.summary.map((s) => [s.methodIndex, s.method, s.seeds]), [
    [0, 'kd α=0.5 T=4', 1],
    [1, 'codistill w=0.5 R=50', 1],
    [2, 'distill λ=0.5', 1],
    [3, 'kd α=0.5 T=4', 1],
    [4, 'distill λ=0.5', 1],
  ]);
  // same method and seed, another reference: another model
  assert.notDeepEqual(result.trials[2].metrics, result.trials[4].metrics);
  assert.equal(result.config.kind, 'update');
});
