/**
 * Checkpoints of a training run, so a killed run resumes where it stood: at every epoch end
 * the checkpoint callback writes a TrainingSnapshot — the model's weights, the optimizer's
 * state, the epoch and step counts, the history, the state of stateful callbacks (early
 * stopping's best epoch and weights) and the random streams (batch order, dropout masks) —
 * to a CheckpointStore, atomically. `state.snapshot()` may also be taken mid-epoch, between
 * steps (codistillation workers do, every R steps). `trainModel({ resumeFrom })` restores all
 * of it, so the continued run takes exactly the steps the uninterrupted one would have taken:
 * on the same engine the final weights are bit-identical.
 *
 * Any command can use this: give each training run (fitModel call) its own store, in the
 * same order on every attempt (util/partialRun.ts hands out numbered stores).
 */
import type { EpochRecord, TrainingCallback } from './callbacks.js';
import type { OptimizerState } from '../engine/optimizer.js';
import type { RngState } from '../util/rng.js';
import { packState, unpackState } from '../util/statePack.js';

/** A tensor's values and shape. */
export interface SavedTensor {
  shape: number[];
  values: Float32Array;
}

/** Everything a training run needs to continue exactly (see the module comment). */
export interface TrainingSnapshot {
  format: 'distillery-training-snapshot';
  /** Epochs completed. */
  epoch: number;
  steps: number;
  stopTraining: boolean;
  history: EpochRecord[];
  /** The model's weights (all of them, in `model.weights` order). */
  weights: SavedTensor[];
  optimizer: OptimizerState;
  /** The batch-order stream (before the permutation of the epoch in progress, if any). */
  batchOrder: RngState;
  /**
   * A snapshot taken mid-epoch (e.g. every R steps of a codistillation worker): the rows of
   * the epoch in progress already taken, and its running loss (summed over rows) and hits.
   */
  inEpoch?: { rows: number; lossSum: number; correct: number };
  /** The mask stream of each seeded dropout layer, in layer order. */
  dropout: RngState[];
  /** The state of each stateful callback, by its `name`. */
  callbacks: Record<string, unknown>;
}

/** Where one training run's latest snapshot is kept. */
export interface CheckpointStore {
  /** The latest snapshot's bytes, or undefined when there is none. */
  load(): Promise<Uint8Array | undefined>;
  /** Replaces the latest snapshot, atomically. */
  save(bytes: Uint8Array): Promise<void>;
  /** For messages (e.g. the file). */
  readonly where: string;
}

export function encodeSnapshot(s: TrainingSnapshot): Uint8Array {
  return packState(s);
}

export function decodeSnapshot(bytes: Uint8Array, where: string): TrainingSnapshot {
  let s: TrainingSnapshot;
  try {
    s = unpackState<TrainingSnapshot>(bytes);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  if (s?.format !== 'distillery-training-snapshot') throw new Error(`${where}: not a training snapshot`);
  return s;
}

/** The latest snapshot of `store`, if any. */
export async function loadSnapshot(store: CheckpointStore): Promise<TrainingSnapshot | undefined> {
  const bytes = await store.load();
  return bytes ? decodeSnapshot(bytes, store.where) : undefined;
}

/** Saves a snapshot at every epoch end (after early stopping has judged the epoch). */
export function checkpointCallback(store: CheckpointStore): TrainingCallback {
  return {
    async onEpochEnd(_record, state) {
      await store.save(encodeSnapshot(await state.snapshot()));
    },
  };
}
