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
import type { TrainingSnapshot } from './snapshots.js';
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
  /** Passes over the training data (default DEFAULT_TRAINING.epochs; batchSize, optimizer and learningRate likewise). */
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
  /** Continue a run from this snapshot (snapshots.ts) instead of from the start; same options otherwise. */
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

/**
 * Minibatch training of `model` on `train` with a per-example objective. Reference logits
 * and example weights plug in through the options, everything else through callbacks; the
 * loop itself does not change.
 */
export async function trainModel(model: LayersModel, train: Dataset, opts: TrainOptions): Promise<TrainResult> {
  checkTrainInputs(model, train, opts);
  warnIfSlowDefaultEngine();
  const run = new TrainingRun(model, train, opts);
  const { state, callbacks, history } = run;
  const batch = new Batch(train, run.batchSize, opts.exampleWeights, SoftTargetTable.for(opts.objective, train, opts.reference));
  const terms = new TermLog();
  const signals = new SignalCheck();
  try {
    await dispatch(callbacks, 'onTrainBegin', state);
    let resumed = opts.resumeFrom ? await run.restore(opts.resumeFrom) : undefined;
    for (let epoch = run.firstEpoch; epoch <= run.epochs && (resumed || run.mayStep()); epoch++) {
      await dispatch(callbacks, 'onEpochBegin', epoch, state);
      // A run resumed mid-epoch redraws that epoch's permutation and skips the rows it took.
      const { order, skip } = run.beginEpoch(resumed);
      resumed = undefined;
      for (let start = skip; start < run.n && run.mayStep(); start += run.batchSize) {
        batch.fill(order.subarray(start, Math.min(start + run.batchSize, run.n)));
        await dispatch(callbacks, 'onBatchBegin', state.steps, state);
        const step = trainStep(run, batch, terms);
        run.countStep(batch.rows, step);
        await dispatch(callbacks, 'onBatchEnd', state.steps, step.loss, state);
        if (signals.due()) await signals.letIn();
      }
      const sums = run.endEpoch();
      if (sums.rows === 0) break; // a callback stopped training before this epoch's first step
      const record = epochRecord(epoch, sums, terms, model, opts.validation);
      history.push(record);
      await dispatch(callbacks, 'onEpochEnd', record, state);
    }
  } finally {
    run.optimizer.dispose();
  }
  await dispatch(callbacks, 'onTrainEnd', state);
  return { epochsRun: history.length, steps: state.steps, bestEpoch: state.restoredEpoch ?? history.length, stoppedEarly: state.stopTraining, history };
}

/** An epoch's running sums: the rows taken so far, their summed loss and their hits (saved by a snapshot taken mid-epoch). */
type EpochSums = NonNullable<TrainingSnapshot['inEpoch']>;

/** Puts a snapshot's weights into `model`, checking that they fit its layout. */
function restoreWeights(model: LayersModel, r: TrainingSnapshot): void {
  const weights = model.weights;
  const fits = r.weights.length === weights.length && r.weights.every((w, i) => w.shape.join('x') === weights[i].shape.join('x'));
  if (!fits) throw new InputError('checkpoint', 'holds weights of a different network; start over without --resume');
  tf.tidy(() => weights.forEach((w, i) => w.write(tf.tensor(r.weights[i].values, r.weights[i].shape))));
}

/**
 * What a run carries from step to step, and what a snapshot saves and a resume restores: the
 * model's weights, the optimizer, the batch-order stream, the dropout layers' mask streams, the
 * callbacks' state, the history, the step count and the epoch in progress.
 */
class TrainingRun {
  readonly n: number;
  readonly batchSize: number;
  readonly epochs: number;
  readonly maxSteps: number;
  readonly callbacks: TrainingCallback[];
  readonly history: EpochRecord[] = [];
  readonly optimizer: tf.Optimizer;
  readonly state: TrainingState;
  /** First epoch to run: 1, or the one after a restored snapshot's. */
  firstEpoch = 1;
  /** The batch-order stream: one permutation of the rows per epoch. */
  private order: Rng;
  private readonly dropoutLayers: SeededDropout[];
  /** The epoch in progress, for a snapshot taken mid-epoch: the batch-order stream before its permutation was drawn, and its sums. */
  private inEpoch: ({ orderFrom: RngState } & EpochSums) | undefined;

