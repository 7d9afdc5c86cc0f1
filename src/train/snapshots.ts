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
import type { TrainingCallback, TrainingSnapshot } from './callbacks.js';
import { packState, unpackState } from '../util/statePack.js';

export type { SavedTensor, TrainingSnapshot } from './callbacks.js';

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
