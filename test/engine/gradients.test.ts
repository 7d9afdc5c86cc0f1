/**
 * The gradients that src/engine/gradients.ts puts in place of tfjs-core's (Tile everywhere;
 * FusedBatchNorm, Sum and Mean on the native engine), and the native kernels written for the
 * transformer's LayerNormalization path (FusedBatchNorm forward, Cast to float32): each against
 * tfjs's own gradient or kernel, bit for bit where the arithmetic is the same.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine, resetEngineForTests, setEngineThreads } from '../../src/engine/index.js';
import { loadAddon } from '../../src/engine/addon.js';
import { NATIVE_BACKEND } from '../../src/engine/nativeBackend.js';
import { fastGradients, tileGradient } from '../../src/engine/gradients.js';
import { maxRelErr, randArr, rng, runOn, T } from './helpers.js';

const info = await initEngine({ backend: loadAddon() ? 'native' : 'cpu' });
const engine = info.backend;
after(() => resetEngineForTests());

/** Outputs of `fn` with the replaced gradients, then with tfjs's own, on `backend`. */
async function fastAndStock(which: keyof typeof fastGradients, backend: string, fn: () => tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const run = async (): Promise<Float32Array[]> => (await runOn(backend, fn)).map((a) => a.values as Float32Array);
  const fast = await run();
  fastGradients[which] = false;
  try {
    return [fast, await run()];
  } finally {
    fastGradients[which] = true;
  }
}

describe('Tile gradient', () => {
  const r = rng(11);
  const shapes: Array<[number[], number[]]> = [
    [[3], [4]], [[2, 3], [1, 5]], [[1, 1, 8], [4, 6, 1]], [[4, 6, 1], [1, 1, 8]], [[2, 1, 3], [3, 2, 2]], [[5, 7], [1, 1]], [[1], [1]],
  ];
  for (const [shape, reps] of shapes) {
    test(`tile ${JSON.stringify(shape)} by ${JSON.stringify(reps)}: same gradient as tfjs's, on cpu and ${engine}`, async () => {
      const x = randArr(r, shape);
      const outShape = shape.map((n, i) => n * reps[i]);
      const w = randArr(r, outShape);
      const fn = (): tf.Tensor[] => [tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tile(v, reps), T(w))))(T(x))];
      for (const backend of new Set(['cpu', engine])) {
        const [fast, stock] = await fastAndStock('tile', backend, fn);
        assert.ok(maxRelErr(fast[0], stock[0]) < 1e-6, `${backend}: ${maxRelErr(fast[0], stock[0])}`);
      }
    });
  }

  test('tileGradient sums dy over the repetitions (hand-computed)', () => {
    // x = [a, b] tiled 3× → dy = [1..6]: dx = [1+3+5, 2+4+6]
    const dx = tileGradient(tf.tensor1d([1, 2, 3, 4, 5, 6]), [2], [3]);
    assert.deepEqual([...dx.dataSync()], [9, 12]);
    dx.dispose();
    // empty tiles: a zero gradient of x's shape
    const empty = tileGradient(tf.zeros([0, 3]), [2, 3], [0, 1]);
    assert.deepEqual(empty.shape, [2, 3]);
    assert.deepEqual([...empty.dataSync()], [0, 0, 0, 0, 0, 0]);
    empty.dispose();
  });
});

