/**
 * Codistillation speed (methods.md §2, claim a): wall time to a target validation accuracy
 * for 2 codistilling workers (1 thread each, each on half the data) against 1 worker on all
 * the data with 1 thread and with 2 threads. Same data split, architecture, batch, learning
 * rate and validation schedule; the workers' times count training only (as the single
 * worker's), measured in one run so that the ratios compare like with like.
 *
 *   node --import tsx bench/codistill.ts [--steps 3000] [--target 0.85] [--hidden 128] [--out bench/results/codistill.json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CurvePoint } from '../src/codistill/workerCheckpoint.js';
import type { CodistillResult } from '../src/codistill/results.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const opt = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const steps = opt('steps', '3000');
const every = opt('every', '50');
const hidden = opt('hidden', '128');
const lr = opt('lr', '0.001');
const target = Number(opt('target', '0.85'));
const out = opt('out', join(here, 'results', 'codistill.json'));

const timeTo = (curve: CurvePoint[]) => curve.find((p) => p.valAccuracy >= target) ?? null;

function single(threads: number): CurvePoint[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'codistill-single.ts'), '--threads', String(threads), '--steps', steps, '--every', every, '--hidden', hidden, '--lr', lr], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { curve: CurvePoint[] }).curve;
}

function codistill(): CodistillResult {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-bench-codistill-'));
  try {
    const r = spawnSync(process.execPath, [join(root, 'bin/distillery.js'), '-q', 'codistill', '--data', 'letter', '--workers', '2', '--worker-threads', '1', '--steps', steps, '--sync-every', every, '--hidden', hidden, '--lr', lr, '--out', join(dir, 'run')], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(readFileSync(join(dir, 'run', 'codistill.json'), 'utf8')) as CodistillResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const one1 = single(1);
const one2 = single(2);
const co = codistill();
// The codistilled system reaches the target when its first worker does.
const coHit = co.workers.map((w) => timeTo(w.curve)).filter((p): p is CurvePoint => p !== null).sort((a, b) => a.seconds - b.seconds)[0] ?? null;
const [h1, h2] = [timeTo(one1), timeTo(one2)];
const ratio = (a: CurvePoint | null, b: CurvePoint | null) => (a && b ? +(a.seconds / b.seconds).toFixed(3) : null);
const result = {
  bench: 'codistill time to accuracy',
  target,
  steps: Number(steps),
  hidden,
  oneWorker1Thread: { hit: h1, curve: one1 },
  oneWorker2Threads: { hit: h2, curve: one2 },
  twoCodistillingWorkers: { hit: coHit, workers: co.workers.map((w) => ({ worker: w.worker, hit: timeTo(w.curve), curve: w.curve })), ensembleValAccuracy: co.ensemble.valAccuracy },
  /** > 1: codistillation reaches the target sooner (the paper's claim is about 2). */
  speedupVs1Thread: ratio(h1, coHit),
  speedupVs2Threads: ratio(h2, coHit),
  stepsRatioVs1Thread: h1 && coHit ? +(h1.step / coHit.step).toFixed(3) : null,
  date: new Date().toISOString(),
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify({ target, h1, h2, coHit, speedupVs1Thread: result.speedupVs1Thread, speedupVs2Threads: result.speedupVs2Threads }));
