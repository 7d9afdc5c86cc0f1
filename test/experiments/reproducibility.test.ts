import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/index.js';
import { parseReproducibilityConfig, runReproducibility } from '../../src/experiments/reproducibility.js';
import { InputError } from '../../src/util/errors.js';

test('reproducibility: churn and PD between paired retrains per recipe, ratios to plain on the same seed pairs', async () => {
  await initEngine();
  const cfg = parseReproducibilityConfig({
    data: 'letter', testSize: 500, trainSize: 1000, model: { kind: 'mlp', hidden: [16] },
    training: { steps: 40, learningRate: 0.003 }, codistill: { syncEvery: 10 }, runs: 4,
  });
  const r = await runReproducibility(cfg, { jobs: 2 });
  // each retrain is a function of (config, recipe, run): the worker pool gives the sequential numbers
  const sequential = await runReproducibility(cfg, { jobs: 1 });
  assert.deepEqual(sequential.recipes.map((s) => s.pairs), r.recipes.map((s) => s.pairs));
  assert.deepEqual(r.recipes.map((s) => s.recipe), ['plain', 'codistill', 'ensemble']);
  for (const s of r.recipes) {
    assert.equal(s.pairs.length, 2);
    assert.deepEqual(s.pairs.map((p) => p.runs), [[0, 1], [2, 3]]);
    for (const p of s.pairs) {
      assert.ok(p.churn > 0 && p.churn < 1 && p.predictionDifference > 0 && p.predictionDifference < 1);
      assert.ok(p.accuracy > 1 / 26);
    }
    assert.equal(s.churn.n, 2);
  }
  const plain = r.recipes[0];
  const ens = r.recipes[2];
  assert.ok(Math.abs(ens.churnRatioToPlain!.mean - (ens.pairs[0].churn / plain.pairs[0].churn + ens.pairs[1].churn / plain.pairs[1].churn) / 2) < 1e-12);
  assert.throws(() => parseReproducibilityConfig({ runs: 1 }), InputError);
  assert.throws(() => parseReproducibilityConfig({ codistill: { workers: 1 } }), /codistill\.workers/);
  assert.throws(() => parseReproducibilityConfig({ codistill: { weight: -1 } }), /codistill\.weight/);
});
