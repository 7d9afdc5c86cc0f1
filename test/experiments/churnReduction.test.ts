/**
 * The claim of Jiang et al. (ICLR 2022), on this test's own experiment
 * (fixtures/churn-claim.yaml: the main job's data, split, model and training, 10 seeds).
 * docs/methods.md ("The churn-reduction claim") states it and why it is asserted this way:
 *
 * 1. Distillation from the base model trades little accuracy for much less churn: at
 *    λ = CLAIM_LAMBDA the paired (per seed) churn reduction against plain retraining is at
 *    least MIN_CHURN_CUT and the accuracy loss at most MAX_ACCURACY_LOSS, both at the far end
 *    of their t-intervals over seeds (one-sided 95%); churn falls with every step up the λ grid.
 * 2. On the accuracy–churn frontier it does at least as well as the baselines: at the churn of
 *    each baseline setting that the λ sweep reaches, take the sweep's accuracy minus the
 *    setting's; averaged per seed over a baseline's settings, that gap is not below
 *    −NON_INFERIORITY (a one-sided 95% non-inferiority test); and no baseline setting
 *    dominates a distillation setting (less churn AND more accuracy, both beyond their
 *    one-sided 95% bounds).
 *
 * Every comparison is paired by seed (one seed = one split, base model and test set for all
 * methods) and asserted on interval bounds with a margin, so that a change of BLAS kernel,
 * seed set or engine, which changes each trial like another seed would, does not flip it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineInfo, initEngine } from '../../src/engine/index.js';
import { loadExperimentConfig } from '../../src/experiments/config.js';
import { runUpdateExperimentParallel } from '../../src/experiments/parallel.js';
import { writeExperimentRun } from '../../src/report/experimentReport.js';
import { accuracyAtMatchedChurn, dominates, pairedDifference, pooledGap, relativeReduction, type MatchedChurnComparison, type SeedPoint } from '../../src/metrics/seedComparison.js';
import type { MeanCI } from '../../src/metrics/bootstrap.js';
import type { UpdateMethodSpec } from '../../src/methods/registry.js';
import type { MethodSummary } from '../../src/experiments/updateExperiment.js';

const CLAIM_CONFIG = fileURLToPath(new URL('./fixtures/churn-claim.yaml', import.meta.url));
const CLAIM_LAMBDA = 0.4;
const MIN_CHURN_CUT = 0.15;
const MAX_ACCURACY_LOSS = 0.02;
const NON_INFERIORITY = 0.01;
/** Two-sided level of the intervals whose one end is checked: each check is a one-sided 95% test. */
const CLAIM_LEVEL = 0.9;

await initEngine();
const cfg = await loadExperimentConfig(CLAIM_CONFIG);
// Trials in worker threads (one per core): the same numbers as one after another (see parallel.test.ts).
const result = await runUpdateExperimentParallel(cfg);

const pct = (v: number) => (100 * v).toFixed(2);
const ciText = (c: MeanCI) => `${pct(c.mean)} [${pct(c.low!)}, ${pct(c.high!)}] (${100 * c.level}% interval)`;
type Distill = Extract<UpdateMethodSpec, { method: 'distill' }>;
function pointsOf(summary: MethodSummary): SeedPoint[] {
  return result.trials.filter((t) => t.methodIndex === summary.methodIndex).map((t) => ({ seed: t.seed, accuracy: t.metrics.accuracyNew.estimate, churn: t.metrics.churn.estimate }));
}
const plainSummary = result.summary.find((s) => s.spec.method === 'plain')!;
const distillSummaries = result.summary.filter((s) => s.spec.method === 'distill').sort((a, b) => (a.spec as Distill).lambda - (b.spec as Distill).lambda);
const baselineSummaries = result.summary.filter((s) => s.spec.method === 'anchor' || s.spec.method === 'label-smoothing');
const lambdaOf = (s: MethodSummary) => (s.spec as Distill).lambda;
const plain = pointsOf(plainSummary);
const sweep = [plain, ...distillSummaries.map(pointsOf)]; // λ = 0 (plain retraining), then the λ grid

test('the claim experiment: ≥ 10 seeds, plain retraining, a λ grid of ≥ 3, anchor and label smoothing', () => {
  assert.ok(cfg.seeds.length >= 10);
  assert.ok(plainSummary);
  assert.ok(distillSummaries.length >= 3 && distillSummaries.some((s) => lambdaOf(s) === CLAIM_LAMBDA));
  assert.ok(baselineSummaries.some((s) => s.spec.method === 'anchor') && baselineSummaries.some((s) => s.spec.method === 'label-smoothing'));
  assert.equal(result.trials.length, cfg.seeds.length * cfg.methods.length);
});

