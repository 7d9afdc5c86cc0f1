import * as tf from '@tensorflow/tfjs-core';
import type { BatchContext, Objective } from './types.js';
import { klDivergence, softTargetCrossEntropy, temperedSoftmax } from './crossEntropy.js';
import { anchorTarget, distillationTarget, labelSmoothingTarget } from './targets.js';
import { InputError } from '../util/errors.js';
import { weightedSum, type CompositeObjective } from './weightedSum.js';

function checkUnitInterval(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0 && value <= 1)) {
    throw new InputError(name, `must be a number in [0, 1], got ${value}`);
  }
}

function requireReference(ctx: BatchContext, objective: string): tf.Tensor2D {
  if (!ctx.reference) throw new Error(`objective "${objective}" needs reference logits but the trainer supplied none`);
  return ctx.reference;
}

/** Plain training: CE(onehot(y), z). */
export function crossEntropyObjective(): Objective {
  return {
    name: 'cross-entropy',
    params: {},
    needsReference: false,
    perExampleLoss: (ctx) => softTargetCrossEntropy(ctx.oneHot, ctx.logits),
  };
}

/** Churn reduction by distillation (Jiang et al. 2022): CE(λ·σ(z_old) + (1−λ)·onehot(y), z_new). */
export function distillationObjective(lambda: number): Objective {
  checkUnitInterval('lambda', lambda);
  return {
    name: 'distillation',
    params: { lambda },
    needsReference: lambda > 0,
    perExampleLoss: (ctx) =>
      lambda === 0
        ? softTargetCrossEntropy(ctx.oneHot, ctx.logits)
        : tf.tidy(() =>
            softTargetCrossEntropy(distillationTarget(lambda, requireReference(ctx, 'distillation'), ctx.oneHot), ctx.logits),
          ),
  };
}

/** Anchor / RCP: CE against α·σ(z_old) + (1−α)·onehot(y) where the base is right, ε·onehot(y) where it is wrong. */
export function anchorObjective(alpha: number, epsilon: number): Objective {
  checkUnitInterval('alpha', alpha);
  checkUnitInterval('epsilon', epsilon);
  return {
    name: 'anchor-target',
    params: { alpha, epsilon },
    needsReference: true,
    perExampleLoss: (ctx) =>
      tf.tidy(() =>
        softTargetCrossEntropy(
          anchorTarget(alpha, epsilon, requireReference(ctx, 'anchor-target'), ctx.labels, ctx.oneHot),
          ctx.logits,
        ),
      ),
  };
}

/** Label smoothing: CE((1−ε)·onehot(y) + ε/K, z). */
export function labelSmoothingObjective(epsilon: number): Objective {
  checkUnitInterval('smoothing', epsilon);
  return {
    name: 'smoothed-cross-entropy',
    params: { epsilon },
    needsReference: false,
    perExampleLoss: (ctx) => tf.tidy(() => softTargetCrossEntropy(labelSmoothingTarget(epsilon, ctx.oneHot), ctx.logits)),
  };
}

/** T²·KL(σ(z_ref/T) ‖ σ(z/T)): the soft term of knowledge distillation (the T² keeps its gradient scale). */
export function temperedKlObjective(temperature: number): Objective {
  if (!(temperature > 0)) throw new InputError('temperature', `must be positive, got ${temperature}`);
  return {
    name: 'tempered-kl',
    params: { temperature },
    needsReference: true,
    perExampleLoss: (ctx) =>
      tf.tidy(() => {
        const teacher = temperedSoftmax(requireReference(ctx, 'tempered-kl'), temperature);
        const kl = klDivergence(teacher, tf.div(ctx.logits, temperature) as tf.Tensor2D);
        return tf.mul(kl, temperature * temperature) as tf.Tensor1D;
      }),
  };
}

/** CE(σ(z_ref), z): cross entropy against the reference's probabilities. */
export function referenceCrossEntropyObjective(): Objective {
  return {
    name: 'reference-cross-entropy',
    params: {},
    needsReference: true,
    perExampleLoss: (ctx) =>
      tf.tidy(() => softTargetCrossEntropy(tf.softmax(requireReference(ctx, 'reference-cross-entropy')) as tf.Tensor2D, ctx.logits)),
  };
}

/** Knowledge distillation (Hinton et al.): (1−α)·CE(onehot(y), z_s) + α·T²·KL(σ(z_t/T) ‖ σ(z_s/T)). */
export function knowledgeDistillationObjective(alpha: number, temperature: number): CompositeObjective {
  checkUnitInterval('alpha', alpha);
  const terms = weightedSum([
    [1 - alpha, crossEntropyObjective()],
    [alpha, temperedKlObjective(temperature)],
  ]);
  return { ...terms, name: 'knowledge-distillation', params: { alpha, temperature } };
}

/**
 * Codistillation (Anil et al. 2018): CE(onehot(y), z_i) + w·CE(p̄, z_i), where the reference
 * supplies log p̄ (log of the peers' mean probabilities), so σ(reference) = p̄.
 */
export function codistillationObjective(weight: number): CompositeObjective {
  if (!(weight >= 0)) throw new InputError('weight', `must be non-negative, got ${weight}`);
  const terms = weightedSum([
    [1, crossEntropyObjective()],
    [weight, referenceCrossEntropyObjective()],
  ]);
  return { ...terms, name: 'codistillation', params: { weight } };
}
