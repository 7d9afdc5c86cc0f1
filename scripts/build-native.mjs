#!/usr/bin/env node
// The package's install script. Makes sure Distillery's native engine is there; NEVER fails
// the installation: when it cannot, it prints one line and exits 0, and Distillery uses its
// fallback engine.
//
// 1. A prebuilt binary for this platform and CPU shipped in the package (prebuilds/, made at
//    `npm pack` by scripts/prebuild-native.mjs) that loads: nothing to do, exits at once.
// 2. Else (other platform, a repository checkout, or --build-from-source) it builds native/
//    from source with node-gyp -> native/build/Release/distillery_native.node, with OpenBLAS
//    when its headers are there and AVX2+FMA when this CPU has them.
//
//   node scripts/build-native.mjs [--portable] [--build-from-source] [--verbose]
//
// --portable (or DISTILLERY_BLAS=portable) builds without OpenBLAS even when it is present.
// --build-from-source (or `npm install --build-from-source`, DISTILLERY_BUILD_FROM_SOURCE=1)
// compiles even when a prebuilt binary matches. DISTILLERY_SKIP_NATIVE=1 skips everything.
// DISTILLERY_NATIVE_SIMD="-mavx2 -mfma" overrides the SIMD flags of a build from source.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildError, findNodeGyp, findOpenBlas, nativeDir, nodeAddonApiDir, root, runNodeGyp } from './native-gyp.mjs';

const args = new Set(process.argv.slice(2));
const verbose = args.has('--verbose') || process.env.DISTILLERY_NATIVE_VERBOSE === '1';
const portable = args.has('--portable') || process.env.DISTILLERY_BLAS === 'portable';
const fromSource = args.has('--build-from-source') || process.env.DISTILLERY_BUILD_FROM_SOURCE === '1'
  || ['true', '1'].includes(process.env.npm_config_build_from_source ?? '');

function done(msg) {
  console.log(`distillery: ${msg}`);
  process.exit(0);
}

if (process.env.DISTILLERY_SKIP_NATIVE === '1') done('native engine build skipped (DISTILLERY_SKIP_NATIVE=1); the fallback engine will be used');

// 1. A prebuilt binary that loads here. The matching rules live in the package's compiled
// src/engine/prebuilds.ts; a checkout that has not been compiled has no prebuilds either.
async function loadablePrebuild() {
  const mod = join(root, 'dist', 'engine', 'prebuilds.js');
  if (!existsSync(join(root, 'prebuilds')) || !existsSync(mod)) return undefined;
  const { prebuildCandidates } = await import(pathToFileURL(mod).href);
  const req = createRequire(import.meta.url);
  for (const c of prebuildCandidates(root)) {
    try {
      if (typeof req(c.path).gemm === 'function') return c;
    } catch (e) {
      if (verbose) console.error(`distillery: ${c.path} does not load: ${e.message.split('\n')[0]}`);
    }
  }
  return undefined;
}
if (!fromSource) {
  const pre = await loadablePrebuild().catch(() => undefined);
  if (pre) done(`prebuilt native engine found (${pre.variant.name}, ${pre.path.slice(root.length + 1)}); nothing to build`);
}

// 2. Build from source.
if (!existsSync(join(nativeDir, 'binding.gyp'))) done('native engine sources missing; the fallback engine will be used');
const nodeGyp = findNodeGyp();
if (!nodeGyp) done('native engine not built (node-gyp not found); the fallback engine will be used');
if (!nodeAddonApiDir()) done('native engine not built (node-addon-api not installed); the fallback engine will be used');

const blasInc = portable ? undefined : findOpenBlas();

function simdFlags() {
  if (process.env.DISTILLERY_NATIVE_SIMD !== undefined) return process.env.DISTILLERY_NATIVE_SIMD;
  if (process.arch !== 'x64') return '';
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
    if (flags.includes('avx2') && flags.includes('fma')) return '-mavx2 -mfma';
  } catch {
    /* not linux */
  }
  return '';
}
const simd = simdFlags();

function build(withBlas) {
  const defs = { use_openblas: withBlas ? 1 : 0, simd_flags: simd };
  if (withBlas) defs.openblas_include = blasInc;
  return runNodeGyp(nodeGyp, nativeDir, defs, verbose);
}

let res = build(Boolean(blasInc));
let kind = blasInc ? 'OpenBLAS' : 'portable GEMM';
if (!res.ok && blasInc) {
  res = build(false);
  kind = 'portable GEMM (OpenBLAS build failed)';
}
if (!res.ok) done(`native engine not built (${buildError(res.out)}); the fallback engine will be used`);
done(`native engine built from source (${kind}${simd ? `, ${simd}` : ''})`);
