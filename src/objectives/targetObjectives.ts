import * as tf from '@tensorflow/tfjs-core';
import type { Objective, TargetContext } from './types.js';
import { klDivergence, softTargetCrossEntropy, temperedSoftmax } from './crossEntropy.js';
import { anchorTarget, distillationTarget, labelSmoothingTarget } from './targets.js';
import { InputError } from '../util/errors.js';
import { weightedSum, type CompositeObjective } from './weightedSum.js';
import { fusedKnowledgeDistillation, knowledgeDistillationFused } from '../engine/knowledgeDistillation.js';

function checkUnitInterval(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0 && value <= 1)) {
    throw new InputError(name, `must be a number in [0, 1], got ${value}`);
  }
}

function requireReference(ctx: TargetContext, objective: string): tf.Tensor2D {
  if (!ctx.reference) throw new Error(`objective "${objective}" needs reference logits but the trainer supplied none`);
  return ctx.reference;
}

/** An objective whose loss is CE(q, z) against soft targets q of the row's reference and label (Objective.softTargets). */
function softTargetObjective(name: string, params: Objective['params'], needsReference: boolean, softTargets: (ctx: TargetContext) => tf.Tensor2D): Objective {
  return {
    name,
    params,
    needsReference,
    softTargets,
    perExampleLoss: (ctx) => tf.tidy(() => softTargetCrossEntropy(softTargets(ctx), ctx.logits)),
  };
}

/** Plain training: CE(onehot(y), z). */
export function crossEntropyObjective(): Objective {
  return softTargetObjective('cross-entropy', {}, false, (ctx) => ctx.oneHot);
}

/**
 * Churn reduction by distillation (Jiang et al. 2022): CE(λ·σ(z_old) + (1−λ)·onehot(y), z_new).
 * The cross entropy is linear in its target, so this is (1−λ)·CE(y, z) + λ·CE(σ(z_old), z): its
 * `terms` (what a trainer logs term by term); the loss itself is computed on the mixed target.
 */
export function distillationObjective(lambda: number): CompositeObjective {
  checkUnitInterval('lambda', lambda);
  const objective = softTargetObjective('distillation', { lambda }, lambda > 0, (ctx) =>
    lambda === 0 ? ctx.oneHot : distillationTarget(lambda, requireReference(ctx, 'distillation'), ctx.oneHot),
  );
  return { ...objective, terms: [[1 - lambda, crossEntropyObjective()], [lambda, referenceCrossEntropyObjective()]] };
}

/** Anchor / RCP: CE against α·σ(z_old) + (1−α)·onehot(y) where the base is right, ε·onehot(y) where it is wrong. */
export function anchorObjective(alpha: number, epsilon: number): Objective {
  checkUnitInterval('alpha', alpha);
  checkUnitInterval('epsilon', epsilon);
  return softTargetObjective('anchor-target', { alpha, epsilon }, true, (ctx) =>
    anchorTarget(alpha, epsilon, requireReference(ctx, 'anchor-target'), ctx.labels, ctx.oneHot),
  );
}

/** Label smoothing: CE((1−ε)·onehot(y) + ε/K, z). */
export function labelSmoothingObjective(epsilon: number): Objective {
  checkUnitInterval('smoothing', epsilon);
  return softTargetObjective('smoothed-cross-entropy', { epsilon }, false, (ctx) => labelSmoothingTarget(epsilon, ctx.oneHot));
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
  return softTargetObjective('reference-cross-entropy', {}, true, (ctx) => tf.softmax(requireReference(ctx, 'reference-cross-entropy')) as tf.Tensor2D);
}

/** Knowledge distillation (Hinton et al.): (1−α)·CE(onehot(y), z_s) + α·T²·KL(σ(z_t/T) ‖ σ(z_s/T)). */
export function knowledgeDistillationObjective(alpha: number, temperature: number): CompositeObjective {
  checkUnitInterval('alpha', alpha);
  const terms = weightedSum([
    [1 - alpha, crossEntropyObjective()],
    [alpha, temperedKlObjective(temperature)],
  ]);
  return {
    ...terms,
    name: 'knowledge-distillation',
    params: { alpha, temperature },
    // one fused op on the native engine, bit for bit the weighted terms (engine/knowledgeDistillation.ts)
    perExampleLoss: (ctx) =>
      knowledgeDistillationFused(ctx.logits, ctx.reference, { alpha, temperature })
        ? fusedKnowledgeDistillation(ctx.logits, ctx.oneHot, ctx.reference!, { alpha, temperature })
        : terms.perExampleLoss(ctx),
  };
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
