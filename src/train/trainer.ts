import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/types.js';
import { exampleSize, numExamples } from '../data/types.js';
import type { Objective } from '../objectives/types.js';
import type { CompositeObjective, WeightedTerm } from '../objectives/weightedSum.js';
import { softTargetCrossEntropy } from '../objectives/crossEntropy.js';
import type { ReferenceProvider } from './reference.js';
import { SoftTargetTable } from './targetTable.js';
import type { ProgressSink } from './progress.js';
import { progressCallback } from './progress.js';
import { dispatch, type EpochRecord, type TrainingCallback, type TrainingState } from './callbacks.js';
import { earlyStopping, type EarlyStoppingOptions } from './earlyStopping.js';
import { Rng, type RngState } from '../util/rng.js';
import { InputError } from '../util/errors.js';
import { yieldToSignals } from '../util/interrupt.js';
import { predictLogits } from '../models/predict.js';
import { argmaxRows } from '../models/logits.js';
import { countCorrect, scoresAccuracy } from '../models/agreement.js';
import { createOptimizer, optimizerState, restoreOptimizerState } from '../engine/optimizer.js';
import { warnIfSlowDefaultEngine } from '../engine/index.js';
import { SeededDropout, applyWithoutDropout } from '../models/layers.js';
import type { TrainingSnapshot } from './checkpoint.js';
import { DEFAULT_TRAINING } from './trainingParams.js';

export type { EpochRecord } from './callbacks.js';

/** Longest time between two chances for signal handlers to run during training (Ctrl-C answered within it and a step). */
const SIGNAL_CHECK_MS = 100;

export interface TrainOptions {
  /** Loss per example; see src/objectives. */
  objective: Objective;
  /** Reference logits for the rows of the training set (teacher, ensemble, peers). */
  reference?: ReferenceProvider;
  /** A weight per training example (e.g. ProfWeight); the loss is mean(w_i · loss_i). Finite, ≥ 0, not all 0. */
  exampleWeights?: Float32Array;
  /** Passes over the training data (default 100). */
  epochs?: number;
  /** Stop after this many optimizer steps, whatever the epoch count. */
  maxSteps?: number;
  batchSize?: number;
  optimizer?: 'adam' | 'sgd';
  learningRate?: number;
  /** Held-out data, evaluated after every epoch (early stopping, reporting). */
  validation?: Dataset;
  /** Early stopping on a validation metric, best weights restored; needs `validation`. Off when absent or false. */
  earlyStopping?: EarlyStoppingOptions | false;
  /** Seeds batch order. */
  seed: number;
  /** Progress display, fed by a progress callback (after the others). */
  progress?: ProgressSink;
  /** Label for the progress display. */
  label?: string;
  /** More callbacks (stale-reference refresh, checkpoint publication, …), run after early stopping. */
  callbacks?: TrainingCallback[];
  /** Continue a run from this snapshot (checkpoint.ts) instead of from the start; same options otherwise. */
  resumeFrom?: TrainingSnapshot;
  /**
   * Log each named term of a composite objective (`terms`, e.g. a weightedSum) per epoch, as
   * EpochRecord.terms: each term's mean over the epoch's batches (example-weighted like the
   * loss), measured on the same training-pass logits as the loss. Costs the terms' ops once more
   * per step, outside the gradient; off by default.
   */
  logTerms?: boolean;
}

export interface TrainResult {
  epochsRun: number;
  steps: number;
  /** Epoch whose weights the model holds at the end (1-based). */
  bestEpoch: number;
  /** Whether a callback (early stopping) ended training before the planned epochs and steps. */
  stoppedEarly: boolean;
  history: EpochRecord[];
}

/** Validation cross entropy and accuracy of `model` on `ds`. */
export function evaluate(model: LayersModel, ds: Dataset): { loss: number; accuracy: number } {
  const K = ds.classNames.length;
  const logits = predictLogits(model, ds.features, ds.featureShape);
  const loss = tf.tidy(() => {
    const z = tf.tensor2d(logits, [numExamples(ds), K]);
    const y = tf.tensor1d(ds.labels, 'int32');
    return tf.mean(softTargetCrossEntropy(tf.cast(tf.oneHot(y, K), 'float32') as tf.Tensor2D, z)).dataSync()[0];
  });
  // float32 like the loss beside it: what tf.mean of the hits gives on the native, wasm and TensorFlow engines
  return { loss, accuracy: Math.fround(scoresAccuracy(logits, ds.labels, K)) };
}

