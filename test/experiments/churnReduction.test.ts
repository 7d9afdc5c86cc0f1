/**
 * The paper's claim on the main job's own settings (configs/letter-update.yaml): on the
 * embedded letter data, distillation from the base model reduces churn against plain
 * retraining at about the same accuracy — at some λ, mean churn over the seeds is at
 * least 25% lower while mean accuracy drops by at most 1 point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/index.js';
import { loadExperimentConfig } from '../../src/experiments/config.js';
import { runUpdateExperimentParallel } from '../../src/experiments/parallel.js';
import { writeExperimentRun } from '../../src/report/experimentReport.js';
import { DEMO_CONFIG_PATH } from '../../src/cli/commands/experiment.js';

await initEngine();
const cfg = await loadExperimentConfig(DEMO_CONFIG_PATH);
cfg.methods = cfg.methods.filter((m) => m === 'plain' || (typeof m === 'object' && (m.method === 'plain' || m.method === 'distill')));
// Trials in worker threads (one per core): the same numbers as one after another (see parallel.test.ts).
const result = await runUpdateExperimentParallel(cfg);

test('the main job runs at least 3 seeds with plain retraining and several λ', () => {
  assert.ok(cfg.seeds.length >= 3);
  assert.ok(result.summary.filter((s) => s.spec.method === 'distill').length >= 2);
  assert.equal(result.trials.length, cfg.seeds.length * cfg.methods.length);
});

test('distillation cuts mean churn by ≥ 25% vs plain retraining at ≤ 1 point accuracy loss (Jiang et al. 2022)', () => {
  const plain = result.summary.find((s) => s.spec.method === 'plain')!;
  const rows = result.summary
    .filter((s) => s.spec.method === 'distill')
    .map((s) => ({ method: s.method, churnCut: s.churnReductionVsPlain!, accuracyDrop: plain.accuracy.mean - s.accuracy.mean }));
  const table = rows.map((r) => `${r.method}: churn −${(100 * r.churnCut).toFixed(1)}%, accuracy −${(100 * r.accuracyDrop).toFixed(2)} pt`).join('; ');
  assert.ok(
    rows.some((r) => r.churnCut >= 0.25 && r.accuracyDrop <= 0.01),
    `plain: accuracy ${(100 * plain.accuracy.mean).toFixed(2)}%, churn ${(100 * plain.churn.mean).toFixed(2)}%; ${table}`,
  );
  // Churn falls as λ grows (the teacher's weight), the monotone trade-off of the paper.
  const churns = result.summary.filter((s) => s.spec.method === 'distill').sort((a, b) => (a.spec as any).lambda - (b.spec as any).lambda).map((s) => s.churn.mean);
  assert.ok(churns[churns.length - 1] < churns[0], `churn by increasing λ: ${churns.join(', ')}`);
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
    assert.match(md, /\| method \| accuracy \| churn \|/);
    assert.match(md, /distill λ=/);
    const svg = readFileSync(join(out, 'accuracy-vs-churn.svg'), 'utf8');
    assert.match(svg, /^<svg/);
    assert.match(svg, /churn vs base model/);
    assert.ok(existsSync(join(out, 'config.yaml')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
