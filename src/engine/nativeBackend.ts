/**
 * The 'native' tfjs backend: tfjs-backend-cpu's MathBackendCPU (tensors stay in JS typed
 * arrays) with every cpu kernel re-registered under the name 'native', and the hot ones
 * replaced by kernels of Distillery's native addon that read and write those typed arrays
 * in place. Anything a native kernel does not handle (dtype, layout, exotic broadcasting)
 * goes to the original cpu kernel, so results never depend on coverage.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LAYER_NORM, LAYER_NORM_GRAD_GAMMA, LAYER_NORM_GRAD_X, registerLayerNormGradient } from './layerNorm.js';
import { registerLdiKernels } from './logitDifference.js';
import { denseKernels, registerDenseGradient } from './dense.js';
import { registerSoftTargetCrossEntropyGradient, softTargetCrossEntropyKernels } from './softTargetCrossEntropy.js';
import { knowledgeDistillationKernels, registerKnowledgeDistillationGradient } from './knowledgeDistillation.js';
import { BATCH_NORM_GRAD, RELU_GRAD, registerBatchNormGradient, registerBroadcastReduceGradients, registerReluGradient } from './gradients.js';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';
import { KERNEL_TIMING, MATMUL_LOG, recordMatmul, timeKernel } from './profiling.js';
import { ACT, allocF32, BIN, f32, isF32, make, RED, size, UN, type Attrs, type KArgs, type KFunc, type TensorInfo } from './kernelValues.js';

export const NATIVE_BACKEND = 'native';


function words(b: MathBackendCPU, t: TensorInfo): Float32Array | Int32Array | undefined {
  const v = b.data.get(t.dataId).values;
  return v instanceof Float32Array || v instanceof Int32Array ? v : undefined;
}

/** The values of a float32 tensor as a Float32Array (a converted copy if they are stored as int32/bool). */
function asF32(b: MathBackendCPU, t: TensorInfo): Float32Array {
  const v = b.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** Right-aligned broadcast strides of `shape` against `out` (0 where broadcast). */
function bcastStrides(shape: number[], out: number[]): number[] {
  const r = out.length;
  const s = new Array<number>(r).fill(0);
  let acc = 1;
  for (let i = r - 1; i >= 0; i--) {
    const j = i - (r - shape.length);
    const d = j >= 0 ? shape[j] : 1;
    s[i] = d === 1 && out[i] !== 1 ? 0 : acc;
    acc *= d;
  }
  return s;
}

/** Collapses an elementwise broadcast problem to as few dimensions as possible. */
function collapse(out: number[], as: number[], bs: number[]): [number[], number[], number[]] {
  const sh: number[] = [], sa: number[] = [], sb: number[] = [];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === 1) continue;
    const k = sh.length - 1;
    if (k >= 0 && sa[k] === as[i] * out[i] && sb[k] === bs[i] * out[i]) {
      sh[k] *= out[i];
      sa[k] = as[i];
      sb[k] = bs[i];
    } else {
      sh.push(out[i]);
      sa.push(as[i]);
      sb.push(bs[i]);
    }
  }
  if (sh.length === 0) return [[1], [1], [1]];
  return [sh, sa, sb];
}