/** The named terms of a composite objective that count (weight ≠ 0); undefined for one that is a single term (its loss says it all). */
function objectiveTerms(objective: Objective): readonly WeightedTerm[] | undefined {
  const active = (objective as Partial<CompositeObjective>).terms?.filter(([w]) => w !== 0);
  return active?.length ? active : undefined;
}

/** Example weights must be finite, non-negative and not all zero (a zero total weight trains nothing). */
function checkExampleWeights(weights: Float32Array, n: number): void {
  const where = 'example weights';
  if (weights.length !== n) throw new InputError(where, `${weights.length} weights for ${n} examples`);
  let positive = false;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!Number.isFinite(w)) throw new InputError(where, `weight ${i} is ${w}; weights must be finite numbers`);
    if (w < 0) throw new InputError(where, `weight ${i} is ${w}; weights must not be negative`);
    if (w > 0) positive = true;
  }
  if (!positive) throw new InputError(where, 'every weight is 0; at least one example must count');
}

/** A reference must cover every training row with one logit per class (a short one would read zeros). */
export function checkReferenceFits(reference: ReferenceProvider, rows: number, K: number): void {
  if (reference.numClasses !== K) throw new InputError('reference', `gives ${reference.numClasses} logits per row but the training data has ${K} classes`);
  const size = (reference as { size?: number }).size;
  if (size !== undefined && size !== rows) throw new InputError('reference', `holds logits for ${size} rows but the training data has ${rows} rows (a reference gives one row of logits per training row, in their order)`);
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
  if (opts.reference) checkReferenceFits(opts.reference, n, K);
  if (opts.exampleWeights) checkExampleWeights(opts.exampleWeights, n);
  if (opts.earlyStopping && !opts.validation) throw new Error('early stopping needs validation data');
}

/**
 * The optimizer for a run: on the native engine Adam is the fused NativeAdamOptimizer
 * (engine/optimizer.ts: one native loop per variable, gradients freed as backprop passes
 * them, bit-identical to tf.train.adam), elsewhere the stock tfjs optimizers.
 */
function makeOptimizer(opts: TrainOptions): tf.Optimizer {
  const kind = opts.optimizer ?? 'adam';
  return createOptimizer({ kind, learningRate: opts.learningRate ?? DEFAULT_TRAINING.learningRate });
}

/** The run's callbacks: early stopping first (it restores weights at the end), then the caller's, then progress. */
function callbacksFor(opts: TrainOptions): TrainingCallback[] {
  return [
    ...(opts.earlyStopping && opts.validation ? [earlyStopping(opts.earlyStopping)] : []),
    ...(opts.callbacks ?? []),
    ...(opts.progress ? [progressCallback(opts.progress, opts.label ?? 'train')] : []),
  ];
}

/** Puts a snapshot's weights into `model`, checking that they fit its layout. */
function restoreWeights(model: LayersModel, r: TrainingSnapshot): void {
  const weights = model.weights;
  const fits = r.weights.length === weights.length && r.weights.every((w, i) => w.shape.join('x') === weights[i].shape.join('x'));
  if (!fits) throw new InputError('checkpoint', 'holds weights of a different network; start over without --resume');
  tf.tidy(() => weights.forEach((w, i) => w.write(tf.tensor(r.weights[i].values, r.weights[i].shape))));
}

/**
 * Minibatch training of `model` on `train` with a per-example objective. Reference logits
 * and example weights plug in through the options, everything else through callbacks; the
 * loop itself does not change.
 */
