/**
 * The engine's layerNorm op: the native kernels (forward, gradients for x, gamma and beta)
 * against the core-op composition on tfjs's cpu backend, and against tfjs-layers'
 * LayerNormalization, whose arithmetic Distillery's LayerNorm layer reproduces.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine, resetEngineForTests, setEngineThreads } from '../../src/engine/index.js';
import { loadAddon } from '../../src/engine/addon.js';
import { NATIVE_BACKEND } from '../../src/engine/nativeBackend.js';
import { LAYER_NORM, layerNorm, layerNormReference } from '../../src/engine/layerNorm.js';
import { LayerNorm } from '../../src/models/layers.js';
import { maxRelErr, randArr, rng, runOn, T, type Arr } from './helpers.js';

const info = await initEngine({ backend: loadAddon() ? 'native' : 'cpu' });
after(() => resetEngineForTests());

/** Output and gradients (x, gamma, beta) of sum(layerNorm(x) · w). */
type LayerNormOp = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number) => tf.Tensor;

function withGrads(x: Arr, gamma: Arr, beta: Arr, w: Arr, eps: number, op: LayerNormOp = layerNorm): () => tf.Tensor[] {
  return () => {
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.sum(tf.mul(op(a, g, b, eps), T(w)));
    return [op(T(x), T(gamma), T(beta), eps), ...tf.grads(f)([T(x), T(gamma), T(beta)])];
  };
}

describe('layerNorm', () => {
  const r = rng(17);
  const shapes = [[4, 8], [3, 5, 7], [1, 1, 1], [2, 64, 128], [6, 1, 33], [300, 257]];
  const threadCounts = info.backend === NATIVE_BACKEND ? [1, 2] : [1];
  for (const [shape, threads] of shapes.flatMap((sh) => threadCounts.map((t) => [sh, t] as const))) {
    test(`${JSON.stringify(shape)}: ${info.backend} kernels (${threads} thread${threads > 1 ? 's' : ''}) match the core-op reference on cpu (forward and gradients)`, async () => {
      setEngineThreads(threads);
      const d = shape[shape.length - 1];
      const x = randArr(r, shape, -4, 6), gamma = randArr(r, [d], 0.5, 1.5), beta = randArr(r, [d]), w = randArr(r, shape);
      const ref = await runOn('cpu', withGrads(x, gamma, beta, w, 1e-5, layerNormReference));
      const got = await runOn(info.backend, withGrads(x, gamma, beta, w, 1e-5));
      assert.equal(got.length, 4);
      got.forEach((g, i) => {
        assert.deepEqual(g.shape, ref[i].shape, `shape of output ${i}`);
        const e = maxRelErr(g.values, ref[i].values);
        assert.ok(e < 2e-4, `output ${i} (y, dx, dgamma, dbeta) differs by ${e}`);
      });
      setEngineThreads(1);
      if (d === 1) assert.ok([...got[0].values].every((v) => v === beta.values[0]), 'one feature: y = beta');
    });
  }

  test('normalises each row to mean 0 and variance 1 before scale and offset (hand check)', async () => {
    const out = await runOn(info.backend, () => layerNorm(tf.tensor2d([[1, 2, 3, 4], [10, 10, 10, 14]]), tf.ones([4]), tf.zeros([4]), 0));
    const y = out[0].values;
    // row 1: mean 2.5, var 1.25 → (x−2.5)/√1.25
    const s = Math.sqrt(1.25);
    [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s].forEach((v, i) => assert.ok(Math.abs(y[i] - v) < 1e-6));
    // row 2: mean 11, var 3 → [−1, −1, −1, 3]/√3
    [-1, -1, -1, 3].forEach((v, i) => assert.ok(Math.abs(y[4 + i] - v / Math.sqrt(3)) < 1e-6));
  });

  test('wrong parameter sizes are a clear error', () => {
    assert.throws(() => layerNorm(tf.zeros([2, 3]), tf.ones([4]), tf.zeros([3])), /gamma and beta must have 3 elements/);
  });

  test('the native engine runs it as one kernel', { skip: info.backend !== NATIVE_BACKEND && 'native addon not built' }, () => {
    assert.ok(tf.getKernel(LAYER_NORM, NATIVE_BACKEND));
    assert.equal(tf.getKernel(LAYER_NORM, 'cpu'), undefined);
  });

  test('the LayerNorm layer computes what tfjs-layers LayerNormalization(axis −1) computes, and serialises', async () => {
    const shape = [3, 6, 10];
    const x = randArr(r, shape, -2, 2), gamma = randArr(r, [10], 0.5, 1.5), beta = randArr(r, [10]);
    const ours = new LayerNorm({ epsilon: 1e-3, name: 'ln' });
    const theirs = tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-3 });
    for (const l of [ours, theirs]) {
      l.build(shape);
      l.setWeights([T(gamma), T(beta)]);
    }
    const a = await runOn(info.backend, () => ours.apply(T(x)) as tf.Tensor);
    const b = await runOn(info.backend, () => theirs.apply(T(x)) as tf.Tensor);
    assert.ok(maxRelErr(a[0].values, b[0].values) < 1e-5);
    assert.deepEqual(ours.getWeights().map((w) => w.shape), [[10], [10]]);
    assert.equal(ours.getConfig().epsilon, 1e-3);
    assert.equal(LayerNorm.className, 'DistilleryLayerNorm');
  });
});
