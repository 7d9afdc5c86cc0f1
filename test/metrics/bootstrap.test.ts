import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import {
  bootstrapCI,
  bootstrapCIs,
  mcnemarTest,
  meanCI,
  normalQuantile,
  pairedBootstrapTest,
  regularizedIncompleteBeta,
  studentTQuantile,
} from '../../src/metrics/bootstrap.js';

const close = (a: number, b: number, eps: number): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

/** 0/1 outcomes with success probability p. */
function bernoulli(n: number, p: number, seed: string): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => (rng.next() < p ? 1 : 0));
}
const meanOf = (x: ArrayLike<number>) => (idx: Int32Array): number => {
  let s = 0;
  for (const i of idx) s += x[i];
  return s / idx.length;
};

test('bootstrapCI: contains the estimate, narrows as n grows, same seed → same interval', () => {
  const small = bernoulli(100, 0.7, 'small');
  const large = bernoulli(4000, 0.7, 'large');
  const ciSmall = bootstrapCI(small.length, meanOf(small), { seed: 1 });
  const ciLarge = bootstrapCI(large.length, meanOf(large), { seed: 1 });
  for (const ci of [ciSmall, ciLarge]) {
    assert.equal(ci.level, 0.95);
    assert.ok(ci.low <= ci.estimate && ci.estimate <= ci.high, JSON.stringify(ci));
  }
  assert.ok(ciLarge.high - ciLarge.low < (ciSmall.high - ciSmall.low) / 3);
  // the width matches the normal approximation 2·1.96·√(p(1−p)/n) within 15%
  const p = ciLarge.estimate;
  const expected = 2 * 1.96 * Math.sqrt((p * (1 - p)) / large.length);
  close(ciLarge.high - ciLarge.low, expected, 0.15 * expected);

  assert.deepEqual(bootstrapCI(small.length, meanOf(small), { seed: 1 }), ciSmall);
  // a different seed gives different resamples (continuous data, so the bounds move)
  const rng = new Rng('normal');
  const z = Float64Array.from({ length: 100 }, () => rng.normal());
  assert.notDeepEqual(bootstrapCI(z.length, meanOf(z), { seed: 2 }), bootstrapCI(z.length, meanOf(z), { seed: 1 }));
  const narrower = bootstrapCI(small.length, meanOf(small), { seed: 1, level: 0.5, resamples: 200 });
  assert.ok(narrower.high - narrower.low < ciSmall.high - ciSmall.low);
});

test('bootstrapCIs: several statistics from the same resamples', () => {
  const x = bernoulli(300, 0.4, 'multi');
  const single = bootstrapCI(x.length, meanOf(x), { seed: 'm', resamples: 300 });
  const [a, b] = bootstrapCIs(x.length, (idx) => [meanOf(x)(idx), 1 - meanOf(x)(idx)], { seed: 'm', resamples: 300 });
  assert.deepEqual(a, single);
  close(b.estimate, 1 - a.estimate, 1e-12);
  close(b.low, 1 - a.high, 1e-12);
  close(b.high, 1 - a.low, 1e-12);
});

test('bootstrapCI: resamples where the statistic is NaN are ignored', () => {
  // the statistic is undefined (NaN) whenever example 0 is drawn
  const ci = bootstrapCI(20, (idx) => (idx.includes(0) ? NaN : 0.5), { seed: 3, resamples: 200 });
  assert.deepEqual([ci.low, ci.high], [0.5, 0.5]);
});

test('pairedBootstrapTest: small p for a clearly better method, p = 1 for identical ones', () => {
  const n = 400;
  const good = bernoulli(n, 0.9, 'good');
  const bad = bernoulli(n, 0.6, 'bad');
  const r = pairedBootstrapTest(n, meanOf(good), meanOf(bad), { seed: 7 });
  assert.ok(r.diff > 0.2);
  assert.ok(r.low > 0 && r.low <= r.diff && r.diff <= r.high);
  assert.ok(r.pValue < 0.01, `p = ${r.pValue}`);
  // the sign of the difference does not change the p-value
  const swapped = pairedBootstrapTest(n, meanOf(bad), meanOf(good), { seed: 7 });
  close(swapped.diff, -r.diff, 1e-12);
  assert.equal(swapped.pValue, r.pValue);

  const same = pairedBootstrapTest(n, meanOf(good), meanOf(good), { seed: 7 });
  assert.deepEqual([same.diff, same.low, same.high, same.pValue], [0, 0, 0, 1]);
  // nearly identical methods: A alone right on 3 examples, B alone on 2 → no evidence of a difference
  const a = new Uint8Array(n).fill(1);
  const b = new Uint8Array(n).fill(1);
  a.set([0, 0], 10);
  b.set([0, 0, 0], 20);
  const near = pairedBootstrapTest(n, meanOf(a), meanOf(b), { seed: 7 });
  close(near.diff, 1 / n, 1e-12);
  assert.ok(near.pValue > 0.5, `p = ${near.pValue}`);
});