export async function trainModel(model: LayersModel, train: Dataset, opts: TrainOptions): Promise<TrainResult> {
  checkTrainInputs(model, train, opts);
  warnIfSlowDefaultEngine();
  const n = numExamples(train);
  const d = exampleSize(train);
  const K = train.classNames.length;
  const batchSize = Math.min(opts.batchSize ?? DEFAULT_TRAINING.batchSize, n);
  const epochs = opts.epochs ?? DEFAULT_TRAINING.epochs;
  const maxSteps = opts.maxSteps ?? Infinity;
  let rng = new Rng(opts.seed).fork('batch-order');
  const callbacks = callbacksFor(opts);
  const history: EpochRecord[] = [];
  const dropoutLayers = model.layers.filter((l): l is SeededDropout => l instanceof SeededDropout);
  const optimizer = makeOptimizer(opts);
  // The epoch in progress, for a snapshot taken mid-epoch: the batch-order stream before its
  // permutation was drawn, the rows taken, and its running loss and hit sums.
  let inEpoch: { orderFrom: RngState; rows: number; lossSum: number; correct: number } | undefined;
  const state: TrainingState = {
    model,
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    epochs,
    steps: 0,
    history,
    stopTraining: false,
    snapshot: async (): Promise<TrainingSnapshot> => ({
      format: 'distillery-training-snapshot',
      epoch: history.length,
      steps: state.steps,
      stopTraining: state.stopTraining,
      history: history.map((r) => ({ ...r })),
      weights: model.weights.map((w) => ({ shape: w.shape.map(Number), values: Float32Array.from(w.read().dataSync() as Float32Array) })),
      optimizer: await optimizerState(optimizer),
      batchOrder: inEpoch ? inEpoch.orderFrom : rng.state(),
      ...(inEpoch && inEpoch.rows > 0 ? { inEpoch: { rows: inEpoch.rows, lossSum: inEpoch.lossSum, correct: inEpoch.correct } } : {}),
      dropout: dropoutLayers.map((l) => l.maskState()),
      callbacks: Object.fromEntries(callbacks.filter((c) => c.name && c.saveState).map((c) => [c.name!, c.saveState!()])),
    }),
  };
  // `steps` is read-only to callbacks; the trainer advances it.
  const advance = () => ((state as { steps: number }).steps += 1);
  const xBuf = new Float32Array(batchSize * d);
  const yBuf = new Int32Array(batchSize);
  const wBuf = new Float32Array(batchSize);
  const oneHotBuf = new Float32Array(batchSize * K);
  const targetTable = SoftTargetTable.for(opts.objective, train, opts.reference);
  // the objective's named terms, logged per epoch when asked: each term's weighted row sum and rows
  const termSums = new Map<string, { weight: number; sum: number; rows: number }>();
  const targetBuf = new Float32Array(targetTable ? batchSize * K : 0);

  let firstEpoch = 1;
  let resumedInEpoch: TrainingSnapshot['inEpoch'];
  let lastYield = Date.now();
  try {
    await dispatch(callbacks, 'onTrainBegin', state);
    if (opts.resumeFrom) {
      const r = opts.resumeFrom;
      restoreWeights(model, r);
      await restoreOptimizerState(optimizer, r.optimizer);
      rng = rng.restore(r.batchOrder);
      dropoutLayers.forEach((l, i) => l.restoreMaskState(r.dropout[i]));
      for (const c of callbacks) if (c.name && c.loadState && r.callbacks[c.name] !== undefined) c.loadState(r.callbacks[c.name]);
      history.push(...r.history);
      (state as { steps: number }).steps = r.steps;
      state.stopTraining = r.stopTraining;
      firstEpoch = r.epoch + 1;
      resumedInEpoch = r.inEpoch;
    }
    for (let epoch = firstEpoch; epoch <= epochs && (resumedInEpoch || (state.steps < maxSteps && !state.stopTraining)); epoch++) {
      await dispatch(callbacks, 'onEpochBegin', epoch, state);
      const orderFrom = rng.state();
      const order = rng.permutation(n);
      // A run resumed mid-epoch redraws that epoch's permutation and skips the rows it took.
      const skip = resumedInEpoch ?? { rows: 0, lossSum: 0, correct: 0 };
      resumedInEpoch = undefined;
      let lossSum = skip.lossSum;
      let correct = skip.correct;
      let seen = skip.rows;
      inEpoch = { orderFrom, rows: seen, lossSum, correct };
      for (let start = skip.rows; start < n && state.steps < maxSteps && !state.stopTraining; start += batchSize) {
        const idx = order.subarray(start, Math.min(start + batchSize, n));
        const b = idx.length;
        for (let i = 0; i < b; i++) {
          xBuf.set(train.features.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
          yBuf[i] = train.labels[idx[i]];
          oneHotBuf.fill(0, i * K, (i + 1) * K);
          oneHotBuf[i * K + yBuf[i]] = 1;
          if (opts.exampleWeights) wBuf[i] = opts.exampleWeights[idx[i]];
        }
        await dispatch(callbacks, 'onBatchBegin', state.steps, state);
        const stepStats = tf.tidy(() => {
          const x = tf.tensor(xBuf.subarray(0, b * d), [b, ...train.featureShape]);
          const labels = tf.tensor1d(yBuf.subarray(0, b), 'int32');
          // one-hot rows built with the batch (not OneHot + Cast kernels: per-op dispatch dominates small steps)
          const oneHot = tf.tensor2d(oneHotBuf.subarray(0, b * K), [b, K]);
          // soft targets from the table (computed once per row) where the objective has them, else inside the loss
          const targets = targetTable ? tf.tensor2d(targetTable.gather(idx, targetBuf), [b, K]) : undefined;
          const reference = opts.objective.needsReference && !targets ? opts.reference!.rows(idx) : undefined;
          const weights = opts.exampleWeights ? tf.tensor1d(wBuf.subarray(0, b)) : undefined;
          let logitsOut: tf.Tensor2D | undefined;
          let inferenceOut: tf.Tensor2D | undefined;
          // read each step: a phased objective's terms change with its phase
          const terms = opts.logTerms ? objectiveTerms(opts.objective) : undefined;
          const cost = optimizer.minimize(
            () => {
              const logits = model.apply(x, { training: true }) as tf.Tensor2D;
              logitsOut = tf.keep(logits);
              const inferenceLogits = opts.objective.needsInferenceLogits ? (applyWithoutDropout(model, x) as tf.Tensor2D) : undefined;
              if (terms && inferenceLogits) inferenceOut = tf.keep(inferenceLogits);
              const perExample = targets ? softTargetCrossEntropy(targets, logits) : opts.objective.perExampleLoss({ logits, labels, oneHot, reference, inferenceLogits });
              return (weights ? tf.mean(tf.mul(perExample, weights)) : tf.mean(perExample)) as tf.Scalar;
            },
            true,
            state.variables as tf.Variable[],
          );
          const result = { loss: cost!.dataSync()[0], hits: countCorrect(argmaxRows(logitsOut!.dataSync() as Float32Array, K), yBuf.subarray(0, b)) };
          if (terms) {
            const termReference = reference ?? (terms.some(([, t]) => t.needsReference) ? opts.reference!.rows(idx) : undefined);
            const ctx = { logits: logitsOut!, labels, oneHot, reference: termReference, inferenceLogits: inferenceOut };
            const means = terms.map(([, t]) => {
              const loss = t.perExampleLoss(ctx);
              return weights ? tf.mean(tf.mul(loss, weights)) : tf.mean(loss);
            });
            const values = tf.stack(means).dataSync();
            terms.forEach(([w, t], j) => {
              const acc = termSums.get(t.name) ?? { weight: w, sum: 0, rows: 0 };
              termSums.set(t.name, { weight: w, sum: acc.sum + values[j] * b, rows: acc.rows + b });
            });
            inferenceOut?.dispose();
          }
          logitsOut!.dispose();
          return result;
        });
        if (!Number.isFinite(stepStats.loss)) {
          throw new InputError(train.source, `training diverged: loss is ${stepStats.loss} at step ${state.steps + 1} (lower the learning rate, or check the features for extreme values)`);
        }
        lossSum += stepStats.loss * b;
        correct += stepStats.hits;
        seen += b;
        inEpoch = { orderFrom, rows: seen, lossSum, correct };
        advance();
        await dispatch(callbacks, 'onBatchEnd', state.steps, stepStats.loss, state);
        // a step's work is synchronous: let signal handlers (Ctrl-C) run now and then, whatever the caller
        if (Date.now() - lastYield >= SIGNAL_CHECK_MS) {
          await yieldToSignals();
          lastYield = Date.now();
        }
      }
      inEpoch = undefined;
      if (seen === 0) break; // a callback stopped training before this epoch's first step
      const record: EpochRecord = { epoch, loss: lossSum / seen, trainAccuracy: correct / seen };
      if (termSums.size) {
        // the mean of each term over the rows it was computed on (a run resumed mid-epoch: from the resumed rows on)
        record.terms = Object.fromEntries([...termSums].map(([name, t]) => [name, { weight: t.weight, value: t.sum / t.rows }]));
        termSums.clear();
      }
      if (opts.validation) {
        const v = evaluate(model, opts.validation);
        record.valLoss = v.loss;
        record.valAccuracy = v.accuracy;
      }
      history.push(record);
      await dispatch(callbacks, 'onEpochEnd', record, state);
    }
  } finally {
    optimizer.dispose();
  }
  await dispatch(callbacks, 'onTrainEnd', state);
  return { epochsRun: history.length, steps: state.steps, bestEpoch: state.restoredEpoch ?? history.length, stoppedEarly: state.stopTraining, history };
}
