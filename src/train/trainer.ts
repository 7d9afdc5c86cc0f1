import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/types.js';
import { exampleSize, numExamples } from '../data/types.js';
import type { Objective } from '../objectives/types.js';
import { softTargetCrossEntropy } from '../objectives/crossEntropy.js';
import type { ReferenceProvider } from './reference.js';
import type { ProgressSink } from './progress.js';
import { silentProgress } from './progress.js';
import { Rng } from '../util/rng.js';
import { InputError } from '../util/errors.js';
import { predictLogits } from '../models/predict.js';
import { createOptimizer } from '../engine/optimizer.js';

export interface EarlyStopping {
  /** Epochs without improvement of the monitored validation metric before stopping. */
  patience: number;
  /**
   * What "improvement" means: 'loss' (default) a lower validation cross entropy; 'accuracy' a
   * higher validation accuracy, or the same accuracy at a lower loss (the tie-break matters
   * with small validation sets, where accuracy moves in coarse steps).
   */
  monitor?: 'loss' | 'accuracy';
  /** Put back the weights of the best validation epoch at the end (default true). */
  restoreBest?: boolean;
}

export interface TrainOptions {
  /** Loss per example; see src/objectives. */
  objective: Objective;
  /** Reference logits for the rows of the training set (teacher, ensemble, peers). */
  reference?: ReferenceProvider;
  /** A weight per training example (e.g. ProfWeight); the loss is mean(w_i · loss_i). */
  exampleWeights?: Float32Array;
  /** Passes over the training data (default 100). */
  epochs?: number;
  /** Stop after this many optimizer steps, whatever the epoch count. */
  maxSteps?: number;
  batchSize?: number;
  optimizer?: 'adam' | 'sgd';
  learningRate?: number;
  /** SGD momentum (0 = plain SGD). */
  momentum?: number;
  /** Held-out data for early stopping and reporting. */
  validation?: Dataset;
  /** Early stopping on validation loss; needs `validation`. Off when false. */
  earlyStopping?: EarlyStopping | false;
  /** Seeds batch order. */
  seed: number;
  progress?: ProgressSink;
  /** Label for the progress display. */
  label?: string;
  /** Called after every optimizer step (e.g. to publish a checkpoint). */
  onStepEnd?: (step: number) => void | Promise<void>;
}

export interface EpochRecord {
  epoch: number;
  /** Mean training objective over the epoch's batches. */
  loss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
}

export interface TrainResult {
  epochsRun: number;
  steps: number;
  /** Epoch whose weights the model holds at the end (1-based). */
  bestEpoch: number;
  stoppedEarly: boolean;
  history: EpochRecord[];
}

/** Validation cross entropy and accuracy of `model` on `ds`. */
export function evaluate(model: LayersModel, ds: Dataset): { loss: number; accuracy: number } {
  const K = ds.classNames.length;
  const logits = predictLogits(model, ds.features, ds.featureShape);
  return tf.tidy(() => {
    const z = tf.tensor2d(logits, [numExamples(ds), K]);
    const y = tf.tensor1d(ds.labels, 'int32');
    const loss = tf.mean(softTargetCrossEntropy(tf.cast(tf.oneHot(y, K), 'float32') as tf.Tensor2D, z)).dataSync()[0];
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(z, -1), y), 'float32')).dataSync()[0];
    return { loss, accuracy };
  });
}

function checkTrainInputs(model: LayersModel, train: Dataset, opts: TrainOptions): void {
  const n = numExamples(train);
  if (n === 0) throw new InputError(train.source, 'no training examples');
  const outShape = model.outputs[0].shape;
  const K = train.classNames.length;
  if (outShape[outShape.length - 1] !== K) {
    throw new InputError(train.source, `model has ${outShape[outShape.length - 1]} outputs but the data has ${K} classes`);
  }
  if (opts.objective.needsReference && !opts.reference) {
    throw new Error(`objective "${opts.objective.name}" needs reference logits (a teacher); none given`);
  }
  if (opts.exampleWeights && opts.exampleWeights.length !== n) {
    throw new InputError('example weights', `${opts.exampleWeights.length} weights for ${n} examples`);
  }
  if (opts.earlyStopping && !opts.validation) throw new Error('early stopping needs validation data');
}

/**
 * The optimizer for a run: on the native engine Adam is the fused NativeAdamOptimizer
 * (engine/optimizer.ts: one native loop per variable, gradients freed as backprop passes
 * them, bit-identical to tf.train.adam), elsewhere the stock tfjs optimizers.
 */
function makeOptimizer(opts: TrainOptions): tf.Optimizer {
  const kind = opts.optimizer ?? 'adam';
  if (kind === 'adam') return createOptimizer({ kind: 'adam', learningRate: opts.learningRate ?? 1e-3 });
  const learningRate = opts.learningRate ?? 0.01;
  return opts.momentum ? createOptimizer({ kind: 'momentum', learningRate, momentum: opts.momentum }) : createOptimizer({ kind: 'sgd', learningRate });
}

