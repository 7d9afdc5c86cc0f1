/**
 * Data movement over float32 and int32 tensors: Transpose, Tile, Concat, Pack, Unpack,
 * GatherV2, and UnsortedSegmentSum (the embedding gradient as one scatter-add instead of
 * tfjs-cpu's one pass over the data per vocabulary entry).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { allocF32, f32, isF32, make, size, type NativeKernelConfig, type TensorInfo } from '../kernelValues.js';

/** The values of a tensor stored as 4-byte words (Float32Array or Int32Array), else undefined. */
function words(b: MathBackendCPU, t: TensorInfo): Float32Array | Int32Array | undefined {
  const v = b.data.get(t.dataId).values;
  return v instanceof Float32Array || v instanceof Int32Array ? v : undefined;
}

const transpose: NativeKernelConfig = {
  kernelName: 'Transpose',
  create: ({ addon, cpu }) => (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!;
    const perm = args.attrs?.perm as number[];
    const xv = words(b, x);
    if (!xv || x.shape.length > 8 || x.shape.length === 0) return cpu('Transpose')(args);
    const outShape = perm.map((p) => x.shape[p]);
    const out = xv instanceof Float32Array ? allocF32(b, xv.length) : new Int32Array(xv.length);
    if (xv.length > 0) addon.transpose(xv, out, x.shape, perm);
    return make(b, outShape, out, x.dtype);
  },
};

const tile: NativeKernelConfig = {
  kernelName: 'Tile',
  create: ({ addon, cpu }) => (args) => {
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
  },
};

function concatInto(addon: NativeAddon, b: MathBackendCPU, list: TensorInfo[], axis: number, outShape: number[], dtype: tf.DataType): TensorInfo {
  const n = size(outShape);
  const out = dtype === 'float32' ? allocF32(b, n) : new Int32Array(n);
  const parts = list.filter((t) => size(t.shape) > 0);
  if (n > 0) {
    addon.concat(out, parts.map((t) => words(b, t)!), size(outShape.slice(0, axis)), parts.map((t) => size(t.shape.slice(axis))));
  }
  return make(b, outShape, out, dtype);
}

const sameWords = (b: MathBackendCPU, list: TensorInfo[]): boolean =>
  list.length > 0 && list.every((t) => t.dtype === list[0].dtype && (t.dtype === 'float32' || t.dtype === 'int32') && words(b, t) !== undefined);

const concat: NativeKernelConfig = {
  kernelName: 'Concat',
  create: ({ addon, cpu }) => (args) => {
    const { backend: b } = args;
    const list = Object.values(args.inputs) as TensorInfo[];
    if (!sameWords(b, list)) return cpu('Concat')(args);
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, list[0].shape)[0];
    const live = list.filter((t) => size(t.shape) > 0);
    if (live.length === 0) return cpu('Concat')(args);
    const outShape = tf.backend_util.computeOutShape(live.map((t) => t.shape), axis);
    return concatInto(addon, b, live, axis, outShape, list[0].dtype);
  },
};

const pack: NativeKernelConfig = {
  kernelName: 'Pack',
  create: ({ addon, cpu }) => (args) => {
    const { backend: b } = args;
    const list = Object.values(args.inputs) as TensorInfo[];
    if (!sameWords(b, list) || list.some((t) => t.shape.length !== list[0].shape.length)) return cpu('Pack')(args);
    let axis = Number(args.attrs?.axis ?? 0);
    if (axis < 0) axis += list[0].shape.length + 1;
    const outShape = [...list[0].shape.slice(0, axis), list.length, ...list[0].shape.slice(axis)];
    const expanded = list.map((t) => ({ ...t, shape: [...t.shape.slice(0, axis), 1, ...t.shape.slice(axis)] }));
    return concatInto(addon, b, expanded, axis, outShape, list[0].dtype);
  },
};

const unpack: NativeKernelConfig = {
  kernelName: 'Unpack',
  create: ({ addon, cpu }) => (args) => {
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
  },
};

const gatherV2: NativeKernelConfig = {
  kernelName: 'GatherV2',
  create: ({ addon, cpu }) => (args) => {
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
  },
};

const unsortedSegmentSum: NativeKernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  create: ({ addon, cpu }) => (args) => {
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
  },
};

export const movementKernels: NativeKernelConfig[] = [transpose, tile, concat, pack, unpack, gatherV2, unsortedSegmentSum];
