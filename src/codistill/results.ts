/**
 * The results of a finished codistillation run, from the workers' final checkpoints: each
 * worker's model (tfjs LayersModel + distillery.json), the deliverable (the worker best on
 * validation), the ensemble of all workers (mean probabilities) as the paragon, and each
 * worker's time-to-accuracy curve, all in `<out>/codistill.json`. The run directory is one
 * output under the output policy (util/outputs.ts): written whole or not at all.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { buildNetwork } from '../models/build.js';
import { saveModel } from '../models/io.js';
import { argmaxRows, softmax } from '../models/logits.js';
import { accuracy } from '../models/agreement.js';
import { predictLogits } from '../models/predict.js';
import type { TrainedModel } from '../models/types.js';
import { engineInfo } from '../engine/index.js';
import { networkMetadata } from '../models/metadata.js';
import { metadataFileSignature, type OutputTarget } from '../util/outputs.js';
import { DistilleryError } from '../util/errors.js';
import { decodeCheckpoint, setModelWeights, type CurvePoint } from './workerCheckpoint.js';
import { burnInSteps, type CodistillConfig } from './config.js';
import type { RunData } from './data.js';
import { shardRows } from './shards.js';
import type { CodistillStore, RunInfo } from './store.js';
import { distillationWarning, workerSeed } from './worker.js';
import { StoreGuard } from './storeGuard.js';

export const RUN_JSON = 'codistill.json';
export const RESULT_FORMAT = 'distillery-codistill-result';

/** A codistillation run directory as an output: Distillery's when its codistill.json says so. */
export function codistillRunOutput(dir: string, flag = '--out'): OutputTarget {
  return { path: dir, type: 'dir', what: 'codistillation run directory', flag, isOurs: metadataFileSignature(RUN_JSON, new RegExp(`^\\{\\s*"format": "${RESULT_FORMAT}"`)) };
}

export interface WorkerResult {
  worker: number;
  steps: number;
  shardRows: number;
  valAccuracy: number;
  restarts: number;
  trainingSeconds: number;
  curve: CurvePoint[];
  silentPeers: number[];
  refusedCheckpoints: string[];
  /** Steps trained with the peers' term, of the `steps - burnInSteps` after burn-in. */
  distilledSteps: number;
  /** The versions (steps) of each peer's checkpoints the worker distilled from, by peer. */
  peerVersions: Record<number, number[]>;
  modelDir: string;
}

export interface CodistillResult {
  format: typeof RESULT_FORMAT;
  runId: string;
  /** The store, password masked. */
  store: string;
  config: CodistillConfig;
  burnInSteps: number;
  architecture: RunInfo['architecture'];
  data: Omit<RunInfo['data'], 'fingerprint'>;
  workers: WorkerResult[];
  deliverable: { worker: number; valAccuracy: number; modelDir: string };
  ensemble: { members: number; valAccuracy: number };
  /** What the user must know before taking the run for a codistillation: workers that (hardly) distilled. */
  warnings: string[];
  /** Share of validation rows on which two workers' predictions differ, averaged over pairs. */
  meanPairwiseDisagreement: number;
  /** Wall-clock seconds of the whole run (launch to results). */
  wallSeconds: number;
  engine?: string;
  createdAt: string;
}

/**
 * Reads every worker's final checkpoint and writes the models and codistill.json into `dir`
 * (the temporary sibling of the run directory `out`, which the recorded paths name).
 */