/** Whether an epoch's validation numbers improve on the best so far. */
function improves(monitor: 'loss' | 'accuracy', r: EpochRecord, best: { loss: number; accuracy: number }): boolean {
  if (monitor === 'loss') return r.valLoss! < best.loss;
  return r.valAccuracy! > best.accuracy || (r.valAccuracy! === best.accuracy && r.valLoss! < best.loss);
}

/**
 * Minibatch training of `model` on `train` with a per-example objective. Reference logits,
 * example weights and probes plug in through the options; the loop itself does not change.
 */
export async function trainModel(model: LayersModel, train: Dataset, opts: TrainOptions): Promise<TrainResult> {
  checkTrainInputs(model, train, opts);
  const n = numExamples(train);
  const d = exampleSize(train);
  const K = train.classNames.length;
  const batchSize = Math.min(opts.batchSize ?? 64, n);
  const epochs = opts.epochs ?? 100;
  const maxSteps = opts.maxSteps ?? Infinity;
  const rng = new Rng(opts.seed).fork('batch-order');
  const optimizer = makeOptimizer(opts);
  const progress = opts.progress ?? silentProgress;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const early = opts.earlyStopping && opts.validation ? opts.earlyStopping : undefined;

  const history: EpochRecord[] = [];
  let best: { loss: number; accuracy: number; epoch: number; weights?: tf.Tensor[] } = { loss: Infinity, accuracy: -Infinity, epoch: 0 };
  let steps = 0;
  let stoppedEarly = false;
  const xBuf = new Float32Array(batchSize * d);
  const yBuf = new Int32Array(batchSize);
  const wBuf = new Float32Array(batchSize);

  progress.start(opts.label ?? 'train', epochs);
  try {
    for (let epoch = 1; epoch <= epochs && steps < maxSteps; epoch++) {
      const order = rng.permutation(n);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let start = 0; start < n && steps < maxSteps; start += batchSize) {
        const idx = order.subarray(start, Math.min(start + batchSize, n));
        const b = idx.length;
        for (let i = 0; i < b; i++) {
          xBuf.set(train.features.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
          yBuf[i] = train.labels[idx[i]];
          if (opts.exampleWeights) wBuf[i] = opts.exampleWeights[idx[i]];
        }
        await opts.reference?.beforeStep?.(steps);
        const stepStats = tf.tidy(() => {
          const x = tf.tensor(xBuf.subarray(0, b * d), [b, ...train.featureShape]);
          const labels = tf.tensor1d(yBuf.subarray(0, b), 'int32');
          const oneHot = tf.cast(tf.oneHot(labels, K), 'float32') as tf.Tensor2D;
          const reference = opts.objective.needsReference ? opts.reference!.rows(idx) : undefined;
          const weights = opts.exampleWeights ? tf.tensor1d(wBuf.subarray(0, b)) : undefined;
          let logitsOut: tf.Tensor2D | undefined;
          const cost = optimizer.minimize(
            () => {
              const logits = model.apply(x, { training: true }) as tf.Tensor2D;
              logitsOut = tf.keep(logits);
              const perExample = opts.objective.perExampleLoss({ logits, labels, oneHot, reference });
              return (weights ? tf.mean(tf.mul(perExample, weights)) : tf.mean(perExample)) as tf.Scalar;
            },
            true,
            variables,
          );
          const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logitsOut!, -1), labels), 'int32'));
          const result = { loss: cost!.dataSync()[0], hits: hits.dataSync()[0] };
          logitsOut!.dispose();
          return result;
        });
        if (!Number.isFinite(stepStats.loss)) {
          throw new InputError(train.source, `training diverged: loss is ${stepStats.loss} at step ${steps + 1} (lower the learning rate, or check the features for extreme values)`);
        }
        lossSum += stepStats.loss * b;
        correct += stepStats.hits;
        seen += b;
        steps++;
        await opts.onStepEnd?.(steps);
      }
      const record: EpochRecord = { epoch, loss: lossSum / seen, trainAccuracy: correct / seen };
      if (opts.validation) {
        const v = evaluate(model, opts.validation);
        record.valLoss = v.loss;
        record.valAccuracy = v.accuracy;
      }
      history.push(record);
      progress.update(epoch, {
        loss: record.loss,
        acc: record.trainAccuracy,
        ...(record.valAccuracy !== undefined ? { val_loss: record.valLoss!, val_acc: record.valAccuracy } : {}),
      });
      if (early) {
        if (improves(early.monitor ?? 'loss', record, best)) {
          best.weights?.forEach((t) => t.dispose());
          best = { loss: record.valLoss!, accuracy: record.valAccuracy!, epoch, weights: early.restoreBest === false ? undefined : variables.map((v) => tf.clone(v)) };
        } else if (epoch - best.epoch >= early.patience) {
          stoppedEarly = true;
          break;
        }
      }
    }
  } finally {
    optimizer.dispose();
  }
  let bestEpoch = history.length;
  if (early && best.weights) {
    variables.forEach((v, i) => v.assign(best.weights![i]));
    best.weights.forEach((t) => t.dispose());
    bestEpoch = best.epoch;
  }
  progress.stop(early ? `(best epoch ${bestEpoch})` : undefined);
  return { epochsRun: history.length, steps, bestEpoch, stoppedEarly, history };
}
