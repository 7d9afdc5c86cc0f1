/**
 * Prebuilt native-engine binaries shipped inside the npm package (made at `npm pack` time by
 * scripts/prebuild-native.mjs, never downloaded). Layout and names follow prebuildify /
 * node-gyp-build: `prebuilds/<platform>-<arch>/distillery_native.napi[.<libc>][.<variant>].node`;
 * one N-API binary serves every Node >= 20. On x86-64 two variants are shipped, because a
 * binary compiled for AVX2 crashes (SIGILL) on CPUs without it: `avx2` (AVX2 + FMA) and
 * `baseline` (plain x86-64, runs on any x86-64 CPU); the first one the CPU supports is used.
 * Both use the engine's portable GEMM, so they need no shared library beyond libc/libstdc++.
 * This module only names and chooses files; src/engine/addon.ts loads them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One build of the addon for a CPU family. */
export interface PrebuildVariant {
  /** File-name tag ('' for the baseline, which carries no tag). */
  tag: string;
  /** Name shown in engine info. */
  name: string;
  /** /proc/cpuinfo flags the CPU must have. */
  cpuFlags: readonly string[];
  /** Compiler flags the prebuild script compiles the variant with. */
  cflags: string;
}

/**
 * The variants per architecture, most capable first. The baseline pins -march=x86-64 because
 * some distributions' compilers default to newer CPU levels (e.g. x86-64-v2/v3).
 */
export const PREBUILD_VARIANTS: Readonly<Record<string, readonly PrebuildVariant[]>> = {
  x64: [
    { tag: 'avx2', name: 'avx2+fma', cpuFlags: ['avx', 'avx2', 'fma'], cflags: '-march=x86-64 -mtune=generic -mavx -mavx2 -mfma' },
    { tag: '', name: 'baseline', cpuFlags: [], cflags: '-march=x86-64 -mtune=generic' },
  ],
};
const GENERIC: readonly PrebuildVariant[] = [{ tag: '', name: 'baseline', cpuFlags: [], cflags: '' }];

export function variantsFor(arch: string): readonly PrebuildVariant[] {
  return PREBUILD_VARIANTS[arch] ?? GENERIC;
}

/** The machine a prebuild must match. */
export interface Target {
  platform: string;
  arch: string;
  /** 'glibc' or 'musl' on Linux; '' elsewhere. */
  libc: string;
  /** CPU feature flags (Linux: /proc/cpuinfo), undefined when unknown. */
  cpuFlags?: readonly string[];
}

/** CPU feature flags of this machine from /proc/cpuinfo (undefined where there is none). */
export function cpuFlags(): string[] | undefined {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
    return line === undefined ? undefined : line.trim().split(/\s+/);
  } catch {
    return undefined;
  }
}

function libcOf(platform: string): string {
  if (platform !== 'linux') return '';
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

export function thisMachine(): Target {
  return { platform: process.platform, arch: process.arch, libc: libcOf(process.platform), cpuFlags: cpuFlags() };
}

export function prebuildDir(root: string, t: Pick<Target, 'platform' | 'arch'>): string {
  return join(root, 'prebuilds', `${t.platform}-${t.arch}`);
}

export function prebuildFileName(variant: PrebuildVariant, libc: string): string {
  return ['distillery_native', 'napi', libc, variant.tag, 'node'].filter(Boolean).join('.');
}

/** Variants this CPU can run, most capable first (unknown flags: only those needing none). */
export function runnableVariants(arch: string, flags: readonly string[] | undefined): PrebuildVariant[] {
  const have = new Set(flags ?? []);
  return variantsFor(arch).filter((v) => v.cpuFlags.every((f) => have.has(f)));
}

export interface PrebuildCandidate {
  path: string;
  variant: PrebuildVariant;
}

/** Prebuilt binaries present under `root` that this target can load, in the order to try them. */
export function prebuildCandidates(root: string, target: Target = thisMachine()): PrebuildCandidate[] {
  const dir = prebuildDir(root, target);
  return runnableVariants(target.arch, target.cpuFlags)
    .map((variant) => ({ path: join(dir, prebuildFileName(variant, target.libc)), variant }))
    .filter((c) => existsSync(c.path));
}
