import * as tf from '@tensorflow/tfjs-core';
import type { EpochRecord, TrainingCallback } from './callbacks.js';

export interface EarlyStoppingOptions {
  /** Epochs without improvement of the monitored validation metric before stopping. */
  patience: number;
  /**
   * What "improvement" means: 'loss' (default) a lower validation cross entropy; 'accuracy' a
   * higher validation accuracy, or the same accuracy at a lower loss (the tie-break matters
   * with small validation sets, where accuracy moves in coarse steps).
   */
  monitor?: 'loss' | 'accuracy';
}

/** Whether an epoch's validation numbers improve on the best so far. */
function improves(monitor: 'loss' | 'accuracy', r: EpochRecord, best: { loss: number; accuracy: number }): boolean {
  if (monitor === 'loss') return r.valLoss! < best.loss;
  return r.valAccuracy! > best.accuracy || (r.valAccuracy! === best.accuracy && r.valLoss! < best.loss);
}

/**
 * Early stopping as a callback: stops after `patience` epochs without improvement of the
 * validation metric and puts back the weights of the best epoch (`state.restoredEpoch`).
 * Needs epochs with validation numbers.
 */
export function earlyStopping({ patience, monitor = 'loss' }: EarlyStoppingOptions): TrainingCallback {
  let best: { loss: number; accuracy: number; epoch: number; weights?: tf.Tensor[] } = { loss: Infinity, accuracy: -Infinity, epoch: 0 };
  const release = () => best.weights?.forEach((t) => t.dispose());
  return {
    name: 'early-stopping',
    saveState() {
      return { loss: best.loss, accuracy: best.accuracy, epoch: best.epoch, weights: best.weights?.map((t) => ({ shape: t.shape, values: Float32Array.from(t.dataSync() as Float32Array) })) };
    },
    loadState(saved) {
      const s = saved as { loss: number | null; accuracy: number | null; epoch: number; weights?: { shape: number[]; values: Float32Array }[] };
      release();
      // JSON writes ±Infinity as null
      best = { loss: s.loss ?? Infinity, accuracy: s.accuracy ?? -Infinity, epoch: s.epoch, weights: s.weights?.map((w) => tf.tensor(w.values, w.shape)) };
    },
    onTrainBegin() {
      release();
      best = { loss: Infinity, accuracy: -Infinity, epoch: 0 };
    },
    onEpochEnd(record, state) {
      if (record.valLoss === undefined) throw new Error('early stopping needs validation data');
      if (improves(monitor, record, best)) {
        release();
        best = { loss: record.valLoss, accuracy: record.valAccuracy!, epoch: record.epoch, weights: state.variables.map((v) => tf.clone(v)) };
      } else if (record.epoch - best.epoch >= patience) {
        state.stopTraining = true;
      }
    },
    onTrainEnd(state) {
      if (!best.weights) return;
      state.variables.forEach((v, i) => v.assign(best.weights![i]));
      release();
      best.weights = undefined;
      state.restoredEpoch = best.epoch;
    },
  };
}
