/**
 * A codistillation pair end to end (issue #15): `distillery codistill` with two worker processes on
 * this machine against an independent PyTorch 1.13 re-implementation of the same protocol
 * (bench/torch_codistill.py), in the same run, on the same rows.
 *
 *   node --import tsx bench/codistillPair.ts [--steps 2000] [--sync-every 50] [--weight 1] [--burn-in 0.4]
 *        [--seed 1] [--repeat 2] [--out bench/results/codistill-pair.json]
 *
 * The setting: the embedded letter data, 10% held out for validation (prepareRunData), the rest cut
 * into two disjoint shards (shardRows, overlap 0); the main job's model (configs/letter-update.yaml:
 * MLP 16→256→256→26, ReLU, dropout 0.2, Glorot uniform weights, zero biases); Adam, learning rate
 * 0.001, batch 32, `--steps` optimizer steps per worker; task loss alone for the first
 * B = round(burn-in · steps) steps, then CE(y, z_i) + w·CE(mean_{j≠i} σ(z̃_j), z_i) with z̃_j peer j's
 * newest published checkpoint (asynchronous, as in the paper), reloaded every R steps; each worker
 * measures validation accuracy and publishes a checkpoint every R steps (methods.md §2). Every process
 * has one engine thread (DISTILLERY_THREADS=1 and --worker-threads 1; torch.set_num_threads(1),
 * OPENBLAS_NUM_THREADS=1), so the two workers of a side run on the two cores at once.
 *
 * What each side does, timed from start to exit by /usr/bin/time (wall, and CPU of the process and
 * its workers):
 *  - Distillery: the CLI (`node bin/distillery.js -q codistill --data letter …`) starts, reads the
 *    gzipped CSV and preprocesses it, describes the run in a directory store, starts two
 *    `codistill-worker` processes (each a new Node process that loads the engine, reads the gzipped
 *    CSV and preprocesses it again, checks its rows' fingerprint, trains, publishes checkpoints:
 *    weights, optimizer state, batch-order and dropout streams, progress; one SHA-256-checked blob,
 *    fsynced and renamed, then its manifest), then reads the final checkpoints, measures each worker
 *    and the ensemble on validation, and writes the run directory (each worker's model and the
 *    deliverable as tfjs LayersModels, codistill.json, report.md, report.html).
 *  - PyTorch: `python3 bench/torch_codistill.py` starts, imports torch, starts two worker processes
 *    (each imports torch and reads its shard and the validation rows as prepared float32/int32
 *    binaries: no CSV, no preprocessing), which train and publish checkpoints (torch.save of the
 *    weights, optimizer and RNG state, progress; fsynced and renamed, then a manifest), then it reads
 *    the final checkpoints, measures each worker and the ensemble on validation, and saves the models
 *    (state_dicts) and a JSON summary; no report files.
 * What differs: the reading of the data (above); the initial weights, batch orders and dropout masks
 * (same distributions, different random streams: the accuracies agree in distribution, not to the
 * digit); checkpoint formats (Distillery's is checksummed); and, the exchange being asynchronous,
 * which peer version a reload finds depends on timing on both sides. The rows come from Distillery's
 * own functions (loadData, prepareRunData, shardRows), written once before the timings.
 *
 * The sides alternate (Distillery, PyTorch, Distillery, …, `--repeat` times each) and the fastest of
 * each is kept. Reported per side: wall and CPU seconds, optimizer steps (both workers), each
 * worker's validation accuracy and in-loop training seconds, the ensemble's validation accuracy;
 * and the speed ratio PyTorch seconds / Distillery seconds (> 1: Distillery is faster), the same
 * per optimizer step, in CPU seconds, and over the workers' training loops alone (no start-up,
 * data reading or collection).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { loadData } from '../src/data/builtin.js';
import { subsetDataset, type Dataset } from '../src/data/types.js';
import { prepareRunData } from '../src/codistill/data.js';
import { shardRows } from '../src/codistill/shards.js';
import type { CodistillResult } from '../src/codistill/results.js';
import { fastest, machineInfo, option as opt, sideBySideRun, type Proc } from './harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORKERS = 2;
const setting = {
  data: 'letter',
  workers: WORKERS,
  steps: Number(opt('steps', '2000')),
  syncEvery: Number(opt('sync-every', '50')),
  weight: Number(opt('weight', '1')),
  burnIn: Number(opt('burn-in', '0.4')),
  batchSize: 32,
  learningRate: 0.001,
  validation: 0.1,
  seed: Number(opt('seed', '1')),
  /** The main job's architecture. */
  model: (parseYaml(readFileSync(join(root, 'configs/letter-update.yaml'), 'utf8')) as { model: { kind: 'mlp'; hidden: number[]; dropout?: number } }).model,
};
const { repeat, python, outFile, work, timed } = sideBySideRun(root, 'codistill-pair');

