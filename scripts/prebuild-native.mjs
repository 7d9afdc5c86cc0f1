#!/usr/bin/env node
// The package's prepack step: compiles the prebuilt native-engine binaries that ship inside
// the npm tarball (prebuilds/<platform>-<arch>/, see src/engine/prebuilds.ts), one per CPU
// variant of this architecture, each with the portable GEMM (no OpenBLAS: a consumer's machine
// may not have libopenblas) and without -march=native. Builds happen in a copy of native/, so
// a local build from source (native/build) is left alone. Fails (exit 1) when a variant does
// not build: a package must not be packed without its prebuilds.
//
//   node --import tsx scripts/prebuild-native.mjs [--variant baseline|avx2+fma ...] [--out DIR] [--verbose]
//   node --import tsx scripts/prebuild-native.mjs --clean
//
// --out DIR writes DIR/prebuilds/... instead of the package's prebuilds/ (tests).
// --clean (postpack) removes the package's prebuilds/ again: in a checkout the install script
// must keep building from source, and it skips that when a prebuild is there.
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { prebuildDir, prebuildFileName, thisMachine, variantsFor } from '../src/engine/prebuilds.ts';
import { buildError, findNodeGyp, nativeDir, nodeAddonApiDir, root, runNodeGyp } from './native-gyp.mjs';

const { values } = parseArgs({
  options: { variant: { type: 'string', multiple: true }, out: { type: 'string' }, verbose: { type: 'boolean' }, clean: { type: 'boolean' } },
});
if (values.clean) {
  rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
  process.exit(0);
}
function fail(msg) {
  console.error(`prebuild-native: ${msg}`);
  process.exit(1);
}
const nodeGyp = findNodeGyp();
if (!nodeGyp) fail('node-gyp not found');
if (!nodeAddonApiDir()) fail('node-addon-api not installed');

const target = thisMachine();
const all = variantsFor(target.arch);
const wanted = values.variant ?? all.map((v) => v.name);
const unknown = wanted.filter((w) => !all.some((v) => v.name === w));
if (unknown.length) fail(`unknown variant ${unknown.join(', ')} for ${target.arch} (known: ${all.map((v) => v.name).join(', ')})`);
const outDir = prebuildDir(values.out ?? root, target);
mkdirSync(outDir, { recursive: true });

for (const variant of all.filter((v) => wanted.includes(v.name))) {
  const work = mkdtempSync(join(tmpdir(), 'distillery-prebuild-'));
  try {
    // the sources (binding.gyp, src/), not a local build (build/)
    cpSync(nativeDir, work, { recursive: true, filter: (p) => relative(nativeDir, p).split(sep)[0] !== 'build' });
    const started = Date.now();
    const res = runNodeGyp(nodeGyp, work, { use_openblas: 0, simd_flags: variant.cflags }, values.verbose);
    if (!res.ok) fail(`${variant.name}: ${buildError(res.out)}`);
    const dest = join(outDir, prebuildFileName(variant, target.libc));
    copyFileSync(join(work, 'build', 'Release', 'distillery_native.node'), dest);
    if (process.platform === 'linux') spawnSync('strip', ['--strip-unneeded', dest]);
    else if (process.platform === 'darwin') spawnSync('strip', ['-x', dest]);
    console.log(`prebuild-native: ${relative(process.cwd(), dest) || dest} (${variant.name}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
