/**
 * The native engine reaches the people who install the package: the tarball `npm pack` makes
 * carries a prebuilt binary (compiled here by the prepack script, baseline variant only, to keep
 * the test cheap), and a fresh project that installs the tarball starts the native engine from
 * it, with its install script disallowed (not run) and allowed (it finds the prebuild and
 * compiles nothing). The prebuilt binary's numbers match the build from source (OpenBLAS there)
 * within float32 rounding. Offline: the fresh project's dependencies are the repository's
 * node_modules (symlinks), the tarball is unpacked the way npm unpacks it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { prebuildDir, prebuildFileName, thisMachine, variantsFor } from '../../src/engine/prebuilds.js';

const root = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string; version: string; files: string[]; dependencies: Record<string, string>;
};
const fromSourceBuilt = existsSync(join(root, 'native', 'build', 'Release', 'distillery_native.node'));
const tmp = mkdtempSync(join(tmpdir(), 'distillery-pack-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const target = thisMachine();
const baseline = variantsFor(target.arch).find((v) => v.name === 'baseline')!;
const prebuildRel = join(prebuildDir('', target), prebuildFileName(baseline, target.libc)).replace(/^\//, '');

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs `cmd` in the background; resolves with its output once it exits 0. */
function runInBackground(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill(), 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`));
    });
  });
}

/** Copies what package.json's `files` names (plus package.json and README) into `stage`. */
function stagePackage(stage: string): void {
  for (const f of ['package.json', 'README.md']) cpSync(join(root, f), join(stage, f));
  for (const entry of pkg.files) {
    if (entry === 'prebuilds') continue; // the stage's own, just built
    const star = entry.indexOf('*');
    if (star < 0) {
      if (existsSync(join(root, entry))) cpSync(join(root, entry), join(stage, entry), { recursive: true });
      continue;
    }
    const dir = dirname(entry);
    const re = new RegExp(`^${entry.slice(dir.length + 1).replace(/\./g, '\\.').replace('*', '.*')}$`);
    mkdirSync(join(stage, dir), { recursive: true });
    for (const name of readdirSync(join(root, dir)).filter((n) => re.test(n))) cpSync(join(root, dir, name), join(stage, dir, name));
  }
}

/** Initialises the engine in a child process in `cwd` (`import('distillery')`) and computes a fixed matMul + softmax. */
function engineRun(cwd: string): { info: Record<string, unknown>; mm: number[]; sm: number[] } {
  const code = `
    const { initEngine } = await import('distillery');
    const tf = await import('@tensorflow/tfjs-core');
    const info = await initEngine({ threads: 1 });
    let s = 12345;
    const rnd = (n) => Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
    const a = tf.tensor2d(rnd(64 * 300), [64, 300]), b = tf.tensor2d(rnd(300 * 50), [300, 50]);
    const mm = tf.matMul(a, b);
    const sm = tf.softmax(mm);
    process.stdout.write('OUT' + JSON.stringify({ info, mm: Array.from(mm.dataSync()), sm: Array.from(sm.dataSync()) }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, DISTILLERY_ENGINE: '', DISTILLERY_THREADS: '', DISTILLERY_NATIVE_ADDON: '' },
  });
  const m = /OUT(\{.*\})$/s.exec(r.stdout);
  assert.ok(m, `child in ${cwd} failed: ${r.stderr}`);
  return JSON.parse(m[1]) as { info: Record<string, unknown>; mm: number[]; sm: number[] };
}

test('npm pack ships the prebuilt native engine; a fresh project starts it with install scripts disallowed and allowed', {
  skip: fromSourceBuilt ? false : 'native addon not built from source (no compiler?)',
}, async () => {
  assert.ok(existsSync(join(root, 'dist', 'engine', 'prebuilds.js')), 'dist/ is missing or stale: run `npm run build` first');
  const stage = join(tmp, 'stage');
  // The prepack step, for the baseline variant only (one compiler process, in the background
  // while the package is staged and the build from source computes the reference numbers).
  const prebuilt = runInBackground(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'prebuild-native.mjs'), '--variant', 'baseline', '--out', stage], root);
  stagePackage(stage);
  const reference = engineRun(root); // the repository's build from source
  assert.equal(reference.info.binary, 'built from source');
  await prebuilt;

  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], stage)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const inTarball = packed[0].files.map((f) => f.path);
  assert.ok(inTarball.includes(prebuildRel), `${prebuildRel} not in the tarball`);
  assert.ok(inTarball.includes('native/distillery.cc') && inTarball.includes('scripts/build-native.mjs'), 'sources for the from-source fallback');
  assert.ok(!inTarball.some((p) => p.startsWith('native/build/')), 'no local build in the tarball');

  // The fresh project: the tarball unpacked as node_modules/distillery, its dependencies linked.
  const consumer = join(tmp, 'consumer');
  const installed = join(consumer, 'node_modules', pkg.name);
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { [pkg.name]: `file:../${packed[0].filename}` } }));
  run('tar', ['-xzf', join(tmp, packed[0].filename), '-C', installed, '--strip-components=1'], tmp);
  for (const dep of Object.keys(pkg.dependencies)) {
    mkdirSync(dirname(join(consumer, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), join(consumer, 'node_modules', dep), 'dir');
  }

  // The prebuilt baseline binary runs on any x86-64 CPU and needs no OpenBLAS.
  const binary = join(installed, prebuildRel);
  if (target.platform === 'linux' && target.arch === 'x64' && spawnSync('objdump', ['--version']).status === 0) {
    const asm = spawnSync('objdump', ['-d', binary], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
    assert.ok(asm.length > 10_000 && !/%[yz]mm\d/.test(asm), 'the baseline prebuild uses no AVX registers');
    const needed = spawnSync('readelf', ['-d', binary], { encoding: 'utf8' }).stdout;
    assert.match(needed, /NEEDED.*libc\.so/);
    assert.doesNotMatch(needed, /openblas/i);
  }

  // Scripts disallowed (npm install --ignore-scripts): nothing ran, the prebuild is used.
  const noScripts = engineRun(consumer);
  assert.deepEqual(
    { backend: noScripts.info.backend, native: noScripts.info.native, binary: noScripts.info.binary, blas: noScripts.info.blas },
    { backend: 'native', native: true, binary: 'prebuilt (baseline)', blas: 'portable' },
  );
  assert.equal(noScripts.info.notice, undefined);
  // float32 sums of 300 products in another order (OpenBLAS / AVX2 vs portable SSE kernels).
  assert.equal(noScripts.mm.length, 64 * 50);
  for (let i = 0; i < reference.mm.length; i++) assert.ok(Math.abs(noScripts.mm[i] - reference.mm[i]) <= 2e-5 * (1 + Math.abs(reference.mm[i])), `matMul[${i}]`);
  for (let i = 0; i < reference.sm.length; i++) assert.ok(Math.abs(noScripts.sm[i] - reference.sm[i]) <= 1e-5, `softmax[${i}]`);

  // Scripts allowed: the install script loads the prebuild and compiles nothing, so the
  // package is as above and starts the same engine.
  const before = readdirSync(installed, { recursive: true }).length;
  const out = run('npm', ['run', 'install', '--silent'], installed);
  assert.match(out, /prebuilt native engine found \(baseline, prebuilds\/.*\); nothing to build/);
  assert.ok(!existsSync(join(installed, 'native', 'build')), 'nothing was compiled');
  assert.equal(readdirSync(installed, { recursive: true }).length, before, 'the install script wrote nothing');
});