// The rows each worker trains on, and the validation rows, as Distillery's launcher and workers derive them.
const dataDir = join(work, 'data');
mkdirSync(dataDir);
const runData = prepareRunData(await loadData(setting.data), setting);
const write = (part: string, ds: Dataset) => {
  writeFileSync(join(dataDir, `${part}.x.f32`), Buffer.from(ds.features.buffer, ds.features.byteOffset, ds.features.byteLength));
  writeFileSync(join(dataDir, `${part}.y.i32`), Buffer.from(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  return ds.labels.length;
};
const trainRows = runData.train.labels.length;
const shards = [...Array(WORKERS).keys()].map((i) => write(`shard-${i}`, subsetDataset(runData.train, shardRows(trainRows, WORKERS, i, 0, setting.seed))));
const validationRows = write('validation', runData.validation);
writeFileSync(
  join(dataDir, 'manifest.json'),
  JSON.stringify({ workers: WORKERS, features: runData.train.featureShape[0], classes: runData.train.classNames.length, model: setting.model, shards, validation: validationRows }, null, 2) + '\n',
);
const modelConfig = join(work, 'model.json');
writeFileSync(modelConfig, JSON.stringify(setting.model) + '\n'); // JSON is YAML

interface WorkerRow { worker: number; steps: number; shardRows: number; valAccuracy: number; trainingSeconds: number }
interface Side { seconds: number; cpuSeconds: number; steps: number; workers: WorkerRow[]; ensembleValAccuracy: number; meanPairwiseDisagreement: number }

const sideOf = (p: Proc, r: Pick<CodistillResult, 'workers' | 'ensemble' | 'meanPairwiseDisagreement'>): Side => ({
  seconds: p.wall,
  cpuSeconds: p.user + p.sys,
  steps: r.workers.reduce((s, w) => s + w.steps, 0),
  workers: r.workers.map(({ worker, steps, shardRows, valAccuracy, trainingSeconds }) => ({ worker, steps, shardRows, valAccuracy, trainingSeconds })),
  ensembleValAccuracy: r.ensemble.valAccuracy,
  meanPairwiseDisagreement: r.meanPairwiseDisagreement,
});

let runNo = 0;
async function distillery(): Promise<Side> {
  const out = join(work, `distillery-${runNo++}`);
  const p = await timed(
    [
      process.execPath, join(root, 'bin/distillery.js'), '-q', 'codistill', '--data', setting.data, '--model-config', modelConfig,
      '--workers', String(WORKERS), '--worker-threads', '1', '--steps', String(setting.steps), '--sync-every', String(setting.syncEvery),
      '--weight', String(setting.weight), '--burn-in', String(setting.burnIn), '--batch-size', String(setting.batchSize),
      '--lr', String(setting.learningRate), '--validation', String(setting.validation), '--seed', String(setting.seed), '--out', out,
    ],
    `d${runNo}`,
  );
  const result = JSON.parse(readFileSync(join(out, 'codistill.json'), 'utf8')) as CodistillResult;
  rmSync(out, { recursive: true, force: true });
  if (result.data.trainRows !== trainRows || result.data.validationRows !== validationRows || result.workers.some((w, i) => w.shardRows !== shards[i])) {
    throw new Error(`the Distillery run's rows (${result.data.trainRows} training, ${result.data.validationRows} validation) are not the exported ones (${trainRows}, ${validationRows})`);
  }
  return sideOf(p, result);
}

/** What bench/torch_codistill.py prints: codistill.json's fields that sideOf reads, and each worker's peers at the end. */
interface TorchResult extends Pick<CodistillResult, 'ensemble' | 'meanPairwiseDisagreement'> {
  workers: (CodistillResult['workers'][number] & { peers: number[] })[];
}
async function torch(): Promise<Side> {
  const out = join(work, `torch-${runNo++}`);
  const p = await timed(
    [
      python, join(root, 'bench/torch_codistill.py'), '--data', dataDir, '--out', out, '--threads', '1', '--steps', String(setting.steps),
      '--sync-every', String(setting.syncEvery), '--weight', String(setting.weight), '--burn-in', String(setting.burnIn),
      '--batch-size', String(setting.batchSize), '--lr', String(setting.learningRate), '--seed', String(setting.seed),
    ],
    `t${runNo}`,
  );
  const result = JSON.parse(p.stdout.trim().split('\n').pop()!) as TorchResult;
  rmSync(out, { recursive: true, force: true });
  if (result.workers.some((w) => w.peers.length !== WORKERS - 1)) throw new Error(`a PyTorch worker ended without its peer in its loss: ${JSON.stringify(result.workers.map((w) => w.peers))}`);
  return sideOf(p, result);
}

const d: Side[] = [];
const t: Side[] = [];
const accuracies = (s: Side) => `${s.workers.map((w) => (100 * w.valAccuracy).toFixed(1)).join('/')}%`;
for (let i = 0; i < repeat; i++) {
  d.push(await distillery());
  t.push(await torch());
  console.error(`#${i + 1}: Distillery ${d[i].seconds.toFixed(1)} s (workers ${accuracies(d[i])}), PyTorch ${t[i].seconds.toFixed(1)} s (workers ${accuracies(t[i])})`);
}
const bd = fastest(d);
const bt = fastest(t);
const meanTraining = (s: Side) => s.workers.reduce((a, w) => a + w.trainingSeconds, 0) / s.workers.length;
const results = {
  bench: 'codistillation pair end to end: distillery codistill against bench/torch_codistill.py',
  machine: machineInfo(python),
  setting: { ...setting, trainRows, validationRows, shards },
  repeat,
  distillery: { ...bd, allSeconds: d.map((x) => x.seconds), msPerStep: (1000 * bd.seconds) / bd.steps },
  pytorch: { ...bt, allSeconds: t.map((x) => x.seconds), msPerStep: (1000 * bt.seconds) / bt.steps },
  /** PyTorch seconds / Distillery seconds: > 1 means Distillery is faster. */
  ratio: bt.seconds / bd.seconds,
  /** The same per optimizer step (both sides take the same number of steps, so it equals `ratio`). */
  ratioPerStep: bt.seconds / bt.steps / (bd.seconds / bd.steps),
  cpuRatio: bt.cpuSeconds / bd.cpuSeconds,
  /** Over the workers' training loops alone (mean of the workers' in-loop seconds): no start-up, data reading or collection. */
  trainingRatio: meanTraining(bt) / meanTraining(bd),
  date: new Date().toISOString(),
};
console.log(
  `Distillery ${bd.seconds.toFixed(1)} s (${bd.cpuSeconds.toFixed(1)} CPU s, ${bd.steps} steps, workers ${accuracies(bd)}, ensemble ${(100 * bd.ensembleValAccuracy).toFixed(1)}%), ` +
    `PyTorch ${bt.seconds.toFixed(1)} s (${bt.cpuSeconds.toFixed(1)} CPU s, ${bt.steps} steps, workers ${accuracies(bt)}, ensemble ${(100 * bt.ensembleValAccuracy).toFixed(1)}%): ` +
    `ratio ${results.ratio.toFixed(2)}, per step ${results.ratioPerStep.toFixed(2)}, CPU ${results.cpuRatio.toFixed(2)}, training loops ${results.trainingRatio.toFixed(2)}`,
);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${outFile}`);
