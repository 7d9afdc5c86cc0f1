import * as tf from '@tensorflow/tfjs-core';
import { registerTileGradient } from './gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import './tfjs.js';
import { addonError, describeBinary, loadAddon, loadedBinary, type NativeAddon } from './addon.js';
import { NATIVE_BACKEND, registerNativeBackend } from './nativeBackend.js';

export { createOptimizer, NativeAdamOptimizer } from './optimizer.js';

/** Which engine runs tensor ops. 'auto' picks the fastest available. */
export type EngineChoice = 'auto' | 'tensorflow' | 'native' | 'wasm' | 'cpu';

export interface EngineOptions {
  /** Engine to use; default from DISTILLERY_ENGINE, else 'auto'. */
  backend?: EngineChoice;
  /** Threads for the engine's kernels; default from DISTILLERY_THREADS, else 1. */
  threads?: number;
}

export interface EngineInfo {
  /** tfjs backend name in use. */
  backend: string;
  /** Threads the engine's kernels use (1 for engines without a thread setting). */
  threads: number;
  /** One-line notice when the preferred engine was unavailable (printed by the CLI). */
  notice?: string;
  /** True when Distillery's native kernels are in use. */
  native: boolean;
  /** Matrix-multiply library of the native engine ('openblas …' or 'portable'); absent otherwise. */
  blas?: string;
  /** Which binary of the native engine: 'built from source', 'prebuilt (avx2+fma)', 'prebuilt (baseline)'. */
  binary?: string;
}

const CHOICES: readonly EngineChoice[] = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'];

let current: EngineInfo | undefined;
/** The choice that selected `current` (a later call naming another one selects again). */
let currentChoice: EngineChoice | undefined;

function parseChoice(v: string | undefined): EngineChoice | undefined {
  if (v === undefined || v === '') return undefined;
  const c = v.trim().toLowerCase() as EngineChoice;
  if (!CHOICES.includes(c)) throw new Error(`unknown engine '${v}' (expected one of ${CHOICES.join(', ')})`);
  return c;
}

function parseThreads(v: number | string | undefined): number {
  if (v === undefined || v === '') return 1;
  const n = Math.floor(Number(v));
  if (!Number.isFinite(n) || n < 1) throw new Error(`threads must be a positive integer, got '${v}'`);
  return Math.min(n, 64);
}

type Attempt = { ok: true; info: Omit<EngineInfo, 'notice'> } | { ok: false; why: string };

async function tryTensorflow(threads: number): Promise<Attempt> {
  try {
    // Optional peer: only present when a user installed it. The specifier is built at run
    // time so that TypeScript does not require its types.
    const name = ['@tensorflow', 'tfjs-node'].join('/');
    await import(name);
    if (!(await tf.setBackend('tensorflow'))) return { ok: false, why: 'tfjs-node failed to initialise' };
    await tf.ready();
    return { ok: true, info: { backend: 'tensorflow', threads, native: true } };
  } catch {
    return { ok: false, why: '@tensorflow/tfjs-node is not installed' };
  }
}

function nativeAddon(): NativeAddon | undefined {
  return loadAddon();
}

async function tryNative(threads: number): Promise<Attempt> {
  const addon = nativeAddon();
  if (!addon) return { ok: false, why: addonError() ?? 'native addon unavailable' };
  registerNativeBackend(addon);
  addon.setThreads(threads);
  if (!(await tf.setBackend(NATIVE_BACKEND))) return { ok: false, why: 'native backend failed to initialise' };
  await tf.ready();
  quietCpuBanner();
  const binary = loadedBinary();
  return {
    ok: true,
    info: { backend: NATIVE_BACKEND, threads, native: true, blas: addon.info().blas, ...(binary ? { binary: describeBinary(binary) } : {}) },
  };
}

async function tryWasm(): Promise<Attempt> {
  try {
    const { prepareWasm } = await import('./wasm.js');
    await prepareWasm();
    if (!(await tf.setBackend('wasm'))) return { ok: false, why: 'wasm backend failed to initialise' };
    await tf.ready();
    return { ok: true, info: { backend: 'wasm', threads: 1, native: false } };
  } catch (e) {
    return { ok: false, why: `wasm backend unavailable: ${(e as Error).message.split('\n')[0]}` };
  }
}