export function createNativeKernels(addon: NativeAddon, cpu: (name: string) => KFunc): Map<string, KFunc> {
  const k = new Map<string, KFunc>();

  // ------------------------------------------------------------ matmul

  function matmul(args: KArgs, fused: boolean): TensorInfo {
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
  k.set('BatchMatMul', (args) => matmul(args, false));
  k.set('_FusedMatMul', (args) => matmul(args, true));

  // ------------------------------------------------------------ convolution

  type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
  const convParams = (c: ConvInfo): number[] => [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.outChannels,
    c.outHeight, c.outWidth, c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left,
    c.dilationHeight, c.dilationWidth,
  ];

  function conv(args: KArgs, fused: boolean): TensorInfo {
    const { backend: b } = args;
    const x = args.inputs.x!, filter = args.inputs.filter!;
    const attrs = args.attrs ?? {};
    const bias = fused ? args.inputs.bias : undefined;
    const activation = fused ? ((attrs.activation as string | undefined) ?? 'linear') : 'linear';
    const fmt = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      attrs.strides as [number, number], attrs.dilations as [number, number],
      attrs.pad as 'same', attrs.dimRoundingMode as 'floor' | undefined, false, fmt,
    );
    const nativeAct = ACT[activation];
    const biasOk = !bias || (isF32(b, bias) && size(bias.shape) === info.outChannels);
    if (fmt !== 'channelsLast' || !isF32(b, x, filter) || (fused && (nativeAct === undefined || !biasOk))) {
      return cpu(fused ? 'FusedConv2D' : 'Conv2D')(args) as TensorInfo;
    }
    const out = allocF32(b, size(info.outShape));
    addon.conv2d(
      f32(b, x), f32(b, filter), out, ...convParams(info),
      bias ? f32(b, bias) : null, nativeAct ?? 0, Number(attrs.leakyreluAlpha ?? 0.2),
    );
    return make(b, info.outShape, out);
  }
  k.set('Conv2D', (args) => conv(args, false));
  k.set('FusedConv2D', (args) => conv(args, true));

  k.set('Conv2DBackpropInput', (args) => {
    const { backend: b } = args;
    const dy = args.inputs.dy!, filter = args.inputs.filter!;
    const attrs = args.attrs ?? {};
    const fmt = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
    const inputShape = attrs.inputShape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      inputShape, filter.shape as [number, number, number, number], attrs.strides as [number, number], 1,
      attrs.pad as 'same', attrs.dimRoundingMode as 'floor' | undefined, false, fmt,
    );
    if (fmt !== 'channelsLast' || !isF32(b, dy, filter)) return cpu('Conv2DBackpropInput')(args);
    const out = allocF32(b, size(inputShape));
    addon.conv2dBackpropInput(f32(b, dy), f32(b, filter), out, ...convParams(info));
    return make(b, inputShape, out);
  });

  k.set('Conv2DBackpropFilter', (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!, dy = args.inputs.dy!;
    const attrs = args.attrs ?? {};
    const fmt = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
    const filterShape = attrs.filterShape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, attrs.strides as [number, number], 1,
      attrs.pad as 'same', attrs.dimRoundingMode as 'floor' | undefined, false, fmt,
    );
    if (fmt !== 'channelsLast' || !isF32(b, x, dy)) return cpu('Conv2DBackpropFilter')(args);
    const out = allocF32(b, size(filterShape));
    addon.conv2dBackpropFilter(f32(b, x), f32(b, dy), out, ...convParams(info));
    return make(b, filterShape, out);
  });

  // ------------------------------------------------------------ pooling

  type PoolInfo = ReturnType<typeof tf.backend_util.computePool2DInfo>;
  const poolParams = (c: PoolInfo): number[] => [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left, c.dilationHeight, c.dilationWidth,
    c.outHeight, c.outWidth,
  ];
  const poolInfo = (shape: number[], attrs: Attrs): PoolInfo =>
    tf.backend_util.computePool2DInfo(
      shape as [number, number, number, number], attrs.filterSize as [number, number],
      attrs.strides as [number, number], 1, attrs.pad as 'same', attrs.dimRoundingMode as 'floor' | undefined,
    );

  for (const name of ['MaxPool', 'AvgPool'] as const) {
    k.set(name, (args) => {
      const { backend: b } = args;
      const x = args.inputs.x!;
      if (!isF32(b, x) || x.shape.length !== 4) return cpu(name)(args);
      const info = poolInfo(x.shape, args.attrs ?? {});
      const out = allocF32(b, size(info.outShape));
      (name === 'MaxPool' ? addon.maxPool : addon.avgPool)(f32(b, x), out, ...poolParams(info));
      return make(b, info.outShape, out);
    });
  }

  k.set('MaxPoolGrad', (args) => {
    const { backend: b } = args;
    const dy = args.inputs.dy!, x = args.inputs.input!;
    if (!isF32(b, dy, x)) return cpu('MaxPoolGrad')(args);
    const info = poolInfo(x.shape, args.attrs ?? {});
    const out = allocF32(b, size(x.shape));
    addon.maxPoolGrad(f32(b, dy), f32(b, x), out, ...poolParams(info));
    return make(b, x.shape, out);
  });

  // ------------------------------------------------------------ softmax / reductions

  k.set('Softmax', (args) => {
    const { backend: b } = args;
    const x = args.inputs.logits!;
    const dim = (args.attrs?.dim as number[] | number | undefined) ?? -1;
    const d = Array.isArray(dim) ? dim[0] : dim;
    const r = x.shape.length;
    if (!isF32(b, x) || r === 0 || (d !== -1 && d !== r - 1)) return cpu('Softmax')(args);
    const cols = x.shape[r - 1];
    const out = allocF32(b, size(x.shape));
    addon.softmax(f32(b, x), out, size(x.shape) / Math.max(cols, 1), cols, false);
    return make(b, x.shape, out);
  });

  for (const name of Object.keys(RED)) {
    k.set(name, (args) => {
      const { backend: b } = args;
      const x = args.inputs.x!;
      const attrs = args.attrs ?? {};
      if (!isF32(b, x) || x.shape.length === 0) return cpu(name)(args);
      const axes = tf.util.parseAxisParam((attrs.axis ?? attrs.reductionIndices) as number | number[], x.shape).sort((p, q) => p - q);
      for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return cpu(name)(args);
      if (axes.length === 0) return cpu(name)(args);
      const a0 = axes[0], a1 = axes[axes.length - 1];
      const outer = size(x.shape.slice(0, a0)), red = size(x.shape.slice(a0, a1 + 1)), inner = size(x.shape.slice(a1 + 1));
      if (red === 0) return cpu(name)(args);
      const out = allocF32(b, outer * inner);
      addon.reduce(RED[name], f32(b, x), out, outer, red, inner);
      const outShape = attrs.keepDims
        ? x.shape.map((d, i) => (i >= a0 && i <= a1 ? 1 : d))
        : x.shape.filter((_, i) => i < a0 || i > a1);
      return make(b, outShape, out);
    });
  }

  // ------------------------------------------------------------ elementwise

  for (const [name, op] of Object.entries(BIN)) {
    k.set(name, (args) => {
      const { backend: b } = args;
      const a = args.inputs.a!, bb = args.inputs.b!;
      if (!isF32(b, a, bb)) return cpu(name)(args);
      const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, bb.shape);
      const n = size(outShape);
      const out = allocF32(b, n);
      const av = f32(b, a), bv = f32(b, bb);
      if (n === 0) return make(b, outShape, out);
      if (av.length === n && bv.length === n) {
        addon.binary(op, av, bv, out, [n], [1], [1]);
      } else {
        const [sh, sa, sb] = collapse(outShape, bcastStrides(a.shape, outShape), bcastStrides(bb.shape, outShape));
        if (sh.length > 8) return cpu(name)(args);
        addon.binary(op, av, bv, out, sh, sa, sb);
      }
      return make(b, outShape, out);
    });
  }

  for (const [name, op] of Object.entries(UN)) {
    k.set(name, (args) => {
      const { backend: b } = args;
      const x = args.inputs.x!;
      if (!isF32(b, x)) return cpu(name)(args);
      const out = allocF32(b, size(x.shape));
      const alpha = name === 'Step' ? Number(args.attrs?.alpha ?? 0) : name === 'LeakyRelu' ? Number(args.attrs?.alpha ?? 0.2) : 0;
      addon.unary(op, f32(b, x), out, alpha);
      return make(b, x.shape, out);
    });
  }

  k.set('AddN', (args) => {
    const { backend: b } = args;
    const list = Object.values(args.inputs) as TensorInfo[];
    if (list.length === 0 || !isF32(b, ...list)) return cpu('AddN')(args);
    const out = allocF32(b, size(list[0].shape));
    addon.addN(out, list.map((t) => f32(b, t)));
    return make(b, list[0].shape, out);
  });

  k.set('FusedBatchNorm', (args) => {
    const { backend: b } = args;
    const { x, mean, variance, offset, scale } = args.inputs;
    const present = [x!, mean!, variance!, ...(offset ? [offset] : []), ...(scale ? [scale] : [])];
    if (!isF32(b, ...present) || present.some((t) => size(t.shape) === 0)) return cpu('FusedBatchNorm')(args);
    const out = allocF32(b, size(x!.shape));
    const eps = (args.attrs?.varianceEpsilon as number | undefined) ?? 0.001;
    addon.batchNorm(f32(b, x!), f32(b, mean!), f32(b, variance!), offset ? f32(b, offset) : null, scale ? f32(b, scale) : null, out, eps);
    return make(b, x!.shape, out);
  });

  k.set(BATCH_NORM_GRAD, (args) => {
    const { backend: b } = args;
    const { x, mean, variance, scale, dy } = args.inputs;
    const out = allocF32(b, size(x!.shape));
    addon.batchNormGrad(args.attrs!.which as 0 | 1 | 2 | 3, asF32(b, x!), asF32(b, mean!), asF32(b, variance!), scale ? asF32(b, scale) : null, asF32(b, dy!), out, args.attrs!.varianceEpsilon as number);
    return make(b, x!.shape, out);
  });

  k.set(RELU_GRAD, (args) => {
    const { backend: b } = args;
    const { x, dy } = args.inputs;
    const out = allocF32(b, size(x!.shape));
    addon.reluGrad(asF32(b, x!), asF32(b, dy!), out);
    return make(b, x!.shape, out);
  });

  // layer normalisation over the last axis (src/engine/layerNorm.ts)
  const lnDims = (x: TensorInfo): [number, number] => {
    const d = x.shape[x.shape.length - 1];
    return [size(x.shape) / d, d];
  };
  k.set(LAYER_NORM, (args) => {
    const { backend: b } = args;
    const { x, gamma, beta } = args.inputs;
    const [rows, d] = lnDims(x!);
    const out = allocF32(b, size(x!.shape));
    addon.layerNorm(asF32(b, x!), asF32(b, gamma!), asF32(b, beta!), out, rows, d, args.attrs!.epsilon as number);
    return make(b, x!.shape, out);
  });
  k.set(LAYER_NORM_GRAD_X, (args) => {
    const { backend: b } = args;
    const { x, gamma, dy } = args.inputs;
    const [rows, d] = lnDims(x!);
    const out = allocF32(b, size(x!.shape));
    addon.layerNormGradX(asF32(b, x!), asF32(b, gamma!), asF32(b, dy!), out, rows, d, args.attrs!.epsilon as number);
    return make(b, x!.shape, out);
  });
  k.set(LAYER_NORM_GRAD_GAMMA, (args) => {
    const { backend: b } = args;
    const { x, dy } = args.inputs;
    const [rows, d] = lnDims(x!);
    const out = allocF32(b, d);
    addon.layerNormGradGamma(asF32(b, x!), asF32(b, dy!), out, rows, d, args.attrs!.epsilon as number);
    return make(b, [d], out);
  });

  // tfjs-cpu's Cast to float32 from int32/bool keeps the Int32Array/Uint8Array under a float32
  // dtype, which sends every later float op on it (one-hot labels, padding masks) to the slow
  // JS kernels. Here such casts produce a real Float32Array (the same values, exactly).
  k.set('Cast', (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!;
    const values = b.data.get(x.dataId)?.values;
    if (args.attrs?.dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool') || !(values instanceof Int32Array || values instanceof Uint8Array)) {
      return cpu('Cast')(args);
    }
    const out = allocF32(b, size(x.shape));
    out.set(values);
    return make(b, x.shape, out);
  });

  // ------------------------------------------------------------ data movement

  k.set('Transpose', (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!;
    const perm = args.attrs?.perm as number[];
    const xv = words(b, x);
    if (!xv || x.shape.length > 8 || x.shape.length === 0) return cpu('Transpose')(args);
    const outShape = perm.map((p) => x.shape[p]);
    const out = xv instanceof Float32Array ? allocF32(b, xv.length) : new Int32Array(xv.length);
    if (xv.length > 0) addon.transpose(xv, out, x.shape, perm);
    return make(b, outShape, out, x.dtype);
  });

  k.set('Tile', (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!;
    const reps = args.attrs?.reps as number[];
    const xv = words(b, x);
    if (!xv || x.shape.length === 0 || x.shape.length > 8 || reps.length !== x.shape.length) return cpu('Tile')(args);
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const n = size(outShape);
    const out = xv instanceof Float32Array ? allocF32(b, n) : new Int32Array(n);
    if (n > 0) addon.tile(xv, out, x.shape, reps);
    return make(b, outShape, out, x.dtype);
  });

  const concatInto = (b: MathBackendCPU, list: TensorInfo[], axis: number, outShape: number[], dtype: tf.DataType): TensorInfo => {
    const n = size(outShape);
    const out = dtype === 'float32' ? allocF32(b, n) : new Int32Array(n);
    const parts = list.filter((t) => size(t.shape) > 0);
    if (n > 0) {
      addon.concat(out, parts.map((t) => words(b, t)!), size(outShape.slice(0, axis)), parts.map((t) => size(t.shape.slice(axis))));
    }
    return make(b, outShape, out, dtype);
  };
  const sameWords = (b: MathBackendCPU, list: TensorInfo[]): boolean =>
    list.length > 0 && list.every((t) => t.dtype === list[0].dtype && (t.dtype === 'float32' || t.dtype === 'int32') && words(b, t) !== undefined);

  k.set('Concat', (args) => {
    const { backend: b } = args;
    const list = Object.values(args.inputs) as TensorInfo[];
    if (!sameWords(b, list)) return cpu('Concat')(args);
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, list[0].shape)[0];
    const live = list.filter((t) => size(t.shape) > 0);
    if (live.length === 0) return cpu('Concat')(args);
    const outShape = tf.backend_util.computeOutShape(live.map((t) => t.shape), axis);
    return concatInto(b, live, axis, outShape, list[0].dtype);
  });

  k.set('Pack', (args) => {
    const { backend: b } = args;
    const list = Object.values(args.inputs) as TensorInfo[];
    if (!sameWords(b, list) || list.some((t) => t.shape.length !== list[0].shape.length)) return cpu('Pack')(args);
    let axis = Number(args.attrs?.axis ?? 0);
    if (axis < 0) axis += list[0].shape.length + 1;
    const outShape = [...list[0].shape.slice(0, axis), list.length, ...list[0].shape.slice(axis)];
    const expanded = list.map((t) => ({ ...t, shape: [...t.shape.slice(0, axis), 1, ...t.shape.slice(axis)] }));
    return concatInto(b, expanded, axis, outShape, list[0].dtype);
  });

  k.set('Unpack', (args) => {
    const { backend: b } = args;
    const x = args.inputs.value!;
    const xv = words(b, x);
    if (!xv) return cpu('Unpack')(args);
    let axis = Number(args.attrs?.axis ?? 0);
    if (axis < 0) axis += x.shape.length;
    const outShape = x.shape.filter((_, i) => i !== axis);
    const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1)), num = x.shape[axis];
    const res: TensorInfo[] = [];
    for (let i = 0; i < num; i++) {
      const n = outer * inner;
      const out = xv instanceof Float32Array ? allocF32(b, n) : new Int32Array(n);
      if (n > 0) addon.gather(xv, Int32Array.of(i), out, outer, num, inner);
      res.push(make(b, outShape, out, x.dtype));
    }
    return res;
  });

  k.set('GatherV2', (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!, indices = args.inputs.indices!;
    const attrs = args.attrs ?? {};
    const batchDims = Number(attrs.batchDims ?? 0);
    const xv = words(b, x);
    const iv = b.data.get(indices.dataId).values;
    if (!xv || batchDims !== 0 || !(iv instanceof Int32Array)) return cpu('GatherV2')(args);
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const axisDim = x.shape[axis];
    for (let i = 0; i < iv.length; i++) {
      const v = iv[i];
      if (v < 0 || v >= axisDim) {
        throw new Error(`GatherV2: the index value ${v} is not in [0, ${axisDim - 1}]`);
      }
    }
    const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
    const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    const n = size(outShape);
    const out = xv instanceof Float32Array ? allocF32(b, n) : new Int32Array(n);
    if (n > 0) addon.gather(xv, iv, out, outer, axisDim, inner);
    return make(b, outShape, out, x.dtype);
  });

  k.set('UnsortedSegmentSum', (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!, ids = args.inputs.segmentIds!;
    const numSegments = Number(args.attrs?.numSegments);
    const iv = b.data.get(ids.dataId).values;
    const prefixOk = ids.shape.every((d, i) => x.shape[i] === d);
    if (!isF32(b, x) || !(iv instanceof Int32Array) || !prefixOk) return cpu('UnsortedSegmentSum')(args);
    const innerShape = x.shape.slice(ids.shape.length);
    const inner = size(innerShape);
    const out = allocF32(b, numSegments * inner);
    addon.segmentSum(f32(b, x), iv, out, numSegments, inner);
    return make(b, [numSegments, ...innerShape], out);
  });

  return k;
}

