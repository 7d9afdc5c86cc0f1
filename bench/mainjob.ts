/**
 * The main job end to end (issue #15): `distillery run` on the update experiment of
 * configs/letter-update.yaml (the job `distillery demo` runs) against an independent PyTorch 1.13
 * re-implementation of the same protocol (bench/torch_mainjob.py), in the same run, on the same rows
 * (bench/export-mainjob-data.ts writes them with Distillery's own data functions).
 *
 *   node --import tsx bench/mainjob.ts [--seeds 1,2,3,4,5] [--methods subset|all|<JSON list>]
 *        [--modes seq,pair] [--repeat 2] [--out bench/results/mainjob.json]
 *
 * Modes: `seq` = one trial at a time (`--jobs 1`; PyTorch: one process over all seeds); `pair` = two
 * trials at a time, one thread each (`--jobs 2`; PyTorch: two processes, the seeds split between them).
 * Every process has 1 engine thread (DISTILLERY_THREADS=1, torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1).
 * The two sides alternate (Distillery, PyTorch, Distillery, PyTorch, …, `--repeat` times per mode) and the
 * best wall time of each is kept. Reported per mode: wall and CPU seconds (child rusage through
 * /usr/bin/time), the speed ratio PyTorch seconds / Distillery seconds (> 1: Distillery is faster), and,
 * since early stopping makes the epoch counts differ, the same ratio per optimizer step.
 * Distillery's time includes reading and preprocessing the gzipped CSV; PyTorch reads the prepared binary rows.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { fastest, machineInfo, option as opt, sideBySideRun, type Proc } from './harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The measured subset of the main job's methods. */
const SUBSET: unknown[] = [
  'plain',
  { method: 'distill', lambda: 0.2 },
  { method: 'distill', lambda: 0.4 },
  { method: 'distill', lambda: 0.6 },
  { method: 'anchor', alpha: 0.8, epsilon: 0.2 },
  { method: 'label-smoothing', epsilon: 0.1 },
];
const mainConfig = parseYaml(readFileSync(join(root, 'configs/letter-update.yaml'), 'utf8')) as Record<string, unknown> & { methods: unknown[] };
const methodsArg = opt('methods', 'subset');
const methods = methodsArg === 'subset' ? SUBSET : methodsArg === 'all' ? mainConfig.methods : (JSON.parse(methodsArg) as unknown[]);
const seeds = opt('seeds', '1,2,3,4,5').split(',').map(Number);
const modes = opt('modes', 'seq,pair').split(',') as ('seq' | 'pair')[];
const { repeat, python, outFile, work, timed } = sideBySideRun(root, 'mainjob');
const configPath = join(work, 'config.yaml');
writeFileSync(configPath, JSON.stringify({ ...mainConfig, name: 'mainjob-bench', seeds, methods }, null, 2) + '\n'); // JSON is YAML
const dataDir = join(work, 'data');
const exported = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/export-mainjob-data.ts'), '--config', configPath, '--out', dataDir], { cwd: root, encoding: 'utf8' });
if (exported.status !== 0) throw new Error(`export-mainjob-data failed: ${exported.stderr}`);
const split = mainConfig.split as { initial: number; newBatch: number };
const batchSize = (mainConfig.training as { batchSize: number }).batchSize;

/** Training runs of a Distillery run, from its progress lines (`<label>: done at <epochs>/<max> …`). */
function distilleryRuns(stderr: string): { epochs: number; steps: number; models: number } {
  let epochs = 0;
  let steps = 0;
  let models = 0;
  for (const m of stderr.matchAll(/^(.*): done at (\d+)\/\d+/gm)) {
    const e = Number(m[2]);
    const rows = /base model/.test(m[1]) ? split.initial : split.initial + split.newBatch;
    epochs += e;
    steps += e * Math.ceil(rows / batchSize);
    models += 1;
  }
  return { epochs, steps, models };
}

/** Mean test accuracy and churn per method, in the order of `methods`. */
interface Side { seconds: number; cpuSeconds: number; epochs: number; steps: number; models: number; engine?: unknown; methods: { method: string; accuracy: number; churn: number }[] }

