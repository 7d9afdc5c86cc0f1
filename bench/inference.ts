/**
 * Inference over 100k rows, end to end, against PyTorch in the same run (issue #15):
 *
 *   node --import tsx bench/inference.ts [--copies 5] [--repeat 3] [--out bench/results/inference.json]
 *
 * The letter data (20,000 rows) repeated `--copies` times as one CSV; a model of the main job's
 * architecture (MLP 16→256→256→26) trained for 3 epochs by `distillery train`; then, alternating,
 * `distillery predict` (1 engine thread) and bench/torch_predict.py (1 thread, OPENBLAS_NUM_THREADS=1)
 * on the same CSV with the same weights: read, standardise, forward, softmax, write the predictions
 * CSV. Whole processes (start-up included), best of `--repeat`; ratio = PyTorch seconds / Distillery
 * seconds (> 1: Distillery faster); the two predictions columns are compared row by row.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function opt(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const root = fileURLToPath(new URL('..', import.meta.url));
const copies = Number(opt('copies', '5'));
const repeat = Number(opt('repeat', '3'));
const outFile = opt('out', join(root, 'bench/results/inference.json'));
const work = mkdtempSync(join(tmpdir(), 'distillery-inference-'));
const env = { ...process.env, DISTILLERY_THREADS: '1', OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' };

function run(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-1500)}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

try {
  const [header, ...rows] = gunzipSync(readFileSync(join(root, 'datasets/letter-recognition.csv.gz'))).toString('utf8').trim().split('\n');
  const csv = join(work, 'rows.csv');
  writeFileSync(csv, [header, ...Array.from({ length: copies }, () => rows).flat()].join('\n') + '\n');
  const model = join(work, 'model');
  run(process.execPath, [join(root, 'bin/distillery.js'), 'train', '--data', 'letter', '--hidden', '256,256', '--epochs', '3', '--seed', '1', '--out', model]);
  const ours = join(work, 'distillery.csv');
  const theirs = join(work, 'pytorch.csv');
  const d: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < repeat; i++) {
    rmSync(ours, { force: true });
    d.push(run(process.execPath, [join(root, 'bin/distillery.js'), 'predict', '--model', model, '--data', csv, '--out', ours]));
    t.push(run('/usr/bin/python3', [join(root, 'bench/torch_predict.py'), '--model', model, '--data', csv, '--out', theirs, '--threads', '1']));
    console.error(`#${i + 1}: Distillery ${d[i].toFixed(2)} s, PyTorch ${t[i].toFixed(2)} s`);
  }
  const col = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => l.slice(0, l.indexOf(',')));
  const a = col(ours), b = col(theirs);
  const agree = a.filter((p, i) => p === b[i]).length;
  const best = (xs: number[]) => Math.min(...xs);
  const result = {
    date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version, rows: a.length,
    distillery: { seconds: best(d), all: d }, pytorch: { seconds: best(t), all: t },
    ratio: best(t) / best(d), predictionsAgree: agree,
  };
  console.log(JSON.stringify(result, null, 1));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}
