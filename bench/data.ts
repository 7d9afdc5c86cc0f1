/**
 * The data bench (issue #24): Distillery's load + preprocess of a large table against pandas +
 * scikit-learn on the same file, in the same run, on this machine.
 *
 *   npm run bench:data -- [--sizes 200000,1000000] [--formats csv,parquet] [--repeat 2] [--no-train]
 *                         [--python /usr/bin/python3] [--out bench/results/data.json] [--timeout 3600]
 *
 * For each size, a deterministic synthetic table (seeded; written to a temporary directory that is
 * removed at exit, never committed): N rows × 30 numeric columns f1…f30 (different means and scales),
 * one categorical column `cat` of 20 categories, and a 10-class label `label` that depends on them.
 * CSV always; Parquet written from the CSV by python3's pyarrow when it can import it, else by DuckDB
 * (@duckdb/node-api, the package Distillery reads Parquet with). pandas reads Parquet only through
 * pyarrow or fastparquet: without them (Debian bookworm has neither) the pandas side of a Parquet row
 * reads the same table from the CSV, and the row says so. 10 million rows:
 * `--sizes 200000,1000000,10000000`.
 *
 * Each side is a separate process, run alternately (Distillery, pandas, Distillery, pandas, …
 * `--repeat` times each); the median of each is reported:
 * - Distillery: `loadData` + `fitPreprocessing` + `applyPreprocessing` through the library (this
 *   file in `--child` mode), a Float32Array of features and Int32 labels;
 * - pandas (bench/data_pandas.py under Debian's python3-pandas and python3-sklearn): `read_csv` /
 *   `read_parquet`, one-hot of `cat`, StandardScaler `fit_transform` of the numeric columns,
 *   a float32 matrix.
 * Seconds are the work inside the child (reading + preprocessing, without the interpreter's start
 * and imports); peak RSS is the whole child's (/usr/bin/time). Then `distillery train --epochs 1`
 * on the same CSV once per size: its wall seconds and peak RSS (bin/distillery.js runs dist/:
 * `npm run build` first). The ratio is pandas seconds / Distillery seconds (≥ 1: Distillery is at
 * least as fast). Prints a Markdown table and writes the measurements to `--out`.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, option, sideBySideRun } from './harness.js';
import { rng } from '../test/helpers/random.js'; // mulberry32: the same table for the same size on every machine

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The synthetic table's shape: 30 numeric columns, one categorical column of 20 categories, 10 classes. */
const NUMERIC = 30;
const CATEGORIES = 20;
const CLASSES = 10;
const SEED = 24;

/** The Distillery side in its own process: load + fit + apply, one JSON line on stdout. */
async function child(file: string): Promise<void> {
  const { loadData } = await import('../src/data/builtin.js');
  const { applyPreprocessing, fitPreprocessing } = await import('../src/data/preprocess.js');
  const t0 = performance.now();
  let raw: Awaited<ReturnType<typeof loadData>>;
  try {
    raw = await loadData(file);
  } catch (e) {
    if (/unknown data format/.test((e as Error).message)) {
      console.log(JSON.stringify({ unsupported: (e as Error).message }));
      return;
    }
    throw e;
  }
  const t1 = performance.now();
  const spec = fitPreprocessing(raw);
  const ds = applyPreprocessing(spec, raw);
  const t2 = performance.now();
  console.log(
    JSON.stringify({
      seconds: (t2 - t0) / 1000,
      loadSeconds: (t1 - t0) / 1000,
      preprocessSeconds: (t2 - t1) / 1000,
      rows: ds.labels.length,
      width: ds.features.length / ds.labels.length,
      classes: ds.classNames.length,
      maxRss: process.resourceUsage().maxRSS * 1024,
    }),
  );
}

/** Writes the synthetic table of `rows` rows as CSV to `path`. */
function writeTable(path: string, rows: number): void {
  const rand = rng(SEED);
  const means = Array.from({ length: NUMERIC }, (_, j) => (j % 7) * 10 - 20);
  const scales = Array.from({ length: NUMERIC }, (_, j) => 0.5 + (j % 5) * 3);
  const fd = openSync(path, 'w');
  writeSync(fd, [...Array.from({ length: NUMERIC }, (_, j) => `f${j + 1}`), 'cat', 'label'].join(',') + '\n');
  const z = new Float64Array(NUMERIC);
  let chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    const cells: string[] = [];
    for (let j = 0; j < NUMERIC; j++) {
      z[j] = rand() + rand() + rand() - 1.5; // roughly normal, sd 0.5
      cells.push((means[j] + scales[j] * z[j]).toFixed(4));
    }
    const cat = Math.floor(rand() * CATEGORIES);
    let best = 0;
    for (let k = 1; k < CLASSES; k++) if (z[k] + (cat % CLASSES === k ? 0.3 : 0) > z[best] + (cat % CLASSES === best ? 0.3 : 0)) best = k;
    cells.push(`v${String(cat).padStart(2, '0')}`, `class${best}`);
    chunk.push(cells.join(','));
    if (chunk.length === 10_000) {
      writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length > 0) writeSync(fd, chunk.join('\n') + '\n');
  closeSync(fd);
}

