#!/usr/bin/env node
// Builds Distillery's native engine (native/ -> native/build/Release/distillery_native.node)
// with node-gyp. Runs at `npm ci` time; NEVER fails the installation: when the build is not
// possible (no compiler, no node-gyp, no Node headers) it prints one line and exits 0, and
// Distillery uses its fallback engine.
//
//   node scripts/build-native.mjs [--portable] [--verbose]
//
// --portable (or DISTILLERY_BLAS=portable) builds without OpenBLAS even when it is present.
// DISTILLERY_SKIP_NATIVE=1 skips the build. DISTILLERY_NATIVE_SIMD="-mavx2 -mfma" overrides
// the SIMD flags (default: AVX2+FMA when this CPU has them, else the compiler default).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const args = new Set(process.argv.slice(2));
const verbose = args.has('--verbose') || process.env.DISTILLERY_NATIVE_VERBOSE === '1';
const portable = args.has('--portable') || process.env.DISTILLERY_BLAS === 'portable';

function done(msg) {
  console.log(`distillery: ${msg}`);
  process.exit(0);
}

if (process.env.DISTILLERY_SKIP_NATIVE === '1') done('native engine build skipped (DISTILLERY_SKIP_NATIVE=1); the fallback engine will be used');
if (!existsSync(join(nativeDir, 'binding.gyp'))) done('native engine sources missing; the fallback engine will be used');

// node-gyp: the project's devDependency, else the copy bundled with npm.
const require = createRequire(join(root, 'package.json'));
let nodeGyp;
for (const cand of [
  () => require.resolve('node-gyp/bin/node-gyp.js'),
  () => join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
]) {
  try {
    const p = cand();
    if (existsSync(p)) {
      nodeGyp = p;
      break;
    }
  } catch {
    /* next */
  }
}
if (!nodeGyp) done('native engine not built (node-gyp not found); the fallback engine will be used');
try {
  require.resolve('node-addon-api');
} catch {
  done('native engine not built (node-addon-api not installed); the fallback engine will be used');
}

// Node headers next to this node binary (Debian/Ubuntu nodejs, official tarballs) avoid a download.
const gypArgs = ['rebuild', '--directory', nativeDir];
const nodeRoot = resolve(dirname(process.execPath), '..');
if (existsSync(join(nodeRoot, 'include', 'node', 'node_api.h'))) gypArgs.push(`--nodedir=${nodeRoot}`);

// OpenBLAS headers + library.
function findOpenBlas() {
  const incs = [
    '/usr/include/x86_64-linux-gnu',
    '/usr/include/aarch64-linux-gnu',
    '/usr/include/x86_64-linux-gnu/openblas-pthread',
    '/usr/include/openblas',
    '/usr/local/include',
    '/usr/include',
    '/opt/homebrew/opt/openblas/include',
    '/usr/local/opt/openblas/include',
  ];
  if (process.env.OPENBLAS_INCLUDE) incs.unshift(process.env.OPENBLAS_INCLUDE);
  for (const inc of incs) {
    if (existsSync(join(inc, 'cblas.h')) && existsSync(join(inc, 'openblas_config.h'))) return inc;
  }
  return undefined;
}
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
  const defs = [`-Duse_openblas=${withBlas ? 1 : 0}`, `-Dsimd_flags=${simd}`];
  if (withBlas) defs.push(`-Dopenblas_include=${blasInc}`);
  const r = spawnSync(process.execPath, [nodeGyp, ...gypArgs, '--', ...defs], {
    cwd: nativeDir,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (verbose) process.stderr.write(out);
  return { ok: r.status === 0 && existsSync(join(nativeDir, 'build', 'Release', 'distillery_native.node')), out };
}

let res = build(Boolean(blasInc));
let kind = blasInc ? 'OpenBLAS' : 'portable GEMM';
if (!res.ok && blasInc) {
  res = build(false);
  kind = 'portable GEMM (OpenBLAS build failed)';
}
if (!res.ok) {
  const err = res.out.split('\n').find((l) => /error|not found|No such/i.test(l))?.trim().slice(0, 160) ?? 'build failed';
  done(`native engine not built (${err}); the fallback engine will be used`);
}
done(`native engine built (${kind}${simd ? `, ${simd}` : ''})`);
