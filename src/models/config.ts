import type { TextEncoding } from '../data/types.js';

/** Typed architecture configs. Every model outputs LOGITS (a linear last layer, no softmax). */

export interface MlpConfig {
  kind: 'mlp';
  /** Hidden layer widths, e.g. [128, 128]. */
  hidden: number[];
  activation?: 'relu' | 'tanh' | 'gelu';
  /** Dropout rate after each hidden layer (0 = none). */
  dropout?: number;
}

export interface CnnConfig {
  kind: 'cnn';
  /** Conv blocks: conv(kernel×kernel, filters, valid padding) → ReLU → maxpool(pool) when pool>1. */
  conv: { filters: number; kernel: number; pool?: number }[];
  /** Dense hidden widths after flattening. */
  dense: number[];
  dropout?: number;
}

export interface TransformerConfig {
  kind: 'transformer';
  vocabSize: number;
  maxLen: number;
  dModel: number;
  heads: number;
  layers: number;
  ff: number;
  dropout?: number;
  /** Pooling over positions (mean over non-padding tokens). */
  pool?: 'mean';
}

/** The families Distillery builds from a few numbers (`buildModel`). */
export type BuiltinModelConfig = MlpConfig | CnnConfig | TransformerConfig;

/**
 * A team's own network: its tfjs-layers topology, as `model.toJSON(null, false)` gives it
 * (any layers tfjs-layers can serialise, and Distillery's own). A fresh network of this
 * architecture is the topology re-initialised with the run's seed (models/layersNetwork.ts).
 */
export interface LayersConfig {
  kind: 'layers';
  /** The Keras-format model config: `{ class_name: 'Sequential' | 'Model', config: {…} }`. */
  topology: LayersTopology;
}

/** A tfjs-layers model topology in its JSON (Keras) form. */
export interface LayersTopology {
  class_name: string;
  config: Record<string, unknown>;
  [key: string]: unknown;
}

export type ModelConfig = BuiltinModelConfig | LayersConfig;

/**
 * Text preprocessing that fits an architecture (or an architecture family): a transformer
 * reads token ids, its `vocabSize` bounding the vocabulary (so every token id has an
 * embedding row) and its `maxLen` the sequence length; every other model (the default MLP)
 * reads a TF-IDF bag of word n-grams.
 */
export function textOptionsFor(model: ModelConfig | ModelConfig['kind'] | undefined): { maxVocab?: number; maxLen?: number; textEncoding: TextEncoding } {
  if (typeof model === 'object' && model.kind === 'transformer') return { maxVocab: model.vocabSize, maxLen: model.maxLen, textEncoding: 'tokens' };
  return { textEncoding: model === 'transformer' ? 'tokens' : 'tfidf' };
}
