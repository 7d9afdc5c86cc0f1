/**
 * One codistillation worker (Anil et al. 2018, methods.md §2): trains copy i of the model on
 * its own shard. For the first B steps it minimises the task loss alone; after that
 *
 *     CE(onehot(y), z_i) + w · CE( mean_{j≠i} σ(z̃_j(x)), z_i )
 *
 * where z̃_j is peer j's latest PUBLISHED checkpoint, reloaded every R steps. Every R steps
 * the worker publishes its own checkpoint (weights, the trainer's snapshot, progress); a
 * restarted worker resumes from it, so at most R steps are redone. Only checkpoints travel.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { RawData } from '../data/types.js';
import { subsetDataset } from '../data/types.js';
import { buildNetwork } from '../models/build.js';
import { deriveSeed } from '../models/layers.js';
import { codistillationObjective, crossEntropyObjective } from '../objectives/objectives.js';
import { phasedObjective } from '../objectives/phased.js';
import type { TrainingCallback, TrainingState } from '../train/callbacks.js';
import { PeerModelsReference } from '../train/peers.js';
import { evaluate, trainModel } from '../train/trainer.js';
import type { TrainingSnapshot } from '../train/checkpoint.js';
import { InputError } from '../util/errors.js';
import { CheckpointRejected, decodeCheckpoint, encodeCheckpoint, modelWeights, setModelWeights, type WorkerProgress } from './checkpoint.js';
import { burnInSteps, type CodistillConfig } from './config.js';
import { prepareRunData } from './data.js';
import { shardRows } from './shards.js';
import type { CodistillStore, RunInfo } from './store.js';
import { StoreGuard } from './storeGuard.js';

export interface WorkerOptions {
  store: CodistillStore;
  runId: string;
  worker: number;
  /** Number of workers, as the caller believes (checked against the run). */
  of: number;
  /** The worker's copy of the run's data. */
  data: RawData;
  /** Names the data in errors. */
  dataName: string;
  log: (line: string) => void;
  /** Progress after each publication. */
  onProgress?: (p: { worker: number; step: number; steps: number; valAccuracy: number; loss: number; peers: number[] }) => void;
  /** How long the final publication may wait for an unreachable store (default 120 s). */
  storeTimeoutMs?: number;
}

function withoutWeights(s: TrainingSnapshot): Omit<TrainingSnapshot, 'weights'> {
  const { weights: _w, ...rest } = s;
  return rest;
}

export interface WorkerSummary {
  worker: number;
  steps: number;
  shardRows: number;
  valAccuracy: number;
  progress: WorkerProgress;
}

/**
 * Below this share of its steps after burn-in trained with a peer's term, a worker is reported as
 * having hardly codistilled (its peers' checkpoints came late or never: a peer started after it
 * finished, a store the peers do not share).
 */
export const MIN_DISTILLED_SHARE = 0.5;

/**
 * The warning for a worker that trained with the peers' term for none or few of its steps after
 * burn-in, or undefined. Nothing to warn of when there are no such steps or the term weighs 0.
 */
export function distillationWarning(distilledSteps: number, cfg: CodistillConfig): string | undefined {
  const after = cfg.steps - burnInSteps(cfg);
  if (after <= 0 || cfg.weight === 0 || distilledSteps >= MIN_DISTILLED_SHARE * after) return undefined;
  return distilledSteps === 0
    ? `distilled from no peer: none of its ${after} steps after burn-in had a peer's checkpoint (it trained alone)`
    : `distilled from its peers for ${distilledSteps} of its ${after} steps after burn-in only`;
}

/** The seed of worker i's initial weights and batch order (independent copies). */
export function workerSeed(runSeed: number, worker: number): number {
  return deriveSeed(runSeed, `codistill-worker-${worker}`);
}

/** The run's description, checked against what the worker was told. */
export async function joinRun(store: CodistillStore, runId: string, worker: number, of: number, guard?: StoreGuard): Promise<RunInfo> {
  const info = guard ? await guard.persist('read the run', () => store.readRun(runId), 120_000) : await store.readRun(runId);
  if (!info) throw new InputError('--run', `run "${runId}" not found in ${store.displayUrl}`);
  if (info.runId !== runId) throw new InputError('--run', `the store's run "${runId}" describes itself as run "${info.runId}"`);
  if (of !== info.config.workers) throw new InputError('--of', `run "${runId}" has ${info.config.workers} workers, not ${of}`);
  if (!(Number.isInteger(worker) && worker >= 0 && worker < of)) throw new InputError('--worker', `must be an integer in [0, ${of - 1}], got ${worker}`);
  return info;
}