describe('LayerNormalization (FusedBatchNorm) on the native engine', { skip: engine !== NATIVE_BACKEND && 'native addon not built' }, () => {
  const r = rng(3);
  for (const [shape, threads] of [[[4, 5, 6], 1], [[2, 64, 128], 1], [[2, 64, 128], 2], [[1, 1, 7], 1], [[3, 9], 1]] as Array<[number[], number]>) {
    test(`forward and gradients of tfjs-layers layerNormalization ${JSON.stringify(shape)} (${threads} thread${threads > 1 ? 's' : ''}) are bit-identical to tfjs's`, async () => {
      setEngineThreads(threads);
      after(() => setEngineThreads(1));
      const d = shape[shape.length - 1];
      const x = randArr(r, shape, -3, 3), w = randArr(r, shape), gamma = randArr(r, [d], 0.5, 1.5), beta = randArr(r, [d]);
      const layer = tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-5 });
      layer.build(shape);
      layer.setWeights([T(gamma), T(beta)]);
      const fn = (): tf.Tensor[] => {
        const g = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(xv) as tf.Tensor, T(w))) as tf.Scalar, layer.trainableWeights.map((p) => p.read() as tf.Variable));
        const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(layer.apply(v) as tf.Tensor, T(w))))(xv);
        return [layer.apply(xv) as tf.Tensor, dx, ...Object.values(g.grads)];
      };
      const xv = T(x);
      const [fast, stock] = await fastAndStock('batchNorm', NATIVE_BACKEND, fn);
      for (let i = 0; i < stock.length; i++) assert.deepEqual(fast[i], stock[i], `output ${i}: ${fast[i].filter((q, j) => q !== stock[i][j]).length} of ${fast[i].length} differ`);
      // and within float32 tolerance of the pure-JS reference backend
      const ref = (await runOn('cpu', fn)).map((a) => a.values);
      for (let i = 0; i < ref.length; i++) assert.ok(maxRelErr(fast[i], ref[i]) < 1e-4, `output ${i} vs cpu: ${maxRelErr(fast[i], ref[i])}`);
      xv.dispose();
      layer.trainableWeights.forEach((p) => p.dispose());
    });
  }

  test('batchNorm with small (cyclic) parameters and no scale/offset matches tfjs-cpu bit for bit', async () => {
    const x = randArr(r, [3, 4, 5]), m = randArr(r, [5]), v = randArr(r, [5], 0.1, 2), off = randArr(r, [5]);
    const fn = (): tf.Tensor[] => [tf.batchNorm(T(x), T(m), T(v), T(off), undefined, 1e-3), tf.batchNorm(T(x), T(m), T(v))];
    const ref = await runOn('cpu', fn), got = await runOn(NATIVE_BACKEND, fn);
    for (let i = 0; i < ref.length; i++) assert.deepEqual(got[i].values, ref[i].values);
  });

  test('a cast of int32 or bool to float32 yields float32 values that native kernels use', async () => {
    await tf.setBackend(NATIVE_BACKEND);
    tf.tidy(() => {
      const ids = tf.tensor1d([3, 0, 7, -2], 'int32');
      const asFloat = tf.cast(ids, 'float32');
      const mask = tf.cast(tf.notEqual(ids, 0), 'float32');
      const backend = tf.backend() as unknown as { data: { get(id: object): { values: unknown } } };
      assert.ok(backend.data.get(asFloat.dataId).values instanceof Float32Array);
      assert.ok(backend.data.get(mask.dataId).values instanceof Float32Array);
      assert.deepEqual([...asFloat.dataSync()], [3, 0, 7, -2]);
      assert.deepEqual([...tf.mul(asFloat, mask).dataSync()], [3, 0, 7, -2]);
      assert.deepEqual([...mask.dataSync()], [1, 0, 1, 1]);
    });
  });
});

describe('Relu gradient on the native engine', { skip: engine !== NATIVE_BACKEND && 'native addon not built' }, () => {
  for (const threads of [1, 2]) test(`dy·step(x) in one pass (${threads} thread${threads > 1 ? 's' : ''}) is bit-identical to tfjs's Step/Cast/Multiply (zeros, negatives, NaN)`, async () => {
    setEngineThreads(threads);
    after(() => setEngineThreads(1));
    const r = rng(21);
    const x = randArr(r, [7, 330, 50]);
    (x.values as Float32Array).set([0, -0, NaN, 1e-30, -1e-30], 0);
    const w = randArr(r, [7, 330, 50]);
    const fn = (): tf.Tensor[] => [tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), T(w))))(T(x))];
    const [fast, stock] = await fastAndStock('relu', NATIVE_BACKEND, fn);
    assert.deepEqual(fast[0], stock[0]);
    assert.ok(Number.isNaN(fast[0][2]));
  });
});
