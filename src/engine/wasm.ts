/**
 * The tfjs wasm backend as a fallback engine (used when the native addon is not built).
 * Stock tfjs-backend-wasm 4.22 cannot train convolutions (no Conv2DBackpropFilter) or
 * embeddings (no UnsortedSegmentSum); this module registers those two kernels for 'wasm',
 * composed from wasm kernels (filter gradient as a convolution of transposed tensors) or
 * computed in JS on the wasm heap (segment sum as a scatter-add).
 */
import * as tf from '@tensorflow/tfjs-core';

type TensorInfo = tf.TensorInfo;
interface WasmBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): tf.backend_util.TypedArray;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}
interface KArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackendLike;
  attrs?: Record<string, unknown>;
}

/** Loads the wasm backend and registers the kernels it lacks (idempotent: each shim checks the registry). */
export async function prepareWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  registerShims();
}

function kernel(name: string): (args: KArgs) => TensorInfo {
  return tf.getKernel(name, 'wasm').kernelFunc as unknown as (args: KArgs) => TensorInfo;
}

function registerShims(): void {
  const have = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));

  // wasm's matmul runs at ~1 GFLOP/s when an operand is transposed (every backward pass) and
  // at ~20 GFLOP/s without: transpose explicitly first.
  const mm = tf.getKernel('BatchMatMul', 'wasm');
  if (mm && !(mm.kernelFunc as { distillery?: boolean }).distillery) {
    const orig = mm.kernelFunc as unknown as (args: KArgs) => TensorInfo;
    const transpose = kernel('Transpose');
    const f = (args: KArgs): TensorInfo => {
      const { backend } = args;
      let { a, b } = args.inputs;
      const attrs = args.attrs ?? {};
      const temps: TensorInfo[] = [];
      const flip = (t: TensorInfo): TensorInfo => {
        const r = t.shape.length;
        const perm = Array.from({ length: r }, (_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
        const out = transpose({ inputs: { x: t }, backend, attrs: { perm } });
        temps.push(out);
        return out;
      };
      if (attrs.transposeA) a = flip(a);
      if (attrs.transposeB) b = flip(b);
      const out = orig({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      for (const t of temps) backend.disposeData(t.dataId);
      return out;
    };
    (f as { distillery?: boolean }).distillery = true;
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ ...mm, kernelFunc: f as unknown as tf.KernelFunc });
  }

  if (!have.has('Conv2DBackpropFilter')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ((args: KArgs) => {
        const { x, dy } = args.inputs;
        const { backend } = args;
        const attrs = args.attrs ?? {};
        const fmt = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC') ?? 'NHWC');
        if (fmt !== 'channelsLast') throw new Error('wasm Conv2DBackpropFilter: only NHWC is supported');
        const filterShape = attrs.filterShape as [number, number, number, number];
        const info = tf.backend_util.computeConv2DInfo(
          x.shape as [number, number, number, number], filterShape, attrs.strides as [number, number], 1,
          attrs.pad as 'same', attrs.dimRoundingMode as 'floor' | undefined, false, fmt,
        );
        const transpose = kernel('Transpose'), conv = kernel('Conv2D'), slice = kernel('Slice');
        // dW[kh,kw,ic,oc] = conv(x^T [IC,H,W,N], dy^T [OH,OW,N,OC]) with dilation = stride
        const xt = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
        const dyt = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
        const { top, left } = info.padInfo;
        const [KH, KW] = [info.filterHeight, info.filterWidth];
        const bottom = Math.max(0, KH + (info.outHeight - 1) * info.strideHeight - info.inHeight - top);
        const right = Math.max(0, KW + (info.outWidth - 1) * info.strideWidth - info.inWidth - left);
        const full = conv({
          inputs: { x: xt, filter: dyt },
          backend,
          attrs: {
            strides: [1, 1], dilations: [info.strideHeight, info.strideWidth], dataFormat: 'NHWC',
            pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dimRoundingMode: undefined,
          },
        });
        let cut = full;
        if (full.shape[1] !== KH || full.shape[2] !== KW) {
          cut = slice({ inputs: { x: full }, backend, attrs: { begin: [0, 0, 0, 0], size: [full.shape[0], KH, KW, full.shape[3]] } });
        }
        const out = transpose({ inputs: { x: cut }, backend, attrs: { perm: [1, 2, 0, 3] } });
        for (const t of new Set([xt, dyt, full, cut])) backend.disposeData(t.dataId);
        return out;
      }) as unknown as tf.KernelFunc,
    });
  }

  if (!have.has('UnsortedSegmentSum')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: ((args: KArgs) => {
        const { x, segmentIds } = args.inputs;
        const { backend } = args;
        const numSegments = Number(args.attrs?.numSegments);
        const xv = backend.readSync(x.dataId) as Float32Array;
        const ids = backend.readSync(segmentIds.dataId) as Int32Array;
        const innerShape = x.shape.slice(segmentIds.shape.length);
        const inner = innerShape.reduce((a, b) => a * b, 1);
        const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
        const ov = backend.typedArrayFromHeap(out) as Float32Array;
        ov.fill(0);
        for (let i = 0; i < ids.length; i++) {
          const s = ids[i];
          if (s < 0 || s >= numSegments) continue;
          const src = i * inner, dst = s * inner;
          for (let c = 0; c < inner; c++) ov[dst + c] += xv[src + c];
        }
        return out;
      }) as unknown as tf.KernelFunc,
    });
  }
}
