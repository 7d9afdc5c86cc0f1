import * as tf from '@tensorflow/tfjs-core';
import { fusedSoftTargetCrossEntropy, softTargetCrossEntropyFused } from '../engine/softTargetCrossEntropy.js';

/**
 * CE(q, z) = −Σ_k q_k · log σ(z)_k per row: cross entropy of soft targets `q` against softmax(logits).
 * One fused op on the native engine (bit for bit this composition), core ops elsewhere.
 */
export function softTargetCrossEntropy(targets: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  if (softTargetCrossEntropyFused(targets, logits)) return fusedSoftTargetCrossEntropy(targets, logits);
  return softTargetCrossEntropyReference(targets, logits);
}

/** The composition of core ops (every backend; the definition the fused op must match). */
export function softTargetCrossEntropyReference(targets: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1)) as tf.Tensor1D);
}

/**
 * KL(p ‖ σ(z)) = Σ_k p_k log p_k + CE(p, z) per row for a probability matrix `p` and logits `z`;
 * terms with p = 0 contribute 0. The cross entropy is `softTargetCrossEntropy` (one fused op on the
 * native engine); a − b and a + (−b) are the same IEEE operation, so this is bit for bit
 * `Σ p log p − Σ p·logSoftmax(z)`, value and gradients.
 */
export function klDivergence(p: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.add(sumPLogP(p), softTargetCrossEntropy(p, logits)) as tf.Tensor1D);
}

/** The composition klDivergence replaced (the definition it must match bit for bit). */
export function klDivergenceReference(p: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sub(sumPLogP(p), tf.sum(tf.mul(p, tf.logSoftmax(logits)), -1)) as tf.Tensor1D);
}

/** Σ_k p_k log p_k per row, terms with p = 0 counted as 0. */
function sumPLogP(p: tf.Tensor2D): tf.Tensor1D {
  const safeLogP = tf.log(tf.maximum(p, 1e-30));
  return tf.sum(tf.where(tf.greater(p, 0), tf.mul(p, safeLogP), tf.zerosLike(p)), -1);
}

/** Softmax of logits / T. */
export function temperedSoftmax(logits: tf.Tensor2D, temperature: number): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(temperature === 1 ? logits : tf.div(logits, temperature)) as tf.Tensor2D);
}