export async function runCodistillWorker(opts: WorkerOptions): Promise<WorkerSummary> {
  const { store, runId, worker: i, log } = opts;
  const guard = new StoreGuard(log, store.displayUrl);
  const info = await joinRun(store, runId, i, opts.of, guard);
  const cfg = info.config;
  const n = cfg.workers;
  const data = prepareRunData(opts.data, cfg, info.preprocessing);
  if (data.fingerprint !== info.data.fingerprint) {
    throw new InputError(opts.dataName, `is not the data of run "${runId}" (${data.train.labels.length} training rows, fingerprint differs from the launcher's ${info.data.trainRows} rows)`);
  }
  const shard = subsetDataset(data.train, shardRows(data.train.labels.length, n, i, cfg.overlap, cfg.seed));
  if (shard.labels.length < cfg.batchSize) {
    throw new InputError('--batch-size', `worker ${i}'s shard has ${shard.labels.length} rows, fewer than a batch of ${cfg.batchSize}`);
  }
  const K = shard.classNames.length;
  const seed = workerSeed(cfg.seed, i);
  const expect = (worker: number) => ({ runId, worker, architectureHash: info.architectureHash });
  const storeTimeoutMs = opts.storeTimeoutMs ?? 120_000;

  const model = await buildNetwork(info.architecture, shard.featureShape, K, seed);
  const progress: WorkerProgress = { curve: [], seconds: 0, restarts: 0, silentPeers: [], refused: [], distilledSteps: 0, peerVersions: {} };
  let resume: TrainingSnapshot | undefined;
  const own = await guard.persist('read own checkpoint', () => store.latest(runId, i), storeTimeoutMs);
  if (own) {
    let content;
    try {
      content = decodeCheckpoint(own.bytes, expect(i));
    } catch (e) {
      if (e instanceof CheckpointRejected) throw new InputError('--run', `worker ${i}'s checkpoint in ${store.displayUrl} ${e.message}`);
      throw e;
    }
    setModelWeights(model, content.weights);
    Object.assign(progress, content.progress, { restarts: content.progress.restarts + (content.final ? 0 : 1) });
    if (content.final) {
      log(`worker ${i}: finished already (step ${content.step})`);
      model.dispose();
      return { worker: i, steps: content.step, shardRows: shard.labels.length, valAccuracy: progress.curve.at(-1)?.valAccuracy ?? NaN, progress };
    }
    if (!content.training) throw new InputError('--run', `worker ${i}'s checkpoint in ${store.displayUrl} at step ${content.step} carries no training state to resume from`);
    resume = { ...content.training, weights: content.weights };
    log(`worker ${i}: resuming from its checkpoint at step ${content.step}`);
  }

  const B = burnInSteps(cfg);
  const R = cfg.syncEvery;
  const peers = new PeerModelsReference(shard);
  const peerModels = new Map<number, LayersModel>();
  const loadedVersion = new Map<number, number>();
  const silent = new Set(progress.silentPeers);
  let step = resume?.steps ?? 0;
  let lastReload: number | undefined;
  let distillFrom: number | undefined; // wall time when distillation began (peer timeout)
  /** Whether the step being taken has the peers' term: after burn-in, with a peer loaded. */
  const distilling = () => step >= B && peers.peerIds.length > 0;
  const objective = phasedObjective(crossEntropyObjective(), codistillationObjective(cfg.weight), () => !distilling());
  const sessionStart = Date.now();
  const secondsBefore = progress.seconds;
  const seconds = () => secondsBefore + (Date.now() - sessionStart) / 1000;

  /** Loads a stored peer checkpoint into that peer's copy, unless it is refused. */
  const usePeer = async (j: number, stored: { version: number; bytes: Uint8Array }) => {
    loadedVersion.set(j, stored.version);
    try {
      const content = decodeCheckpoint(stored.bytes, expect(j));
      let m = peerModels.get(j);
      if (!m) peerModels.set(j, (m = await buildNetwork(info.architecture, shard.featureShape, K, workerSeed(cfg.seed, j))));
      setModelWeights(m, content.weights);
      peers.setPeer(j, m);
      (progress.peerVersions[j] ??= []).push(stored.version);
    } catch (e) {
      if (!(e instanceof CheckpointRejected)) throw e;
      const line = `worker ${j} v${stored.version}: ${e.message}`;
      progress.refused.push(line);
      log(`worker ${i}: refused checkpoint of ${line}; keeping the copy it had`);
    }
  };
  const markSilent = (j: number, why: string, training = true) => {
    silent.add(j);
    progress.silentPeers = [...silent].sort((a, b) => a - b);
    log(`worker ${i}: peer ${j} ${why}${training ? '; training without waiting for it' : ''}`);
  };

  /** Lockstep: the peers' checkpoints of round `version`, waiting for each (up to the peer timeout). */
  const reloadRound = async (version: number) => {
    for (let j = 0; j < n; j++) {
      if (j === i || silent.has(j) || loadedVersion.get(j) === version) continue;
      const waitFrom = Date.now();
      for (;;) {
        const stored = await guard.attempt(`read worker ${j}`, () => store.version(runId, j, version));
        if (stored) {
          await usePeer(j, stored);
          break;
        }
        const newest = await guard.attempt(`poll worker ${j}`, () => store.newest(runId, j));
        if (newest && newest.version > version) {
          log(`worker ${i}: worker ${j}'s checkpoint of step ${version} is gone; taking its newest (step ${newest.version})`);
          const latest = await guard.attempt(`read worker ${j}`, () => store.latest(runId, j));
          if (latest) await usePeer(j, latest);
          break;
        }
        if ((Date.now() - waitFrom) / 1000 > cfg.peerTimeout) {
          markSilent(j, `has not published step ${version} within ${cfg.peerTimeout} s`);
          break;
        }
        await flush(); // a peer may be waiting for this worker's own pending publication
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  const reloadPeers = async () => {
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const have = loadedVersion.get(j) ?? 0;
      const version = (await guard.attempt(`poll worker ${j}`, () => store.newest(runId, j)))?.version;
      if (version === undefined || version <= have) continue;
      const stored = await guard.attempt(`read worker ${j}`, () => store.latest(runId, j));
      if (!stored || stored.version <= have) continue;
      await usePeer(j, stored);
    }
    distillFrom ??= Date.now();
    for (let j = 0; j < n; j++) {
      if (j === i || loadedVersion.has(j) || silent.has(j)) continue;
      if ((Date.now() - distillFrom) / 1000 > cfg.peerTimeout) markSilent(j, `has published no checkpoint ${cfg.peerTimeout} s after burn-in`);
    }
  };

  let pending: { version: number; step: number; final: boolean; bytes: Uint8Array } | undefined;
  let lastLoss = NaN;
  const checkpoint = async (state: TrainingState, final: boolean) => {
    const valAccuracy = evaluate(model, data.validation).accuracy;
    progress.seconds = seconds();
    progress.curve.push({ step: state.steps, seconds: progress.seconds, valAccuracy });
    const bytes = encodeCheckpoint({
      runId, worker: i, version: state.steps, step: state.steps, final, architectureHash: info.architectureHash,
      weights: modelWeights(model),
      // a final checkpoint is never resumed from (and the trainer has released its optimizer)
      ...(final ? {} : { training: withoutWeights(await state.snapshot()) }),
      progress,
    });
    pending = { version: state.steps, step: state.steps, final, bytes };
    opts.onProgress?.({ worker: i, step: state.steps, steps: cfg.steps, valAccuracy, loss: lastLoss, peers: peers.peerIds });
  };
  const flush = async () => {
    if (!pending) return;
    const p = pending;
    const done = await guard.attempt(`publish step ${p.step}`, () => store.publish(runId, i, { version: p.version, step: p.step, final: p.final }, p.bytes).then(() => true));
    if (done && pending === p) pending = undefined;
  };

  let finalState: TrainingState | undefined;
  const codistillation: TrainingCallback = {
    onBatchBegin: async (s) => {
      step = s;
      // Reloads at B and at every multiple of R after it (and where a resumed run starts).
      if (s >= B && (s === B || s % R === 0 || lastReload === undefined)) {
        lastReload = s;
        const round = Math.floor(s / R) * R; // the newest publication round at or before s
        if (!cfg.lockstep) await reloadPeers();
        else if (round >= R) await reloadRound(round);
      }
      if (distilling()) progress.distilledSteps++;
    },
    onBatchEnd: async (s, loss, state) => {
      lastLoss = loss;
      if (s % R === 0 && s < cfg.steps) await checkpoint(state, false);
      await flush();
    },
    onTrainEnd: (state) => {
      finalState = state;
    },
  };

  const batchesPerEpoch = Math.ceil(shard.labels.length / cfg.batchSize);
  await trainModel(model, shard, {
    objective,
    reference: peers,
    epochs: Math.ceil(cfg.steps / batchesPerEpoch),
    maxSteps: cfg.steps,
    batchSize: cfg.batchSize,
    optimizer: 'adam',
    learningRate: cfg.learningRate,
    seed,
    callbacks: [codistillation],
    resumeFrom: resume,
  });
  // A peer never heard from after burn-in is silent however short the run (the peer timeout
  // may not have passed), and a worker that distilled for few of its steps says so.
  if (B < cfg.steps) {
    for (let j = 0; j < n; j++) {
      if (j !== i && !loadedVersion.has(j) && !silent.has(j)) markSilent(j, 'published no checkpoint before this worker finished', false);
    }
    const warning = distillationWarning(progress.distilledSteps, cfg);
    if (warning) log(`worker ${i}: warning: ${warning}`);
  }
  await checkpoint(finalState!, true);
  const last = pending!;
  await guard.persist(`publish final checkpoint`, () => store.publish(runId, i, { version: last.version, step: last.step, final: true }, last.bytes), storeTimeoutMs);
  pending = undefined;
  const summary: WorkerSummary = { worker: i, steps: finalState!.steps, shardRows: shard.labels.length, valAccuracy: progress.curve.at(-1)!.valAccuracy, progress };
  peers.dispose();
  model.dispose();
  return summary;
}
