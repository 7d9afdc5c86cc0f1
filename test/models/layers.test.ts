import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, FAMILIES, randomFeatures } from './helpers.js';
import { buildModel } from '../../src/models/build.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { MaskedMeanPool, MultiHeadSelfAttention, PaddingMask, SeededDropout, applyWithoutDropout } from '../../src/models/layers.js';
import { Rng } from '../../src/util/rng.js';

const rng = new Rng('layers-test');
const randomArray = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());

/**
 * Checks tf's gradient of `f` at `values` against central finite differences (float32).
 * `set` writes a perturbed copy of the values where `f` reads them.
 */
function checkGradient(name: string, analytic: Float32Array, values: Float32Array, set: (v: Float32Array) => void, f: () => number): void {
  const eps = 1e-2;
  for (let i = 0; i < values.length; i++) {
    const v = values.slice();
    v[i] = values[i] + eps;
    set(v);
    const up = f();
    v[i] = values[i] - eps;
    set(v);
    const down = f();
    const numeric = (up - down) / (2 * eps);
    const tol = 1e-3 + 5e-3 * Math.abs(numeric);
    assert.ok(Math.abs(numeric - analytic[i]) <= tol, `${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`);
  }
  set(values);
}

test('self-attention gradients (input and every weight) match finite differences, with padding', () => {
  const [b, s, d] = [2, 4, 6];
  const layer = new MultiHeadSelfAttention({ numHeads: 2, seed: 5, name: 'attn_check' });
  const mask = tf.tensor2d([[1, 1, 1, 0], [1, 1, 0, 0]]);
  const readout = tf.tensor3d(randomArray(b * s * d), [b, s, d]);
  let xValues: Float32Array = randomArray(b * s * d);
  const loss = (x: tf.Tensor) => tf.sum(tf.mul(layer.apply([x, mask]) as tf.Tensor, readout)) as tf.Scalar;
  const lossAt = () => tf.tidy(() => loss(tf.tensor3d(xValues, [b, s, d])).dataSync()[0]);
  lossAt(); // builds the layer's weights

  // Biases start at 0; give them values so their gradient paths are exercised too.
  for (const w of layer.trainableWeights) {
    const shape = w.shape as number[];
    w.write(tf.tensor(randomArray(shape.reduce((p, q) => p * q, 1), 0.3), shape));
  }

  const gx = tf.tidy(() => tf.grad((x: tf.Tensor) => loss(x))(tf.tensor3d(xValues, [b, s, d])).dataSync() as Float32Array);
  checkGradient('x', gx, xValues, (v) => (xValues = v), lossAt);

  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => loss(tf.tensor3d(xValues, [b, s, d])), vars);
  for (const v of vars) {
    const analytic = grads[v.name].dataSync() as Float32Array;
    checkGradient(v.name, analytic, v.dataSync() as Float32Array, (vals) => v.assign(tf.tensor(vals, v.shape)), lossAt);
  }
  tf.dispose(Object.values(grads));
  tf.dispose([mask, readout]);
});

test('self-attention ignores padded keys: their values cannot change non-padded outputs', () => {
  const layer = new MultiHeadSelfAttention({ numHeads: 2, seed: 1 });
  const mask = tf.tensor2d([[1, 1, 0]]);
  const x = randomArray(3 * 4);
  const run = (values: Float32Array) => tf.tidy(() => (layer.apply([tf.tensor3d(values, [1, 3, 4]), mask]) as tf.Tensor).dataSync().slice(0, 8));
  const before = run(x);
  const changed = x.slice();
  for (let i = 8; i < 12; i++) changed[i] += 10;
  assert.deepEqual(run(changed), before);
  mask.dispose();
});

test('padding mask and masked mean pool', () => {
  const ids = tf.tensor2d([[4, 7, 0, 0], [0, 0, 0, 0]]);
  const mask = new PaddingMask().apply(ids) as tf.Tensor;
  assert.deepEqual(Array.from(mask.dataSync()), [1, 1, 0, 0, 0, 0, 0, 0]);
  const x = tf.tensor3d([[[1, 2], [3, 4], [100, 100], [100, 100]], [[5, 5], [5, 5], [5, 5], [5, 5]]]);
  const pooled = new MaskedMeanPool().apply([x, mask]) as tf.Tensor;
  assert.deepEqual(Array.from(pooled.dataSync()), [2, 3, 0, 0]);
  tf.dispose([ids, mask, x, pooled]);
});