async function useCpu(): Promise<Attempt> {
  await tf.setBackend('cpu');
  await tf.ready();
  quietCpuBanner();
  return { ok: true, info: { backend: 'cpu', threads: 1, native: false } };
}

/**
 * Selects and initialises the tensor engine. Order for 'auto': tensorflow (tfjs-node, if
 * installed) → native → wasm → cpu. Prints nothing: a fallback notice is returned in `notice`
 * for the caller to show.
 *
 * Once an engine is selected, a call without options (or with the same ones) returns it; a
 * call that names another `backend` selects again (tfjs moves existing tensors to the new
 * backend when they are next read), and one that names other `threads` sets the native
 * engine's thread count. The returned info always describes the engine now in use.
 */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  if (current && currentChoice !== undefined) {
    const sameBackend = opts.backend === undefined || opts.backend === currentChoice;
    if (sameBackend) {
      if (opts.threads !== undefined && parseThreads(opts.threads) !== current.threads) setEngineThreads(opts.threads);
      return current;
    }
  }
  registerTileGradient();
  const choice = opts.backend ?? parseChoice(process.env.DISTILLERY_ENGINE) ?? 'auto';
  const threads = parseThreads(opts.threads ?? process.env.DISTILLERY_THREADS);
  const order: EngineChoice[] =
    choice === 'auto' ? ['tensorflow', 'native', 'wasm', 'cpu']
      : choice === 'tensorflow' ? ['tensorflow', 'native', 'wasm', 'cpu']
        : choice === 'native' ? ['native', 'wasm', 'cpu']
          : choice === 'wasm' ? ['wasm', 'cpu']
            : ['cpu'];
  const failures: string[] = [];
  for (const name of order) {
    const r =
      name === 'tensorflow' ? await tryTensorflow(threads)
        : name === 'native' ? await tryNative(threads)
          : name === 'wasm' ? await tryWasm()
            : await useCpu();
    if (r.ok) {
      // In 'auto' mode a missing tfjs-node is normal and not worth a notice; a missing native
      // addon is (Distillery ships it), as is any failure of an explicitly requested engine.
      const relevant = failures.filter((f) => choice !== 'auto' || !f.startsWith('tensorflow:'));
      current = { ...r.info };
      currentChoice = opts.backend ?? choice;
      if (relevant.length > 0) current.notice = `engine '${r.info.backend}' in use (${relevant.join('; ')})`;
      return current;
    }
    failures.push(`${name}: ${r.why}`);
  }
  throw new Error(`no tensor engine could be initialised: ${failures.join('; ')}`);
}

/**
 * Distillery's own backends say which engine runs (EngineInfo); tfjs's advice to install
 * tfjs-node, printed by its cpu backend at first use, does not apply to them.
 */
function quietCpuBanner(): void {
  const b = tf.backend() as unknown as { firstUse?: boolean };
  if (typeof b.firstUse === 'boolean') b.firstUse = false;
}

let warnedCpu = false;

/**
 * Called when training starts: one line on stderr (once per process) when no engine was
 * selected and tfjs runs on its reference cpu backend, about 10× slower than the native engine.
 */
export function warnIfSlowDefaultEngine(): void {
  if (current || warnedCpu || tf.getBackend() !== 'cpu') return;
  warnedCpu = true;
  console.warn("distillery: training on tfjs's cpu backend (about 10× slower): call initEngine() first to use the native engine");
}

export function engineInfo(): EngineInfo | undefined {
  return current;
}

/**
 * Changes the native engine's thread count after initialisation (no effect on other engines).
 * Returns the thread count in effect.
 */
export function setEngineThreads(threads: number): number {
  const n = parseThreads(threads);
  if (current?.backend === NATIVE_BACKEND) {
    nativeAddon()?.setThreads(n);
    current = { ...current, threads: n };
    return n;
  }
  return current?.threads ?? 1;
}

/** For tests and benchmarks: forget the selection so that initEngine can choose again. */
export function resetEngineForTests(): void {
  current = undefined;
  currentChoice = undefined;
}
