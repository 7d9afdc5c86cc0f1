import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, FAMILIES, randomFeatures, randomLabels, crossEntropy, type Family } from './helpers.js';
import { buildModel, parameterCount } from '../../src/models/build.js';
import { dropoutMultiplier } from '../../src/engine/dropoutMask.js';
import type { BuiltinModelConfig } from '../../src/models/config.js';
import { InputError } from '../../src/util/errors.js';

function build(f: Family, seed = 1) {
  return buildModel(f.config, f.inputShape, f.numClasses, seed);
}

function weightsOf(model: ReturnType<typeof build>): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

for (const f of FAMILIES) {
  test(`${f.name}: outputs logits of shape [batch, numClasses]`, () => {
    const model = build(f);
    assert.deepEqual(model.outputs[0].shape, [null, f.numClasses]);
    const x = tf.tensor(randomFeatures(f, 4), [4, ...f.inputShape]);
    const y = model.predict(x) as tf.Tensor;
    assert.deepEqual(y.shape, [4, f.numClasses]);
    assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
    tf.dispose([x, y]);
    model.dispose();
  });

  test(`${f.name}: same seed gives identical weights, another seed different ones`, () => {
    const a = weightsOf(build(f, 7));
    const b = weightsOf(build(f, 7));
    const c = weightsOf(build(f, 8));
    assert.deepEqual(a, b);
    // Every randomly initialised weight (not the zero biases / LayerNorm constants) differs.
    const random = a.map((w, i) => i).filter((i) => a[i].some((v) => v !== a[i][0]));
    assert.ok(random.length > 0);
    for (const i of random) assert.notDeepEqual(a[i], c[i]);
  });

  test(`${f.name}: a few Adam steps on a tiny batch reduce the loss`, () => {
    const n = 12;
    const model = build(f);
    const x = tf.tensor(randomFeatures(f, n), [n, ...f.inputShape]);
    const labels = randomLabels(n, f.numClasses);
    const loss = () => tf.tidy(() => crossEntropy(model.predict(x) as tf.Tensor, labels, f.numClasses).dataSync()[0]);
    const before = loss();
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const opt = tf.train.adam(0.02);
    for (let step = 0; step < 15; step++) {
      tf.tidy(() => {
        opt.minimize(() => crossEntropy(model.apply(x, { training: true }) as tf.Tensor, labels, f.numClasses), false, vars);
      });
    }
    const after = loss();
    assert.ok(after < before * 0.8, `loss ${before} → ${after}`);
    // Every trainable weight received a gradient (none is stuck at its initial value).
    const fresh = weightsOf(build(f));
    const trained = weightsOf(model);
    trained.forEach((w, i) => assert.notDeepEqual(w, fresh[i], `weight ${model.weights[i].originalName} did not change`));
    x.dispose();
    opt.dispose();
    model.dispose();
  });

  test(`${f.name}: dropout masks are seeded, change per training call, and are off at inference`, () => {
    const x = tf.tensor(randomFeatures(f, 3), [3, ...f.inputShape]);
    const run = (seed: number) => {
      const model = build(f, seed);
      const out = [1, 2].map(() => tf.tidy(() => (model.apply(x, { training: true }) as tf.Tensor).dataSync()));
      const infer = [1, 2].map(() => tf.tidy(() => (model.apply(x) as tf.Tensor).dataSync()));
      model.dispose();
      return { out, infer };
    };
    const a = run(3);
    const b = run(3);
    assert.deepEqual(a.out, b.out);
    assert.notDeepEqual(a.out[0], a.out[1]);
    assert.deepEqual(a.infer[0], a.infer[1]);
    x.dispose();
  });
}

test('reference architectures have the expected parameter counts', () => {
  const counts: [BuiltinModelConfig, number[], number, number][] = [
    [{ kind: 'mlp', hidden: [256, 256] }, [784], 10, 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10],
    // conv3x3x32-pool2-conv3x3x64-pool2-dense128-dense10 on 28×28×1: 28→26→13→11→5.
    [{ kind: 'cnn', conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128] }, [28, 28, 1], 10, 320 + 18496 + (5 * 5 * 64 * 128 + 128) + 1290],
    // embeddings 5000·128 + 64·128; per block: 4 projections (128²+128), FFN, 2 LayerNorms.
    [
      { kind: 'transformer', vocabSize: 5000, maxLen: 64, dModel: 128, heads: 2, layers: 2, ff: 256 },
      [64],
      2,
      5000 * 128 + 64 * 128 + 2 * (4 * (128 * 128 + 128) + (128 * 256 + 256) + (256 * 128 + 128) + 2 * 256) + 258,
    ],
  ];
  for (const [config, shape, k, expected] of counts) {
    const model = buildModel(config, shape, k, 0);
    assert.equal(parameterCount(model), expected, config.kind);
    model.dispose();
  }
});

