/**
 * The three reference models of issue #3, built with the tfjs API exactly as Distillery's
 * trainers use it (tfjs-layers for MLP/CNN; the transformer from core ops — its PyTorch twin
 * in bench/torch_bench.py is nn.TransformerEncoderLayer with the same sizes).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export type ModelName = 'mlp' | 'cnn' | 'transformer' | 'letter';

export interface BenchModel {
  name: ModelName;
  /** Logits for a batch. */
  forward(x: tf.Tensor): tf.Tensor2D;
  /** A random batch (inputs, one-hot labels). */
  batch(n: number): { x: tf.Tensor; y: tf.Tensor2D };
  params: number;
  dispose(): void;
}

function randomLabels(n: number, k: number): tf.Tensor2D {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = Math.floor(Math.random() * k);
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(ids, 'int32'), k), 'float32') as tf.Tensor2D);
}

function fromLayers(name: ModelName, model: tfl.LayersModel, inShape: number[], k: number): BenchModel {
  return {
    name,
    forward: (x) => model.apply(x, { training: true }) as tf.Tensor2D,
    batch: (n) => ({ x: tf.randomNormal([n, ...inShape]), y: randomLabels(n, k) }),
    params: model.countParams(),
    dispose: () => model.dispose(),
  };
}

export function mlp(): BenchModel {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
      tfl.layers.dense({ units: 256, activation: 'relu' }),
      tfl.layers.dense({ units: 10 }),
    ],
  });
  return fromLayers('mlp', m, [784], 10);
}

/** The main job's model (configs/letter-update.yaml): 16 → 256 → 256 → 26 with dropout 0.2, trained at batch 32. */
export function letter(): BenchModel {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [16], units: 256, activation: 'relu' }),
      tfl.layers.dropout({ rate: 0.2 }),
      tfl.layers.dense({ units: 256, activation: 'relu' }),
      tfl.layers.dropout({ rate: 0.2 }),
      tfl.layers.dense({ units: 26 }),
    ],
  });
  return fromLayers('letter', m, [16], 26);
}

export function cnn(): BenchModel {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', padding: 'valid' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', padding: 'valid' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu' }),
      tfl.layers.dense({ units: 10 }),
    ],
  });
  return fromLayers('cnn', m, [28, 28, 1], 10);
}

export interface TransformerSize {
  vocab: number;
  seq: number;
  dModel: number;
  heads: number;
  layers: number;
  ff: number;
  classes: number;
}

export const TRANSFORMER: TransformerSize = { vocab: 5000, seq: 64, dModel: 128, heads: 2, layers: 2, ff: 256, classes: 2 };

/**
 * Post-LN encoder classifier (ReLU FFN, mean pool), as nn.TransformerEncoderLayer(batch_first,
 * norm_first=False). Written for tfjs's memory model: tfjs keeps every forward intermediate
 * and every gradient of a step alive until the step ends, so the formulation avoids
 * full-size temporaries where the arithmetic allows (separate q/k/v projections instead of a
 * split of a fused one; the attention scale folded into the q projection).
 */
export function transformer(s: TransformerSize = TRANSFORMER): BenchModel {
  const D = s.dModel, H = s.heads, dh = D / s.heads, T = s.seq;
  const scale = 1 / Math.sqrt(dh);
  const vars: tf.Variable[] = [];
  const v = (shape: number[], scale: number, init?: number): tf.Variable => {
    const t = init === undefined ? tf.mul(tf.randomNormal(shape), scale) : tf.fill(shape, init);
    const r = tf.variable(t);
    t.dispose();
    vars.push(r);
    return r;
  };
  const emb = v([s.vocab, D], 0.02), pos = v([T, D], 0.02);
  const layers = Array.from({ length: s.layers }, () => ({
    wq: v([D, D], 1 / Math.sqrt(D)), bq: v([D], 0, 0),
    wk: v([D, D], 1 / Math.sqrt(D)), bk: v([D], 0, 0),
    wv: v([D, D], 1 / Math.sqrt(D)), bv: v([D], 0, 0),
    wo: v([D, D], 1 / Math.sqrt(D)), bo: v([D], 0, 0),
    g1: v([D], 0, 1), b1: v([D], 0, 0),
    w1: v([D, s.ff], 1 / Math.sqrt(D)), bf1: v([s.ff], 0, 0),
    w2: v([s.ff, D], 1 / Math.sqrt(s.ff)), bf2: v([D], 0, 0),
    g2: v([D], 0, 1), b2: v([D], 0, 0),
  }));
  const wc = v([D, s.classes], 1 / Math.sqrt(D)), bc = v([s.classes], 0, 0);
  const layerNorm = (x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D => {
    const mean = tf.mean(x, -1, true);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, 1e-5))), g), b) as tf.Tensor2D;
  };
  const forward = (ids: tf.Tensor): tf.Tensor2D => {
    const B = ids.shape[0];
    let h = tf.reshape(tf.add(tf.gather(emb, ids as tf.Tensor2D), pos), [B * T, D]) as tf.Tensor2D;
    for (const L of layers) {
      // [B*T, D] -> [B, H, T, dh]
      const heads = (t: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]);
      // q·k / sqrt(dh) with the scale applied to the (small) projection instead of the [B,H,T,T]
      // scores: s(xWq + bq) = x(sWq) + s·bq, the same arithmetic as PyTorch's scaled q.
      const q = heads(tf.fused.matMul({ a: h, b: tf.mul(L.wq, scale) as tf.Tensor2D, bias: tf.mul(L.bq, scale) }));
      const k = heads(tf.fused.matMul({ a: h, b: L.wk as tf.Tensor2D, bias: L.bk }));
      const vv = heads(tf.fused.matMul({ a: h, b: L.wv as tf.Tensor2D, bias: L.bv }));
      const ctx = tf.matMul(tf.softmax(tf.matMul(q, k, false, true)), vv);
      const ctx2 = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, D]) as tf.Tensor2D;
      const attn = tf.fused.matMul({ a: ctx2, b: L.wo as tf.Tensor2D, bias: L.bo });
      const h1 = layerNorm(tf.add(h, attn), L.g1, L.b1);
      const f1 = tf.fused.matMul({ a: h1, b: L.w1 as tf.Tensor2D, bias: L.bf1, activation: 'relu' });
      const f2 = tf.fused.matMul({ a: f1, b: L.w2 as tf.Tensor2D, bias: L.bf2 });
      h = layerNorm(tf.add(h1, f2), L.g2, L.b2);
    }
    const pooled = tf.mean(tf.reshape(h, [B, T, D]), 1) as tf.Tensor2D;
    return tf.fused.matMul({ a: pooled, b: wc as tf.Tensor2D, bias: bc }) as tf.Tensor2D;
  };
  return {
    name: 'transformer',
    forward,
    batch: (n) => {
      const ids = new Int32Array(n * T);
      for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(Math.random() * s.vocab);
      return { x: tf.tensor2d(ids, [n, T], 'int32'), y: randomLabels(n, s.classes) };
    },
    params: vars.reduce((a, x) => a + x.size, 0),
    dispose: () => vars.forEach((x) => x.dispose()),
  };
}

export function buildBenchModel(name: ModelName): BenchModel {
  return name === 'mlp' ? mlp() : name === 'cnn' ? cnn() : name === 'letter' ? letter() : transformer();
}
