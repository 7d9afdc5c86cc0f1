import * as tf from '@tensorflow/tfjs-core';
import type { BatchContext, Objective } from './types.js';
import { softTargetCrossEntropy, klDivergence, temperedSoftmax } from './crossEntropy.js';
import { InputError } from '../util/errors.js';
import { withoutGradient } from './noGradient.js';
import { crossEntropyObjective } from './targetObjectives.js';
import type { CompositeObjective } from './weightedSum.js';

/** The divergence D between the old and the new model of focal distillation (Yan et al. 2021). */
export const FOCAL_DIVERGENCES = ['kl', 'lm'] as const;
export type FocalDivergence = (typeof FOCAL_DIVERGENCES)[number];

/** Which examples get the extra weight β: 1[focus(x)] in `α + β·1[focus(x)]`. */
export const FOCAL_FILTERS = ['old-correct', 'all', 'negative-flip', 'new-incorrect'] as const;
export type FocalFilter = (typeof FOCAL_FILTERS)[number];

export interface FocalDistillationOptions {
  /** λ: weight of the distillation term against the cross entropy. */
  lambda: number;
  /** α: weight of D on every example. */
  alpha: number;
  /** β: extra weight of D on the focused examples (β = 0 is plain distillation). */
  beta: number;
  /** T of FD-KL. */
  temperature: number;
  divergence: FocalDivergence;
  filter: FocalFilter;
  /** Compare logits minus their per-example mean over classes (as LDI's option; our choice). Changes FD-LM only: KL ignores a common shift. */
  centred: boolean;
  /** D on a second forward pass with dropout off (as LDI's option; our choice). */
  inferencePass: boolean;
}

export const DEFAULT_FOCAL: FocalDistillationOptions = { lambda: 1, alpha: 1, beta: 5, temperature: 100, divergence: 'kl', filter: 'old-correct', centred: false, inferencePass: false };

/** `D_i`: T²·KL(σ(z_old/T) ‖ σ(z_new/T)) (FD-KL) or mean_k (z_new,k − z_old,k)² (FD-LM), per example. */
export function focalDivergence(logits: tf.Tensor2D, old: tf.Tensor2D, o: Pick<FocalDistillationOptions, 'divergence' | 'temperature'> & { centred?: boolean }): tf.Tensor1D {
  return tf.tidy(() => {
    if (o.divergence === 'lm') {
      const diff = tf.sub(logits, old);
      return tf.mean(tf.square(o.centred ? tf.sub(diff, tf.mean(diff, -1, true)) : diff), -1) as tf.Tensor1D;
    }
    const T = o.temperature;
    const kl = klDivergence(temperedSoftmax(old, T), (T === 1 ? logits : tf.div(logits, T)) as tf.Tensor2D);
    return tf.mul(kl, T * T) as tf.Tensor1D;
  });
}

/** 1[focus(x_i)] per example, as float32 [b]; no gradient flows through it. */
export function focusIndicator(ctx: BatchContext, old: tf.Tensor2D, filter: FocalFilter): tf.Tensor1D {
  return tf.tidy(() => {
    const y = tf.cast(ctx.labels, 'int32');
    const oldRight = tf.equal(tf.argMax(old, -1), y);
    const newWrong = tf.notEqual(tf.argMax(ctx.logits, -1), y);
    switch (filter) {
      case 'all':
        return tf.cast(tf.onesLike(ctx.labels), 'float32') as tf.Tensor1D;
      case 'old-correct':
        return tf.cast(oldRight, 'float32') as tf.Tensor1D;
      case 'negative-flip':
        return tf.cast(tf.logicalAnd(oldRight, newWrong), 'float32') as tf.Tensor1D;
      case 'new-incorrect':
        return tf.cast(newWrong, 'float32') as tf.Tensor1D;
    }
  });
}

/**
 * Focal distillation (positive-congruent training, Yan et al. CVPR 2021):
 * `CE(onehot(y), z_new) + λ·(α + β·1[focus(x)])·D(z_old, z_new)` per example, the
 * reference logits being the old (deployed) model's. Its `terms` are the cross entropy and
 * the focal term (α + β·1[focus])·D with weight λ.
 */
export function focalDistillationObjective(options: Partial<FocalDistillationOptions> = {}): CompositeObjective {
  const o = { ...DEFAULT_FOCAL, ...options };
  for (const [name, v] of [['lambda', o.lambda], ['alpha', o.alpha], ['beta', o.beta]] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new InputError(name, `must be a number ≥ 0, got ${v}`);
  }
  if (!(o.temperature > 0)) throw new InputError('temperature', `must be positive, got ${o.temperature}`);
  /** (α + β·1[focus])·D(z_old, z) per example. */
  const focalTerm = (ctx: BatchContext): tf.Tensor1D => {
    if (!ctx.reference) throw new Error('focal distillation needs the old model\'s logits but the trainer supplied none');
    const student = o.inferencePass ? ctx.inferenceLogits : ctx.logits;
    if (!student) throw new Error('focal distillation on the inference pass needs inference logits but the trainer supplied none');
    const focus = withoutGradient((z, old) => focusIndicator({ ...ctx, logits: z as tf.Tensor2D }, old as tf.Tensor2D, o.filter), ctx.logits, ctx.reference);
    const weight = tf.add(o.alpha, tf.mul(focus, o.beta));
    return tf.mul(weight, focalDivergence(student, ctx.reference, o)) as tf.Tensor1D;
  };
  const focal: Objective = {
    name: `focal-${o.divergence}`,
    params: { alpha: o.alpha, beta: o.beta, filter: o.filter },
    needsReference: true,
    needsInferenceLogits: o.inferencePass,
    perExampleLoss: (ctx) => tf.tidy(() => focalTerm(ctx)),
  };
  return {
    name: `focal-distillation-${o.divergence}`,
    params: { ...o },
    needsReference: true,
    needsInferenceLogits: o.inferencePass,
    terms: [[1, crossEntropyObjective()], [o.lambda, focal]],
    perExampleLoss: (ctx) =>
      tf.tidy(() => {
        const distill = tf.mul(focalTerm(ctx), o.lambda);
        return tf.add(softTargetCrossEntropy(ctx.oneHot, ctx.logits), distill) as tf.Tensor1D;
      }),
  };
}