  constructor(
    readonly model: LayersModel,
    readonly train: Dataset,
    readonly opts: TrainOptions,
  ) {
    this.n = numExamples(train);
    this.batchSize = Math.min(opts.batchSize ?? DEFAULT_TRAINING.batchSize, this.n);
    this.epochs = opts.epochs ?? DEFAULT_TRAINING.epochs;
    this.maxSteps = opts.maxSteps ?? Infinity;
    this.order = new Rng(opts.seed).fork('batch-order');
    this.callbacks = callbacksFor(opts);
    this.dropoutLayers = model.layers.filter((l): l is SeededDropout => l instanceof SeededDropout);
    this.optimizer = makeOptimizer(opts);
    this.state = {
      model,
      variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
      epochs: this.epochs,
      steps: 0,
      history: this.history,
      stopTraining: false,
      snapshot: () => this.snapshot(),
    };
  }

  /** Whether another step may be taken: the step budget is not spent and no callback stopped training. */
  mayStep(): boolean {
    return this.state.steps < this.maxSteps && !this.state.stopTraining;
  }

  /** Everything needed to continue the run exactly from here (`state.snapshot()`). */
  private async snapshot(): Promise<TrainingSnapshot> {
    const { model, history, state } = this;
    return {
      format: 'distillery-training-snapshot',
      epoch: history.length,
      steps: state.steps,
      stopTraining: state.stopTraining,
      history: history.map((r) => ({ ...r })),
      weights: model.weights.map((w) => ({ shape: w.shape.map(Number), values: Float32Array.from(w.read().dataSync() as Float32Array) })),
      optimizer: await optimizerState(this.optimizer),
      batchOrder: this.inEpoch ? this.inEpoch.orderFrom : this.order.state(),
      ...(this.inEpoch && this.inEpoch.rows > 0 ? { inEpoch: { rows: this.inEpoch.rows, lossSum: this.inEpoch.lossSum, correct: this.inEpoch.correct } } : {}),
      dropout: this.dropoutLayers.map((l) => l.maskState()),
      callbacks: Object.fromEntries(this.callbacks.filter((c) => c.name && c.saveState).map((c) => [c.name!, c.saveState!()])),
    };
  }

  /** Resume: puts back what `snapshot()` saved; returns the sums of the epoch it was taken in, when taken mid-epoch. */
  async restore(r: TrainingSnapshot): Promise<EpochSums | undefined> {
    restoreWeights(this.model, r);
    await restoreOptimizerState(this.optimizer, r.optimizer);
    this.order = this.order.restore(r.batchOrder);
    this.dropoutLayers.forEach((l, i) => l.restoreMaskState(r.dropout[i]));
    for (const c of this.callbacks) if (c.name && c.loadState && r.callbacks[c.name] !== undefined) c.loadState(r.callbacks[c.name]);
    this.history.push(...r.history);
    this.setSteps(r.steps);
    this.state.stopTraining = r.stopTraining;
    this.firstEpoch = r.epoch + 1;
    return r.inEpoch;
  }

  /** Draws the epoch's permutation of the rows; its sums start from `resumed` (a run resumed mid-epoch), whose rows are skipped. */
  beginEpoch(resumed: EpochSums | undefined): { order: Int32Array; skip: number } {
    const orderFrom = this.order.state();
    const order = this.order.permutation(this.n);
    const { rows, lossSum, correct } = resumed ?? { rows: 0, lossSum: 0, correct: 0 };
    this.inEpoch = { orderFrom, rows, lossSum, correct };
    return { order, skip: rows };
  }

  /** Adds a step over `rows` rows to the epoch's sums, and counts it. */
  countStep(rows: number, step: StepStats): void {
    const e = this.inEpoch!;
    this.inEpoch = { orderFrom: e.orderFrom, rows: e.rows + rows, lossSum: e.lossSum + step.loss * rows, correct: e.correct + step.hits };
    this.setSteps(this.state.steps + 1);
  }

  /** The epoch's sums, at its end (no epoch is in progress after). */
  endEpoch(): EpochSums {
    const { rows, lossSum, correct } = this.inEpoch!;
    this.inEpoch = undefined;
    return { rows, lossSum, correct };
  }

