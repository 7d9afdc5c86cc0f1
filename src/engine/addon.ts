/**
 * Loads Distillery's native addon (native/build/Release/distillery_native.node, built by
 * scripts/build-native.mjs at install time). Loading never throws: when the addon is
 * missing or broken, `loadAddon()` returns undefined and `addonError()` says why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

let cached: NativeAddon | undefined;
let tried = false;
let error: string | undefined;

/** The package root: src/engine/ and dist/engine/ are both two levels below it. */
function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** Candidate locations of the addon (DISTILLERY_NATIVE_ADDON overrides them). */
export function addonCandidates(): string[] {
  const root = packageRoot();
  const list = [
    join(root, 'native', 'build', 'Release', 'distillery_native.node'),
    join(root, 'build', 'Release', 'distillery_native.node'),
  ];
  // An explicit path replaces the defaults ('none' disables the addon, e.g. to test the fallback).
  const override = process.env.DISTILLERY_NATIVE_ADDON;
  if (override) return override === 'none' ? [] : [resolve(override)];
  return list;
}

export function loadAddon(): NativeAddon | undefined {
  if (tried) return cached;
  tried = true;
  const path = addonCandidates().find((p) => existsSync(p));
  if (!path) {
    error = process.env.DISTILLERY_NATIVE_ADDON === 'none'
      ? 'native addon disabled (DISTILLERY_NATIVE_ADDON=none)'
      : 'native addon not built (run `node scripts/build-native.mjs`)';
    return undefined;
  }
  try {
    const req = createRequire(import.meta.url);
    const mod = req(path) as NativeAddon;
    if (typeof mod.gemm !== 'function') throw new Error('unexpected exports');
    cached = mod;
  } catch (e) {
    error = `native addon failed to load: ${(e as Error).message.split('\n')[0]}`;
  }
  return cached;
}

export function addonError(): string | undefined {
  return error;
}
