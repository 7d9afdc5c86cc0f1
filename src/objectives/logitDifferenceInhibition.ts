import * as tf from '@tensorflow/tfjs-core';
import type { BatchContext, Objective } from './types.js';
import { InputError } from '../util/errors.js';
import { withoutGradient } from './noGradient.js';
import { ldiCrossEntropy, ldiCrossEntropyFused, ldiPenalty, ldiPenaltyReference } from '../engine/logitDifference.js';

/** Options of Logit Difference Inhibition (Zhao et al. 2022, methods.md §3). */
export interface LdiOptions {
  /** Dead zone ξ ≥ 0: differences up to ξ cost nothing. */
  xi: number;
  /** Exponent p > 0 of the per-class penalty. */
  power: number;
  /** 0: S(x) is every class but the true one; k ≥ 1: the k largest new logits, chosen per example, true class excluded. */
  topK: number;
  /** Penalise only z_new − z_ref > ξ (the new model rising above the reference), not falling below it. */
  oneSided: boolean;
  /** The dead zone is ξ·|max_k z_ref,k(x)| per example instead of ξ: relative to the reference's scale (our choice). */
  relativeMargin: boolean;
  /**
   * Compare logits after removing each example's mean over classes (both models): softmax
   * ignores a common shift, so the raw difference penalises a change no prediction sees (our choice).
   */
  centred: boolean;
  /**
   * Take z_new from a forward pass with dropout off (one more pass per step) instead of the
   * training pass: the regression target is then not fought by dropout noise (our choice).
   */
  inferencePass: boolean;
}

export const DEFAULT_LDI: LdiOptions = { xi: 0.5, power: 2, topK: 0, oneSided: false, relativeMargin: false, centred: false, inferencePass: false };

export function checkLdiOptions(o: LdiOptions, numClasses?: number): void {
  if (!(Number.isFinite(o.xi) && o.xi >= 0)) throw new InputError('xi', `must be a number ≥ 0, got ${o.xi}`);
  if (!(Number.isFinite(o.power) && o.power > 0)) throw new InputError('power', `must be a number > 0, got ${o.power}`);
  if (!(Number.isInteger(o.topK) && o.topK >= 0)) throw new InputError('top-k', `must be an integer ≥ 0, got ${o.topK}`);
  if (numClasses !== undefined && o.topK >= numClasses) {
    throw new InputError('top-k', `must be below the number of classes (${numClasses}): the true class is never in S(x), so at most ${numClasses - 1} classes can be chosen`);
  }
}

/**
 * The set S(x) as a 0/1 mask [b, K]: every class but the true one, or (topK = k) the k
 * classes with the largest NEW logits of each example, the true class excluded. The
 * selection is per row (tf.topk over the class axis), never over the rows of the batch.
 */
export function ldiClassMask(logits: tf.Tensor2D, oneHot: tf.Tensor2D, topK: number): tf.Tensor2D {
  return tf.tidy(() => {
    const others = tf.sub(1, oneHot) as tf.Tensor2D;
    if (topK === 0) return others;
    const K = logits.shape[1];
    // the true class can never be among the k largest once pushed below every other logit
    const lowest = tf.sub(tf.min(logits, -1, true), 1);
    const candidates = tf.where(tf.cast(oneHot, 'bool'), tf.broadcastTo(lowest, logits.shape), logits) as tf.Tensor2D;
    const { indices } = tf.topk(candidates, topK, false);
    return tf.cast(tf.sum(tf.oneHot(indices, K), 1), 'float32') as tf.Tensor2D;
  });
}

/**
 * Logit Difference Inhibition per example:
 * `d_k = max(|z_new,k − z_ref,k| − ξ, 0)`, `LDI = (1/|S(x)|) Σ_{k∈S(x)} d_k^p`.
 */
export function logitDifferenceInhibition(ctx: BatchContext, o: LdiOptions): tf.Tensor1D {
  return tf.tidy(() => {
    const { logits, reference, mask } = ldiInputs(ctx, o);
    const shape = { power: o.power, oneSided: o.oneSided, centred: o.centred };
    // a margin relative to the reference's scale is a tensor: the composition handles it
    if (o.relativeMargin) return ldiPenaltyReference(logits, reference, mask, tf.mul(tf.abs(tf.max(reference, -1, true)), o.xi), shape);
    return ldiPenalty(logits, reference, mask, { ...shape, xi: o.xi });
  });
}

/** The new logits LDI compares (training or inference pass), the reference's, and S(x) as a mask. */
function ldiInputs(ctx: BatchContext, o: LdiOptions): { logits: tf.Tensor2D; reference: tf.Tensor2D; mask: tf.Tensor2D } {
  if (!ctx.reference) throw new Error('LDI needs reference logits but the trainer supplied none');
  const logits = o.inferencePass ? ctx.inferenceLogits : ctx.logits;
  if (!logits) throw new Error('LDI on the inference pass needs inference logits but the trainer supplied none');
  if (o.topK >= logits.shape[1]) checkLdiOptions(o, logits.shape[1]);
  // every class but the true one depends on the labels alone; top-k reads the logits (no gradient)
  const mask = o.topK === 0 ? ldiClassMask(logits, ctx.oneHot, 0) : (withoutGradient((z, y) => ldiClassMask(z as tf.Tensor2D, y as tf.Tensor2D, o.topK), logits, ctx.oneHot) as tf.Tensor2D);
  return { logits, reference: ctx.reference, mask };
}

/**
 * `(1 − α)·CE(y, z) + α·LDI` per example — LDI's training objective — as one op where the engine
 * fuses it (the native engine with fused ops on; `ldiCrossEntropyFused`), else undefined: compose the terms instead.
 * A margin relative to the reference's scale is never fused.
 */
export function fusedLdiCrossEntropy(ctx: BatchContext, o: LdiOptions, alpha: number): tf.Tensor1D | undefined {
  if (o.relativeMargin || alpha <= 0 || !ldiCrossEntropyFused(ctx.logits)) return undefined;
  return tf.tidy(() => {
    const { logits, reference, mask } = ldiInputs(ctx, o);
    return ldiCrossEntropy(ctx.logits, logits, reference, mask, ctx.oneHot, { alpha, xi: o.xi, power: o.power, oneSided: o.oneSided, centred: o.centred });
  });
}

/** LDI as an objective term (combine with cross entropy via weightedSum). */
export function ldiObjective(options: Partial<LdiOptions> = {}): Objective {
  const o = { ...DEFAULT_LDI, ...options };
  checkLdiOptions(o);
  return {
    name: 'ldi',
    params: { xi: o.xi, power: o.power, topK: o.topK, oneSided: o.oneSided, relativeMargin: o.relativeMargin, centred: o.centred, inferencePass: o.inferencePass },
    needsReference: true,
    needsInferenceLogits: o.inferencePass,
    perExampleLoss: (ctx) => logitDifferenceInhibition(ctx, o),
  };
}