export async function collectResults(
  store: CodistillStore,
  info: RunInfo,
  data: RunData,
  where: { dir: string; out: string },
  extra: { restarts: number[]; wallSeconds: number; log?: (line: string) => void },
): Promise<CodistillResult> {
  const out = path.resolve(where.out);
  const cfg = info.config;
  const guard = new StoreGuard(extra.log ?? (() => {}), store.displayUrl);
  const K = data.validation.classNames.length;
  const workers: WorkerResult[] = [];
  const preds: Int32Array[] = [];
  const probSum = new Float32Array(data.validation.labels.length * K);
  for (let i = 0; i < cfg.workers; i++) {
    const stored = await guard.persist(`read worker ${i}'s final checkpoint`, () => store.latest(info.runId, i), 120_000);
    if (!stored?.final) throw new DistilleryError(`worker ${i} has no final checkpoint in ${store.displayUrl}`, 1);
    const content = decodeCheckpoint(stored.bytes, { runId: info.runId, worker: i, architectureHash: info.architectureHash });
    const model = await buildNetwork(info.architecture, data.train.featureShape, K, workerSeed(cfg.seed, i));
    setModelWeights(model, content.weights);
    const logits = predictLogits(model, data.validation.features, data.validation.featureShape);
    const pred = argmaxRows(logits, K);
    preds.push(pred);
    const p = softmax(logits, K);
    for (let k = 0; k < p.length; k++) probSum[k] += p[k];
    const valAccuracy = accuracy(pred, data.validation.labels);
    const rows = shardRows(data.train.labels.length, cfg.workers, i, cfg.overlap, cfg.seed).length;
    const modelDir = path.join(out, `worker-${i}`);
    const trained = trainedModel(model, info, i, rows, data, valAccuracy, content.step);
    await saveModel(path.join(where.dir, `worker-${i}`), trained);
    workers.push({
      worker: i,
      steps: content.step,
      shardRows: rows,
      valAccuracy,
      restarts: Math.max(content.progress.restarts, extra.restarts[i] ?? 0),
      trainingSeconds: content.progress.seconds,
      curve: content.progress.curve,
      silentPeers: content.progress.silentPeers,
      refusedCheckpoints: content.progress.refused,
      distilledSteps: content.progress.distilledSteps,
      peerVersions: content.progress.peerVersions,
      modelDir,
    });
    model.dispose();
  }
  const best = workers.reduce((a, b) => (b.valAccuracy > a.valAccuracy ? b : a));
  const deliverableDir = path.join(out, 'deliverable');
  {
    const model = await buildNetwork(info.architecture, data.train.featureShape, K, workerSeed(cfg.seed, best.worker));
    const stored = await guard.persist('read the deliverable', () => store.latest(info.runId, best.worker), 120_000);
    setModelWeights(model, decodeCheckpoint(stored!.bytes, { runId: info.runId, worker: best.worker, architectureHash: info.architectureHash }).weights);
    await saveModel(path.join(where.dir, 'deliverable'), trainedModel(model, info, best.worker, best.shardRows, data, best.valAccuracy, best.steps));
    model.dispose();
  }
  let pairs = 0;
  let disagreement = 0;
  for (let a = 0; a < preds.length; a++) {
    for (let b = a + 1; b < preds.length; b++) {
      pairs++;
      // churn, as 1 − the share of rows on which the pair agrees (churn's changed/n may differ in the last bit)
      disagreement += 1 - accuracy(preds[a], preds[b]);
    }
  }
  const { fingerprint: _f, ...dataInfo } = info.data;
  const result: CodistillResult = {
    format: RESULT_FORMAT,
    runId: info.runId,
    store: store.displayUrl,
    config: cfg,
    burnInSteps: burnInSteps(cfg),
    architecture: info.architecture,
    data: dataInfo,
    workers,
    deliverable: { worker: best.worker, valAccuracy: best.valAccuracy, modelDir: deliverableDir },
    ensemble: { members: workers.length, valAccuracy: accuracy(argmaxRows(probSum, K), data.validation.labels) },
    warnings: workers.flatMap((w) => {
      const warning = w.distilledSteps === undefined ? undefined : distillationWarning(w.distilledSteps, cfg); // undefined: a checkpoint of an older version
      return warning ? [`worker ${w.worker} ${warning}${w.silentPeers.length ? ` (silent peers: ${w.silentPeers.join(', ')})` : ''}`] : [];
    }),
    meanPairwiseDisagreement: disagreement / pairs,
    wallSeconds: extra.wallSeconds,
    engine: engineInfo()?.backend,
    createdAt: new Date().toISOString(),
  };
  await fs.writeFile(path.join(where.dir, RUN_JSON), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

function trainedModel(model: TrainedModel['model'], info: RunInfo, worker: number, rows: number, data: RunData, valAccuracy: number, steps: number): TrainedModel {
  const cfg = info.config;
  return {
    model,
    meta: networkMetadata({
      architecture: info.architecture,
      inputShape: data.train.featureShape.slice(),
      classNames: data.train.classNames.slice(),
      preprocessing: info.preprocessing,
      recipe: {
        method: 'codistill-workers',
        params: { workers: cfg.workers, worker, syncEvery: cfg.syncEvery, weight: cfg.weight, burnIn: cfg.burnIn, overlap: cfg.overlap, runId: info.runId },
        objective: 'codistillation',
        objectiveParams: { weight: cfg.weight, burnInSteps: burnInSteps(cfg) },
        training: { epochs: Math.ceil((steps * cfg.batchSize) / rows), batchSize: cfg.batchSize, optimizer: 'adam', learningRate: cfg.learningRate, patience: 0 },
        maxSteps: cfg.steps,
        trainExamples: rows,
        validationExamples: data.validation.labels.length,
        exampleWeights: false,
        data: info.data.name,
      },
      metrics: { epochsRun: Math.ceil((steps * cfg.batchSize) / rows), bestEpoch: Math.ceil((steps * cfg.batchSize) / rows), validationAccuracy: valAccuracy },
      seed: workerSeed(cfg.seed, worker),
    }),
  };
}
