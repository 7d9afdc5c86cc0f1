/** Shared helpers of the engine tests: seeded data and cpu-vs-engine comparisons. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxRelErr } from '../helpers/tolerance.js';
import { rng } from '../helpers/random.js';

export { maxRelErr, rng };

export interface Arr {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype: 'float32' | 'int32';
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export function randArr(r: () => number, shape: number[], lo = -1, hi = 1): Arr {
  const v = new Float32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * r();
  return { shape, values: v, dtype: 'float32' };
}

export function randInts(r: () => number, shape: number[], lo: number, hi: number): Arr {
  const v = new Int32Array(sizeOf(shape));
  for (let i = 0; i < v.length; i++) v[i] = lo + Math.floor((hi - lo) * r());
  return { shape, values: v, dtype: 'int32' };
}

export const T = (a: Arr): tf.Tensor => tf.tensor(a.values.slice(), a.shape, a.dtype);

type Out = tf.Tensor | tf.Tensor[];

/** Runs `fn` on a backend and returns its outputs as plain arrays. */
export async function runOn(backend: string, fn: () => Out): Promise<Arr[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = fn();
    return (Array.isArray(out) ? out : [out]).map((t) => ({
      shape: t.shape.slice(),
      values: t.dataSync().slice() as Float32Array | Int32Array,
      dtype: t.dtype as 'float32' | 'int32',
    }));
  });
}

/**
 * Runs `fn` on tfjs's cpu backend (the reference) and on `backend`, and asserts the outputs
 * have the same shapes and dtypes and values within `tol` (relative to 1 + |reference|).
 */
export async function assertSame(backend: string, label: string, fn: () => Out, tol = 1e-4): Promise<void> {
  const ref = await runOn('cpu', fn);
  const got = await runOn(backend, fn);
  assert.equal(got.length, ref.length, `${label}: number of outputs`);
  for (let i = 0; i < ref.length; i++) {
    assert.deepEqual(got[i].shape, ref[i].shape, `${label}: shape of output ${i}`);
    assert.equal(got[i].dtype, ref[i].dtype, `${label}: dtype of output ${i}`);
    const e = maxRelErr(got[i].values, ref[i].values);
    assert.ok(e <= tol, `${label}: output ${i} differs from the cpu reference by ${e} (tolerance ${tol})`);
  }
}

/** Gradients of sum(f(xs) * w) w.r.t. every float input, for a fixed random w. */
export function gradsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Arr[], seed = 7): () => tf.Tensor[] {
  return () => {
    const xs = inputs.map(T);
    const probe = f(...xs);
    const w = T(randArr(rng(seed), probe.shape));
    const which = inputs.map((a, i) => (a.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
    const g = tf.grads((...vs: tf.Tensor[]) => {
      const all = xs.slice();
      which.forEach((idx, k) => (all[idx] = vs[k]));
      return tf.sum(tf.mul(f(...all), w));
    });
    return [probe, ...g(which.map((i) => xs[i]))];
  };
}
