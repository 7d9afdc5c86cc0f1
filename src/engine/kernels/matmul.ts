/** Matrix products: BatchMatMul and _FusedMatMul (bias and activation applied in the GEMM's epilogue). */
import * as tf from '@tensorflow/tfjs-core';
import { MATMUL_LOG, recordMatmul } from '../profiling.js';
import { ACT, allocF32, f32, isF32, make, size, type KArgs, type KernelEnv, type NativeKernelConfig, type TensorInfo } from '../kernelValues.js';

function matmul({ addon, cpu }: KernelEnv, args: KArgs, fused: boolean): TensorInfo {
  const { backend: b } = args;
  const a = args.inputs.a!, bb = args.inputs.b!;
  const attrs = args.attrs ?? {};
  const transposeA = Boolean(attrs.transposeA), transposeB = Boolean(attrs.transposeB);
  const bias = fused ? args.inputs.bias : undefined;
  const activation = fused ? ((attrs.activation as string | undefined) ?? 'linear') : 'linear';
  const ar = a.shape.length, br = bb.shape.length;
  const M = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const K = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const K2 = transposeB ? bb.shape[br - 1] : bb.shape[br - 2];
  const N = transposeB ? bb.shape[br - 2] : bb.shape[br - 1];
  const batchA = size(a.shape.slice(0, -2)), batchB = size(bb.shape.slice(0, -2));
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), bb.shape.slice(0, -2));
  const batch = size(outer);
  const nativeAct = ACT[activation];
  const biasOk = !bias || (isF32(b, bias) && bias.shape.length <= 1 && size(bias.shape) === N);
  const broadcastOk = batchA === batch || batchA === 1 ? batchB === batch || batchB === 1 : false;
  if (K !== K2 || !isF32(b, a, bb) || !broadcastOk || (fused && (nativeAct === undefined || !biasOk))) {
    return cpu(fused ? '_FusedMatMul' : 'BatchMatMul')(args) as TensorInfo;
  }
  const out = allocF32(b, batch * M * N);
  const t0 = MATMUL_LOG ? performance.now() : 0;
  addon.gemm(
    transposeA, transposeB, batchA, batchB, batch, M, N, K, f32(b, a), f32(b, bb), out,
    bias ? f32(b, bias) : null, nativeAct ?? 0, Number(attrs.leakyreluAlpha ?? 0.2),
  );
  if (MATMUL_LOG) recordMatmul(`${fused ? 'F' : ''}${transposeA ? 'T' : 'N'}${transposeB ? 'T' : 'N'} b${batch} ${M}x${N}x${K}`, performance.now() - t0);
  return make(b, [...outer, M, N], out);
}

export const matmulKernels: NativeKernelConfig[] = [
  { kernelName: 'BatchMatMul', create: (env) => (args) => matmul(env, args, false) },
  { kernelName: '_FusedMatMul', create: (env) => (args) => matmul(env, args, true) },
];
