/**
 * Profiling knobs of the native engine, for `npm run bench` and kernel work; off in normal
 * runs. Read once, when this module loads:
 *   DISTILLERY_KERNEL_TIMES=1       wall time per kernel (kernelTimes());
 *   DISTILLERY_KERNEL_TIMES=shapes  the same per kernel and input shapes;
 *   DISTILLERY_MATMUL_LOG=1         wall time per matmul shape (mmLog).
 */

/** Whether the backend wraps its kernels with timeKernel. */
export const KERNEL_TIMING = process.env.DISTILLERY_KERNEL_TIMES === '1' || process.env.DISTILLERY_KERNEL_TIMES === 'shapes';
const BY_SHAPE = process.env.DISTILLERY_KERNEL_TIMES === 'shapes';

/** Whether the matmul kernel records its shapes' times in mmLog. */
export const MATMUL_LOG = process.env.DISTILLERY_MATMUL_LOG === '1';
export const mmLog = new Map<string, { ms: number; n: number }>();

export function recordMatmul(key: string, ms: number): void {
  const e = mmLog.get(key) ?? { ms: 0, n: 0 };
  e.ms += ms;
  e.n++;
  mmLog.set(key, e);
}

const times = new Map<string, { ms: number; calls: number }>();

/** `f` with its wall time added to kernelTimes() under `name` (and its input shapes, with =shapes). */
export function timeKernel<A extends { inputs: object }, R>(name: string, f: (args: A) => R): (args: A) => R {
  return (args) => {
    const t0 = performance.now();
    const r = f(args);
    const key = BY_SHAPE ? `${name} ${Object.values(args.inputs as Record<string, { shape: number[] } | undefined>).map((t) => (t ? `[${t.shape}]` : '-')).join('')}` : name;
    const e = times.get(key) ?? { ms: 0, calls: 0 };
    e.ms += performance.now() - t0;
    e.calls++;
    times.set(key, e);
    return r;
  };
}

/** Per-kernel wall time when DISTILLERY_KERNEL_TIMES was set before the backend was registered. */
export function kernelTimes(reset = false): Array<{ kernel: string; ms: number; calls: number }> {
  const rows = [...times.entries()].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms);
  if (reset) times.clear();
  return rows;
}