/** Whether python3 can import pyarrow (pandas' Parquet reader and a Parquet writer). */
function hasPyarrow(python: string): boolean {
  return spawnSync(python, ['-c', 'import pyarrow, pyarrow.parquet'], { encoding: 'utf8' }).status === 0;
}

/** Writes the CSV as Parquet: with pyarrow when python3 has it, else with DuckDB. */
async function writeParquet(csv: string, file: string, python: string, pyarrow: boolean): Promise<void> {
  if (pyarrow) {
    const w = spawnSync(python, ['-c', 'import sys, pyarrow.csv as c, pyarrow.parquet as p; p.write_table(c.read_csv(sys.argv[1]), sys.argv[2])', csv, file], { encoding: 'utf8' });
    if (w.status !== 0) throw new Error(`writing ${file} failed: ${w.stderr}`);
    return;
  }
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const quoted = (p: string) => `'${p.replace(/'/g, "''")}'`;
  await conn.run(`COPY (SELECT * FROM read_csv(${quoted(csv)}, header = true)) TO ${quoted(file)} (FORMAT parquet)`);
  conn.closeSync();
}

interface ChildResult { seconds: number; loadSeconds: number; preprocessSeconds: number; rows: number; width: number; classes: number; maxRss: number; wall: number; unsupported?: string }

interface Row {
  rows: number;
  format: 'csv' | 'parquet';
  fileBytes?: number;
  /** The pandas side read the CSV: pandas has no Parquet reader here (no pyarrow). */
  pandasFromCsv?: boolean;
  distillery?: { runs: ChildResult[]; seconds: number; maxRss: number } | { unsupported: string };
  pandas?: { runs: ChildResult[]; seconds: number; maxRss: number };
  /** pandas seconds / Distillery seconds (≥ 1: Distillery is at least as fast). */
  ratio?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const gb = (bytes: number) => (bytes / 1e9).toFixed(2);
const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

async function main(): Promise<void> {
  const sizes = option('sizes', '200000,1000000').split(',').map(Number);
  const formats = option('formats', 'csv,parquet').split(',') as ('csv' | 'parquet')[];
  const withTrain = !process.argv.includes('--no-train');
  const { repeat, python, outFile, work, timed } = sideBySideRun(root, 'data');
  const pandasCheck = spawnSync(python, ['-c', 'import pandas, sklearn'], { encoding: 'utf8' });
  if (pandasCheck.status !== 0) throw new Error(`${python} cannot import pandas and scikit-learn: apt-get install python3-pandas python3-sklearn`);
  const pyarrow = formats.includes('parquet') && hasPyarrow(python);
  if (formats.includes('parquet') && !pyarrow) console.error('parquet: written by DuckDB; pandas cannot read Parquet here (no pyarrow): its side reads the CSV');

  const rows: Row[] = [];
  const trains: { rows: number; seconds: number; maxRss: number; compare?: { seconds: number; maxRss: number } }[] = [];
  let tag = 0;
  for (const n of sizes) {
    const csv = join(work, `table-${n}.csv`);
    const g0 = performance.now();
    writeTable(csv, n);
    console.error(`${n} rows: wrote ${mb(statSync(csv).size)} MB of CSV in ${((performance.now() - g0) / 1000).toFixed(1)} s`);
    for (const format of formats) {
      let file = csv;
      if (format === 'parquet') {
        file = join(work, `table-${n}.parquet`);
        await writeParquet(csv, file, python, pyarrow);
      }
      const pandasFile = format === 'parquet' && !pyarrow ? csv : file;
      const pandasFormat = pandasFile === csv ? 'csv' : format;
      const d: ChildResult[] = [];
      const p: ChildResult[] = [];
      let unsupported: string | undefined;
      for (let i = 0; i < repeat; i++) {
        if (!unsupported) {
          const proc = await timed([process.execPath, '--import', 'tsx', join(root, 'bench/data.ts'), '--child', '--file', file], `d${tag++}`);
          const out = JSON.parse(proc.stdout.trim().split('\n').pop()!) as ChildResult;
          if (out.unsupported) {
            unsupported = out.unsupported;
            console.error(`${n} ${format}: Distillery: not supported yet (${out.unsupported})`);
          } else d.push({ ...out, maxRss: proc.maxRss, wall: proc.wall });
        }
        const proc = await timed([python, join(root, 'bench/data_pandas.py'), '--file', pandasFile, '--format', pandasFormat], `p${tag++}`);
        p.push({ ...(JSON.parse(proc.stdout.trim().split('\n').pop()!) as ChildResult), maxRss: proc.maxRss, wall: proc.wall });
        const last = d.at(-1);
        console.error(`${n} ${format} #${i + 1}: Distillery ${last && !unsupported ? `${last.seconds.toFixed(2)} s, ${gb(last.maxRss)} GB` : 'not supported yet'}; pandas ${p[i].seconds.toFixed(2)} s, ${gb(p[i].maxRss)} GB`);
      }
      const pandas = { runs: p, seconds: median(p.map((r) => r.seconds)), maxRss: Math.max(...p.map((r) => r.maxRss)) };
      const row: Row = { rows: n, format, fileBytes: statSync(file).size, pandas, ...(pandasFile !== file ? { pandasFromCsv: true } : {}) };
      if (unsupported) row.distillery = { unsupported };
      else {
        const distillery = { runs: d, seconds: median(d.map((r) => r.seconds)), maxRss: Math.max(...d.map((r) => r.maxRss)) };
        row.distillery = distillery;
        row.ratio = pandas.seconds / distillery.seconds;
      }
      rows.push(row);
    }
    if (withTrain) {
      const out = join(work, `model-${n}`);
      const proc = await timed([process.execPath, join(root, 'bin/distillery.js'), 'train', '--data', csv, '--epochs', '1', '--out', out, '-q'], `t${tag++}`);
      console.error(`${n}: distillery train --epochs 1: ${proc.wall.toFixed(1)} s, ${gb(proc.maxRss)} GB peak`);
      const cmp = await timed([process.execPath, join(root, 'bin/distillery.js'), 'compare', '--old', out, '--new', out, '--data', csv, '--resamples', '100', '-q', '--json', join(work, 'compare.json'), '--force'], `c${tag++}`);
      console.error(`${n}: distillery compare: ${cmp.wall.toFixed(1)} s, ${gb(cmp.maxRss)} GB peak`);
      rmSync(out, { recursive: true, force: true });
      trains.push({ rows: n, seconds: proc.wall, maxRss: proc.maxRss, compare: { seconds: cmp.wall, maxRss: cmp.maxRss } });
    }
    rmSync(csv, { force: true });
    rmSync(join(work, `table-${n}.parquet`), { force: true });
  }

  const table = markdownTable(rows, trains);
  console.log(table);
  const results = { date: new Date().toISOString(), machine: machineInfo(python), pandas: pythonVersions(python), repeat, sizes, rows, train: trains, table };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(results, null, 1) + '\n');
  console.log(`wrote ${outFile}`);
}

