/**
 * Knowledge distillation's per-example loss (Hinton et al.; methods.md §4, each hop of a transfer
 * chain), as one kernel forward and one backward on the native engine:
 *
 *   KD_i = (1 − α)·CE(onehot(y), z)_i + α·T²·KL(σ(r/T) ‖ σ(z/T))_i,
 *
 * instead of tfjs's composition of about twenty ops forward (the tempered softmaxes, the KL's
 * p·log p with its guards, two cross entropies, the weights) and a dozen backward.
 *
 * Bit for bit `knowledgeDistillationObjective`'s composition (objectives/targetObjectives.ts): the same
 * steps in the same order — r/T and z/T as float32 divisions by float32 T, the teacher's softmax,
 * maximum, log, exp and every reduction through the same native routines as the kernels tfjs
 * would run, the weights and T² rounded to float32 as tfjs's scalar tensors are, and the gradient
 * as tfjs's chain rule composes it (the weights, T², the cross entropy's logSoftmax gradient, the
 * division by T, the two paths to z added). Only for 0 < α < 1 (both terms present); the objective
 * composes core ops otherwise and on every other backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { allocF32, BIN, f32, make, RED, scratch, UN, type FusedOpConfig, type KFunc } from './kernelValues.js';
import { crossEntropyArithmetic } from './softTargetCrossEntropy.js';
import { useFusedOp } from './fusion.js';

export const KNOWLEDGE_DISTILLATION = 'DistilleryKnowledgeDistillation';
export const KNOWLEDGE_DISTILLATION_GRAD = 'DistilleryKnowledgeDistillationGrad';

export interface KnowledgeDistillationAttrs {
  alpha: number;
  temperature: number;
}

/** klDivergence's guard for log p (tf.maximum(p, 1e-30), as a float32 scalar). */
const LOG_FLOOR = Float32Array.of(1e-30);

/** Whether the fused kernel serves these tensors and settings on the current backend. */
export function knowledgeDistillationFused(logits: tf.Tensor, reference: tf.Tensor | undefined, o: KnowledgeDistillationAttrs): boolean {
  return (
    o.alpha > 0 && o.alpha < 1 && reference !== undefined && logits.rank === 2 && logits.dtype === 'float32' &&
    reference.dtype === 'float32' && tf.util.arraysEqual(reference.shape, logits.shape) && useFusedOp(KNOWLEDGE_DISTILLATION)
  );
}

