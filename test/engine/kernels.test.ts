/**
 * Every kernel of the native engine against tfjs's cpu backend (the reference): random shapes
 * with odd sizes, strides, paddings and batch 1, forward and gradient (tf.grads through the
 * ops on both backends). Runs once with the BLAS GEMM on 2 threads (the threaded paths) and once
 * with the project's portable GEMM on 1 thread (the path of machines without OpenBLAS).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/engine/index.js';
import { loadAddon, addonError } from '../../src/engine/addon.js';
import { NATIVE_BACKEND, registerNativeBackend } from '../../src/engine/nativeBackend.js';
import { NativeAdamOptimizer } from '../../src/engine/optimizer.js';
import { assertSame, gradsOf, randArr, randInts, rng, T, type Arr } from './helpers.js';

const addon = loadAddon();

interface Case {
  label: string;
  fn: () => tf.Tensor | tf.Tensor[];
  tol?: number;
}

function cases(seed: number): Case[] {
  const r = rng(seed);
  const out: Case[] = [];
  const add = (label: string, fn: Case['fn'], tol?: number): void => {
    out.push({ label, fn, tol });
  };

  // ---------------------------------------------------------------- matmul
  for (const [m, k, n] of [[1, 1, 1], [1, 7, 3], [5, 13, 9], [37, 64, 19], [70, 33, 129]]) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = randArr(r, ta ? [k, m] : [m, k]), b = randArr(r, tb ? [n, k] : [k, n]);
        add(`matMul ${m}x${k}x${n} ta=${ta} tb=${tb} + grads`, gradsOf((x, y) => tf.matMul(x, y, ta, tb), [a, b]));
      }
    }
  }
  {
    // bias + activation applied chunk by chunk (M larger than one chunk)
    const a = randArr(r, [1100, 40]), b = randArr(r, [40, 64]), bias = randArr(r, [64]);
    add('fused matMul bias+relu, 1100 rows (chunked)', () =>
      tf.fused.matMul({ a: T(a) as tf.Tensor2D, b: T(b) as tf.Tensor2D, bias: T(bias), activation: 'relu' }));
  }
  // large enough to be split across threads: by rows, by columns, and along K
  for (const [m, k, n, ta, tb] of [[200, 150, 90, false, false], [20, 300, 300, true, false], [9, 20000, 20, true, false], [24, 5000, 24, false, true]] as const) {
    const a = randArr(r, ta ? [k, m] : [m, k]), b = randArr(r, tb ? [n, k] : [k, n]);
    add(`matMul ${m}x${k}x${n} ta=${ta} tb=${tb} (split across threads)`, () => tf.matMul(T(a), T(b), ta, tb), 2e-4);
  }
  {
    const a = randArr(r, [2, 3, 5, 7]), b = randArr(r, [2, 3, 7, 4]);
    add('batched matMul 4-D + grads', gradsOf((x, y) => tf.matMul(x, y), [a, b]));
    const c = randArr(r, [3, 4, 5]), d = randArr(r, [3, 6, 5]);
    add('batched matMul transposeB + grads', gradsOf((x, y) => tf.matMul(x, y, false, true), [c, d]));
    const e = randArr(r, [3, 5, 4]), f = randArr(r, [3, 5, 6]);
    add('batched matMul transposeA + grads', gradsOf((x, y) => tf.matMul(x, y, true, false), [e, f]));
    const g = randArr(r, [1, 5, 7]), h = randArr(r, [4, 7, 3]);
    // (tfjs's BatchMatMul gradient does not reduce broadcast batch dims: forward only)
    add('batched matMul broadcast batch 1 x 4', () => tf.matMul(T(g), T(h)));
    const big = randArr(r, [64, 32, 40]), big2 = randArr(r, [64, 40, 24]);
    add('batched matMul 64 small products', () => tf.matMul(T(big), T(big2)));
  }
  for (const act of ['linear', 'relu', 'relu6', 'sigmoid', 'elu', 'leakyrelu', 'prelu'] as const) {
    const a = randArr(r, [9, 11], -3, 3), b = randArr(r, [11, 6], -3, 3), bias = randArr(r, [6]);
    const alpha = randArr(r, [6], 0, 0.5);
    add(`fused matMul bias+${act}`, () =>
      tf.fused.matMul({
        a: T(a) as tf.Tensor2D, b: T(b) as tf.Tensor2D, bias: T(bias), activation: act,
        preluActivationWeights: act === 'prelu' ? T(alpha) : undefined, leakyreluAlpha: 0.1,
      }));
    add(`fused matMul bias+${act} (transposeB) + grads`, gradsOf(
      (x, y, z) => tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: act === 'prelu' ? 'relu' : act, transposeB: true }),
      [a, randArr(r, [6, 11]), bias],
    ));
  }

  // ---------------------------------------------------------------- convolution
  const convCases: Array<[number[], number[], number | [number, number], 'same' | 'valid' | number, number]> = [
    [[1, 5, 5, 1], [3, 3, 1, 2], 1, 'valid', 1],
    [[2, 7, 6, 3], [3, 3, 3, 4], 1, 'same', 1],
    [[3, 9, 8, 2], [3, 2, 2, 5], 2, 'same', 1],
    [[2, 11, 10, 3], [5, 3, 3, 2], [2, 3], 'valid', 1],
    [[1, 8, 8, 4], [1, 1, 4, 6], 1, 'valid', 1],
    [[2, 6, 6, 3], [1, 1, 3, 2], 2, 'valid', 1],
    [[1, 10, 9, 2], [3, 3, 2, 3], 3, 'same', 1],
    [[2, 9, 9, 2], [2, 2, 2, 3], 1, 1, 1],
    [[4, 28, 28, 1], [3, 3, 1, 8], 1, 'valid', 1],
  ];
  for (const [xs, fs, st, pad] of convCases) {
    const x = randArr(r, xs), f = randArr(r, fs);
    add(`conv2d x=${xs} f=${fs} s=${st} pad=${pad} + grads`, gradsOf((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, st, pad), [x, f]), 2e-4);
  }
  {
    const x = randArr(r, [2, 12, 11, 2]), f = randArr(r, [3, 3, 2, 3]);
    add('conv2d dilation 2 (forward)', () => tf.conv2d(T(x) as tf.Tensor4D, T(f) as tf.Tensor4D, 1, 'same', 'NHWC', 2));
    add('conv2d dilation [2,3] valid (forward)', () => tf.conv2d(T(x) as tf.Tensor4D, T(f) as tf.Tensor4D, 1, 'valid', 'NHWC', [2, 3]));
    const bias = randArr(r, [3]);
    for (const act of ['relu', 'linear', 'sigmoid'] as const) {
      add(`fused conv2d bias+${act}`, () =>
        tf.fused.conv2d({ x: T(x) as tf.Tensor4D, filter: T(f) as tf.Tensor4D, strides: 1, pad: 'same', bias: T(bias), activation: act }));
    }
    add('fused conv2d bias+relu + grads (unfused in training)', gradsOf(
      (a, b, c) => tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 2, pad: 'valid', bias: c, activation: 'relu' }),
      [x, f, bias],
    ), 2e-4);
    const dy = randArr(r, [2, 12, 11, 3]), w = randArr(r, [3, 3, 2, 3]);
    add('conv2dTranspose (Conv2DBackpropInput) same', () =>
      tf.conv2dTranspose(T(dy) as tf.Tensor4D, T(w) as tf.Tensor4D, [2, 12, 11, 2], 1, 'same'));
  }

  // ---------------------------------------------------------------- pooling
  const poolCases: Array<[number[], number, number, 'same' | 'valid']> = [
    [[2, 8, 8, 3], 2, 2, 'valid'],
    [[1, 9, 7, 2], 2, 2, 'valid'],
    [[2, 9, 9, 4], 3, 2, 'same'],
    [[1, 7, 8, 3], 3, 1, 'valid'],
    [[3, 6, 5, 2], 2, 1, 'same'],
    [[2, 26, 26, 8], 2, 2, 'valid'],
  ];
  for (const [xs, size, st, pad] of poolCases) {
    const x = randArr(r, xs);
    add(`maxPool x=${xs} f=${size} s=${st} ${pad} + grads`, gradsOf((a) => tf.maxPool(a as tf.Tensor4D, size, st, pad), [x]));
    add(`avgPool x=${xs} f=${size} s=${st} ${pad}`, () => tf.avgPool(T(x) as tf.Tensor4D, size, st, pad));
  }
  {
    // ties (relu zeros): the first maximum of each window gets the gradient, as in tfjs
    const x = randArr(r, [2, 6, 6, 3]);
    add('maxPool with ties after relu + grads', gradsOf((a) => tf.maxPool(tf.relu(a) as tf.Tensor4D, 2, 2, 'valid'), [x]));
  }

  // ---------------------------------------------------------------- softmax / reductions
  for (const shape of [[1, 1], [3, 10], [4, 5, 67], [2, 1, 33]]) {
    const x = randArr(r, shape, -6, 6);
    add(`softmax ${shape} + grads`, gradsOf((a) => tf.softmax(a), [x]));
    add(`logSoftmax ${shape} + grads`, gradsOf((a) => tf.logSoftmax(a), [x]));
  }
  {
    const logits = randArr(r, [7, 5], -4, 4), labels = randArr(r, [7, 5], 0, 1);
    add('softmaxCrossEntropy + grads', gradsOf((a, b) => tf.losses.softmaxCrossEntropy(b, a), [logits, labels]));
  }
  const redShapes: Array<[number[], number | number[] | undefined]> = [
    [[7], undefined], [[3, 5], 1], [[3, 5], 0], [[3, 5], -1], [[2, 3, 4], 1], [[2, 3, 4], [1, 2]],
    [[2, 3, 4], [0, 1]], [[2, 3, 4, 5], [0, 2]], [[1, 1, 9], 2], [[300, 70], 0],
  ];
  for (const [shape, axis] of redShapes) {
    const x = randArr(r, shape);
    for (const [name, f] of [['sum', tf.sum], ['mean', tf.mean], ['max', tf.max], ['min', tf.min], ['prod', tf.prod]] as const) {
      add(`${name} ${shape} axis=${axis}`, () => f(T(x), axis));
      add(`${name} ${shape} axis=${axis} keepDims`, () => f(T(x), axis, true));
    }
    add(`sum/mean/max ${shape} axis=${axis} grads`, gradsOf((a) => tf.add(tf.add(tf.sum(a, axis, true), tf.mean(a, axis, true)), tf.max(a, axis, true)), [x]));
  }

  // ---------------------------------------------------------------- elementwise
  const bShapes: Array<[number[], number[]]> = [
    [[5], [5]], [[3, 4], []], [[], [3, 4]], [[3, 4], [4]], [[3, 4], [3, 1]], [[2, 1, 3, 1], [1, 4, 1, 5]],
    [[2, 3, 4], [3, 1]], [[1, 7], [6, 1]], [[700, 130], [130]], [[257, 301], [257, 301]],
  ];
  const bin = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum],
    ['minimum', tf.minimum], ['squaredDifference', tf.squaredDifference],
  ] as const;
  for (const [sa, sb] of bShapes) {
    const a = randArr(r, sa, -2, 2), b = randArr(r, sb, 0.5, 2);
    for (const [name, f] of bin) add(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, () => f(T(a), T(b)));
    add(`add/mul/div broadcast ${JSON.stringify(sa)} ${JSON.stringify(sb)} grads`, gradsOf((x, y) => tf.div(tf.mul(tf.add(x, y), x), y), [a, b]));
  }
  {
    const a = randArr(r, [4, 6], 0.5, 2), b = randArr(r, [6], -2, 2);
    add('pow + grads', gradsOf((x, y) => tf.pow(x, y), [a, b]), 2e-4);
    const ia = randInts(r, [3, 4], -5, 5), ib = randInts(r, [4], 1, 5);
    add('int32 add/mul/sub (cpu fallback)', () => [tf.add(T(ia), T(ib)), tf.mul(T(ia), T(ib)), tf.sub(T(ia), T(ib))]);
  }
  const un = [
    ['relu', tf.relu, -3, 3], ['relu6', tf.relu6, -3, 9], ['exp', tf.exp, -80, 80], ['log', tf.log, 0.01, 100],
    ['sqrt', tf.sqrt, 0, 100], ['rsqrt', tf.rsqrt, 0.01, 100], ['square', tf.square, -5, 5], ['neg', tf.neg, -5, 5],
    ['abs', tf.abs, -5, 5], ['step', tf.step, -2, 2], ['sigmoid', tf.sigmoid, -30, 30], ['tanh', tf.tanh, -5, 5],
    ['reciprocal', tf.reciprocal, 0.1, 5], ['elu', tf.elu, -5, 5], ['leakyRelu', tf.leakyRelu, -5, 5],
    ['log1p', tf.log1p, -0.5, 5], ['softplus', tf.softplus, -20, 20],
  ] as const;
  for (const [name, f, lo, hi] of un) {
    const x = randArr(r, [3, 257], lo, hi);
    add(`${name} + grads`, gradsOf((a) => (f as (t: tf.Tensor) => tf.Tensor)(a), [x]), name === 'exp' ? 2e-6 : 1e-5);
  }
  {
    const big = randArr(r, [300, 1001], -50, 50);
    add('exp/sigmoid/relu on 300k elements (threaded path)', () => [tf.exp(tf.div(T(big), 10)), tf.sigmoid(T(big)), tf.relu(T(big))], 2e-6);
    const xs = [randArr(r, [5, 9]), randArr(r, [5, 9]), randArr(r, [5, 9])];
    add('addN + grads', gradsOf((a, b, c) => tf.addN([a, b, c]), xs));
  }

  // ---------------------------------------------------------------- data movement
  const perms: Array<[number[], number[]]> = [
    [[3, 4], [1, 0]], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[2, 3, 2, 4, 5], [2, 0, 3, 1, 4]],
    [[5, 1, 3], [1, 2, 0]], [[4, 6], [0, 1]],
  ];
  for (const [shape, perm] of perms) {
    const x = randArr(r, shape);
    add(`transpose ${shape} perm=${perm} + grads`, gradsOf((a) => tf.transpose(a, perm), [x]));
    const xi = randInts(r, shape, -100, 100);
    add(`transpose int32 ${shape} perm=${perm}`, () => tf.transpose(T(xi), perm));
  }
  {
    const emb = randArr(r, [11, 4]), ids = randInts(r, [3, 5], 0, 11);
    add('gather axis 0 with 2-D indices + grads (embedding / UnsortedSegmentSum)', gradsOf((a, i) => tf.gather(a, i), [emb, ids]));
    const x = randArr(r, [3, 7, 2]), idx = randInts(r, [9], 0, 7);
    add('gather axis 1 + grads', gradsOf((a, i) => tf.gather(a, i, 1), [x, idx]));
    const xi = randInts(r, [6, 3], -9, 9), ii = randInts(r, [4], 0, 6);
    add('gather int32 values', () => tf.gather(T(xi), T(ii)));
    const data = randArr(r, [8, 3]), seg = { shape: [8], dtype: 'int32' as const, values: Int32Array.from([0, 2, 2, -1, 4, 1, 0, 9]) };
    add('unsortedSegmentSum (negative and out-of-range ids dropped)', () => tf.unsortedSegmentSum(T(data), T(seg) as tf.Tensor1D, 5));
  }
  {
    const x = randArr(r, [2, 3, 1]);
    add('tile + grads', gradsOf((a) => tf.tile(a, [2, 1, 4]), [x]));
    add('broadcastTo', () => tf.broadcastTo(T(x), [4, 2, 3, 5]));
    const a = randArr(r, [2, 3, 4]), b = randArr(r, [2, 5, 4]), c = randArr(r, [2, 1, 4]);
    add('concat axis 1 + grads', gradsOf((p, q, s) => tf.concat([p, q, s], 1), [a, b, c]));
    const a2 = randArr(r, [2, 3, 2]), i1 = randInts(r, [2, 2], 0, 9), i2 = randInts(r, [2, 3], 0, 9);
    add('concat axis 0 / 2', () => [tf.concat([T(a), T(a)], 0), tf.concat([T(a), T(a2)], 2)]);
    add('concat int32', () => tf.concat([T(i1), T(i2)], 1));
    add('stack/unstack + grads', gradsOf((p) => tf.stack(tf.unstack(p, 1).reverse(), 2), [a]));
    add('slice / split + grads', gradsOf((p) => tf.concat(tf.split(tf.slice(p, [0, 1, 0], [2, 2, 4]), 2, 2).reverse(), 2), [a]));
  }
  return out;
}

function runSuite(name: string, setup: () => void): void {
  describe(name, () => {
    test('setup', async () => {
      setup();
      await tf.setBackend(NATIVE_BACKEND);
      assert.equal(tf.getBackend(), NATIVE_BACKEND);
    });
    for (const c of cases(42)) {
      test(c.label, async () => assertSame(NATIVE_BACKEND, c.label, c.fn, c.tol ?? 1e-4));
    }
  });
}

if (!addon) {
  test('native kernels', { skip: `native addon not built: ${addonError()} — only the cpu fallback engine is available` }, () => {});
} else {
  registerNativeBackend(addon);
  const hasBlas = addon.info().hasBlas;
  after(() => {
    addon.setBlas(true);
    addon.setThreads(1);
  });
  runSuite(`native kernels (${hasBlas ? 'OpenBLAS' : 'portable GEMM'}, 2 threads)`, () => {
    addon.setBlas(true);
    addon.setThreads(2);
  });
  runSuite('native kernels (portable GEMM, 1 thread)', () => {
    addon.setBlas(false);
    addon.setThreads(1);
  });

  describe('native engine state safety', () => {
    test('fused Adam matches tf.train.adam on cpu over several steps', async () => {
      const r = rng(5);
      const w0 = randArr(r, [37, 11]), b0 = randArr(r, [11]);
      const xs = randArr(r, [8, 37]), ys = randArr(r, [8, 11]);
      const train = async (backend: string, make: () => tf.Optimizer): Promise<Float32Array[]> => {
        await tf.setBackend(backend);
        const w = tf.variable(T(w0)), b = tf.variable(T(b0));
        const opt = make();
        for (let i = 0; i < 6; i++) {
          opt.minimize(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(T(xs), w), b), T(ys)))) as tf.Scalar);
        }
        const out = [w.dataSync().slice() as Float32Array, b.dataSync().slice() as Float32Array];
        w.dispose();
        b.dispose();
        opt.dispose();
        return out;
      };
      const ref = await train('cpu', () => tf.train.adam(0.01));
      const got = await train(NATIVE_BACKEND, () => new NativeAdamOptimizer(0.01, 0.9, 0.999));
      for (let i = 0; i < ref.length; i++) {
        for (let j = 0; j < ref[i].length; j++) assert.ok(Math.abs(ref[i][j] - got[i][j]) < 1e-5, `param ${i}[${j}]`);
      }
      // On the same backend (same gradients) the fused update is bit-identical to tfjs's Adam,
      // for the default and for unusual hyper-parameters.
      for (const [lr, b1, b2, eps] of [[0.01, 0.9, 0.999, undefined], [3e-4, 0.8, 0.95, 1e-3]] as const) {
        const stock = await train(NATIVE_BACKEND, () => tf.train.adam(lr, b1, b2, eps));
        const fused = await train(NATIVE_BACKEND, () => new NativeAdamOptimizer(lr, b1, b2, eps));
        for (let i = 0; i < stock.length; i++) assert.deepEqual(fused[i], stock[i], `param ${i}, lr ${lr}`);
      }
    });

    test('NativeAdamOptimizer (frugal backprop + fused update) matches tf.train.adam on a residual/attention-like model', async () => {
      const r = rng(9);
      const x0 = randArr(r, [4, 6, 8]), w0 = randArr(r, [8, 24]), g0 = randArr(r, [8], 0.5, 1.5), y0 = randArr(r, [4, 3]);
      const wc0 = randArr(r, [8, 3]);
      const train = async (make: () => tf.Optimizer): Promise<Float32Array[]> => {
        await tf.setBackend(NATIVE_BACKEND);
        const w = tf.variable(T(w0)), g = tf.variable(T(g0)), wc = tf.variable(T(wc0));
        const opt = make();
        const kept: tf.Tensor[] = [];
        for (let i = 0; i < 5; i++) {
          const cost = opt.minimize(() => {
            const x = T(x0);
            const h = tf.reshape(tf.matMul(tf.reshape(x, [24, 8]), w), [4, 6, 3, 8]);
            const [q, k, v] = tf.unstack(tf.transpose(h, [2, 0, 1, 3]));
            const att = tf.matMul(tf.softmax(tf.matMul(q, k, false, true)), v);
            const res = tf.add(att, x);
            const mean = tf.mean(res, -1, true);
            const xc = tf.sub(res, mean);
            const ln = tf.mul(tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), 1e-5))), g);
            const logits = tf.matMul(tf.mean(ln, 1), wc);
            kept.push(tf.keep(logits));
            return tf.losses.softmaxCrossEntropy(T(y0), logits) as tf.Scalar;
          }, true);
          kept.push(cost!);
        }
        const out = [w, g, wc].map((t) => t.dataSync().slice() as Float32Array);
        // tensors kept by the caller during minimize survive it
        out.push(Float32Array.from(kept.flatMap((t) => [...t.dataSync()])));
        kept.forEach((t) => t.dispose());
        [w, g, wc].forEach((t) => t.dispose());
        opt.dispose();
        return out;
      };
      let before = tf.memory().numTensors;
      const ref = await train(() => tf.train.adam(0.01));
      const stockLeft = tf.memory().numTensors - before; // tfjs's own Adam leaves a scalar behind
      before = tf.memory().numTensors;
      const got = await train(() => new NativeAdamOptimizer(0.01, 0.9, 0.999));
      assert.ok(tf.memory().numTensors - before <= stockLeft, 'no more tensors left behind than by tf.train.adam');
      for (let i = 0; i < ref.length; i++) {
        assert.equal(got[i].length, ref[i].length);
        // same backend: frugal backprop and the fused update change no bit
        assert.deepEqual(got[i], ref[i], `array ${i}`);
      }
    });

    test('NativeAdamOptimizer: a loss holding a gradient of its own (nested tf.grad, saved tensors reused by it) trains as tf.train.adam does', async () => {
      const r = rng(21);
      const x0 = randArr(r, [5, 4]), w0 = randArr(r, [4, 3]);
      const train = async (make: () => tf.Optimizer): Promise<Float32Array> => {
        await tf.setBackend(NATIVE_BACKEND);
        const w = tf.variable(T(w0));
        const opt = make();
        for (let i = 0; i < 4; i++) {
          opt.minimize(() => {
            // input-gradient penalty: d/dx of sum(tanh(x·w)²), itself differentiated with respect to w
            const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.tanh(tf.matMul(x as tf.Tensor2D, w)))))(T(x0));
            return tf.add(tf.mean(tf.square(dx)), tf.mean(tf.matMul(T(x0), w))) as tf.Scalar;
          });
        }
        const out = w.dataSync().slice() as Float32Array;
        w.dispose();
        opt.dispose();
        return out;
      };
      const before = tf.memory().numTensors;
      const ref = await train(() => tf.train.adam(0.05));
      const got = await train(() => new NativeAdamOptimizer(0.05, 0.9, 0.999));
      assert.deepEqual(got, ref);
      const start = T(w0);
      assert.notDeepEqual(got, start.dataSync(), 'the weights moved');
      start.dispose();
      assert.ok(tf.memory().numTensors - before <= 2, `tensors left behind: ${tf.memory().numTensors - before}`);
    });

    test('fused Adam never writes into buffers that other tensors or readers hold', async () => {
      await tf.setBackend(NATIVE_BACKEND);
      const userArray = new Float32Array([1, 2, 3, 4]);
      const v = tf.variable(tf.tensor(userArray, [4]));
      const opt = new NativeAdamOptimizer(0.1, 0.9, 0.999);
      const step = (): void => {
        opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar);
      };
      step();
      assert.deepEqual([...userArray], [1, 2, 3, 4], 'the array given to tf.tensor is not modified');
      step();
      const snapshot = tf.clone(v);
      const read = v.dataSync();
      const before = [...read];
      step();
      step();
      assert.deepEqual([...snapshot.dataSync()], before, 'a clone keeps its values');
      assert.deepEqual([...read], before, 'an array returned by dataSync keeps its values');
      assert.notDeepEqual([...v.dataSync()], before, 'the variable itself was updated');
      snapshot.dispose();
      v.dispose();
      opt.dispose();
    });

    test('recycled buffers never leak into live tensors', async () => {
      await tf.setBackend(NATIVE_BACKEND);
      const a = tf.tensor2d([[1, 2], [3, 4]]);
      for (let i = 0; i < 50; i++) {
        const big = tf.tidy(() => tf.relu(tf.randomNormal([64, 64])));
        big.dispose();
        const t = tf.tidy(() => tf.add(tf.matMul(a, a), 1));
        assert.deepEqual([...t.dataSync()], [8, 11, 16, 23]);
        t.dispose();
      }
      a.dispose();
    });
  });
}

// keep `Arr` referenced for readers of this file: every case is built from seeded arrays
export type { Arr };
