import type seedrandom from 'seedrandom';
import { lazy } from './lazy.js';

const alea = lazy<typeof seedrandom>('seedrandom');

/**
 * Seeded pseudo-random numbers (Alea). Every random choice in Distillery goes through
 * one of these, so the same seed gives the same run.
 */
/** Where an Rng's stream stands (JSON-safe): restoring it continues the stream exactly (seedrandom's Alea state). */
export interface RngState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

export class Rng {
  private readonly prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  readonly seed: number | string;

  constructor(seed: number | string, state?: RngState) {
    this.seed = seed;
    this.prng = alea().alea(String(seed), { state: state ?? true }) as seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  }

  /** The generator's position in its stream (for checkpoints). */
  state(): RngState {
    return this.prng.state();
  }

  /** Continues from `state` (as returned by {@link state}) from now on. */
  restore(state: RngState): Rng {
    return new Rng(this.seed, state);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng() * n);
  }

  /** A 31-bit integer, handy as a seed for tfjs initialisers. */
  seedInt(): number {
    return this.prng.int32() >>> 1;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle; returns the array. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** A child generator whose stream depends on this seed and `label` only. */
  fork(label: string | number): Rng {
    return new Rng(`${this.seed}/${label}`);
  }
}
