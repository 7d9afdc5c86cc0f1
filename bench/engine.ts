/**
 * Engine benchmark of issue #3: trains the three reference models (MLP, CNN, transformer) for
 * a fixed number of Adam steps at batch 128 on each available engine and, when PyTorch is
 * importable, the identical PyTorch models in the same run, at 1 and 2 threads.
 *
 *   node --import tsx bench/engine.ts [--models mlp,cnn,transformer,letter] [--threads 1,2] [--batch 128]
 *        [--engines native,trainer,wasm,cpu] [--repeat 2] [--quick] [--no-torch] [--out results.json]
 *
 * `letter` is the main job's model (16 → 256 → 256 → 26, dropout 0.2), to be run at the main
 * job's batch: `--models letter --batch 32` (issue #15's small-batch row).
 *
 * Every measurement runs in its own process (bench/run-one.ts, bench/torch_bench.py) so that
 * peak RSS is per run. Runs of the same model and thread count are interleaved (torch, then
 * each engine, `--repeat` times) and the best of the repeats is reported, which keeps the
 * comparison fair on a machine that other jobs share.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '../src/engine/addon.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const quick = flag('quick');
const models = (opt('models') ?? 'mlp,cnn,transformer').split(',') as Array<'mlp' | 'cnn' | 'transformer' | 'letter'>;
const batch = opt('batch') ?? '128';
const threadList = (opt('threads') ?? '1,2').split(',').map(Number);
const repeat = Number(opt('repeat') ?? (quick ? 1 : 2));
/**
 * 'trainer' is the native engine measured through Distillery's own path (src/models/build.ts +
 * src/train/trainer.ts trainModel) rather than a bare minimize loop over bench/models.ts: what a
 * `distillery` run actually gets.
 */
const defaultEngines = [loadAddon() ? 'native' : undefined, loadAddon() ? 'trainer' : undefined, 'wasm', 'cpu'].filter(Boolean) as string[];
const engines = (opt('engines') ?? defaultEngines.join(',')).split(',');
const steps: Record<string, number> = quick
  ? { mlp: 60, cnn: 8, transformer: 3, letter: 200 }
  : { mlp: 1000, cnn: 40, transformer: 16, letter: 3000 };
/** Warm-up steps before timing (both sides): the MLP's steps are short, so it gets more. */
const warmupSteps: Record<string, number> = { mlp: 20, cnn: 3, transformer: 3, letter: 50 };
/** Engines that are one to three orders of magnitude slower get a few steps only. */
const slowSteps: Record<string, Record<string, number>> = {
  wasm: { mlp: 30, cnn: 3, transformer: 2, letter: 100 },
  cpu: { mlp: 10, cnn: 0, transformer: 0, letter: 30 },
};
const childTimeout = Number(opt('timeout') ?? 240) * 1000;

interface Result {
  engine: string;
  threads: number;
  model: string;
  steps?: number;
  exPerSec?: number;
  msPerStep?: number;
  maxRssMB?: number;
  error?: string;
  blas?: string;
  [k: string]: unknown;
}

function findPython(): string | undefined {
  if (flag('no-torch')) return undefined;
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

function parseLast(out: string): Result | undefined {
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return undefined;
  try {
    return JSON.parse(line) as Result;
  } catch {
    return undefined;
  }
}

function runChild(cmd: string, args: string[], env: Record<string, string>, what: Result): Result {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: childTimeout });
  const res = parseLast(r.stdout ?? '');
  if (res) return res;
  const why = r.error ? String(r.error.message) : (r.stderr ?? '').trim().split('\n').pop() ?? `exit ${r.status}`;
  return { ...what, error: why.slice(0, 200) };
}

/**
 * The Distillery runs execute compiled JavaScript (as an installed Distillery does), not
 * TypeScript through tsx: tsx's loader thread alone adds ~100 MB of RSS that PyTorch's
 * numbers do not carry. `--tsx` runs the sources through tsx instead.
 */
function compileRunner(): string | undefined {
  if (flag('tsx')) return undefined;
  const outDir = join(root, '.tmp', 'bench-build');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '--outDir', outDir, '--rootDir', root, '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
    '--target', 'ES2022', '--strict', '--skipLibCheck', '--esModuleInterop', '--resolveJsonModule', join(here, 'run-one.ts')], { cwd: root, encoding: 'utf8' });
  const js = join(outDir, 'bench', 'run-one.js');
  if (r.status !== 0) {
    console.log(`(could not compile bench/run-one.ts, running through tsx: ${(r.stdout || r.stderr).split('\n')[0]})`);
    return undefined;
  }
  // what the compiled sources reach outside src/ by relative path (generated/ tfjs registrations, datasets/, the version)
  for (const shared of ['generated', 'datasets', 'package.json']) {
    const link = join(outDir, shared);
    if (!existsSync(link)) symlinkSync(join(root, shared), link);
  }
  return js;
}
const compiled = compileRunner();
const addonPath = join(root, 'native', 'build', 'Release', 'distillery_native.node');