/**
 * MathBackendCPU whose reads return copies: tfjs's cpu backend hands out its own buffers from
 * dataSync(), which is harmless there because no kernel ever writes into an existing buffer,
 * but the native Adam update works in place.
 */
export class NativeBackend extends MathBackendCPU {
  /**
   * Recycled output buffers by length (Map order = least recently used first). Only buffers
   * allocated by `alloc` are ever recycled. A training loop allocates the same sizes every
   * step, so after the first step it allocates nothing and the garbage collector stays idle;
   * peak memory is then the step's live set rather than live set + uncollected garbage.
   */
  private free = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  private readonly own = new WeakSet<Float32Array>();
  /** Upper bound on recycled memory held (bytes); least recently used sizes are dropped first. */
  static poolLimitBytes = Number(process.env.DISTILLERY_POOL_MB ?? 1024) * 1024 * 1024;
  /** Shorter arrays are not recycled (V8 keeps typed arrays up to 64 bytes on its heap, where allocating is cheap). */
  static minPooledLength = 17;

  alloc(n: number): Float32Array {
    const list = this.free.get(n);
    const v = list?.pop();
    if (v) {
      this.freeBytes -= v.byteLength;
      // mark this size as recently used
      this.free.delete(n);
      this.free.set(n, list!);
      return v;
    }
    const fresh = new Float32Array(n);
    if (n >= NativeBackend.minPooledLength) this.own.add(fresh);
    return fresh;
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const d = this.data.get(dataId);
    const v = d?.values;
    const removed = super.disposeData(dataId, force);
    if (removed && v instanceof Float32Array && this.own.has(v) && v.byteLength <= NativeBackend.poolLimitBytes) {
      for (const [len, list] of this.free) {
        if (this.freeBytes + v.byteLength <= NativeBackend.poolLimitBytes) break;
        while (list.length > 0 && this.freeBytes + v.byteLength > NativeBackend.poolLimitBytes) {
          this.freeBytes -= list.pop()!.byteLength;
        }
        if (list.length === 0) this.free.delete(len);
      }
      let list = this.free.get(v.length);
      if (!list) this.free.set(v.length, (list = []));
      list.push(v);
      this.freeBytes += v.byteLength;
    }
    return removed;
  }

