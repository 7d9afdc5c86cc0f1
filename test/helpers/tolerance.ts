/**
 * Comparing floating-point results of different code paths. Two paths (a fused and an
 * unfused kernel, one batch size and another, OpenBLAS's Haswell and SkylakeX kernels)
 * may sum in another order, so their float32 results agree only to rounding: such tests
 * state a tolerance. Exact equality is asserted only where both sides run the same kernels
 * on the same shapes in one process, and those tests say so.
 */
import assert from 'node:assert/strict';

/** max |a−b| / (1 + |b|), Infinity where one side is NaN and the other is not. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    const d = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
    if (!Number.isNaN(d)) e = Math.max(e, d);
  }
  return e;
}

/** Asserts equal lengths and every |actual−expected| ≤ tol·(1 + |expected|). */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const e = maxRelErr(actual, expected);
  assert.ok(e <= tol, `${label}: differs by ${e} relative to 1 + |expected| (tolerance ${tol})`);
}
