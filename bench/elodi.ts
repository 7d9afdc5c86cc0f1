/**
 * Cost of ELODI (issue #9), as whole `distillery` processes on the embedded letter data,
 * interleaved A B A B … and compared pair by pair (the ratio of each pair, then the median):
 *
 * 1. the new model's training with ELODI against plain retraining, the same fixed number of
 *    epochs (no early stopping), the reference ensemble read from disk. The ensemble's logits
 *    are computed once per example and cached, never per step (target ≤ 1.1×): measured on
 *    the paper's LDI (one forward pass, `--no-inference-pass`) as whole processes and as the
 *    training loop alone (15 epochs minus 1), and on Distillery's default, which adds a
 *    dropout-free forward pass per step (docs/elodi.md: what makes LDI work on dropout MLPs),
 *    reported as what it is;
 * 2. an 8-member reference ensemble trained on 2 worker threads against 1 (target ≤ 0.6×
 *    the sequential wall time), at the epochs a member of the main job trains for;
 * 3. the machine's own ceiling for row 2: two independent processes, each training 4 of the
 *    members, at the same time, against one process training all 8 — no shared process, no
 *    worker start-up, so no 2-worker ensemble can do better on this machine.
 *
 *   node --import tsx bench/elodi.ts [--repeat 3] [--epochs 15] [--ensemble-epochs 40] [--only elodi|ensemble] [--out bench/results/elodi.json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opt = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
};
const repeat = Number(opt('repeat', '3'));
const epochs = opt('epochs', '15');
const ensembleEpochs = opt('ensemble-epochs', '40');
/** `elodi` or `ensemble`: only those rows (the results file then holds only them). */
const only = opt('only', 'all');
const outFile = resolve(opt('out', join(root, 'bench/results/elodi.json')));
const work = mkdtempSync(join(tmpdir(), 'distillery-bench-elodi-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const lines = gunzipSync(readFileSync(join(root, 'datasets/letter-recognition.csv.gz'))).toString('utf8').trim().split('\n');
const csv = (name: string, rows: string[]) => {
  const p = join(work, name);
  writeFileSync(p, [lines[0], ...rows].join('\n') + '\n');
  return p;
};
const oldCsv = csv('old.csv', lines.slice(1, 1001));
const newCsv = csv('new.csv', lines.slice(1, 2001));
/** A fixed number of epochs, no early stopping, the main job's batch. */
const fixedEpochs = (e: string) => ['--epochs', e, '--patience', '0', '--batch-size', '32'];
const fixed = fixedEpochs(epochs);
const fixedEnsemble = fixedEpochs(ensembleEpochs);

const distillery = (args: string[]) => [join(root, 'bin/distillery.js'), '--quiet', '--threads', '1', ...args];

/** Wall seconds of one `distillery` process (dist/, as a user runs it). */
function runOne(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, distillery(args), { cwd: root, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`distillery ${args.join(' ')} failed: ${r.stderr}`);
  return s;
}

/** Wall seconds until every one of several `distillery` processes, started together, has ended. */
async function runTogether(commands: string[][]): Promise<number> {
  const t0 = process.hrtime.bigint();
  await Promise.all(
    commands.map(
      (args) =>
        new Promise<void>((ok, fail) => {
          const child = spawn(process.execPath, distillery(args), { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          child.stderr.on('data', (d) => (err += d));
          child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`distillery ${args.join(' ')} failed: ${err}`))));
        }),
    ),
  );
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** One command, or several started together (a list of commands). */
type Work = string[] | string[][];
const run = async (w: Work) => (Array.isArray(w[0]) ? runTogether(w as string[][]) : runOne(w as string[]));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function pairs(name: string, a: Work, b: Work) {
  await run(a); // warm-up (file cache, compiled dist/)
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < repeat; i++) {
    ta.push(await run(a));
    tb.push(await run(b));
  }
  const ratios = ta.map((x, i) => x / tb[i]);
  const row = { name, aSeconds: median(ta), bSeconds: median(tb), ratioMedian: median(ratios), ratios };
  console.log(`${name}: ${row.aSeconds.toFixed(1)} s vs ${row.bSeconds.toFixed(1)} s, ratio ${row.ratioMedian.toFixed(2)} (pairs ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  return row;
}

const base = join(work, 'base');
await run(['train', '--data', oldCsv, '--label', 'lettr', '--out', base, ...fixed]);
const refs = join(work, 'refs');
await run(['ensemble', '--base', base, '--data', newCsv, '--members', '8', '--jobs', '2', '--out', refs, ...fixed]);

const update = (method: string[], e = epochs) => ['update', '--base', base, '--data', newCsv, '--out', join(work, 'v2'), ...fixedEpochs(e), ...method];

/**
 * The training loop's cost alone: each command at `epochs` and at 1 epoch, interleaved, and the
 * ratio of the differences (what `epochs − 1` epochs cost, without process start-up, data
 * loading, the reference ensemble's load and its cached logits, which a 1-epoch run pays too).
 */
async function trainingPairs(name: string, a: string[], b: string[]) {
  const at = (method: string[], e: string) => update(method, e);
  await run(at(a, epochs)); // warm-up
  const ratios: number[] = [];
  const da: number[] = [];
  const db: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const ta = (await run(at(a, epochs))) - (await run(at(a, '1')));
    const tb = (await run(at(b, epochs))) - (await run(at(b, '1')));
    da.push(ta);
    db.push(tb);
    ratios.push(ta / tb);
  }
  const row = { name, aSeconds: median(da), bSeconds: median(db), ratioMedian: median(ratios), ratios };
  console.log(`${name}: ${row.aSeconds.toFixed(2)} s vs ${row.bSeconds.toFixed(2)} s of training, ratio ${row.ratioMedian.toFixed(2)} (pairs ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  return row;
}
const ensemble = (members: number, jobs: number, out: string, firstSeed?: number) => [
  'ensemble', '--base', base, '--data', newCsv, '--members', String(members), '--jobs', String(jobs), '--out', join(work, out),
  ...(firstSeed === undefined ? [] : ['--seed', String(firstSeed)]), ...fixedEnsemble,
];
const elodiRows = async () => [
  await pairs('ELODI as the paper (one forward pass) vs plain: whole update processes, same epochs, ensemble from disk', update(['--method', 'elodi', '--reference', refs, '--no-inference-pass']), update(['--method', 'plain'])),
  await trainingPairs(`ELODI as the paper (one forward pass) vs plain: the training loop alone (${epochs} − 1 epochs)`, ['--method', 'elodi', '--reference', refs, '--no-inference-pass'], ['--method', 'plain']),
  await trainingPairs(`ELODI, Distillery's defaults (+ a dropout-free forward pass per step) vs plain: the training loop alone (${epochs} − 1 epochs)`, ['--method', 'elodi', '--reference', refs], ['--method', 'plain']),
];
const ensembleRows = async () => [
  await pairs('8-member ensemble, 2 workers vs 1', ensemble(8, 2, 'e2'), ensemble(8, 1, 'e1')),
  await pairs('the machine\'s ceiling: 2 processes × 4 members at once vs 1 process × 8 members', [ensemble(4, 1, 'c1', 1), ensemble(4, 1, 'c2', 2)], ensemble(8, 1, 'e1')),
];
const rows = [...(only === 'ensemble' ? [] : await elodiRows()), ...(only === 'elodi' ? [] : await ensembleRows())];
const results = {
  machine: { cpus: (await import('node:os')).cpus()[0]?.model, cores: (await import('node:os')).availableParallelism(), node: process.version },
  epochs: Number(epochs),
  ensembleEpochs: Number(ensembleEpochs),
  repeat,
  rows,
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${outFile}`);
