/**
 * The dropout multiplier drawn in lanes by the native addon (alea's stream jumped ahead with
 * BigInt arithmetic, engine/dropoutMask.ts) against the one-loop reference, bit for bit: sizes
 * around the lane boundaries, rates from tiny to extreme, seeds across the 31-bit range.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAddon } from '../../src/engine/addon.js';
import { dropoutMultiplier, dropoutMultiplierReference } from '../../src/engine/dropoutMask.js';
import { rng } from './helpers.js';

const addon = loadAddon();

test('the native addon draws the mask in lanes', { skip: addon ? false : 'the native addon is not built' }, () => {
  assert.equal(typeof addon!.aleaDropout, 'function');
});

test('the lane-drawn multiplier equals the one-loop stream bit for bit (sizes, rates, seeds)', () => {
  const r = rng(5);
  const seeds = [1, 2, 12345, 2 ** 31 - 1, ...Array.from({ length: 6 }, () => 1 + Math.floor(r() * (2 ** 31 - 2)))];
  const sizes = [2047, 2048, 2049, 2055, 2056, 2057, 8192, 8193, 32 * 256, 300 * 26 + 5, 100_003];
  const rates = [0.001, 0.1, 0.2, 0.5, 0.9, 0.999];
  let checked = 0;
  for (const seed of seeds) {
    for (const size of sizes) {
      for (const rate of rates.filter((_, i) => (i + size + seed) % 2 === 0 || size === 8192)) {
        const got = dropoutMultiplier(size, rate, seed), want = dropoutMultiplierReference(size, rate, seed);
        assert.equal(got.length, size);
        for (let i = 0; i < size; i++) {
          if (!Object.is(got[i], want[i])) assert.fail(`seed ${seed}, size ${size}, rate ${rate}: element ${i} is ${got[i]}, the stream gives ${want[i]}`);
        }
        checked++;
      }
    }
  }
  assert.ok(checked > 200, `${checked} masks compared`);
});

test('the kept fraction is 1 − rate and the kept values are 1/keep in float32', () => {
  for (const rate of [0.1, 0.5, 0.8]) {
    const m = dropoutMultiplier(200_000, rate, 77);
    const keep = Math.fround(1 - rate);
    let kept = 0;
    for (const v of m) {
      if (v !== 0) {
        kept++;
        assert.equal(v, Math.fround(1 / keep));
      }
    }
    assert.ok(Math.abs(kept / m.length - (1 - rate)) < 0.01, `rate ${rate}: kept ${kept / m.length}`);
  }
});