  /** Bytes held in recycled buffers. */
  pooledBytes(): number {
    return this.freeBytes;
  }

  /** Drops the recycled buffers (they are garbage-collected as usual). */
  releasePool(): void {
    this.free.clear();
    this.freeBytes = 0;
  }

  override dispose(): void {
    this.releasePool();
    super.dispose();
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    const v = super.readSync(dataId);
    return ArrayBuffer.isView(v) ? (v as Float32Array).slice() : v;
  }

  override async read(dataId: tf.DataId): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }
}

/**
 * Some cpu kernels (Slice, Unpack, SplitV, …) return subarray views of their input's buffer.
 * The native Adam update writes variables in place, so outputs of those kernels are copied
 * when they share memory with an input under a different dataId.
 */
function noViews(f: KFunc): KFunc {
  return (args) => {
    const out = f(args);
    const b = args.backend;
    for (const o of Array.isArray(out) ? out : [out]) {
      const od = b.data.get(o.dataId);
      const ov = od?.values;
      if (!od || !ArrayBuffer.isView(ov)) continue;
      for (const i of Object.values(args.inputs)) {
        if (!i || i.dataId === o.dataId) continue;
        const iv = b.data.get(i.dataId)?.values;
        if (ArrayBuffer.isView(iv) && iv.buffer === ov.buffer) {
          od.values = (ov as Float32Array).slice();
          break;
        }
      }
    }
    return out;
  };
}

