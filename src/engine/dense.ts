/**
 * A dense layer's step as three kernels instead of tfjs's eight to ten: `y = act(x·W + b)`
 * forward in one kernel (tfjs runs matMul, bias add and ReLU as separate kernels whenever
 * gradients are recorded — its `shouldFuse`), and backward one kernel per input (dx, dW, db),
 * each applying the activation's gradient itself instead of a ReluGrad kernel, a reshape and a
 * tape node of its own. At the main job's batch of 32 a step is mostly per-kernel dispatch
 * (docs/engine.md, the profile), so fewer kernels is the speed.
 *
 * Bit for bit tfjs's arithmetic on the native engine: the same native GEMM calls with the same
 * transposes as BatchMatMul and its gradient, the bias added and ReLU applied in float32 as
 * the Add and Relu kernels do, ReLU's gradient `dy·step(x)` (step taken from y = relu(x), which
 * is positive exactly where x is), and the bias gradient the same native column sum as the
 * Add gradient's `sum(dy, 0)`. One difference: a NaN pre-activation comes out 0 here (the
 * fused GEMM epilogue tfjs uses at inference), NaN in tfjs's training path.
 *
 * Native engine only (rank-2 float32 input, linear or ReLU): `models/denseLayer.ts` falls back
 * to tfjs-layers' own Dense everywhere else.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ACT, allocF32, f32, make, RED, scratch, type FusedOpConfig } from './kernelValues.js';
import { useFusedOp } from './fusion.js';

export const DENSE = 'DistilleryDense';
export const DENSE_GRAD = 'DistilleryDenseGrad';

/** Activations the kernel applies. */
const ACTIVATIONS = ['linear', 'relu'] as const;
export type DenseActivation = (typeof ACTIVATIONS)[number];

/** Which input a DENSE_GRAD call differentiates with respect to. */
const WRT = { x: 0, kernel: 1, bias: 2 } as const;

/** Whether the fused kernel serves this input and activation on the current backend. */
export function denseFused(x: tf.Tensor, activation: string): activation is DenseActivation {
  return x.rank === 2 && x.dtype === 'float32' && (ACTIVATIONS as readonly string[]).includes(activation) && useFusedOp(DENSE);
}

/** act(x·kernel + bias) as one kernel; callers check `denseFused` first. */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D | undefined, activation: DenseActivation): tf.Tensor2D {
  const inputs: tf.NamedTensorMap = bias ? { x, kernel, bias } : { x, kernel };
  return tf.engine().runKernel(DENSE, inputs, { activation }) as tf.Tensor2D;
}

/** The op: its forward and gradient kernels, on the addon's GEMM and reductions, and its gradient. */
export const denseOp: FusedOpConfig = {
  kernelName: DENSE,
  kernels: [
    {
      kernelName: DENSE,
      create: ({ addon }) => ({ inputs, backend: b, attrs }) => {
        const x = inputs.x!, w = inputs.kernel!, bias = inputs.bias;
        const [M, K] = x.shape, N = w.shape[1];
        const out = allocF32(b, M * N);
        addon.gemm(false, false, 1, 1, 1, M, N, K, f32(b, x), f32(b, w), out, bias ? f32(b, bias) : null, ACT[attrs!.activation as DenseActivation], 0);
        return make(b, [M, N], out);
      },
    },
    {
      kernelName: DENSE_GRAD,
      create: ({ addon }) => ({ inputs, backend: b, attrs }) => {
        const dy = inputs.dy!, x = inputs.x!, w = inputs.kernel!, y = inputs.y!;
        const [M, K] = x.shape, N = w.shape[1];
        let g = f32(b, dy);
        if (attrs!.activation === 'relu') {
          const s = scratch('dense.dAct', M * N);
          addon.reluGrad(f32(b, y), g, s);
          g = s;
        }
        switch (attrs!.wrt) {
          case WRT.x: {
            const dx = allocF32(b, M * K);
            addon.gemm(false, true, 1, 1, 1, M, K, N, g, f32(b, w), dx, null, 0, 0);
            return make(b, [M, K], dx);
          }
          case WRT.kernel: {
            const dw = allocF32(b, K * N);
            addon.gemm(true, false, 1, 1, 1, K, N, M, f32(b, x), g, dw, null, 0, 0);
            return make(b, [K, N], dw);
          }
          default: {
            const db = allocF32(b, N);
            addon.reduce(RED.Sum, g, db, 1, M, N);
            return make(b, [N], db);
          }
        }
      },
    },
  ],
  gradient: {
    kernelName: DENSE,
    inputsToSave: ['x', 'kernel'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, kernel, y] = saved;
      const d = Array.isArray(dy) ? dy[0] : dy;
      const activation = (attrs as { activation: DenseActivation }).activation;
      const wrt = (which: number) => () => tf.engine().runKernel(DENSE_GRAD, { dy: d, x, kernel, y }, { activation, wrt: which }) as tf.Tensor;
      return { x: wrt(WRT.x), kernel: wrt(WRT.kernel), bias: wrt(WRT.bias) };
    },
  },
};
