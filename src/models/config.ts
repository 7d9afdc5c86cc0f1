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

export type ModelConfig = MlpConfig | CnnConfig | TransformerConfig;

/**
 * Text preprocessing that fits an architecture: a transformer's `vocabSize` bounds the
 * vocabulary (so every token id has an embedding row) and its `maxLen` is the sequence length.
 */
export function textOptionsFor(model: ModelConfig | undefined): { maxVocab?: number; maxLen?: number } {
  return model?.kind === 'transformer' ? { maxVocab: model.vocabSize, maxLen: model.maxLen } : {};
}
