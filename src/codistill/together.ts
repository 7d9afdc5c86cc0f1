/**
 * Codistillation of n copies inside one process, in synchronous rounds: the copies train
 * concurrently (interleaved at each step's callbacks), and every R steps all of them stop
 * at a barrier, snapshot their weights, and load each other's snapshots as their stale
 * peers. It is the algorithm of the worker processes (worker.ts) with the publication
 * timing made exact, so a run is a function of its seeds: what reproducibility
 * experiments and the codistillation update method need.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/types.js';
import { buildModel } from '../models/build.js';
import type { ModelConfig } from '../models/config.js';
import { codistillationObjective, crossEntropyObjective } from '../objectives/objectives.js';
import { phasedObjective } from '../objectives/phased.js';
import type { TrainingCallback } from '../train/callbacks.js';
import { PeerModelsReference } from '../train/peers.js';
import { trainModel } from '../train/trainer.js';
import { modelWeights, setModelWeights, type CheckpointContent } from './checkpoint.js';
import { burnInSteps, type CodistillConfig } from './config.js';

export type TogetherConfig = Pick<CodistillConfig, 'steps' | 'syncEvery' | 'weight' | 'burnIn' | 'batchSize' | 'learningRate'>;

export interface TogetherRequest {
  architecture: ModelConfig;
  /** One training set per copy (its shard). */
  shards: Dataset[];
  /** One seed per copy (initial weights, dropout, batch order). */
  seeds: number[];
  config: TogetherConfig;
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

/** Trains the copies together; returns their models (the caller disposes them). */
export async function codistillTogether(req: TogetherRequest): Promise<LayersModel[]> {
  const n = req.shards.length;
  if (n < 2 || req.seeds.length !== n) throw new Error(`codistillTogether: ${n} shards and ${req.seeds.length} seeds; needs n ≥ 2 of each`);
  const cfg = req.config;
  const B = burnInSteps(cfg);
  const R = cfg.syncEvery;
  const K = req.shards[0].classNames.length;
  const models = req.shards.map((s, i) => buildModel(req.architecture, s.featureShape, K, req.seeds[i]));
  const published: CheckpointContent['weights'][] = new Array(n);
  const arrive = barrier(n);
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
        published[i] = modelWeights(models[i]);
        await arrive(s);
        if (s + R <= B) return; // the next round still falls within burn-in: peers are not read before it
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          let m = copies.get(j);
          if (!m) copies.set(j, (m = buildModel(req.architecture, shard.featureShape, K, req.seeds[j])));
          setModelWeights(m, published[j]);
          peers.setPeer(j, m);
        }
      },
    };
    const batchesPerEpoch = Math.ceil(shard.labels.length / cfg.batchSize);
    try {
      await trainModel(models[i], shard, {
        objective,
        reference: peers,
        epochs: Math.ceil(cfg.steps / batchesPerEpoch),
        maxSteps: cfg.steps,
        batchSize: cfg.batchSize,
        learningRate: cfg.learningRate,
        seed: req.seeds[i],
        callbacks: [sync],
      });
    } finally {
      peers.dispose();
    }
  };
  await Promise.all(models.map((_, i) => run(i)));
  return models;
}
