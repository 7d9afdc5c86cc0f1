/**
 * The cross entropy of soft targets against softmax(logits), per row,
 *
 *   CE(q, z)_i = −Σ_k q_ik · logSoftmax(z)_ik,
 *
 * as one kernel forward and one per input backward, instead of tfjs's composition
 * `neg(sum(mul(q, logSoftmax(z)), -1))` — Max, Sub, Cast, Exp, Sum, Log, Sub, Multiply, Sum, Neg
 * forward and as many again backward, each a dispatch and a tape node, which at the main job's
 * batch of 32 cost more than the arithmetic (docs/engine.md, the profile).
 *
 * Bit for bit that composition on the native engine: the same steps in the same order, the
 * reductions and exp/log through the same native routines, the elementwise steps in float32
 * (Math.fround of one IEEE operation is the float32 result). The gradient follows tfjs's
 * logSoftmax gradient `dy' − sum(dy')·exp(value)` with dy' = −dy·q.
 *
 * Native engine only; `objectives/crossEntropy.ts` composes core ops elsewhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import { allocF32, f32, make, RED, scratch, UN, type FusedOpConfig } from './kernelValues.js';
import { useFusedOp } from './fusion.js';

export const SOFT_TARGET_CE = 'DistillerySoftTargetCrossEntropy';
export const SOFT_TARGET_CE_GRAD = 'DistillerySoftTargetCrossEntropyGrad';

const WRT = { logits: 0, targets: 1 } as const;

/** Whether the fused kernel serves these tensors on the current backend. */
export function softTargetCrossEntropyFused(targets: tf.Tensor, logits: tf.Tensor): boolean {
  return (
    logits.rank === 2 && logits.dtype === 'float32' && targets.dtype === 'float32' && logits.size > 0 &&
    tf.util.arraysEqual(targets.shape, logits.shape) && useFusedOp(SOFT_TARGET_CE)
  );
}

/** CE per row [b]; callers check `softTargetCrossEntropyFused` first. */
export function fusedSoftTargetCrossEntropy(targets: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.engine().runKernel(SOFT_TARGET_CE, { targets, logits }, {}) as tf.Tensor1D;
}

/** The composition's arithmetic on the addon's routines, for this op and ops built on it (engine/knowledgeDistillation.ts). */
export interface CrossEntropyArithmetic {
  /** logSoftmax(z) into `value` as tfjs computes it: shifted = z − max; value = shifted − log(Σ exp(shifted)). */
  logSoftmax(z: Float32Array, rows: number, K: number, value: Float32Array): void;
  /** CE(q, z) per row into out[0 … rows). */
  loss(q: Float32Array, z: Float32Array, rows: number, K: number, out: Float32Array): void;
  /** ∂(Σ_i dy_i·CE_i)/∂z into out (tfjs's logSoftmax gradient of dy' = −dy·q). */
  gradLogits(q: Float32Array, z: Float32Array, dy: Float32Array, rows: number, K: number, out: Float32Array): void;
  /** ∂(Σ_i dy_i·CE_i)/∂q into out: (−dy)·logSoftmax(z). */
  gradTargets(z: Float32Array, dy: Float32Array, rows: number, K: number, out: Float32Array): void;
}

export function crossEntropyArithmetic(addon: NativeAddon): CrossEntropyArithmetic {
  const logSoftmax = (z: Float32Array, rows: number, K: number, value: Float32Array): void => {
    const n = rows * K;
    const mx = scratch('ce.max', rows), sums = scratch('ce.sums', rows), logs = scratch('ce.logs', rows);
    const e = scratch('ce.exp', n);
    addon.reduce(RED.Max, z, mx, rows, K, 1);
    for (let i = 0, o = 0; i < rows; i++, o += K) for (let k = 0; k < K; k++) value[o + k] = z[o + k] - mx[i];
    addon.unary(UN.Exp, value, e, 0);
    addon.reduce(RED.Sum, e, sums, rows, K, 1);
    addon.unary(UN.Log, sums, logs, 0);
    for (let i = 0, o = 0; i < rows; i++, o += K) for (let k = 0; k < K; k++) value[o + k] = value[o + k] - logs[i];
  };
  return {
    logSoftmax,
    loss(q, z, rows, K, out) {
      const value = scratch('ce.value', rows * K), prod = scratch('ce.prod', rows * K);
      logSoftmax(z, rows, K, value);
      for (let j = 0; j < rows * K; j++) prod[j] = q[j] * value[j];
      addon.reduce(RED.Sum, prod, out, rows, K, 1);
      for (let i = 0; i < rows; i++) out[i] = -out[i];
    },
    gradLogits(q, z, dy, rows, K, out) {
      const value = scratch('ce.value', rows * K), dq = scratch('ce.dq', rows * K), sums = scratch('ce.gradSums', rows);
      logSoftmax(z, rows, K, value);
      // dy' = (−dy)·q, then logSoftmax's gradient dy' − sum(dy')·exp(value)
      for (let i = 0, o = 0; i < rows; i++, o += K) for (let k = 0; k < K; k++) dq[o + k] = -dy[i] * q[o + k];
      addon.reduce(RED.Sum, dq, sums, rows, K, 1);
      addon.unary(UN.Exp, value, out, 0);
      for (let i = 0, o = 0; i < rows; i++, o += K) for (let k = 0; k < K; k++) out[o + k] = dq[o + k] - Math.fround(sums[i] * out[o + k]);
    },
    gradTargets(z, dy, rows, K, out) {
      const value = scratch('ce.value', rows * K);
      logSoftmax(z, rows, K, value);
      // mul's gradient for q: (−dy) · logSoftmax(z)
      for (let i = 0, o = 0; i < rows; i++, o += K) for (let k = 0; k < K; k++) out[o + k] = Math.fround(-dy[i] * value[o + k]);
    },
  };
}

/** The op: its forward kernel, its gradient kernel (one call per input) and its gradient. */
export const softTargetCrossEntropyOp: FusedOpConfig = {
  kernelName: SOFT_TARGET_CE,
  kernels: [
    {
      kernelName: SOFT_TARGET_CE,
      create: ({ addon }) => {
        const ce = crossEntropyArithmetic(addon);
        return ({ inputs, backend: b }) => {
          const [rows, K] = inputs.logits!.shape;
          const out = allocF32(b, rows);
          ce.loss(f32(b, inputs.targets!), f32(b, inputs.logits!), rows, K, out);
          return make(b, [rows], out);
        };
      },
    },
    {
      kernelName: SOFT_TARGET_CE_GRAD,
      create: ({ addon }) => {
        const ce = crossEntropyArithmetic(addon);
        return ({ inputs, backend: b, attrs }) => {
          const [rows, K] = inputs.logits!.shape;
          const z = f32(b, inputs.logits!), dy = f32(b, inputs.dy!);
          const out = allocF32(b, rows * K);
          if (attrs!.wrt === WRT.targets) ce.gradTargets(z, dy, rows, K, out);
          else ce.gradLogits(f32(b, inputs.targets!), z, dy, rows, K, out);
          return make(b, [rows, K], out);
        };
      },
    },
  ],
  gradient: {
    kernelName: SOFT_TARGET_CE,
    inputsToSave: ['targets', 'logits'],
    gradFunc: (dy, saved) => {
      const [targets, logits] = saved;
      const d = Array.isArray(dy) ? dy[0] : dy;
      const wrt = (which: number) => () => tf.engine().runKernel(SOFT_TARGET_CE_GRAD, { targets, logits, dy: d }, { wrt: which }) as tf.Tensor;
      return { logits: wrt(WRT.logits), targets: wrt(WRT.targets) };
    },
  },
};
