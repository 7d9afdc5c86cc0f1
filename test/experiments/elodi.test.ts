/**
 * What the data say about ELODI (Zhao et al. 2022) on this project's models, asserted on this
 * test's own experiment (fixtures/elodi-findings.yaml: the main job's protocol at reduced
 * scale). docs/elodi.md has the search and the full-scale run. Paired by seed, on one-sided
 * 95% t-bounds, so that another BLAS kernel or engine (which changes each trial as another
 * seed would) does not flip a conclusion:
 *
 * 1. the homogeneous ensemble of the new architecture (the paragon) is more accurate than
 *    plain retraining AND breaks fewer of the old model's correct predictions: the reference
 *    ELODI distils is worth approaching;
 * 2. but the paper's ELODI setting (two-sided LDI, ξ = 0, α = 0.8) does not transfer to these
 *    dropout MLPs: it is LESS accurate than plain retraining and has MORE negative flips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { engineInfo, initEngine } from '../../src/engine/index.js';
import { loadExperimentConfig } from '../../src/experiments/config.js';
import { runUpdateExperimentParallel } from '../../src/experiments/parallel.js';
import { meanCI, type MeanCI } from '../../src/metrics/bootstrap.js';
import type { ComparisonMetrics } from '../../src/metrics/compare.js';

const CONFIG = fileURLToPath(new URL('./fixtures/elodi-findings.yaml', import.meta.url));
/** Two-sided level of the intervals whose one end is checked: each check is a one-sided 95% test. */
const LEVEL = 0.9;

await initEngine();
const cfg = await loadExperimentConfig(CONFIG);
const result = await runUpdateExperimentParallel(cfg);
const engine = `${engineInfo()?.backend}/${engineInfo()?.blas ?? '-'}`;

const indexOf = (method: string) => result.summary.find((s) => s.spec.method === method)!.methodIndex;
/** Per-seed difference a − b of one metric, as a mean with its t-interval over seeds. */
function paired(a: string, b: string, metric: (m: ComparisonMetrics) => number): MeanCI {
  const by = (i: number) => new Map(result.trials.filter((t) => t.methodIndex === i).map((t) => [t.seed, metric(t.metrics)]));
  const A = by(indexOf(a));
  const B = by(indexOf(b));
  return meanCI(cfg.seeds.map((s) => A.get(s)! - B.get(s)!), LEVEL);
}
const pt = (c: MeanCI) => `${(100 * c.mean).toFixed(2)} pt [${(100 * c.low!).toFixed(2)}, ${(100 * c.high!).toFixed(2)}]`;
const accuracy = (m: ComparisonMetrics) => m.accuracyNew.estimate;
const nfr = (m: ComparisonMetrics) => m.nfr.estimate;

test('the experiment: plain, the paper\'s ELODI and the paragon over ≥ 4 seeds, the paragon at m× inference cost', () => {
  assert.ok(cfg.seeds.length >= 4);
  assert.equal(result.trials.length, cfg.seeds.length * cfg.methods.length);
  const paragon = result.summary.find((s) => s.spec.method === 'ensemble')!;
  assert.equal(paragon.inferenceCost, 4);
  assert.equal(result.summary.find((s) => s.spec.method === 'elodi')!.inferenceCost, 1);
});

test('the ensemble paragon is more accurate than plain retraining and has fewer negative flips', (t) => {
  const dAcc = paired('ensemble', 'plain', accuracy);
  const dNfr = paired('ensemble', 'plain', nfr);
  const msg = `${engine}: paragon − plain: accuracy ${pt(dAcc)}, NFR ${pt(dNfr)}`;
  t.diagnostic(msg);
  assert.ok(dAcc.low! > 0, msg);
  assert.ok(dNfr.high! < 0, msg);
});

test("the paper's ELODI setting does not transfer to these dropout MLPs: less accurate than plain, more negative flips", (t) => {
  const dAcc = paired('elodi', 'plain', accuracy);
  const dNfr = paired('elodi', 'plain', nfr);
  const msg = `${engine}: ELODI (α=0.8, ξ=0, two-sided) − plain: accuracy ${pt(dAcc)}, NFR ${pt(dNfr)}`;
  t.diagnostic(msg);
  assert.ok(dAcc.high! < 0, msg);
  assert.ok(dNfr.low! > 0, msg);
});
