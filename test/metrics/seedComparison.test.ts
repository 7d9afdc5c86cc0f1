import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyAtMatchedChurn, dominates, pairedDifference, pooledGap, relativeReduction, type SeedPoint } from '../../src/metrics/seedComparison.js';
import { studentTQuantile } from '../../src/metrics/bootstrap.js';

const pts = (rows: [number, number, number][]): SeedPoint[] => rows.map(([seed, accuracy, churn]) => ({ seed, accuracy, churn }));

test('paired differences and relative reductions are taken seed by seed, in any order', () => {
  const a = pts([[1, 0.8, 0.1], [2, 0.9, 0.05], [3, 0.7, 0.2]]);
  const b = pts([[3, 0.6, 0.4], [1, 0.75, 0.2], [2, 0.8, 0.1]]);
  const d = pairedDifference(a, b, 'accuracy');
  // per seed: 0.05, 0.1, 0.1 → mean 0.08333…, sd 0.028868; half-width t(0.975, 2)·sd/√3
  assert.ok(Math.abs(d.mean - 0.25 / 3) < 1e-12);
  const sd = Math.sqrt(((0.05 - 0.25 / 3) ** 2 + 2 * (0.1 - 0.25 / 3) ** 2) / 2);
  assert.ok(Math.abs(d.halfWidth! - (studentTQuantile(0.975, 2) * sd) / Math.sqrt(3)) < 1e-12);
  // 1 − churn_a/churn_b per seed: 0.5, 0.5, 0.5
  const r = relativeReduction(a, b, 'churn');
  assert.ok(Math.abs(r.mean - 0.5) < 1e-12 && r.halfWidth! < 1e-12);
});

test('seed sets must match', () => {
  assert.throws(() => pairedDifference(pts([[1, 0, 0], [2, 0, 0]]), pts([[1, 0, 0], [3, 0, 0]]), 'churn'), /same seeds/);
  assert.throws(() => pairedDifference(pts([[1, 0, 0], [1, 0, 0]]), pts([[1, 0, 0], [2, 0, 0]]), 'churn'), /seed 1 appears twice/);
  assert.throws(() => pairedDifference(pts([[1, 0, 0]]), pts([[1, 0, 0]]), 'churn'), /at least two seeds/);
});

test('accuracy at matched churn interpolates between the two sweep settings that bracket the churn', () => {
  // sweep means: (churn 0.20, acc 0.90), (0.10, 0.86), (0.05, 0.80) — given out of churn order
  const s0 = pts([[1, 0.9, 0.2], [2, 0.9, 0.2]]);
  const s2 = pts([[1, 0.79, 0.05], [2, 0.81, 0.05]]);
  const s1 = pts([[1, 0.85, 0.1], [2, 0.87, 0.1]]);
  // the recipe at mean churn 0.15: halfway between s1 and s0 → sweep accuracy 0.88 (seed 1: 0.875, seed 2: 0.885)
  const recipe = pts([[1, 0.87, 0.16], [2, 0.88, 0.14]]);
  const m = accuracyAtMatchedChurn([s0, s1, s2], recipe)!;
  assert.deepEqual(m.between, [1, 0]);
  assert.ok(Math.abs(m.weight - 0.5) < 1e-12);
  assert.ok(Math.abs(m.churn - 0.15) < 1e-12);
  assert.ok(Math.abs(m.accuracyGap.mean - 0.005) < 1e-12, String(m.accuracyGap.mean));
  // per seed: 0.875 − 0.87 and 0.885 − 0.88
  assert.ok(Math.abs(m.gapsBySeed.get(1)! - 0.005) < 1e-12 && Math.abs(m.gapsBySeed.get(2)! - 0.005) < 1e-12);
  // a recipe at the lowest churn of the sweep is compared with that setting alone
  const atEdge = accuracyAtMatchedChurn([s0, s1, s2], pts([[1, 0.8, 0.05], [2, 0.8, 0.05]]))!;
  assert.ok(Math.abs(atEdge.accuracyGap.mean) < 1e-12);
  // outside the sweep's churn range there is nothing to compare with
  assert.equal(accuracyAtMatchedChurn([s0, s1, s2], pts([[1, 0.95, 0.3], [2, 0.95, 0.25]])), null);
  assert.equal(accuracyAtMatchedChurn([s0, s1, s2], pts([[1, 0.5, 0.01], [2, 0.5, 0.02]])), null);
});

test('domination needs lower churn and higher accuracy beyond both paired intervals', () => {
  const b = pts([[1, 0.8, 0.2], [2, 0.82, 0.22], [3, 0.81, 0.21]]);
  const better = pts([[1, 0.85, 0.1], [2, 0.86, 0.11], [3, 0.87, 0.1]]);
  assert.equal(dominates(better, b), true);
  assert.equal(dominates(b, better), false);
  // better accuracy but not less churn: no domination
  const accurate = pts([[1, 0.9, 0.25], [2, 0.91, 0.24], [3, 0.9, 0.26]]);
  assert.equal(dominates(accurate, b), false);
  // less churn on average but within noise: no domination
  const noisy = pts([[1, 0.9, 0.1], [2, 0.9, 0.3], [3, 0.9, 0.2]]);
  assert.equal(dominates(noisy, b), false);
});

test('a pooled gap averages several settings seed by seed', () => {
  const s0 = pts([[1, 0.9, 0.2], [2, 0.9, 0.2], [3, 0.9, 0.2]]);
  const s1 = pts([[1, 0.8, 0.1], [2, 0.8, 0.1], [3, 0.8, 0.1]]);
  // at churn 0.15 the sweep gives 0.85 for every seed
  const a = accuracyAtMatchedChurn([s0, s1], pts([[1, 0.84, 0.15], [2, 0.86, 0.15], [3, 0.85, 0.15]]))!;
  const b = accuracyAtMatchedChurn([s0, s1], pts([[1, 0.86, 0.15], [2, 0.84, 0.15], [3, 0.85, 0.15]]))!;
  // each setting alone: gaps ±0.01 (noisy); pooled: 0 for every seed
  assert.ok(a.accuracyGap.halfWidth! > 0.01);
  const pooled = pooledGap([a, b]);
  assert.ok(Math.abs(pooled.mean) < 1e-12 && pooled.halfWidth! < 1e-12);
  assert.throws(() => pooledGap([]), /no comparisons/);
  const other = accuracyAtMatchedChurn([s0.slice(0, 2), s1.slice(0, 2)], pts([[1, 0.85, 0.15], [2, 0.85, 0.15]]))!;
  assert.throws(() => pooledGap([a, other]), /same seeds/);
});