  /** `steps` is read-only to callbacks; the trainer advances it. */
  private setSteps(steps: number): void {
    (this.state as { steps: number }).steps = steps;
  }
}

/** A batch's tensors, made inside the step's tidy. */
interface BatchTensors {
  x: tf.Tensor;
  labels: tf.Tensor1D;
  oneHot: tf.Tensor2D;
  /** Soft targets from the table (computed once per row), where the objective has them. */
  targets?: tf.Tensor2D;
  weights?: tf.Tensor1D;
}

/**
 * Batch filling: host buffers, reused every step, that a batch of training rows is copied into
 * (features, labels, one-hot labels, example weights, soft targets), and the tensors made from them.
 */
class Batch {
  /** The training rows of the batch, in batch order. */
  idx: Int32Array = new Int32Array(0);
  private readonly d: number;
  private readonly K: number;
  private readonly x: Float32Array;
  private readonly y: Int32Array;
  private readonly w: Float32Array;
  private readonly oneHot: Float32Array;
  private readonly targets: Float32Array;

  constructor(
    private readonly train: Dataset,
    size: number,
    private readonly exampleWeights: Float32Array | undefined,
    private readonly targetTable: SoftTargetTable | undefined,
  ) {
    this.d = exampleSize(train);
    this.K = train.classNames.length;
    this.x = new Float32Array(size * this.d);
    this.y = new Int32Array(size);
    this.w = new Float32Array(size);
    this.oneHot = new Float32Array(size * this.K);
    this.targets = new Float32Array(targetTable ? size * this.K : 0);
  }

  get rows(): number {
    return this.idx.length;
  }

  /** The labels of the batch's rows. */
  get labels(): Int32Array {
    return this.y.subarray(0, this.rows);
  }

  /** Copies training rows `idx` into the buffers. */
  fill(idx: Int32Array): void {
    const { train, d, K } = this;
    this.idx = idx;
    for (let i = 0; i < idx.length; i++) {
      this.x.set(train.features.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
      this.y[i] = train.labels[idx[i]];
      this.oneHot.fill(0, i * K, (i + 1) * K);
      this.oneHot[i * K + this.y[i]] = 1;
      if (this.exampleWeights) this.w[i] = this.exampleWeights[idx[i]];
    }
  }

  /** The batch's tensors; call inside a tidy. Soft targets are gathered now, after the callbacks of the batch's begin (a refreshed reference). */
  tensors(): BatchTensors {
    const { rows: b, d, K } = this;
    const x = tf.tensor(this.x.subarray(0, b * d), [b, ...this.train.featureShape]);
    const labels = tf.tensor1d(this.y.subarray(0, b), 'int32');
    // one-hot rows built with the batch (not OneHot + Cast kernels: per-op dispatch dominates small steps)
    const oneHot = tf.tensor2d(this.oneHot.subarray(0, b * K), [b, K]);
    const targets = this.targetTable ? tf.tensor2d(this.targetTable.gather(this.idx, this.targets), [b, K]) : undefined;
    const weights = this.exampleWeights ? tf.tensor1d(this.w.subarray(0, b)) : undefined;
    return { x, labels, oneHot, targets, weights };
  }
}

/** What a step measured: the batch's mean loss (as minimised) and its hits (rows whose training-pass logits predict their label). */
interface StepStats {
  loss: number;
  hits: number;
}

/** The mean of per-example values, example-weighted when `weights` are given: mean(w_i · v_i). */
function exampleMean(perExample: tf.Tensor1D, weights: tf.Tensor1D | undefined): tf.Scalar {
  return (weights ? tf.mean(tf.mul(perExample, weights)) : tf.mean(perExample)) as tf.Scalar;
}

/**
 * The step: forward pass in training mode (and, for an objective that asks, one without
 * dropout), the objective's mean over the batch, backward pass and update of the trainable
 * variables. With `logTerms`, each named term of the objective is then measured on the same
 * logits, outside the gradient, into `terms`.
 */
function trainStep(run: TrainingRun, batch: Batch, terms: TermLog): StepStats {
  const { model, opts, optimizer } = run;
  const objective = opts.objective;
  const K = run.train.classNames.length;
  const stats = tf.tidy(() => {
    const { x, labels, oneHot, targets, weights } = batch.tensors();
    // soft targets from the table where the objective has them, else the reference inside the loss
    const reference = objective.needsReference && !targets ? opts.reference!.rows(batch.idx) : undefined;
    let logitsOut: tf.Tensor2D | undefined;
    let inferenceOut: tf.Tensor2D | undefined;
    // read each step: a phased objective's terms change with its phase
    const logged = opts.logTerms ? objectiveTerms(objective) : undefined;
    const cost = optimizer.minimize(
      () => {
        const logits = model.apply(x, { training: true }) as tf.Tensor2D;
        logitsOut = tf.keep(logits);
        const inferenceLogits = objective.needsInferenceLogits ? (applyWithoutDropout(model, x) as tf.Tensor2D) : undefined;
        if (logged && inferenceLogits) inferenceOut = tf.keep(inferenceLogits);
        const perExample = targets ? softTargetCrossEntropy(targets, logits) : objective.perExampleLoss({ logits, labels, oneHot, reference, inferenceLogits });
        return exampleMean(perExample, weights);
      },
      true,
      run.state.variables as tf.Variable[],
    );
    const result = { loss: cost!.dataSync()[0], hits: countCorrect(argmaxRows(logitsOut!.dataSync() as Float32Array, K), batch.labels) };
    if (logged) {
      const termReference = reference ?? (logged.some(([, t]) => t.needsReference) ? opts.reference!.rows(batch.idx) : undefined);
      const ctx = { logits: logitsOut!, labels, oneHot, reference: termReference, inferenceLogits: inferenceOut };
      const values = tf.stack(logged.map(([, t]) => exampleMean(t.perExampleLoss(ctx), weights))).dataSync();
      terms.add(logged, values, batch.rows);
      inferenceOut?.dispose();
    }
    logitsOut!.dispose();
    return result;
  });
  if (!Number.isFinite(stats.loss)) {
    throw new InputError(run.train.source, `training diverged: loss is ${stats.loss} at step ${run.state.steps + 1} (lower the learning rate, or check the features for extreme values)`);
  }
  return stats;
}

/** The objective's named terms logged per epoch (`logTerms`): each term's weighted sum over the rows it was measured on. */
class TermLog {
  private readonly sums = new Map<string, { weight: number; sum: number; rows: number }>();

