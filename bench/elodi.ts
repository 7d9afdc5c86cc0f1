/**
 * Cost of ELODI (issue #9), as whole `distillery` processes on the embedded letter data,
 * interleaved A B A B … and compared pair by pair (the ratio of each pair, then the median):
 *
 * 1. the new model's training with ELODI against plain retraining, the same fixed number of
 *    epochs (no early stopping), the reference ensemble read from disk: the LDI term costs
 *    little because the ensemble's logits are computed once per example and cached, never per
 *    step (target ≤ 1.1×);
 * 2. an 8-member reference ensemble trained on 2 worker threads against 1 (target ≤ 0.6×
 *    the sequential wall time).
 *
 *   node --import tsx bench/elodi.ts [--repeat 3] [--epochs 15] [--out bench/results/elodi.json]
 */
import { spawnSync } from 'node:child_process';
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
const fixed = ['--epochs', epochs, '--patience', '0', '--batch-size', '32'];

/** Wall seconds of one `distillery` process (dist/, as a user runs it). */
function run(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'bin/distillery.js'), '--quiet', '--threads', '1', ...args], { cwd: root, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`distillery ${args.join(' ')} failed: ${r.stderr}`);
  return s;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function pairs(name: string, a: string[], b: string[]) {
  run(a); // warm-up (file cache, compiled dist/)
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < repeat; i++) {
    ta.push(run(a));
    tb.push(run(b));
  }
  const ratios = ta.map((x, i) => x / tb[i]);
  const row = { name, aSeconds: median(ta), bSeconds: median(tb), ratioMedian: median(ratios), ratios };
  console.log(`${name}: ${row.aSeconds.toFixed(1)} s vs ${row.bSeconds.toFixed(1)} s, ratio ${row.ratioMedian.toFixed(2)} (pairs ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  return row;
}

const base = join(work, 'base');
run(['train', '--data', oldCsv, '--label', 'lettr', '--out', base, ...fixed]);
const refs = join(work, 'refs');
run(['ensemble', '--base', base, '--data', newCsv, '--members', '8', '--jobs', '2', '--out', refs, ...fixed]);

const update = (method: string[]) => ['update', '--base', base, '--data', newCsv, '--out', join(work, 'v2'), ...fixed, ...method];
const results = {
  machine: { cpus: (await import('node:os')).cpus()[0]?.model, node: process.version },
  epochs: Number(epochs),
  repeat,
  rows: [
    pairs('ELODI vs plain, new model only (same epochs, ensemble from disk)', update(['--method', 'elodi', '--reference', refs]), update(['--method', 'plain'])),
    pairs(
      '8-member ensemble, 2 workers vs 1',
      ['ensemble', '--base', base, '--data', newCsv, '--members', '8', '--jobs', '2', '--out', join(work, 'e2'), ...fixed],
      ['ensemble', '--base', base, '--data', newCsv, '--members', '8', '--jobs', '1', '--out', join(work, 'e1'), ...fixed],
    ),
  ],
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${outFile}`);