let registered = false;

/** Registers the 'native' backend and its kernels (idempotent). */
export function registerNativeBackend(addon: NativeAddon): void {
  if (registered) return;
  registered = true;
  const cpuKernels = tf.getKernelsForBackend('cpu');
  const cpuFuncs = new Map<string, KFunc>(cpuKernels.map((c) => [c.kernelName, c.kernelFunc as unknown as KFunc]));
  const cpu = (name: string): KFunc => {
    const f = cpuFuncs.get(name);
    if (!f) throw new Error(`no cpu kernel ${name}`);
    return f;
  };
  const native = nativeKernels(addon, cpu);
  // Priority 0: tfjs never picks 'native' on its own; initEngine selects it explicitly.
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
  registerBroadcastReduceGradients(NATIVE_BACKEND);
  registerBatchNormGradient(NATIVE_BACKEND);
  registerReluGradient(NATIVE_BACKEND);
  registerLayerNormGradient();
  registerLdiKernels(NATIVE_BACKEND);
  registerDenseGradient();
  registerSoftTargetCrossEntropyGradient();
  registerKnowledgeDistillationGradient();
  const wrap = (name: string, f: KFunc): tf.KernelFunc => (KERNEL_TIMING ? timeKernel(name, f) : f) as unknown as tf.KernelFunc;
  for (const c of cpuKernels) {
    const own = native.get(c.kernelName);
    tf.registerKernel({
      ...c,
      backendName: NATIVE_BACKEND,
      kernelFunc: wrap(c.kernelName, own ?? noViews(c.kernelFunc as unknown as KFunc)),
    });
  }
  for (const [name, f] of native) {
    if (!cpuFuncs.has(name)) tf.registerKernel({ kernelName: name, backendName: NATIVE_BACKEND, kernelFunc: wrap(name, f) });
  }
}

/** Every kernel of the native backend that is not tfjs-cpu's: the replaced ones and Distillery's fused ops. */
function nativeKernels(addon: NativeAddon, cpu: (name: string) => KFunc): Map<string, KFunc> {
  return new Map([...createNativeKernels(addon, cpu), ...denseKernels(addon), ...softTargetCrossEntropyKernels(addon), ...knowledgeDistillationKernels(addon)]);
}

/** Names of the kernels the native backend runs in native code. */
export function nativeKernelNames(addon: NativeAddon): string[] {
  return [...nativeKernels(addon, () => () => []).keys()].sort();
}
