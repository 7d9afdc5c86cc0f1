/** Convolution (im2col/col2im + GEMM in the addon) and pooling, NHWC. */
import * as tf from '@tensorflow/tfjs-core';
import { ACT, allocF32, f32, isF32, make, size, type Attrs, type KArgs, type KernelEnv, type NativeKernelConfig, type TensorInfo } from '../kernelValues.js';

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
const convParams = (c: ConvInfo): number[] => [
  c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.outChannels,
  c.outHeight, c.outWidth, c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left,
  c.dilationHeight, c.dilationWidth,
];

function conv({ addon, cpu }: KernelEnv, args: KArgs, fused: boolean): TensorInfo {
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

const conv2dBackpropInput: NativeKernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  create: ({ addon, cpu }) => (args) => {
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
  },
};

const conv2dBackpropFilter: NativeKernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  create: ({ addon, cpu }) => (args) => {
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
  },
};

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

const pool = (name: 'MaxPool' | 'AvgPool'): NativeKernelConfig => ({
  kernelName: name,
  create: ({ addon, cpu }) => (args) => {
    const { backend: b } = args;
    const x = args.inputs.x!;
    if (!isF32(b, x) || x.shape.length !== 4) return cpu(name)(args);
    const info = poolInfo(x.shape, args.attrs ?? {});
    const out = allocF32(b, size(info.outShape));
    (name === 'MaxPool' ? addon.maxPool : addon.avgPool)(f32(b, x), out, ...poolParams(info));
    return make(b, info.outShape, out);
  },
});

const maxPoolGrad: NativeKernelConfig = {
  kernelName: 'MaxPoolGrad',
  create: ({ addon, cpu }) => (args) => {
    const { backend: b } = args;
    const dy = args.inputs.dy!, x = args.inputs.input!;
    if (!isF32(b, dy, x)) return cpu('MaxPoolGrad')(args);
    const info = poolInfo(x.shape, args.attrs ?? {});
    const out = allocF32(b, size(x.shape));
    addon.maxPoolGrad(f32(b, dy), f32(b, x), out, ...poolParams(info));
    return make(b, x.shape, out);
  },
};

export const convolutionKernels: NativeKernelConfig[] = [
  { kernelName: 'Conv2D', create: (env) => (args) => conv(env, args, false) },
  { kernelName: 'FusedConv2D', create: (env) => (args) => conv(env, args, true) },
  conv2dBackpropInput,
  conv2dBackpropFilter,
  pool('MaxPool'),
  pool('AvgPool'),
  maxPoolGrad,
];
