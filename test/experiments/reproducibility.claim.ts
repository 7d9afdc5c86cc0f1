/**
 * The reproducibility claim of codistillation (Anil et al. 2018; issue #10) at the scale where
 * it holds on these models — too long for `npm test` (about 5 minutes on 2 cores), so it is a
 * claim test: `npm run test:claims`. docs/codistillation.md has the search that found the regime
 * (configs/fashion-reproducibility.yaml: Fashion-MNIST, 55 000 rows seen about once, MLP [128],
 * three copies, R = 10, w = 4, burn-in 25%) on seed set 1; this test runs it on seed set 4,
 * which no run of the search used, with ten seed pairs.
 *
 * Asserted: two codistilled retrains (worker 0 of each run) disagree on fewer test rows than two
 * plain retrains — the upper end of the 95% t-interval of the per-pair churn ratio is below 1 —
 * and the prediction difference shrinks too; accuracy within 1.5 points of plain retraining's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../../src/engine/index.js';
import { loadReproducibilityConfig } from '../../src/experiments/reproducibility.js';
import { runReproducibility } from '../../src/experiments/reproducibilityStudy.js';

test('codistilled retrains disagree less than plain retrains (Fashion-MNIST 55k, 10 fresh seed pairs)', { timeout: 40 * 60_000 }, async () => {
  await initEngine();
  const cfg = await loadReproducibilityConfig(fileURLToPath(new URL('../../configs/fashion-reproducibility.yaml', import.meta.url)));
  Object.assign(cfg, { seed: 4, runs: 20, recipes: ['plain', 'codistill'] });
  const r = await runReproducibility(cfg, { log: (line) => console.log(line) });
  const [plain, codistill] = r.recipes;
  const fmt = (m: { mean: number; low: number | null; high: number | null }) => `${m.mean.toFixed(3)} [${m.low?.toFixed(3)}, ${m.high?.toFixed(3)}]`;
  console.log(`plain churn ${fmt(plain.churn)} PD ${fmt(plain.predictionDifference)} accuracy ${fmt(plain.accuracy)}`);
  console.log(`codistill churn ${fmt(codistill.churn)} PD ${fmt(codistill.predictionDifference)} accuracy ${fmt(codistill.accuracy)}`);
  console.log(`churn/plain ${fmt(codistill.churnRatioToPlain!)}, PD/plain ${fmt(codistill.pdRatioToPlain!)}; ${r.seconds.toFixed(0)} s`);
  assert.equal(codistill.pairs.length, 10);
  assert.ok(codistill.churnRatioToPlain!.high! < 1, `churn ratio ${fmt(codistill.churnRatioToPlain!)}: interval reaches 1`);
  assert.ok(codistill.pdRatioToPlain!.high! < 1, `PD ratio ${fmt(codistill.pdRatioToPlain!)}: interval reaches 1`);
  assert.ok(codistill.accuracy.mean > plain.accuracy.mean - 0.015, `accuracy ${codistill.accuracy.mean} vs plain ${plain.accuracy.mean}`);
});
