/**
 * What the native backend's kernels share: their argument types and how they read and make
 * the in-memory tensors of tfjs-backend-cpu's storage (typed arrays under each dataId).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';

export type TensorInfo = tf.TensorInfo;
export type Attrs = Record<string, unknown>;
export type Inputs = Record<string, TensorInfo | undefined>;
export interface KArgs {
  inputs: Inputs;
  backend: MathBackendCPU;
  attrs?: Attrs;
}
export type KFunc = (args: KArgs) => TensorInfo | TensorInfo[];

/** What the native backend's kernels are made with: the addon, and tfjs-cpu's kernels for what they do not cover. */
export interface KernelEnv {
  addon: NativeAddon;
  /** tfjs-cpu's kernel `name` (throws if there is none). */
  cpu: (name: string) => KFunc;
}

/**
 * One kernel of the native backend, as tfjs's backends declare theirs (KernelConfig): its name
 * and its function, made once from the addon when the backend is registered. Every kernel is
 * listed once, in NATIVE_KERNELS (src/engine/kernels/index.ts).
 */
export interface NativeKernelConfig {
  kernelName: string;
  create: (env: KernelEnv) => KFunc;
}

/**
 * One of Distillery's fused ops: a registered kernel (and its gradient kernels) that computes
 * what a composition of tfjs ops would, where the current backend has it and fused ops are on
 * (`useFusedOp`, src/engine/fusion.ts), the composition elsewhere. Listed in FUSED_OPS
 * (src/engine/kernels/index.ts); the native backend registers its kernels and its gradient.
 */
export interface FusedOpConfig {
  /** The forward kernel (its name decides whether the op is fused: fusion.ts). */
  kernelName: string;
  /** The forward kernel and the kernels its gradient runs. */
  kernels: NativeKernelConfig[];
  /** The forward kernel's gradient (tfjs registers gradients for every backend). */
  gradient: tf.GradConfig;
}

/** The addon's codes for activations, binary and unary ops and reductions (shared with native/src: gemm.h, elementwise.cc, reductions.cc). */
export const ACT: Record<string, number> = { linear: 0, relu: 1, relu6: 2, sigmoid: 3, elu: 4, leakyrelu: 5 };
export const BIN = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6, Pow: 7 } as const;
export const UN: Record<string, number> = {
  Relu: 0, Relu6: 1, Exp: 2, Log: 3, Sqrt: 4, Rsqrt: 5, Square: 6, Neg: 7, Abs: 8, Step: 9, Sigmoid: 10,
  Tanh: 11, Reciprocal: 12, Elu: 13, LeakyRelu: 14, Log1p: 15, Softplus: 16,
};
export const RED: Record<string, number> = { Sum: 0, Max: 1, Min: 2, Mean: 3, Prod: 4 };

export const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** The values of a float32 tensor (no copy). */
export function f32(b: MathBackendCPU, t: TensorInfo): Float32Array {
  return b.data.get(t.dataId).values as Float32Array;
}

/** The values of a float32 tensor as a Float32Array (a converted copy if they are stored as int32/bool). */
export function asF32(b: MathBackendCPU, t: TensorInfo): Float32Array {
  const v = b.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** Whether every tensor is float32 and stored as a Float32Array. */
export function isF32(b: MathBackendCPU, ...ts: TensorInfo[]): boolean {
  return ts.every((t) => t.dtype === 'float32' && b.data.get(t.dataId).values instanceof Float32Array);
}

/** Output buffer for a native kernel: recycled from disposed tensors when the backend pools them (never zeroed: every native kernel writes all of its output). */
export function allocF32(b: MathBackendCPU, n: number): Float32Array {
  const pool = b as unknown as { alloc?: (n: number) => Float32Array };
  return typeof pool.alloc === 'function' ? pool.alloc(n) : new Float32Array(n);
}

export function make(b: MathBackendCPU, shape: number[], values: Float32Array | Int32Array, dtype: tf.DataType = 'float32'): TensorInfo {
  return b.makeTensorInfo(shape, dtype, values);
}

/** Reusable scratch arrays by name and length, for values a kernel needs only while it runs (JS is single-threaded per isolate). */
const scratchArrays = new Map<string, Float32Array>();

/** The scratch array `name` of length n (its contents are whatever its last user left). */
export function scratch(name: string, n: number): Float32Array {
  const key = `${name}:${n}`;
  let a = scratchArrays.get(key);
  if (!a) {
    if (scratchArrays.size >= 64) scratchArrays.clear(); // many batch sizes: start over rather than grow
    scratchArrays.set(key, (a = new Float32Array(n)));
  }
  return a;
}
