/**
 * tfjs's dropout multiplier, `floor(u + keep) / keep` with u uniform in [0, 1) from seedrandom's
 * alea seeded with String(seed): exactly the float32 values `tf.dropout(x, rate, undefined, seed)`
 * multiplies x by, so a seeded dropout gives tfjs's masks bit for bit.
 *
 * Drawing the stream was a tenth of the main job (docs/engine.md, the profile): alea's draws form
 * one serial chain. Alea is a lag-3 multiply-with-carry generator (x' = (a·x + c) mod 2³², a =
 * 2091639, which its double arithmetic computes exactly), and such a generator is a linear
 * congruential one in disguise: S = a·(x₀ + x₁·2³² + x₂·2⁶⁴) + c advances by S ← S·2⁻³² mod
 * m, m = a·2⁹⁶ − 1. So the state `k` draws ahead is S·(2⁻³²)ᵏ mod m (BigInt arithmetic, a few
 * microseconds), and the native addon runs eight positions of the stream side by side, each
 * writing its own block of the mask: the same draws in the same places, several times faster.
 * Without the addon (or for small masks) one JS loop draws them in order.
 */
import type seedrandom from 'seedrandom';
import { lazy } from '../util/lazy.js';

const seeded = lazy<typeof seedrandom>('seedrandom');
import { loadAddon } from './addon.js';

const A = 2091639n;
const B32 = 1n << 32n;
const M = A * (1n << 96n) - 1n;
/** 2⁻³² mod m (= a·2⁶⁴, since 2³²·a·2⁶⁴ = m + 1): one draw ahead. */
const ONE_DRAW = (A * (1n << 64n)) % M;
const LANES = 8;
/** Below this many draws the lanes' set-up costs more than it saves. */
const MIN_NATIVE = 2048;

function modPow(base: bigint, exponent: number): bigint {
  let result = 1n, x = base % M, e = BigInt(exponent);
  while (e > 0n) {
    if (e & 1n) result = (result * x) % M;
    x = (x * x) % M;
    e >>= 1n;
  }
  return result;
}

/** (2⁻³²)^block mod m, by block length (the same few sizes recur every step). */
const jumps = new Map<number, bigint>();
function jump(block: number): bigint {
  let j = jumps.get(block);
  if (j === undefined) {
    if (jumps.size > 256) jumps.clear();
    jumps.set(block, (j = modPow(ONE_DRAW, block)));
  }
  return j;
}

/** The smallest 32-bit draw x whose multiplier is non-zero: the mask test `floor(fround(fround(x/2³²) + keep)) >= 1` is monotone in x. */
const thresholds = new Map<number, number>();
function threshold(keep: number): number {
  let t = thresholds.get(keep);
  if (t !== undefined) return t;
  const kept = (x: number) => Math.floor(Math.fround(Math.fround(x / 2 ** 32) + keep)) >= 1;
  let lo = 0, hi = 2 ** 32; // kept(hi) is taken as true; find the first kept x in [lo, hi]
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (kept(mid)) hi = mid;
    else lo = mid + 1;
  }
  thresholds.set(keep, (t = lo));
  return t;
}

/** Where a mask's array comes from: a fresh one by default, or the backend's recycled buffers (kernelValues.allocF32: a 32 KB Float32Array costs more to allocate and collect than to fill). */
export type MaskAllocator = (n: number) => Float32Array;
const fresh: MaskAllocator = (n) => new Float32Array(n);

/** The reference: one JS loop over the stream, as tfjs draws it. */
export function dropoutMultiplierReference(size: number, rate: number, seed: number, alloc: MaskAllocator = fresh): Float32Array {
  const random = seeded().alea(String(seed));
  const keep = Math.fround(1 - rate);
  const out = alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(Math.fround(Math.fround(random()) + keep)) / keep;
  return out;
}

/** The multiplier for `size` elements (see the module comment); the same values as `dropoutMultiplierReference`. */
export function dropoutMultiplier(size: number, rate: number, seed: number, alloc: MaskAllocator = fresh): Float32Array {
  const addon = loadAddon();
  if (!addon?.aleaDropout || size < MIN_NATIVE) return dropoutMultiplierReference(size, rate, seed, alloc);
  const keep = Math.fround(1 - rate);
  const start = (seeded().alea(String(seed), { state: true }) as unknown as { state(): { s0: number; s1: number; s2: number; c: number } }).state();
  const block = Math.ceil(size / LANES);
  const step = jump(block);
  let S = A * (BigInt(start.s0 * 2 ** 32) + BigInt(start.s1 * 2 ** 32) * B32 + BigInt(start.s2 * 2 ** 32) * B32 * B32) + BigInt(start.c);
  const lanes = new Uint32Array(LANES * 4);
  for (let j = 0; j < LANES; j++) {
    const X = S / A;
    lanes[j * 4] = Number(X % B32);
    lanes[j * 4 + 1] = Number((X >> 32n) % B32);
    lanes[j * 4 + 2] = Number(X >> 64n);
    lanes[j * 4 + 3] = Number(S % A);
    S = (S * step) % M;
  }
  const out = alloc(size);
  addon.aleaDropout(out, lanes, block, threshold(keep), 1 / keep);
  return out;
}
