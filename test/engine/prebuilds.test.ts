/**
 * Which native binary the loader tries, and in what order: a build from source first, then the
 * shipped prebuilds this CPU can run (AVX2+FMA before the baseline; the baseline alone when the
 * CPU flags lack AVX2 or FMA, or are unknown), none for another platform or libc.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { addonBinaries } from '../../src/engine/addon.js';
import { cpuFlags, prebuildDir, prebuildFileName, variantsFor, type Target } from '../../src/engine/prebuilds.js';

const root = mkdtempSync(join(tmpdir(), 'distillery-prebuilds-'));
after(() => rmSync(root, { recursive: true, force: true }));

// A package root with both x86-64 prebuilds for linux/glibc (the loader chooses by file name;
// which file loads is the packaging test's business).
const linux: Target = { platform: 'linux', arch: 'x64', libc: 'glibc' };
mkdirSync(prebuildDir(root, linux), { recursive: true });
for (const v of variantsFor('x64')) writeFileSync(join(prebuildDir(root, linux), prebuildFileName(v, 'glibc')), '');

const HASWELL = 'fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2'.split(' ');
const SANDY_BRIDGE = 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx'.split(' ');

function chosen(target: Target): Array<[string, string | undefined]> {
  const saved = process.env.DISTILLERY_NATIVE_ADDON;
  delete process.env.DISTILLERY_NATIVE_ADDON;
  try {
    return addonBinaries(root, target).map((b) => [b.origin, b.variant]);
  } finally {
    if (saved !== undefined) process.env.DISTILLERY_NATIVE_ADDON = saved;
  }
}

test('file names follow prebuildify: napi, libc tag, variant tag (none for the baseline)', () => {
  assert.deepEqual(variantsFor('x64').map((v) => prebuildFileName(v, 'glibc')), [
    'distillery_native.napi.glibc.avx2.node',
    'distillery_native.napi.glibc.node',
  ]);
  assert.deepEqual(variantsFor('arm64').map((v) => prebuildFileName(v, '')), ['distillery_native.napi.node']);
  assert.equal(prebuildDir('/pkg', linux), join('/pkg', 'prebuilds', 'linux-x64'));
});

test('an AVX2+FMA CPU tries the avx2 prebuild, then the baseline', () => {
  assert.deepEqual(chosen({ ...linux, cpuFlags: HASWELL }), [['prebuilt', 'avx2+fma'], ['prebuilt', 'baseline']]);
});

test('a CPU without AVX2 (Sandy Bridge), or without FMA, or with unknown flags gets only the baseline', () => {
  assert.deepEqual(chosen({ ...linux, cpuFlags: SANDY_BRIDGE }), [['prebuilt', 'baseline']]);
  assert.deepEqual(chosen({ ...linux, cpuFlags: HASWELL.filter((f) => f !== 'fma') }), [['prebuilt', 'baseline']]);
  assert.deepEqual(chosen({ ...linux, cpuFlags: undefined }), [['prebuilt', 'baseline']]);
});

test('no prebuild for another platform, architecture or libc', () => {
  assert.deepEqual(chosen({ ...linux, libc: 'musl', cpuFlags: HASWELL }), []);
  assert.deepEqual(chosen({ ...linux, arch: 'arm64', cpuFlags: [] }), []);
  assert.deepEqual(chosen({ platform: 'darwin', arch: 'x64', libc: '', cpuFlags: HASWELL }), []);
});

test('a build from source comes before the prebuilds', () => {
  const src = join(root, 'native', 'build', 'Release');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'distillery_native.node'), '');
  try {
    assert.deepEqual(chosen({ ...linux, cpuFlags: SANDY_BRIDGE }), [['source', undefined], ['prebuilt', 'baseline']]);
  } finally {
    rmSync(join(root, 'native'), { recursive: true });
  }
});

test('this machine\'s CPU flags are read from /proc/cpuinfo on Linux', { skip: process.platform !== 'linux' }, () => {
  const flags = cpuFlags();
  assert.ok(flags && flags.length > 0);
  if (process.arch === 'x64') assert.ok(flags.includes('sse2'), 'every x86-64 CPU has SSE2');
});
