/**
 * One case per fused op (FUSED_OPS, src/engine/kernels/index.ts), each through the public
 * function that chooses between the op's kernel and the composition it replaces: the value and
 * its gradients, and the kernels that ran. test/engine/fusedOps.test.ts runs them in child
 * processes with DISTILLERY_FUSED_OPS on and off.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // before denseLayer.js, which reads its Dense class from tfjs-layers' registry
import { FusedDense } from '../../src/models/denseLayer.js';
import { DENSE } from '../../src/engine/dense.js';
import { LAYER_NORM, layerNorm } from '../../src/engine/layerNorm.js';
import { SOFT_TARGET_CE } from '../../src/engine/softTargetCrossEntropy.js';
import { KNOWLEDGE_DISTILLATION } from '../../src/engine/knowledgeDistillation.js';
import { LDI_CROSS_ENTROPY, LDI_PENALTY } from '../../src/engine/logitDifference.js';
import { softTargetCrossEntropy } from '../../src/objectives/crossEntropy.js';
import { knowledgeDistillationObjective } from '../../src/objectives/targetObjectives.js';
import { DEFAULT_LDI, ldiObjective } from '../../src/objectives/logitDifferenceInhibition.js';
import { ldiTrainingObjective } from '../../src/methods/ldiParams.js';
import type { BatchContext } from '../../src/objectives/types.js';
import { randArr, rng, T } from './helpers.js';

export interface FusedOpCase {
  /** The fused op's forward kernel (its name in FUSED_OPS). */
  op: string;
  /**
   * How far the two paths may differ (maxRelErr): 0 where the kernel is documented bit for bit
   * the composition (dense, soft-target cross entropy, knowledge distillation), 1e-4 where it
   * accumulates in double (layer normalisation, LDI's penalty and objective).
   */
  tolerance: number;
  /** The op's value and its gradients (fresh inputs from a fixed seed on every call). */
  run: () => tf.Tensor[];
}

const rows = 32, K = 26;
const labelsOf = () => tf.tensor1d(Int32Array.from({ length: rows }, (_, i) => (i * 7) % K), 'int32');

/** A batch's context: logits z (the variable), labels, one-hot labels and reference logits. */
function batch(seed: number, z: tf.Tensor): BatchContext {
  const labels = labelsOf();
  return { logits: z as tf.Tensor2D, labels, oneHot: tf.cast(tf.oneHot(labels, K), 'float32') as tf.Tensor2D, reference: T(randArr(rng(seed), [rows, K], -4, 4)) as tf.Tensor2D };
}

/** The loss per example and its gradient with respect to the logits (weighted per row). */
function lossAndGradient(seed: number, loss: (ctx: BatchContext) => tf.Tensor): tf.Tensor[] {
  const r = rng(seed);
  const z = T(randArr(r, [rows, K], -4, 4)), w = T(randArr(r, [rows], 0.5, 1.5));
  return [loss(batch(seed + 1, z)), tf.grad((zz: tf.Tensor) => tf.sum(tf.mul(loss(batch(seed + 1, zz)), w)))(z)];
}

export const FUSED_OP_CASES: FusedOpCase[] = [
  {
    op: DENSE,
    tolerance: 0,
    run: () => {
      const r = rng(11);
      const layer = new FusedDense({ units: 24, activation: 'relu', inputShape: [16] });
      layer.build([null, 16]);
      layer.setWeights([T(randArr(r, [16, 24], -0.7, 0.7)), T(randArr(r, [24], -0.5, 0.5))]);
      const x = T(randArr(r, [rows, 16], -2, 2)), up = T(randArr(r, [rows, 24]));
      const f = (xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(xi, { training: true }) as tf.Tensor, up));
      const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, vars);
      return [layer.apply(x, { training: true }) as tf.Tensor, tf.grad(f)(x), ...vars.map((v) => grads[v.name])];
    },
  },
  {
    op: LAYER_NORM,
    tolerance: 1e-4,
    run: () => {
      const r = rng(12);
      const x = T(randArr(r, [4, 8, 20], -3, 3)), gamma = T(randArr(r, [20], 0.5, 1.5)), beta = T(randArr(r, [20])), w = T(randArr(r, [4, 8, 20]));
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(a, g, b, 1e-5);
      return [f(x, gamma, beta), ...tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), w)))([x, gamma, beta])];
    },
  },
  {
    op: SOFT_TARGET_CE,
    tolerance: 0,
    run: () => {
      const r = rng(13);
      const q = tf.softmax(T(randArr(r, [rows, K], -3, 3))), z = T(randArr(r, [rows, K], -4, 4)), w = T(randArr(r, [rows], 0.5, 1.5));
      const f = (a: tf.Tensor, b: tf.Tensor) => softTargetCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D);
      return [f(q, z), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), w)))([q, z])];
    },
  },
  { op: KNOWLEDGE_DISTILLATION, tolerance: 0, run: () => lossAndGradient(14, (ctx) => knowledgeDistillationObjective(0.5, 4).perExampleLoss(ctx)) },
  { op: LDI_PENALTY, tolerance: 1e-4, run: () => lossAndGradient(15, (ctx) => ldiObjective({ xi: 0.5, centred: true }).perExampleLoss(ctx)) },
  { op: LDI_CROSS_ENTROPY, tolerance: 1e-4, run: () => lossAndGradient(16, (ctx) => ldiTrainingObjective({ ...DEFAULT_LDI, alpha: 0.5, xi: 0.5 }).perExampleLoss(ctx)) },
];

export interface FusedOpRun {
  /** Each output's float32 values (the value, then the gradients), base64 of their bytes. */
  values: string[];
  /** The kernels that ran. */
  kernels: string[];
}

/** Every case's outputs and kernels on the current backend. */
export async function runFusedOpCases(): Promise<Record<string, FusedOpRun>> {
  const result: Record<string, FusedOpRun> = {};
  for (const c of FUSED_OP_CASES) {
    let values: string[] = [];
    const info = await tf.profile(() => {
      const outs = c.run();
      values = outs.map((t) => Buffer.from((t.dataSync() as Float32Array).buffer).toString('base64'));
      return outs;
    });
    result[c.op] = { values, kernels: [...new Set(info.kernelNames)] };
  }
  return result;
}