let runNo = 0;
async function distillery(mode: 'seq' | 'pair'): Promise<Side> {
  const out = join(work, `run-${runNo++}`);
  const p = await timed([process.execPath, join(root, 'bin/distillery.js'), '--verbose', 'run', '--config', configPath, '--jobs', mode === 'seq' ? '1' : '2', '--out', out], `d${runNo}`);
  const result = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { engine: unknown; summary: { method: string; accuracy: { mean: number }; churn: { mean: number } }[] };
  rmSync(out, { recursive: true, force: true });
  const runs = distilleryRuns(p.stderr);
  if (runs.models === 0) throw new Error(`no progress lines in the Distillery run's output: ${p.stderr.slice(-1000)}`);
  return {
    seconds: p.wall, cpuSeconds: p.user + p.sys, ...runs, engine: result.engine,
    methods: result.summary.map((s) => ({ method: s.method, accuracy: s.accuracy.mean, churn: s.churn.mean })),
  };
}

interface TorchOut { seconds: number; modelsTrained: number; totalEpochs: number; totalSteps: number; trials: { method: unknown; accuracy: number; churn: number }[] }
async function torch(mode: 'seq' | 'pair'): Promise<Side> {
  const groups = mode === 'seq' ? [seeds] : [seeds.filter((_, i) => i % 2 === 0), seeds.filter((_, i) => i % 2 === 1)].filter((g) => g.length);
  const t0 = process.hrtime.bigint();
  const procs = await Promise.all(
    groups.map((g, i) => timed([python, join(root, 'bench/torch_mainjob.py'), '--data', dataDir, '--threads', '1', '--seeds', g.join(','), '--methods', JSON.stringify(methods)], `t${runNo++}-${i}`)),
  );
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const outs = procs.map((p) => JSON.parse(p.stdout.trim().split('\n').pop()!) as TorchOut);
  const trials = outs.flatMap((o) => o.trials);
  const perMethod = methods.map((m) => {
    const rows = trials.filter((t) => JSON.stringify(t.method) === JSON.stringify(typeof m === 'string' ? { method: m } : m));
    const mean = (get: (t: TorchOut['trials'][number]) => number) => rows.reduce((s, t) => s + get(t), 0) / rows.length;
    return { method: JSON.stringify(m), accuracy: mean((t) => t.accuracy), churn: mean((t) => t.churn) };
  });
  return {
    seconds: wall, cpuSeconds: procs.reduce((s, p) => s + p.user + p.sys, 0),
    epochs: outs.reduce((s, o) => s + o.totalEpochs, 0), steps: outs.reduce((s, o) => s + o.totalSteps, 0), models: outs.reduce((s, o) => s + o.modelsTrained, 0),
    methods: perMethod,
  };
}

const rows = [];
for (const mode of modes) {
  const d: Side[] = [];
  const t: Side[] = [];
  for (let i = 0; i < repeat; i++) {
    d.push(await distillery(mode));
    t.push(await torch(mode));
    console.error(`${mode} #${i + 1}: Distillery ${d[i].seconds.toFixed(1)} s (${d[i].epochs} epochs), PyTorch ${t[i].seconds.toFixed(1)} s (${t[i].epochs} epochs)`);
  }
  const bd = fastest(d);
  const bt = fastest(t);
  const row = {
    mode,
    jobs: mode === 'seq' ? 1 : 2,
    distillery: { ...bd, allSeconds: d.map((x) => x.seconds), msPerStep: (1000 * bd.seconds) / bd.steps },
    pytorch: { ...bt, allSeconds: t.map((x) => x.seconds), msPerStep: (1000 * bt.seconds) / bt.steps },
    /** PyTorch seconds / Distillery seconds: > 1 means Distillery is faster. */
    ratio: bt.seconds / bd.seconds,
    cpuRatio: bt.cpuSeconds / bd.cpuSeconds,
    /** The same per optimizer step (early stopping ends the two sides' runs at different epochs). */
    ratioPerStep: bt.seconds / bt.steps / (bd.seconds / bd.steps),
  };
  console.log(`${mode}: Distillery ${bd.seconds.toFixed(1)} s (${bd.cpuSeconds.toFixed(1)} CPU s, ${bd.steps} steps), PyTorch ${bt.seconds.toFixed(1)} s (${bt.cpuSeconds.toFixed(1)} CPU s, ${bt.steps} steps): ratio ${row.ratio.toFixed(2)}, per step ${row.ratioPerStep.toFixed(2)}`);
  rows.push(row);
}
const results = {
  machine: machineInfo(python),
  seeds,
  methods,
  repeat,
  rows,
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${outFile}`);
