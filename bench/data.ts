/**
 * Data bench of issue #24 (CSV part): Distillery's load + fit + apply against pandas read_csv +
 * StandardScaler + one-hot, on the synthetic table of bench/dataGen.ts, alternating sides, each
 * run in its own process under /usr/bin/time for the peak RSS. Prints a Markdown table.
 *
 *   npm run bench:data -- [--rows 200000,1000000] [--format fixed|full] [--repeat 2] [--dir /tmp]
 *
 * The generated files go to --dir (default the system temporary folder), never the repository.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchTable } from './dataGen.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const rowsList = opt('rows', '200000,1000000').split(',').map(Number);
const format = opt('format', 'fixed') as 'fixed' | 'full';
const repeat = Number(opt('repeat', '2'));
const dir = opt('dir', tmpdir());

interface Run {
  seconds: number;
  peakMiB: number;
}

/** One measured process: its JSON line's `seconds` and /usr/bin/time's peak RSS. */
function measure(cmd: string[]): Run {
  const r = spawnSync('/usr/bin/time', ['-f', 'PEAK_KB=%M', ...cmd], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const peak = Number(/PEAK_KB=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { seconds: json.seconds, peakMiB: Math.round(peak / 1024) };
}

const best = (runs: Run[]): Run => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

console.log('| rows | CSV size | Distillery load + preprocess | pandas + scikit-learn | ratio (pandas / Distillery) |');
console.log('|---|---|---|---|---|');
for (const rows of rowsList) {
  const path = join(dir, `distillery-data-${rows}-${format}.csv`);
  if (!existsSync(path)) await writeBenchTable(path, rows, format);
  const ours: Run[] = [];
  const theirs: Run[] = [];
  for (let k = 0; k < repeat; k++) {
    ours.push(measure([process.execPath, '--import', 'tsx', join(here, 'dataLoad.ts'), path]));
    theirs.push(measure(['/usr/bin/python3', join(here, 'data_pandas.py'), path]));
  }
  const a = best(ours);
  const b = best(theirs);
  const mb = Math.round(statSync(path).size / 1e6);
  console.log(`| ${rows.toLocaleString('en')} | ${mb} MB | ${a.seconds.toFixed(2)} s, ${a.peakMiB} MiB | ${b.seconds.toFixed(2)} s, ${b.peakMiB} MiB | ${(b.seconds / a.seconds).toFixed(2)} |`);
}