test(`distillation at λ=${CLAIM_LAMBDA} cuts churn by ≥ ${100 * MIN_CHURN_CUT}% at ≤ ${100 * MAX_ACCURACY_LOSS} pt accuracy loss, paired over seeds (Jiang et al. 2022)`, (t) => {
  const distill = pointsOf(distillSummaries.find((s) => lambdaOf(s) === CLAIM_LAMBDA)!);
  const cut = relativeReduction(distill, plain, 'churn', CLAIM_LEVEL);
  const dAcc = pairedDifference(distill, plain, 'accuracy', CLAIM_LEVEL);
  const msg = `${engineInfo()?.backend}/${engineInfo()?.blas ?? '-'}: churn cut ${ciText(cut)}%, accuracy change ${ciText(dAcc)} pt`;
  t.diagnostic(msg);
  assert.ok(cut.low! >= MIN_CHURN_CUT, msg);
  assert.ok(dAcc.low! >= -MAX_ACCURACY_LOSS, msg);
  // churn falls with every step up the λ grid (the teacher's weight), paired by seed
  for (let i = 1; i < sweep.length; i++) {
    const step = pairedDifference(sweep[i], sweep[i - 1], 'churn', CLAIM_LEVEL);
    assert.ok(step.high! < 0, `churn from ${i === 1 ? 'plain' : distillSummaries[i - 2].method} to ${distillSummaries[i - 1].method}: ${ciText(step)} pt`);
  }
});

test(`on the accuracy–churn frontier distillation is at least as good as anchor and label smoothing (margin ${100 * NON_INFERIORITY} pt)`, (t) => {
  const families = new Map<string, MatchedChurnComparison[]>();
  for (const baseline of baselineSummaries) {
    const pts = pointsOf(baseline);
    const m = accuracyAtMatchedChurn(sweep, pts, CLAIM_LEVEL);
    const mean = (axis: 'accuracy' | 'churn') => pct(pts.reduce((s, p) => s + p[axis], 0) / pts.length);
    const where = `${baseline.method} (accuracy ${mean('accuracy')}%, churn ${mean('churn')}%)`;
    if (m) {
      const family = families.get(baseline.spec.method) ?? [];
      families.set(baseline.spec.method, [...family, m]);
      t.diagnostic(`${where}: distillation at the same churn: ${ciText(m.accuracyGap)} pt`);
    } else {
      t.diagnostic(`${where}: outside the churn range of the λ sweep`);
    }
    for (const d of distillSummaries) assert.ok(!dominates(pts, pointsOf(d), CLAIM_LEVEL), `${where} dominates ${d.method}`);
  }
  assert.ok(families.size >= 1, 'at least one baseline has settings within the churn range of the λ sweep');
  for (const [method, comparisons] of families) {
    const gap = pooledGap(comparisons, CLAIM_LEVEL);
    const msg = `${method}, ${comparisons.length} setting(s) at matched churn: distillation ${ciText(gap)} pt more accurate`;
    t.diagnostic(msg);
    assert.ok(gap.low! >= -NON_INFERIORITY, msg);
  }
});

test('every trial reports rates with bootstrap intervals around the estimate', () => {
  for (const t of result.trials) {
    for (const key of ['accuracyNew', 'churn', 'nfr', 'pfr'] as const) {
      const ci = t.metrics[key];
      assert.ok(ci.low <= ci.estimate + 1e-12 && ci.estimate <= ci.high + 1e-12, `${t.method} seed ${t.seed} ${key}`);
      assert.ok(ci.high - ci.low < 0.05, `${key} interval is too wide for ${result.data.testExamples} test examples`);
    }
    // churn = PFR + NFR + wrong→wrong changes
    const m = t.metrics;
    assert.ok(Math.abs(m.churn.estimate - (m.pfr.estimate + m.nfr.estimate + m.wrongToWrongRate.estimate)) < 1e-9);
  }
});

test('the run directory holds the JSON, a readable report and the plot', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-run-'));
  try {
    const out = join(dir, 'run');
    await writeExperimentRun(out, result);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(json.summary.length, cfg.methods.length);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md, /\| method \| inference \| accuracy \| churn \|/);
    assert.match(md, /distill λ=/);
    const svg = readFileSync(join(out, 'accuracy-vs-churn.svg'), 'utf8');
    assert.match(svg, /^<svg/);
    assert.match(svg, /churn vs base model/);
    assert.ok(existsSync(join(out, 'config.yaml')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
