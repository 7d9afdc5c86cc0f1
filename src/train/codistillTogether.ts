/**
 * Codistillation of n copies inside one process, in synchronous rounds: the copies train
 * concurrently (interleaved at each step's callbacks), and every R steps all of them stop
 * at a barrier, snapshot their weights, and load each other's snapshots as their stale
 * peers. It is the algorithm of the worker processes (codistill/worker.ts) with the publication
 * timing made exact, so a run is a function of its seeds: what reproducibility
 * experiments and the codistillation update method need.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/types.js';
import { buildNetwork } from '../models/build.js';
import type { ModelConfig } from '../models/config.js';
import { codistillationObjective, crossEntropyObjective } from '../objectives/targetObjectives.js';
import { phasedObjective } from '../objectives/phased.js';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingCallback } from './callbacks.js';
import { PeerModelsReference } from './peers.js';
import { trainModel, type TrainResult } from './trainer.js';
import type { ProgressSink } from './progress.js';

/** The schedule of a codistillation: steps, R, w, burn-in (a fraction of the steps), batch, learning rate. */
export interface TogetherConfig {
  steps: number;
  /** R: steps between publications (and reloads of the peers). */
  syncEvery: number;
  /** w: weight of the peers' term. */
  weight: number;
  /** Burn-in as a fraction of `steps`: the task loss alone before it. */
  burnIn: number;
  batchSize: number;
  learningRate: number;
  /** Default Adam. */
  optimizer?: 'adam' | 'sgd';
}

/** Burn-in B in steps. */
export function burnInSteps(cfg: Pick<TogetherConfig, 'burnIn' | 'steps'>): number {
  return Math.round(cfg.burnIn * cfg.steps);
}

export interface TogetherRequest {
  architecture: ModelConfig;
  /** One training set per copy (its shard). */
  shards: Dataset[];
  /** One seed per copy (initial weights, dropout, batch order). */
  seeds: number[];
  config: TogetherConfig;
  /** Measured on copy 0 at every epoch end (its history); no early stopping. */
  validation?: Dataset;
  /** Progress of copy 0 (the others train silently alongside). */
  progress?: ProgressSink;
  label?: string;
  /** Log each loss term per epoch (trainModel's `logTerms`). */
  logTerms?: boolean;
}

export interface TogetherResult {
  /** The copies' models, in shard order (the caller disposes them). */
  models: LayersModel[];
  results: TrainResult[];
}

/** A barrier for n parties, reusable round after round (keyed by step). */
function barrier(n: number): (step: number) => Promise<void> {
  const rounds = new Map<number, { arrived: number; release: () => void; done: Promise<void> }>();
  return (step) => {
    let r = rounds.get(step);
    if (!r) {
      let release!: () => void;
      const done = new Promise<void>((res) => (release = res));
      rounds.set(step, (r = { arrived: 0, release, done }));
    }
    if (++r.arrived === n) {
      rounds.delete(step);
      r.release();
    }
    return r.done;
  };
}

/** Trains the copies together. */
export async function codistillTogether(req: TogetherRequest): Promise<TogetherResult> {
  const n = req.shards.length;
  if (n < 2 || req.seeds.length !== n) throw new Error(`codistillTogether: ${n} shards and ${req.seeds.length} seeds; needs n ≥ 2 of each`);
  const cfg = req.config;
  const B = burnInSteps(cfg);
  const R = cfg.syncEvery;
  const K = req.shards[0].classNames.length;
  const models = await Promise.all(req.shards.map((s, i) => buildNetwork(req.architecture, s.featureShape, K, req.seeds[i])));
  const published: tf.Tensor[][] = new Array(n);
  const arrive = barrier(n);
  const results: TrainResult[] = new Array(n);
  const run = async (i: number) => {
    const shard = req.shards[i];
    const peers = new PeerModelsReference(shard);
    const copies = new Map<number, LayersModel>();
    let step = 0;
    const objective = phasedObjective(crossEntropyObjective(), codistillationObjective(cfg.weight), () => step < B || peers.peerIds.length === 0);
    const sync: TrainingCallback = {
      onBatchBegin: (s) => {
        step = s;
      },
      onBatchEnd: async (s) => {
        if (s % R !== 0) return;
        published[i]?.forEach((t) => t.dispose());
        published[i] = models[i].getWeights().map((w) => tf.clone(w));
        await arrive(s);
        if (s + R <= B) return; // the next round still falls within burn-in: peers are not read before it
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          let m = copies.get(j);
          if (!m) copies.set(j, (m = await buildNetwork(req.architecture, shard.featureShape, K, req.seeds[j])));
          m.setWeights(published[j]);
          peers.setPeer(j, m);
        }
      },
    };
    const batchesPerEpoch = Math.ceil(shard.labels.length / cfg.batchSize);
    try {
      results[i] = await trainModel(models[i], shard, {
        objective,
        reference: peers,
        epochs: Math.ceil(cfg.steps / batchesPerEpoch),
        maxSteps: cfg.steps,
        batchSize: cfg.batchSize,
        learningRate: cfg.learningRate,
        optimizer: cfg.optimizer,
        seed: req.seeds[i],
        callbacks: [sync],
        logTerms: req.logTerms,
        ...(i === 0 ? { progress: req.progress, label: req.label, validation: req.validation } : {}),
      });
    } finally {
      peers.dispose();
    }
  };
  try {
    await Promise.all(models.map((_, i) => run(i)));
  } finally {
    for (const w of published) w?.forEach((t) => t.dispose());
  }
  return { models, results };
}
