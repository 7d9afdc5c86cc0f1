/**
 * Loads Distillery's native addon: the build from source (native/build/Release, made by
 * scripts/build-native.mjs at install time) when there is one, else the prebuilt binary
 * shipped in the package for this platform and CPU (src/engine/prebuilds.ts). Loading never
 * throws: when no binary loads, `loadAddon()` returns undefined and `addonError()` says why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuildCandidates, thisMachine, type Target } from './prebuilds.js';

/** The addon's functions; every array argument is used in place (no copies). */
export interface NativeAddon {
  info(): { blas: string; hasBlas: boolean; threads: number; simd: string };
  setThreads(n: number): void;
  /** Switches between BLAS and the portable GEMM (for tests); returns whether BLAS is used. */
  setBlas(on: boolean): boolean;
  gemm(
    transA: boolean, transB: boolean, batchA: number, batchB: number, batch: number,
    m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array,
    bias: Float32Array | null, act: number, alpha: number,
  ): void;
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, ...rest: Array<number | Float32Array | null>): void;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, ...p: number[]): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, ...p: number[]): void;
  maxPool(x: Float32Array, y: Float32Array, ...p: number[]): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, ...p: number[]): void;
  avgPool(x: Float32Array, y: Float32Array, ...p: number[]): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number, log: boolean): void;
  reduce(op: number, x: Float32Array, y: Float32Array, outer: number, red: number, inner: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: number[], aStrides: number[], bStrides: number[]): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  addN(out: Float32Array, inputs: Float32Array[]): void;
  transpose(x: Float32Array | Int32Array, y: Float32Array | Int32Array, shape: number[], perm: number[]): void;
  gather(x: Float32Array | Int32Array, indices: Int32Array, y: Float32Array | Int32Array, outer: number, axisDim: number, inner: number): void;
  tile(x: Float32Array | Int32Array, y: Float32Array | Int32Array, shape: number[], reps: number[]): void;
  concat(out: Float32Array | Int32Array, inputs: Array<Float32Array | Int32Array>, outer: number, sizes: number[]): void;
  segmentSum(x: Float32Array, ids: Int32Array, y: Float32Array, numSegments: number, inner: number): void;
  batchNormGrad(which: 0 | 1 | 2 | 3, x: Float32Array, mean: Float32Array, variance: Float32Array, scale: Float32Array | null, dy: Float32Array, out: Float32Array, eps: number): void;
  reluGrad(x: Float32Array, dy: Float32Array, out: Float32Array): void;
  /** tfjs's dropout multiplier from alea's stream in lanes (src/engine/dropoutMask.ts); absent from binaries built before it. */
  aleaDropout?(out: Float32Array, lanes: Uint32Array, block: number, threshold: number, scale: number): void;
  layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, rows: number, d: number, eps: number): void;
  layerNormGradX(x: Float32Array, gamma: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, d: number, eps: number): void;
  layerNormGradGamma(x: Float32Array, dy: Float32Array, dgamma: Float32Array, rows: number, d: number, eps: number): void;
  batchNorm(x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null, scale: Float32Array | null, out: Float32Array, eps: number): void;
  adam(
    value: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
    newValue: Float32Array, newM: Float32Array, newV: Float32Array,
    lr: number, beta1: number, beta2: number, eps: number, oneMinusAccBeta1: number, oneMinusAccBeta2: number,
    oneMinusBeta1: number, oneMinusBeta2: number,
  ): void;
}

/** Which binary of the addon is loaded: a local build from source, a shipped prebuild, or an explicit path. */
export interface AddonBinary {
  origin: 'source' | 'prebuilt' | 'override';
  /** The prebuild's CPU variant ('avx2+fma', 'baseline'); only for prebuilds. */
  variant?: string;
  path: string;
}

let cached: NativeAddon | undefined;
let loaded: AddonBinary | undefined;
let tried = false;
let error: string | undefined;

/** The package root: src/engine/ and dist/engine/ are both two levels below it. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * Binaries to try, in order: a build from source (native/build/Release, made by the install
 * script or `node scripts/build-native.mjs`), then the prebuilds this CPU can run.
 * DISTILLERY_NATIVE_ADDON=<path> replaces them ('none' disables the addon, e.g. to test the fallback).
 */
export function addonBinaries(root = packageRoot(), target: Target = thisMachine()): AddonBinary[] {
  const override = process.env.DISTILLERY_NATIVE_ADDON;
  if (override) return override === 'none' ? [] : [{ origin: 'override', path: resolve(override) }];
  const fromSource = join(root, 'native', 'build', 'Release', 'distillery_native.node');
  return [
    ...(existsSync(fromSource) ? [{ origin: 'source' as const, path: fromSource }] : []),
    ...prebuildCandidates(root, target).map((c) => ({ origin: 'prebuilt' as const, variant: c.variant.name, path: c.path })),
  ];
}

export function loadAddon(): NativeAddon | undefined {
  if (tried) return cached;
  tried = true;
  const binaries = addonBinaries();
  if (binaries.length === 0) {
    const t = thisMachine();
    error = process.env.DISTILLERY_NATIVE_ADDON === 'none'
      ? 'native addon disabled (DISTILLERY_NATIVE_ADDON=none)'
      : `native addon not built and no prebuilt binary for ${t.platform}-${t.arch}${t.libc ? ` (${t.libc})` : ''} (run \`node scripts/build-native.mjs\` in the package)`;
    return undefined;
  }
  const req = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const b of binaries) {
    try {
      const mod = req(b.path) as NativeAddon;
      if (typeof mod.gemm !== 'function') throw new Error('unexpected exports');
      cached = mod;
      loaded = b;
      return cached;
    } catch (e) {
      failures.push(`${describeBinary(b)}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  error = `native addon failed to load: ${failures.join('; ')}`;
  return undefined;
}

/** Why the addon is unavailable (undefined while it is loaded or not yet tried). */
export function addonError(): string | undefined {
  return error;
}

/** The binary loadAddon() loaded (undefined when none). */
export function loadedBinary(): AddonBinary | undefined {
  return loaded;
}

/** One-line description: 'built from source', 'prebuilt (avx2+fma)', 'DISTILLERY_NATIVE_ADDON'. */
export function describeBinary(b: AddonBinary): string {
  return b.origin === 'source' ? 'built from source' : b.origin === 'prebuilt' ? `prebuilt (${b.variant})` : 'DISTILLERY_NATIVE_ADDON';
}
