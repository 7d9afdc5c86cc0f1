import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../src/engine/tfjs.js';
import type { BuiltinModelConfig } from '../../src/models/config.js';
import type { ModelMetadata } from '../../src/models/types.js';
import { Rng } from '../../src/util/rng.js';

await tf.setBackend('cpu');

export { tf };

/** A tiny model of each family with its input shape, small enough for fast tests. */
export interface Family {
  name: string;
  config: BuiltinModelConfig;
  inputShape: number[];
  numClasses: number;
}

export const VOCAB = 20;

export const FAMILIES: Family[] = [
  { name: 'mlp', config: { kind: 'mlp', hidden: [16, 8], dropout: 0.1 }, inputShape: [5], numClasses: 3 },
  {
    name: 'cnn',
    config: { kind: 'cnn', conv: [{ filters: 4, kernel: 3, pool: 2 }, { filters: 6, kernel: 2 }], dense: [8], dropout: 0.1 },
    inputShape: [8, 8, 1],
    numClasses: 3,
  },
  {
    name: 'transformer',
    config: { kind: 'transformer', vocabSize: VOCAB, maxLen: 6, dModel: 8, heads: 2, layers: 2, ff: 16, dropout: 0.1 },
    inputShape: [6],
    numClasses: 3,
  },
];

/**
 * Random features for `family`: Gaussian values for mlp/cnn; for the transformer, token ids
 * in [1, VOCAB) followed by padding (each sequence has at least 2 tokens).
 */
export function randomFeatures(family: Family, n: number, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const d = family.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * d);
  if (family.config.kind !== 'transformer') {
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    return x;
  }
  for (let i = 0; i < n; i++) {
    const len = 2 + rng.int(d - 1);
    for (let t = 0; t < len; t++) x[i * d + t] = 1 + rng.int(VOCAB - 1);
  }
  return x;
}

export function randomLabels(n: number, numClasses: number, seed = 2): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(numClasses));
}

/** Metadata as fitModel would write it, for save/load tests. */
export function metadataFor(family: Family, seed = 1): ModelMetadata {
  const classNames = Array.from({ length: family.numClasses }, (_, k) => `class-${k}`);
  // preprocessing that produces what the network takes (loadModel checks it)
  const preprocessing: ModelMetadata['preprocessing'] =
    family.config.kind === 'mlp'
      ? { kind: 'tabular', labelColumn: 'label', classNames, columns: Array.from({ length: family.inputShape[0] }, (_, j) => ({ name: `x${j}`, type: 'numeric' as const, mean: 0, std: 1 })) }
      : family.config.kind === 'cnn'
        ? { kind: 'image', classNames, shape: family.inputShape as [number, number, number], scale: 1 / 255 }
        : { kind: 'text', classNames, vocab: ['<pad>', '<unk>', ...Array.from({ length: VOCAB - 2 }, (_, i) => `w${i}`)], maxLen: family.inputShape[0], lowercase: true };
  return {
    format: 'distillery-model',
    formatVersion: 1,
    libraryVersion: '0.1.0',
    architecture: family.config,
    inputShape: family.inputShape.slice(),
    classNames,
    preprocessing,
    recipe: {
      method: 'plain',
      params: {},
      objective: 'cross-entropy',
      objectiveParams: {},
      training: { epochs: 1, batchSize: 32, optimizer: 'adam', learningRate: 1e-3, patience: 0 },
      trainExamples: 10,
      validationExamples: 0,
      exampleWeights: false,
    },
    metrics: { epochsRun: 1, bestEpoch: 1, validationAccuracy: 0.5 },
    seed,
    engine: 'cpu',
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/** Mean softmax cross entropy of `logits` against integer `labels`. */
export function crossEntropy(logits: tf.Tensor, labels: Int32Array, numClasses: number): tf.Scalar {
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses);
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
}