test('mcnemarTest: exact binomial p-values', () => {
  const pairs = (onlyA: number, onlyB: number, both: number) => {
    const a: boolean[] = [];
    const b: boolean[] = [];
    const push = (x: boolean, y: boolean, k: number) => { for (let i = 0; i < k; i++) { a.push(x); b.push(y); } };
    push(true, false, onlyA);
    push(false, true, onlyB);
    push(true, true, both);
    push(false, false, 3);
    return [a, b] as const;
  };
  // 10 vs 2 discordant: p = 2·(C(12,0)+C(12,1)+C(12,2))/2^12 = 2·79/4096 = 0.0385742…
  const r = mcnemarTest(...pairs(10, 2, 5));
  assert.equal(r.onlyACorrect, 10);
  assert.equal(r.onlyBCorrect, 2);
  close(r.pValue, 158 / 4096, 1e-12);
  // 0 vs 5: p = 2/32
  close(mcnemarTest(...pairs(0, 5, 0)).pValue, 0.0625, 1e-12);
  assert.equal(mcnemarTest(...pairs(4, 4, 2)).pValue, 1);
  assert.equal(mcnemarTest(...pairs(0, 0, 9)).pValue, 1);
  // large counts, 600 vs 400: exact p = 2.72846e-10 (computed with exact integer arithmetic);
  // the continuity-corrected chi-square would give 3.1e-10
  const big = mcnemarTest(...pairs(600, 400, 0));
  close(big.pValue / 2.7284641560660184e-10, 1, 1e-6);
  // Uint8Array input
  close(mcnemarTest(Uint8Array.of(1, 1, 1, 0), Uint8Array.of(0, 0, 0, 0)).pValue, 0.25, 1e-12);
  assert.throws(() => mcnemarTest([true], [true, false]), InputError);
});

test('Student t and normal quantiles match tables', () => {
  close(studentTQuantile(0.975, 1), 12.7062, 1e-4);
  close(studentTQuantile(0.975, 2), 4.3027, 1e-4);
  close(studentTQuantile(0.975, 4), 2.7764, 1e-4);
  close(studentTQuantile(0.995, 10), 3.1693, 1e-4);
  close(studentTQuantile(0.95, 30), 1.6973, 1e-4);
  close(studentTQuantile(0.025, 4), -2.7764, 1e-4);
  close(studentTQuantile(0.975, Infinity), 1.95996, 1e-5);
  close(studentTQuantile(0.975, 1e9), 1.95996, 1e-5);
  close(normalQuantile(0.975), 1.959964, 1e-6);
  close(normalQuantile(0.005), -2.575829, 1e-6);
  assert.equal(studentTQuantile(0.5, 3), 0);
  // I_{1/2}(2, 3) = P(Bin(4, 1/2) ≥ 2) = 11/16
  close(regularizedIncompleteBeta(0.5, 2, 3), 11 / 16, 1e-12);
});

test('meanCI: t-interval across seeds', () => {
  // [1..5]: mean 3, s = √2.5, half-width = t_{0.975,4} · s / √5 = 2.776445 · 0.707107 = 1.963243
  const m = meanCI([1, 2, 3, 4, 5]);
  assert.equal(m.mean, 3);
  close(m.std!, Math.sqrt(2.5), 1e-12);
  close(m.halfWidth!, 1.963243, 1e-5);
  close(m.low!, 3 - 1.963243, 1e-5);
  assert.equal(m.n, 5);
  const one = meanCI([0.8]);
  assert.deepEqual([one.mean, one.halfWidth, one.low, one.high], [0.8, null, null, null]);
  assert.equal(meanCI([2, 2, 2]).halfWidth, 0);
  assert.throws(() => meanCI([]), InputError);
  assert.throws(() => meanCI([1, 2], 1.5), InputError);
});

test('bootstrap: option errors', () => {
  const stat = (): number => 0;
  assert.throws(() => bootstrapCI(0, stat, { seed: 1 }), InputError);
  assert.throws(() => bootstrapCI(5, stat, { seed: 1, resamples: 0 }), InputError);
  assert.throws(() => bootstrapCI(5, stat, { seed: 1, level: 1 }), InputError);
});
