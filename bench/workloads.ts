/**
 * Issue #15's real-workload rows in one run, each against its PyTorch 1.13 twin, on this machine:
 *
 *   node --import tsx bench/workloads.ts [--quick] [--only mainjob,step,...] [--out bench/results/workloads.json]
 *
 * Runs, one after another (nothing else should run on the machine), each bench with its own results
 * file under bench/results/ and collects the ratios (PyTorch seconds / Distillery seconds; > 1:
 * Distillery is faster) into one summary:
 *
 * - `step`: one update at batch 32 of the main job's MLP (bench/engine.ts --models letter --batch 32,
 *   the trainer against PyTorch's loop) → engine-letter-batch32.json
 * - `mainjob`: the main job end to end, the issue's subset of methods, 5 seeds, one trial at a time and
 *   two at a time (bench/mainjob.ts) → mainjob.json
 * - `ensemble`: the 8-member ensemble (bench/mainjob.ts with the ensemble method, 8 members; 3 seeds,
 *   one at a time) → mainjob-ensemble8.json
 * - `codistill`: a codistilling pair, two worker processes (bench/codistillPair.ts, 20,000 steps each)
 *   → codistill-pair.json
 * - `transfer`: a transfer chain, teacher → MLP 128 → MLP 16 with KD per hop, 5 seeds
 *   (bench/transferChain.ts) → transfer-chain.json
 * - `inference`: `distillery predict` over 100k rows (bench/inference.ts) → inference.json
 *
 * `--quick` shrinks every row (fewer seeds, steps, repeats) to check that the whole bench runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, option } from './harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const results = join(root, 'bench/results');
const outFile = resolve(option('out', join(results, quick ? 'workloads-quick.json' : 'workloads.json')));
const file = (name: string) => join(results, quick ? `${name}-quick.json` : `${name}.json`);

interface Row {
  name: string;
  what: string;
  command: string[];
  results: string;
  /** The headline ratios of the row, read from its results file. */
  ratios: (r: Record<string, unknown>) => Record<string, number>;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const rows: Row[] = [
  {
    name: 'step',
    what: 'one update step at batch 32, MLP 16-256-256-26 with dropout, 1 thread',
    command: ['bench/engine.ts', '--models', 'letter', '--batch', '32', '--threads', '1', '--engines', 'trainer,native', ...(quick ? ['--repeat', '1'] : []), '--out', file('engine-letter-batch32')],
    results: file('engine-letter-batch32'),
    ratios: (r: Json) => ({ trainer: r.results.find((x: Json) => x.via === 'trainModel')?.ratioVsTorch }),
  },
  {
    name: 'mainjob',
    what: "the main job end to end (plain, distill ×3, anchor, label smoothing), 5 seeds; seq = one trial at a time, pair = two at a time",
    command: ['bench/mainjob.ts', ...(quick ? ['--seeds', '1', '--repeat', '1'] : ['--repeat', '2']), '--out', file('mainjob')],
    results: file('mainjob'),
    ratios: (r: Json) => Object.fromEntries(r.rows.flatMap((x: Json) => [[x.mode, x.ratio], [`${x.mode} per step`, x.ratioPerStep]])),
  },
  {
    name: 'ensemble',
    what: 'an 8-member ensemble (base model + 8 members per seed), 3 seeds, one at a time',
    command: ['bench/mainjob.ts', '--methods', JSON.stringify([{ method: 'ensemble', reference: { kind: 'ensemble', members: 8 } }]), '--modes', 'seq', '--seeds', quick ? '1' : '1,2,3', '--repeat', quick ? '1' : '2', '--out', file('mainjob-ensemble8')],
    results: file('mainjob-ensemble8'),
    ratios: (r: Json) => ({ seq: r.rows[0].ratio, 'seq per step': r.rows[0].ratioPerStep }),
  },
  {
    name: 'codistill',
    what: 'a codistilling pair: two worker processes on disjoint shards exchanging checkpoints every 50 steps',
    command: ['bench/codistillPair.ts', '--steps', quick ? '1000' : '20000', '--repeat', quick ? '1' : '2', '--out', file('codistill-pair')],
    results: file('codistill-pair'),
    ratios: (r: Json) => ({ wall: r.ratio, 'training loops': r.trainingRatio }),
  },
  {
    name: 'transfer',
    what: 'a transfer chain: teacher MLP 512-512 → MLP 128 → MLP 16, KD (α 0.5, T 4) per hop, 5 seeds',
    command: ['bench/transferChain.ts', ...(quick ? ['--seeds', '1', '--repeat', '1'] : ['--repeat', '2']), '--out', file('transfer-chain')],
    results: file('transfer-chain'),
    ratios: (r: Json) => ({ wall: r.ratio, 'per step': r.ratioPerStep }),
  },
  {
    name: 'inference',
    what: '`distillery predict` over 100k rows, start-up, CSV in and out included',
    command: ['bench/inference.ts', '--repeat', quick ? '1' : '3', '--out', file('inference')],
    results: file('inference'),
    ratios: (r: Json) => ({ wall: r.ratio }),
  },
];

// the transfer row runs the built package (dist/), as a library user would: build it first
const built = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) throw new Error('bench/workloads.ts: the sources do not compile (tsc -p tsconfig.json)');

const only = option('only', '').split(',').filter(Boolean);
const summary: Json = { date: new Date().toISOString(), machine: machineInfo('/usr/bin/python3'), quick, rows: [] };
mkdirSync(results, { recursive: true });
for (const row of rows.filter((r) => only.length === 0 || only.includes(r.name))) {
  console.error(`== ${row.name}: ${row.what}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...row.command], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${row.name}: ${row.command.join(' ')} failed (${r.status})`);
  const ratios = row.ratios(JSON.parse(readFileSync(row.results, 'utf8')));
  summary.rows.push({ name: row.name, what: row.what, results: row.results.slice(root.length), ratios, benchSeconds: (Date.now() - t0) / 1000 });
  console.error(`== ${row.name}: ${Object.entries(ratios).map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(', ')}`);
}
writeFileSync(outFile, JSON.stringify(summary, null, 1) + '\n');
console.log(summary.rows.map((r: Json) => `| ${r.name} | ${r.what} | ${Object.entries(r.ratios).map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(', ')} |`).join('\n'));