  /** Adds a step's mean value of each term, over its `rows` rows. */
  add(terms: readonly WeightedTerm[], values: ArrayLike<number>, rows: number): void {
    terms.forEach(([w, t], j) => {
      const acc = this.sums.get(t.name) ?? { weight: w, sum: 0, rows: 0 };
      this.sums.set(t.name, { weight: w, sum: acc.sum + values[j] * rows, rows: acc.rows + rows });
    });
  }

  /** Each term's mean over the rows it was measured on since the last call (undefined when none was), and a fresh start. */
  take(): EpochRecord['terms'] {
    if (!this.sums.size) return undefined;
    const means = Object.fromEntries([...this.sums].map(([name, t]) => [name, { weight: t.weight, value: t.sum / t.rows }]));
    this.sums.clear();
    return means;
  }
}

/** The epoch's record: the mean loss and training accuracy over its rows, each logged term's mean, and the validation loss and accuracy. */
function epochRecord(epoch: number, sums: EpochSums, terms: TermLog, model: LayersModel, validation: Dataset | undefined): EpochRecord {
  const record: EpochRecord = { epoch, loss: sums.lossSum / sums.rows, trainAccuracy: sums.correct / sums.rows };
  // the mean of each term over the rows it was computed on (a run resumed mid-epoch: from the resumed rows on)
  const means = terms.take();
  if (means) record.terms = means;
  if (validation) {
    const v = evaluate(model, validation);
    record.valLoss = v.loss;
    record.valAccuracy = v.accuracy;
  }
  return record;
}

/** A step's work is synchronous: lets signal handlers (Ctrl-C) run at least every SIGNAL_CHECK_MS, whatever the caller. */
class SignalCheck {
  private last = Date.now();

  due(): boolean {
    return Date.now() - this.last >= SIGNAL_CHECK_MS;
  }

  async letIn(): Promise<void> {
    await yieldToSignals();
    this.last = Date.now();
  }
}