test('mlp flattens inputs of higher rank; transformer accepts sequences shorter than maxLen', () => {
  const mlp = buildModel({ kind: 'mlp', hidden: [4] }, [3, 2], 2, 0);
  assert.deepEqual(mlp.outputs[0].shape, [null, 2]);
  const tr = buildModel({ kind: 'transformer', vocabSize: 10, maxLen: 8, dModel: 4, heads: 1, layers: 1, ff: 4 }, [5], 2, 0);
  const y = tr.predict(tf.tensor2d([[1, 2, 3, 0, 0]])) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 2]);
  y.dispose();
  mlp.dispose();
  tr.dispose();
});

test('invalid configs are rejected with an InputError from "model config"', () => {
  const bad: [unknown, number[], RegExp][] = [
    [{ kind: 'rnn' }, [4], /unknown kind "rnn"/],
    [{ kind: 'mlp', hidden: [8, 0] }, [4], /hidden\[1\] must be a positive integer/],
    [{ kind: 'mlp', hidden: 8 }, [4], /hidden must be a list/],
    [{ kind: 'mlp', hiden: [8], hidden: [8] }, [4], /unknown field "hiden"/],
    [{ kind: 'mlp', hidden: [8], activation: 'sigmoid' }, [4], /activation must be relu, tanh or gelu/],
    [{ kind: 'mlp', hidden: [8], dropout: 1 }, [4], /dropout must be a number in \[0, 1\)/],
    [{ kind: 'cnn', conv: [{ filters: 4, kernel: 3 }], dense: [] }, [16], /cnn needs images of shape \[height, width, channels\]; the data has shape \[16\]/],
    [{ kind: 'cnn', conv: [{ filters: 4, kernel: 5 }], dense: [] }, [4, 4, 1], /conv\[0\]: kernel 5 does not fit its 4×4 input/],
    [{ kind: 'cnn', conv: [{ filters: 4, kernel: 3, pool: 4 }], dense: [] }, [5, 5, 1], /conv\[0\]: pool 4 does not fit its 3×3 input/],
    [{ kind: 'cnn', conv: [], dense: [] }, [5, 5, 1], /conv must be a non-empty list/],
    [{ kind: 'transformer', vocabSize: 10, maxLen: 8, dModel: 6, heads: 4, layers: 1, ff: 4 }, [8], /dModel \(6\) must be divisible by heads \(4\)/],
    [{ kind: 'transformer', vocabSize: 10, maxLen: 8, dModel: 8, heads: 2, layers: 1, ff: 4 }, [9], /sequences have length 9 but maxLen is 8/],
    [{ kind: 'transformer', vocabSize: 10, maxLen: 8, dModel: 8, heads: 2, layers: 1.5, ff: 4 }, [8], /layers must be a positive integer, got 1.5/],
    [{ kind: 'mlp', hidden: [] }, [0], /input shape must be a non-empty list of positive integers/],
  ];
  for (const [config, shape, message] of bad) {
    assert.throws(
      () => buildModel(config as BuiltinModelConfig, shape, 3, 0),
      (e: unknown) => e instanceof InputError && e.source === 'model config' && message.test(e.message),
      `expected ${message} for ${JSON.stringify(config)}`,
    );
  }
  assert.throws(() => buildModel({ kind: 'mlp', hidden: [] }, [4], 0, 0), /number of classes must be a positive integer/);
});

test('SeededDropout multiplies by exactly the mask tf.dropout draws for the same seed (bit-identical values and gradients)', () => {
  for (const [rate, seed, shape] of [[0.2, 12345, [32, 256]], [0.5, 7, [3, 5, 7]], [0.9, 2 ** 31 - 1, [1000]], [0.05, 1, [2, 3]], [0.3, 99, [64, 300]]] as [number, number, number[]][]) {
    const x = tf.randomNormal(shape, 0, 1, 'float32', seed);
    const ours = tf.mul(x, tf.tensor(dropoutMultiplier(x.size, rate, seed), x.shape));
    const theirs = tf.dropout(x, rate, undefined, seed);
    assert.deepEqual(Array.from(ours.dataSync()), Array.from(theirs.dataSync()), `rate ${rate} seed ${seed}`);
    const kept = Array.from(dropoutMultiplier(x.size, rate, seed)).filter((m) => m > 0).length / x.size;
    if (x.size >= 1000) assert.ok(Math.abs(kept - (1 - rate)) < 0.05, `kept fraction ${kept} for rate ${rate}`);
    tf.dispose([x, ours, theirs]);
  }
});
