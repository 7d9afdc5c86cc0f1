/** Softmax over the last axis, and Sum / Max / Min / Mean / Prod over a contiguous block of axes. */
import * as tf from '@tensorflow/tfjs-core';
import { allocF32, f32, isF32, make, RED, size, type NativeKernelConfig } from '../kernelValues.js';

const softmax: NativeKernelConfig = {
  kernelName: 'Softmax',
  create: ({ addon, cpu }) => (args) => {
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
  },
};

const reduction = (name: string, op: number): NativeKernelConfig => ({
  kernelName: name,
  create: ({ addon, cpu }) => (args) => {
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
    addon.reduce(op, f32(b, x), out, outer, red, inner);
    const outShape = attrs.keepDims
      ? x.shape.map((d, i) => (i >= a0 && i <= a1 ? 1 : d))
      : x.shape.filter((_, i) => i < a0 || i > a1);
    return make(b, outShape, out);
  },
});

export const reductionKernels: NativeKernelConfig[] = [softmax, ...Object.entries(RED).map(([name, op]) => reduction(name, op))];
