import type * as tf from '@tensorflow/tfjs-core';

/** What an objective sees for one minibatch. All tensors are owned by the trainer. */
export interface BatchContext {
  /** Logits of the model being trained, [b, K]. */
  logits: tf.Tensor2D;
  /** True class indices, [b] int32. */
  labels: tf.Tensor1D;
  /** onehot(labels), [b, K] float32. */
  oneHot: tf.Tensor2D;
  /** Reference (teacher / ensemble / peer) logits for the same rows, [b, K]; present when the objective needs one. */
  reference?: tf.Tensor2D;
  /**
   * Logits of the same rows from a second forward pass of the model being trained with
   * dropout off (inference mode), gradients flowing; present when the objective asks for them.
   */
  inferenceLogits?: tf.Tensor2D;
}

/**
 * A training objective: a pure function from a batch's logits to one loss value per
 * example. The trainer takes the (optionally example-weighted) mean.
 */
export interface Objective {
  /** Short name, e.g. "distill". */
  name: string;
  /** Hyper-parameters, recorded in model metadata. */
  params: Record<string, number | string | boolean>;
  /** Whether `reference` logits must be supplied. */
  needsReference: boolean;
  /** Whether `inferenceLogits` must be supplied (one more forward pass per step). */
  needsInferenceLogits?: boolean;
  perExampleLoss(ctx: BatchContext): tf.Tensor1D;
  /**
   * Present when the loss is CE(q, z) against soft targets q that depend only on the row's
   * reference logits and label (not on the model being trained): then perExampleLoss(ctx) is
   * `softTargetCrossEntropy(softTargets(ctx), ctx.logits)`, and a trainer whose reference is fixed
   * may compute each row's targets once instead of every step (train/targetTable.ts).
   */
  softTargets?(ctx: TargetContext): tf.Tensor2D;
}

/** What soft targets depend on: the rows' labels and, for objectives that need one, their reference logits. */
export type TargetContext = Pick<BatchContext, 'labels' | 'oneHot' | 'reference'>;