function runOurs(label: string, threads: number, model: string): Result {
  const engine = label === 'trainer' ? 'native' : label;
  const n = slowSteps[engine]?.[model] ?? steps[model];
  if (n === 0) return { engine, threads, model, error: 'skipped (too slow on this engine; see docs/engine.md)' };
  const runner = compiled ? [compiled] : ['--import', 'tsx', join(here, 'run-one.ts')];
  return runChild(
    process.execPath,
    [...runner, '--engine', engine, '--threads', String(threads), '--model', model, '--batch', batch,
      '--steps', String(n), '--warmup', engine === 'native' ? String(warmupSteps[model]) : '1', '--max-seconds', '60', ...(label === 'trainer' ? ['--via', 'trainer'] : [])],
    { DISTILLERY_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), ...(process.env.DISTILLERY_NATIVE_ADDON ? {} : { DISTILLERY_NATIVE_ADDON: addonPath }) },
    { engine, threads, model },
  );
}

function runTorch(py: string, threads: number, model: string): Result {
  return runChild(
    py,
    [join(here, 'torch_bench.py'), '--model', model, '--batch', batch, '--threads', String(threads), '--steps', String(steps[model]), '--warmup', String(warmupSteps[model]), '--max-seconds', '60'],
    { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1' },
    { engine: 'pytorch', threads, model },
  );
}

function better(a: Result | undefined, b: Result): Result {
  if (!a || a.error || a.exPerSec === undefined) return b.error && a ? a : b;
  if (b.error || b.exPerSec === undefined) return a;
  const best = (b.exPerSec ?? 0) > (a.exPerSec ?? 0) ? b : a;
  // peak memory: the largest seen over the repeats
  return { ...best, maxRssMB: Math.max(a.maxRssMB ?? 0, b.maxRssMB ?? 0) };
}

const py = findPython();
const fmt = (x: number | undefined, d = 0): string => (x === undefined ? '—' : x.toFixed(d));
const results: Result[] = [];
const rows: string[] = [];
console.log(`engines: ${engines.join(', ')}${py ? `; PyTorch via ${py}` : '; PyTorch not available'}; threads ${threadList.join(', ')}; repeat ${repeat}`);

for (const model of models) {
  for (const threads of threadList) {
    let torch: Result | undefined;
    const ours = new Map<string, Result>();
    for (let r = 0; r < repeat; r++) {
      if (py) torch = better(torch, runTorch(py, threads, model));
      for (const e of engines) {
        if (r > 0 && e !== 'native' && e !== 'trainer') continue; // slow fallbacks: once is enough
        ours.set(e, better(ours.get(e), runOurs(e, threads, model)));
      }
    }
    if (torch) results.push(torch);
    for (const e of engines) {
      const o = ours.get(e)!;
      const ratio = torch?.exPerSec && o.exPerSec ? o.exPerSec / torch.exPerSec : undefined;
      const mem = torch?.maxRssMB && o.maxRssMB ? o.maxRssMB / torch.maxRssMB : undefined;
      results.push({ ...o, engine: o.engine ?? e, ratioVsTorch: ratio, memRatioVsTorch: mem });
      rows.push(
        `| ${model} | ${threads} | ${e} | ${o.error ? o.error.slice(0, 50) : fmt(o.exPerSec)} | ${fmt(torch?.exPerSec)} | ${fmt(ratio, 2)} | ${fmt(o.maxRssMB)} | ${fmt(torch?.maxRssMB)} | ${fmt(mem, 2)} |`,
      );
    }
    console.log(rows.slice(-engines.length).join('\n'));
  }
}

console.log('\n| model | threads | engine | examples/s | PyTorch ex/s | ratio | peak RSS MB | PyTorch RSS MB | RSS ratio |');
console.log('|---|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));

const out = opt('out');
if (out) {
  mkdirSync(dirname(resolve(out)), { recursive: true });
  writeFileSync(
    resolve(out),
    JSON.stringify({ date: new Date().toISOString(), node: process.version, batch: Number(batch), steps, repeat, results }, null, 2) + '\n',
  );
  console.log(`results written to ${out}`);
}
