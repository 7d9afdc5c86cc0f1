/**
 * Elementwise kernels: the binary ops with broadcasting, 17 unary ops, AddN, casts to float32
 * that produce a real Float32Array, and the one-pass Relu gradient (src/engine/gradients.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { RELU_GRAD } from '../gradients.js';
import { allocF32, asF32, BIN, f32, isF32, make, size, UN, type NativeKernelConfig, type TensorInfo } from '../kernelValues.js';

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

const binary = (name: string, op: number): NativeKernelConfig => ({
  kernelName: name,
  create: ({ addon, cpu }) => (args) => {
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
  },
});

const unary = (name: string, op: number): NativeKernelConfig => ({
  kernelName: name,
  create: ({ addon, cpu }) => (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!;
    if (!isF32(b, x)) return cpu(name)(args);
    const out = allocF32(b, size(x.shape));
    const alpha = name === 'Step' ? Number(args.attrs?.alpha ?? 0) : name === 'LeakyRelu' ? Number(args.attrs?.alpha ?? 0.2) : 0;
    addon.unary(op, f32(b, x), out, alpha);
    return make(b, x.shape, out);
  },
});

const addN: NativeKernelConfig = {
  kernelName: 'AddN',
  create: ({ addon, cpu }) => (args) => {
    const { backend: b } = args;
    const list = Object.values(args.inputs) as TensorInfo[];
    if (list.length === 0 || !isF32(b, ...list)) return cpu('AddN')(args);
    const out = allocF32(b, size(list[0].shape));
    addon.addN(out, list.map((t) => f32(b, t)));
    return make(b, list[0].shape, out);
  },
};

/**
 * tfjs-cpu's Cast to float32 from int32/bool keeps the Int32Array/Uint8Array under a float32
 * dtype, which sends every later float op on it (one-hot labels, padding masks) to the slow
 * JS kernels. Here such casts produce a real Float32Array (the same values, exactly).
 */
const cast: NativeKernelConfig = {
  kernelName: 'Cast',
  create: ({ cpu }) => (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!;
    const values = b.data.get(x.dataId)?.values;
    if (args.attrs?.dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool') || !(values instanceof Int32Array || values instanceof Uint8Array)) {
      return cpu('Cast')(args);
    }
    const out = allocF32(b, size(x.shape));
    out.set(values);
    return make(b, x.shape, out);
  },
};

/** dy·step(x) in one pass (the Relu gradient of src/engine/gradients.ts). */
const reluGrad: NativeKernelConfig = {
  kernelName: RELU_GRAD,
  create: ({ addon }) => (args) => {
    const { backend: b } = args;
    const { x, dy } = args.inputs;
    const out = allocF32(b, size(x!.shape));
    addon.reluGrad(asF32(b, x!), asF32(b, dy!), out);
    return make(b, x!.shape, out);
  },
};

export const elementwiseKernels: NativeKernelConfig[] = [
  ...Object.entries(BIN).map(([name, op]) => binary(name, op)),
  ...Object.entries(UN).map(([name, op]) => unary(name, op)),
  addN,
  cast,
  reluGrad,
];
