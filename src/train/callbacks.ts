import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { OptimizerState } from '../engine/optimizer.js';
import type { RngState } from '../util/rng.js';

/** One epoch's numbers, as the trainer measured them. */
export interface EpochRecord {
  epoch: number;
  /** Mean training objective over the epoch's batches. */
  loss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Each named term of a composite objective (trainModel's `logTerms`): its weight and mean value; the loss is Σ weight·value. */
  terms?: Record<string, { weight: number; value: number }>;
}

/** What a callback sees of a run, and how it steers it. */
export interface TrainingState {
  readonly model: LayersModel;
  /** The trainable variables, in the optimizer's order. */
  readonly variables: readonly tf.Variable[];
  /** Planned epochs (the run may end earlier). */
  readonly epochs: number;
  /** Optimizer steps taken so far. */
  readonly steps: number;
  readonly history: readonly EpochRecord[];
  /** Set by a callback to end training after the current batch (or epoch). */
  stopTraining: boolean;
  /** Set by a callback that restores an earlier epoch's weights (early stopping): that epoch, 1-based. */
  restoredEpoch?: number;
  /** Everything needed to continue the run exactly from here (at an epoch end); see snapshots.ts. */
  snapshot(): Promise<TrainingSnapshot>;
}

/**
 * A training callback (Keras's `Callback`): hooks at the begin and end of the run, of each
 * epoch and of each batch (one optimizer step). Early stopping, progress, stale-reference
 * refresh and checkpoint publication are callbacks; any of them may set `state.stopTraining`.
 * Callbacks run in the order given, awaited one after another.
 */
export interface TrainingCallback {
  onTrainBegin?(state: TrainingState): void | Promise<void>;
  onEpochBegin?(epoch: number, state: TrainingState): void | Promise<void>;
  /** Before step `step` (0-based count of steps taken so far). */
  onBatchBegin?(step: number, state: TrainingState): void | Promise<void>;
  /** After step `step` (1-based: the number of steps taken), with its mean loss. */
  onBatchEnd?(step: number, loss: number, state: TrainingState): void | Promise<void>;
  onEpochEnd?(record: EpochRecord, state: TrainingState): void | Promise<void>;
  /** After the last epoch, also when a callback stopped training. */
  onTrainEnd?(state: TrainingState): void | Promise<void>;
  /**
   * A callback with state that a resumed run needs (early stopping's best epoch) has a
   * `name` and saves it here (JSON-like; Float32Arrays allowed), at an epoch end…
   */
  saveState?(): unknown;
  /** …and gets it back when a run resumes (after onTrainBegin). */
  loadState?(state: unknown): void;
  /** Key of the callback's state in a snapshot. */
  readonly name?: string;
}

type Hook = 'onTrainBegin' | 'onEpochBegin' | 'onBatchBegin' | 'onBatchEnd' | 'onEpochEnd' | 'onTrainEnd';

/** Calls `hook` on every callback that has it, in order. */
export async function dispatch<H extends Hook>(callbacks: readonly TrainingCallback[], hook: H, ...args: Parameters<NonNullable<TrainingCallback[H]>>): Promise<void> {
  for (const c of callbacks) {
    const f = c[hook] as ((...a: unknown[]) => void | Promise<void>) | undefined;
    if (f) await f.apply(c, args);
  }
}

/** Calls `every`-th step's `f(step)` after the step (e.g. publish a checkpoint every R steps). */
export function everySteps(every: number, f: (step: number, state: TrainingState) => void | Promise<void>): TrainingCallback {
  if (!(Number.isInteger(every) && every > 0)) throw new Error(`everySteps: interval must be a positive integer, got ${every}`);
  return { onBatchEnd: (step, _loss, state) => (step % every === 0 ? f(step, state) : undefined) };
}

/** A tensor's values and shape. */
export interface SavedTensor {
  shape: number[];
  values: Float32Array;
}

/** Everything a training run needs to continue exactly (`state.snapshot()`; snapshots.ts saves it). */
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
