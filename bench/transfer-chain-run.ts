/**
 * Distillery's side of bench/transferChain.ts: one fixed transfer chain per seed, through the
 * library's API as a user of the built package calls it (dist/: the root and its experiments,
 * methods and models subpaths, loaded at run time):
 *
 *   transferTrialRows      the seed's training/validation draw and the test set, preprocessed
 *   trainTransferTeacher   the teacher, cross entropy, early stopping (as `distillery transfer`)
 *   trainHop × (m + 1)     teacher → intermediate 1 → … → intermediate m → student, each hop the
 *                          config's one KD entry, its teacher's logits on the training rows
 *                          computed once (ReferenceCache), seeds chainModelSeed(seed, depth)
 *   classifierAccuracy     every model's test accuracy
 *
 * No per-hop method search and no chain search (`distillery transfer` does both): every hop
 * trains exactly one model, so that the PyTorch twin does the same work.
 *
 *   node bench/transfer-chain-run.js --config <transfer config JSON> --dist <dist dir> [--export <dir>]
 *
 * Prints one JSON line. With `--export`, writes instead each seed's rows for the twin
 * (`<dir>/seed-<s>/{train,validation,test}.{x.f32,y.i32}`) and `<dir>/manifest.json`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Root from '../src/index.js';
import type * as Experiments from '../src/experiments/index.js';
import type * as Methods from '../src/methods/index.js';
import type * as Models from '../src/models/index.js';
import { option, writeRows } from './harness.js';

const distDir = resolve(option('dist', 'dist'));
type Distillery = typeof Root & typeof Experiments & typeof Methods & typeof Models;
const load = async (entry: string): Promise<object> => import(pathToFileURL(join(distDir, entry)).href).catch(() => ({}));
// The root and the subpaths of the package's exports (a dist/ from before the subpaths: all in its index.js).
const lib = Object.assign({}, ...(await Promise.all(['index.js', 'experiments/index.js', 'methods/index.js', 'models/index.js'].map(load)))) as Distillery;
if (typeof lib.transferTrialRows !== 'function') throw new Error(`${distDir} is older than the sources (no transferTrialRows): run npm run build`);
const cfg = lib.parseTransferConfig(JSON.parse(readFileSync(option('config', ''), 'utf8')), option('config', ''));
if (cfg.candidates === 'auto' || cfg.methods.length !== 1 || cfg.methods[0].method !== 'kd') throw new Error('transfer-chain-run: the config needs its chain (candidates: a list) and exactly one hop method, kd');
if (!('model' in cfg.teacher)) throw new Error('transfer-chain-run: the teacher must be an architecture (trained per seed)');
const chain = cfg.candidates;
const hop = cfg.methods[0];
const engine = await lib.initEngine({ threads: Number(process.env.DISTILLERY_THREADS ?? 1) });
const data = await lib.prepareTransferData(cfg);
const setupSeconds = performance.now() / 1000;

const exportDir = option('export', '');
if (exportDir) {
  const parts: Record<string, Record<string, number>> = {};
  let rows: Experiments.TransferTrialRows | undefined;
  for (const seed of cfg.seeds) {
    rows = lib.transferTrialRows(cfg, seed, data);
    const dir = join(exportDir, `seed-${seed}`);
    mkdirSync(dir, { recursive: true });
    parts[seed] = { train: writeRows(dir, 'train', rows.train), validation: writeRows(dir, 'validation', rows.validation), test: writeRows(dir, 'test', rows.test) };
  }
  const manifest = {
    seeds: cfg.seeds,
    features: rows!.train.featureShape[0],
    classes: rows!.preprocessing.classNames.length,
    teacher: { model: cfg.teacher.model, training: cfg.teacher.training ?? cfg.training },
    chain: [...chain, cfg.student],
    hop,
    training: cfg.training,
    parts,
  };
  writeFileSync(join(exportDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  process.exit(0);
}

interface ModelRun { name: string; parameters: number; epochs: number; steps: number; validationAccuracy: number; testAccuracy: number }
const trials: { seed: number; models: ModelRun[] }[] = [];
const t0 = performance.now();
for (const seed of cfg.seeds) {
  const rows = lib.transferTrialRows(cfg, seed, data);
  const stepsPerEpoch = Math.ceil(rows.train.labels.length / Math.min(cfg.training.batchSize, rows.train.labels.length));
  const run = (name: string, trained: Root.TrainedModel, validationAccuracy: number): ModelRun => ({
    name,
    parameters: trained.model.countParams(),
    epochs: trained.meta.metrics.epochsRun,
    steps: trained.meta.metrics.epochsRun * stepsPerEpoch,
    validationAccuracy,
    testAccuracy: lib.classifierAccuracy(lib.networkClassifier(trained), rows.test),
  });
  const teacher = await lib.trainTransferTeacher(cfg, seed, rows);
  const models = [run(`teacher ${lib.describeArchitecture(teacher.meta.architecture)}`, teacher, lib.classifierAccuracy(lib.networkClassifier(teacher), rows.validation))];
  const references = new lib.ReferenceCache();
  const trained = [teacher];
  for (const [i, student] of [...chain, cfg.student].entries()) {
    const depth = i < chain.length ? i + 1 : 0; // the student's seed is chainModelSeed(seed, 0), as in searchChain
    const { model, validationAccuracy } = await lib.trainHop({
      teacher: trained[trained.length - 1],
      student,
      method: hop,
      train: rows.train,
      validation: rows.validation,
      references,
      training: cfg.training,
      seed: lib.chainModelSeed(seed, depth),
    });
    if (model.kind !== 'network') throw new Error('transfer-chain-run: every model of the chain is a network');
    trained.push(model.trained);
    models.push(run(lib.describeArchitecture(student), model.trained, validationAccuracy));
  }
  trained.forEach((m) => m.model.dispose());
  trials.push({ seed, models });
}
const trainSeconds = (performance.now() - t0) / 1000;
const all = trials.flatMap((t) => t.models);
console.log(
  JSON.stringify({
    engine: { backend: engine.backend, threads: engine.threads, blas: engine.blas },
    setupSeconds,
    trainSeconds,
    seconds: performance.now() / 1000,
    modelsTrained: all.length,
    totalEpochs: all.reduce((s, m) => s + m.epochs, 0),
    totalSteps: all.reduce((s, m) => s + m.steps, 0),
    trials,
  }),
);