/** KD per row [b]; callers check `knowledgeDistillationFused` first. */
export function fusedKnowledgeDistillation(logits: tf.Tensor2D, oneHot: tf.Tensor2D, reference: tf.Tensor2D, o: KnowledgeDistillationAttrs): tf.Tensor1D {
  return tf.engine().runKernel(KNOWLEDGE_DISTILLATION, { logits, oneHot, reference }, { ...o } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
}

/** The forward and gradient kernels, on the addon's routines (tfjs's composition step by step). */
function knowledgeDistillationKernels(addon: NativeAddon): { forward: KFunc; gradient: KFunc } {
  const ce = crossEntropyArithmetic(addon);
  /** The float32 scalars tfjs's composition multiplies and divides by. */
  const scalars = (o: KnowledgeDistillationAttrs) => ({ T: Math.fround(o.temperature), T2: Math.fround(o.temperature * o.temperature), w1: Math.fround(1 - o.alpha), w2: Math.fround(o.alpha) });
  /** x / T elementwise into out (RealDiv by a float32 scalar). */
  const divided = (x: Float32Array, T: number, out: Float32Array) => {
    for (let j = 0; j < x.length; j++) out[j] = x[j] / T;
    return out;
  };
  /** The teacher's tempered probabilities σ(r/T) into `p`. */
  const teacher = (r: Float32Array, T: number, rows: number, K: number, p: Float32Array) => {
    addon.softmax(divided(r, T, scratch('kd.rT', rows * K)), p, rows, K, false);
    return p;
  };

  const forward: KFunc = ({ inputs, backend: b, attrs }) => {
    const [rows, K] = inputs.logits!.shape;
    const n = rows * K;
    const { T, T2, w1, w2 } = scalars(attrs as unknown as KnowledgeDistillationAttrs);
    const z = f32(b, inputs.logits!);
    const p = teacher(f32(b, inputs.reference!), T, rows, K, scratch('kd.p', n));
    // Σ_k where(p > 0, p·log(max(p, 1e-30)), 0)
    const guarded = scratch('kd.guarded', n), logP = scratch('kd.logP', n), plogp = scratch('kd.plogp', n), plogpSum = scratch('kd.plogpSum', rows);
    addon.binary(BIN.Maximum, p, LOG_FLOOR, guarded, [n], [1], [0]);
    addon.unary(UN.Log, guarded, logP, 0);
    for (let j = 0; j < n; j++) plogp[j] = p[j] > 0 ? p[j] * logP[j] : 0;
    addon.reduce(RED.Sum, plogp, plogpSum, rows, K, 1);
    const ceTeacher = scratch('kd.ceTeacher', rows), ceLabels = scratch('kd.ceLabels', rows);
    ce.loss(p, divided(z, T, scratch('kd.zT', n)), rows, K, ceTeacher);
    ce.loss(f32(b, inputs.oneHot!), z, rows, K, ceLabels);
    const out = allocF32(b, rows);
    for (let i = 0; i < rows; i++) {
      const kl = Math.fround(plogpSum[i] + ceTeacher[i]);
      out[i] = Math.fround(ceLabels[i] * w1) + Math.fround(Math.fround(kl * T2) * w2);
    }
    return make(b, [rows], out);
  };
  const gradient: KFunc = ({ inputs, backend: b, attrs }) => {
    const [rows, K] = inputs.logits!.shape;
    const n = rows * K;
    const o = attrs as unknown as KnowledgeDistillationAttrs & { wrt: 'logits' | 'oneHot' };
    const { T, T2, w1, w2 } = scalars(o);
    const z = f32(b, inputs.logits!), dy = f32(b, inputs.dy!);
    // the weights' gradients: dy·w1 for the labels' term, dy·w2·T² for the KL
    const dyLabels = scratch('kd.dyLabels', rows), dyKl = scratch('kd.dyKl', rows);
    for (let i = 0; i < rows; i++) {
      dyLabels[i] = dy[i] * w1;
      dyKl[i] = Math.fround(dy[i] * w2) * T2;
    }
    const out = allocF32(b, n);
    if (o.wrt === 'oneHot') {
      ce.gradTargets(z, dyLabels, rows, K, out);
      return make(b, [rows, K], out);
    }
    const p = teacher(f32(b, inputs.reference!), T, rows, K, scratch('kd.p', n));
    const dzT = scratch('kd.dzT', n);
    ce.gradLogits(p, divided(z, T, scratch('kd.zT', n)), dyKl, rows, K, dzT);
    ce.gradLogits(f32(b, inputs.oneHot!), z, dyLabels, rows, K, out);
    for (let j = 0; j < n; j++) out[j] = out[j] + Math.fround(dzT[j] / T);
    return make(b, [rows, K], out);
  };
  return { forward, gradient };
}

/** The op: its forward kernel, its gradient kernel (one call per input) and its gradient. */
export const knowledgeDistillationOp: FusedOpConfig = {
  kernelName: KNOWLEDGE_DISTILLATION,
  kernels: [
    { kernelName: KNOWLEDGE_DISTILLATION, create: ({ addon }) => knowledgeDistillationKernels(addon).forward },
    { kernelName: KNOWLEDGE_DISTILLATION_GRAD, create: ({ addon }) => knowledgeDistillationKernels(addon).gradient },
  ],
  gradient: {
    kernelName: KNOWLEDGE_DISTILLATION,
    inputsToSave: ['logits', 'oneHot', 'reference'],
    gradFunc: (dy, saved, attrs) => {
      const [logits, oneHot, reference] = saved;
      const d = Array.isArray(dy) ? dy[0] : dy;
      const wrt = (which: 'logits' | 'oneHot') => () => tf.engine().runKernel(KNOWLEDGE_DISTILLATION_GRAD, { logits, oneHot, reference, dy: d }, { ...attrs, wrt: which } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return {
        logits: wrt('logits'),
        oneHot: wrt('oneHot'),
        reference: () => {
          throw new Error("the fused knowledge-distillation op has no gradient for the teacher's logits (a teacher is fixed); compose knowledgeDistillationObjective's terms to differentiate through it");
        },
      };
    },
  },
};