test('transformer: what sits at padded positions does not change the logits', () => {
  const family = FAMILIES.find((f) => f.name === 'transformer')!;
  const model = buildModel(family.config, family.inputShape, family.numClasses, 11);
  const ids = tf.tensor2d([[3, 9, 4, 0, 0, 0], [5, 2, 0, 0, 0, 0]]);
  const logits = () => tf.tidy(() => (model.predict(ids) as tf.Tensor).dataSync());
  const before = logits();

  // Perturb the position-embedding rows of the padded positions (3..5): no effect.
  const position = model.getLayer('position_embedding');
  const table = position.getWeights()[0];
  const values = table.dataSync().slice() as Float32Array;
  const d = table.shape[1]!;
  for (let i = 3 * d; i < values.length; i++) values[i] += 5 * rng.normal();
  position.setWeights([tf.tensor(values, table.shape)]);
  assert.deepEqual(logits(), before);

  // Perturb the padding token's embedding (row 0): no effect either.
  const tokens = model.getLayer('token_embedding');
  const emb = tokens.getWeights()[0];
  const embValues = emb.dataSync().slice() as Float32Array;
  for (let i = 0; i < d; i++) embValues[i] += 5;
  tokens.setWeights([tf.tensor(embValues, emb.shape)]);
  assert.deepEqual(logits(), before);

  // Sanity: perturbing a used position does change them.
  for (let i = 0; i < d; i++) values[d + i] += 1;
  position.setWeights([tf.tensor(values, table.shape)]);
  assert.notDeepEqual(logits(), before);
  ids.dispose();
  model.dispose();
});

test('transformer logits of a sequence do not depend on the other sequences in the batch', () => {
  const family = FAMILIES.find((f) => f.name === 'transformer')!;
  const model = buildModel(family.config, family.inputShape, family.numClasses, 2);
  const x = randomFeatures(family, 5);
  const all = tf.tidy(() => (model.predict(tf.tensor2d(x, [5, 6])) as tf.Tensor).dataSync());
  const one = tf.tidy(() => (model.predict(tf.tensor2d(x.subarray(12, 18), [1, 6])) as tf.Tensor).dataSync());
  assert.deepEqual(Array.from(one), Array.from(all.subarray(6, 9)));
  model.dispose();
});

test('the dropout-off pass: equals inference without batch norm, normalises with the batch with it, and leaves dropout on afterwards', () => {
  const x = tf.tensor2d(randomArray(6 * 4), [6, 4]);
  const same = (a: tf.Tensor, b: tf.Tensor) => a.dataSync().every((v, i) => v === b.dataSync()[i]);
  // a functional MLP with Distillery's seeded dropout: the pass is exactly training: false
  const inp = tfl.input({ shape: [4] });
  const hidden = new SeededDropout({ rate: 0.5, seed: 3 }).apply(tfl.layers.dense({ units: 8, activation: 'relu' }).apply(inp)) as tfl.SymbolicTensor;
  const mlp = tfl.model({ inputs: inp, outputs: tfl.layers.dense({ units: 3 }).apply(hidden) as tfl.SymbolicTensor });
  assert.ok(same(applyWithoutDropout(mlp, x), mlp.apply(x, { training: false }) as tf.Tensor));
  assert.ok(!same(mlp.apply(x, { training: true }) as tf.Tensor, mlp.apply(x, { training: false }) as tf.Tensor), 'dropout is on in training');
  // a team's Sequential with batch norm and tfjs's own Dropout, nested in a model
  const team = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 8 }), tfl.layers.batchNormalization(), tfl.layers.dropout({ rate: 0.5 }), tfl.layers.dense({ units: 3 })] });
  const outer = tfl.model({ inputs: inp, outputs: team.apply(inp) as tfl.SymbolicTensor });
  const a = applyWithoutDropout(outer, x);
  assert.ok(same(a, applyWithoutDropout(outer, x)), 'no dropout mask in the pass: the same logits twice');
  assert.ok(!same(a, outer.apply(x, { training: false }) as tf.Tensor), 'batch norm on the batch, not on its (initial) moving statistics');
  // the batch-normalised hidden layer has mean 0 over the batch: check it against the dense output normalised by hand
  const dense = team.layers[0].apply(x) as tf.Tensor2D;
  const { mean, variance } = tf.moments(dense, 0);
  const bn = tf.div(tf.sub(dense, mean), tf.sqrt(tf.add(variance, 1e-3)));
  const expected = team.layers[3].apply(bn) as tf.Tensor;
  const diff = tf.max(tf.abs(tf.sub(a, expected))).dataSync()[0];
  assert.ok(diff < 1e-5, `the pass is dense → batch norm with batch statistics → dense (max difference ${diff})`);
  assert.ok(!Object.prototype.hasOwnProperty.call(team.layers[2], 'call'), 'dropout restored');
  assert.ok(!same(outer.apply(x, { training: true }) as tf.Tensor, a), 'dropout is on again in training');
});