function pythonVersions(python: string): string {
  return spawnSync(python, ['-c', 'import pandas, sklearn, sys; print(f"python {sys.version.split()[0]}, pandas {pandas.__version__}, scikit-learn {sklearn.__version__}")'], { encoding: 'utf8' }).stdout.trim();
}

/** The bench's Markdown table, and the 10M/1M time ratios when both sizes ran. */
function markdownTable(rows: Row[], trains: { rows: number; seconds: number; maxRss: number; compare?: { seconds: number; maxRss: number } }[]): string {
  const lines = [
    '| rows | format | file | Distillery load + preprocess | pandas + scikit-learn | ratio pandas / Distillery | `train --epochs 1` | `compare` |',
    '|---:|---|---:|---|---|---:|---|---|',
  ];
  for (const r of rows) {
    const train = trains.find((t) => t.rows === r.rows);
    const trainCell = r.format === 'csv' && train ? `${train.seconds.toFixed(1)} s, ${gb(train.maxRss)} GB | ${train.compare ? `${train.compare.seconds.toFixed(1)} s, ${gb(train.compare.maxRss)} GB` : ''}` : ' |';
    const d = r.distillery!;
    const dCell = 'unsupported' in d ? 'not supported yet' : `${d.seconds.toFixed(2)} s, ${gb(d.maxRss)} GB`;
    lines.push(`| ${r.rows.toLocaleString('en')} | ${r.format} | ${mb(r.fileBytes!)} MB | ${dCell} | ${r.pandas!.seconds.toFixed(2)} s, ${gb(r.pandas!.maxRss)} GB${r.pandasFromCsv ? ' (from the CSV: no pyarrow)' : ''} | ${r.ratio === undefined ? '—' : r.ratio.toFixed(2)} | ${trainCell} |`);
  }
  const scaling: string[] = [];
  for (const format of ['csv', 'parquet'] as const) {
    const at = (n: number) => rows.find((r) => r.rows === n && r.format === format);
    const big = at(10_000_000);
    const one = at(1_000_000);
    if (!big || !one) continue;
    const ds = (r: Row) => (r.distillery && 'seconds' in r.distillery ? r.distillery.seconds : NaN);
    scaling.push(`${format}: 10M/1M time ratio Distillery ${(ds(big) / ds(one)).toFixed(1)}, pandas ${(big.pandas!.seconds / one.pandas!.seconds).toFixed(1)}`);
  }
  return [...lines, ...(scaling.length ? ['', ...scaling] : [])].join('\n');
}

if (process.argv.includes('--child')) await child(option('file', ''));
else await main();
