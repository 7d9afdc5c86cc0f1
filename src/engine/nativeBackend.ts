/**
 * The 'native' tfjs backend: tfjs-backend-cpu's MathBackendCPU (tensors stay in JS typed
 * arrays) with every cpu kernel re-registered under the name 'native', and the hot ones
 * replaced by kernels of Distillery's native addon that read and write those typed arrays
 * in place (NATIVE_KERNELS, src/engine/kernels/: one file per family, one list). Anything a
 * native kernel does not handle (dtype, layout, exotic broadcasting) goes to the original cpu
 * kernel, so results never depend on coverage.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { registerBatchNormGradient, registerBroadcastReduceGradients, registerReluGradient } from './gradients.js';
import { FUSED_OPS, NATIVE_KERNELS } from './kernels/index.js';
import type { NativeAddon } from './addon.js';
import { KERNEL_TIMING, timeKernel } from './profiling.js';
import type { KernelEnv, KFunc } from './kernelValues.js';

export const NATIVE_BACKEND = 'native';

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

/**
 * Registers the 'native' backend: every tfjs-cpu kernel again under 'native' (NATIVE_KERNELS in
 * place of or beside them), the fused ops' gradients and the native engine's faster gradients
 * (src/engine/gradients.ts). Idempotent: the backend is registered last, and a call that finds
 * it registered does nothing.
 */
export function registerNativeBackend(addon: NativeAddon): void {
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  const cpuKernels = tf.getKernelsForBackend('cpu');
  const cpuFuncs = new Map<string, KFunc>(cpuKernels.map((c) => [c.kernelName, c.kernelFunc as unknown as KFunc]));
  const env: KernelEnv = {
    addon,
    cpu: (name) => {
      const f = cpuFuncs.get(name);
      if (!f) throw new Error(`no cpu kernel ${name}`);
      return f;
    },
  };
  const own = new Map<string, KFunc>();
  for (const k of NATIVE_KERNELS) {
    if (own.has(k.kernelName)) throw new Error(`the native kernel ${k.kernelName} is listed twice`);
    own.set(k.kernelName, k.create(env));
  }
  const wrap = (name: string, f: KFunc): tf.KernelFunc => (KERNEL_TIMING ? timeKernel(name, f) : f) as unknown as tf.KernelFunc;
  for (const c of cpuKernels) {
    tf.registerKernel({
      ...c,
      backendName: NATIVE_BACKEND,
      kernelFunc: wrap(c.kernelName, own.get(c.kernelName) ?? noViews(c.kernelFunc as unknown as KFunc)),
    });
  }
  for (const [name, f] of own) {
    if (!cpuFuncs.has(name)) tf.registerKernel({ kernelName: name, backendName: NATIVE_BACKEND, kernelFunc: wrap(name, f) });
  }
  for (const op of FUSED_OPS) tf.registerGradient(op.gradient);
  registerBroadcastReduceGradients(NATIVE_BACKEND);
  registerBatchNormGradient(NATIVE_BACKEND);
  registerReluGradient(NATIVE_BACKEND);
  // Priority 0: tfjs never picks 'native' on its own; initEngine selects it explicitly.
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
}
