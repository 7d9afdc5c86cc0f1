import type { Dataset, PreprocessingSpec, RawData } from '../data/types.js';
import { subsetRaw, concatDatasets, rawSize } from '../data/types.js';
import { loadData } from '../data/builtin.js';
import { applyPreprocessing, fitPreprocessing } from '../data/preprocess.js';
import { checkUpdateScenario, splitUpdateScenario, trainTestSplit, type UpdateScenario } from '../data/split.js';
import { argmaxRows, softmax } from '../models/logits.js';
import { predictLogits } from '../models/predict.js';
import type { TrainedModel } from '../models/types.js';
import { textOptionsFor } from '../models/config.js';

export { textOptionsFor } from '../models/config.js';
import { fitModel } from '../methods/fit.js';
import { describeMethod, methodNamed, type UpdateMethodSpec } from '../methods/registry.js';
import { ReferenceCache } from '../methods/references.js';
import { resolveReference, type ReferenceSpec, type ResolvedReference } from '../methods/referenceSpec.js';
import { trainUpdate, type BudgetSweepPoint } from '../methods/update.js';
import { OLD_ENSEMBLE_FIRST_MEMBER } from '../methods/ensemble.js';
import { retrainOldModel } from '../methods/retrainOld.js';
import { crossEntropyObjective } from '../objectives/targetObjectives.js';
import { compareModels, type ComparisonMetrics } from '../metrics/compare.js';
import { flipMetrics } from '../metrics/flips.js';
import { meanCI, type MeanCI } from '../metrics/bootstrap.js';
import type { ProgressSink } from '../train/progress.js';
import { engineInfo } from '../engine/index.js';
import { LIBRARY_VERSION } from '../version.js';
import { resolveEntry, type ReferenceConfig, type UpdateExperimentConfig } from './config.js';
import { withParamNamesSync } from '../util/errors.js';

/** One method in one trial (seed), measured on the test set against that trial's base model. */
export interface TrialMethodResult {
  seed: number;
  /** Position of the method in the config's `methods` (results are grouped by it, not by label). */
  methodIndex: number;
  /** The method's display label. */
  method: string;
  spec: UpdateMethodSpec;
  /** Every rate with its bootstrap CI over test examples. */
  metrics: ComparisonMetrics;
  epochsRun: number;
  /** Networks run per prediction: 1, or m for the ensemble paragon. */
  inferenceCost: number;
  /** Churn-budget methods: the λ sweep on validation data. */
  sweep?: { points: BudgetSweepPoint[]; chosenLambda: number; budgetMet: boolean };
}

/** A method's results across seeds: mean with a Student-t CI. */
export interface MethodSummary {
  /** Position of the method in the config's `methods`. */
  methodIndex: number;
  method: string;
  spec: UpdateMethodSpec;
  seeds: number;
  /** Networks run per prediction. */
  inferenceCost: number;
  accuracy: MeanCI;
  churn: MeanCI;
  nfr: MeanCI;
  pfr: MeanCI;
  relativeNfr: MeanCI;
  predictionDifference: MeanCI;
  /** 1 − mean churn / mean churn of plain retraining (positive = less churn). */
  churnReductionVsPlain: number | null;
  /** Mean accuracy minus plain retraining's, in points of accuracy fraction. */
  accuracyDeltaVsPlain: number | null;
}

export interface UpdateExperimentResult {
  name: string;
  config: UpdateExperimentConfig;
  libraryVersion: string;
  engine: { backend: string; threads: number } | null;
  startedAt: string;
  durationSeconds: number;
  data: { source: string; examples: number; classes: number; testExamples: number };
  /** Test accuracy of each trial's base model. */
  base: { seed: number; accuracy: number; epochsRun: number }[];
  trials: TrialMethodResult[];
  summary: MethodSummary[];
}

export interface ExperimentHooks {
  progress?: ProgressSink;
  log?: (line: string) => void;
  /** Trials already finished (a resumed run): kept as they are, not run again. */
  finishedTrials?: TrialOutcome[];
  /** Called as each trial finishes (e.g. to keep it for a resume). */
  onTrialDone?: (outcome: TrialOutcome) => void | Promise<void>;
}

/** The seeds of `cfg` that `hooks.finishedTrials` does not cover, in order. */
export function seedsToRun(cfg: UpdateExperimentConfig, hooks: ExperimentHooks): number[] {
  const done = new Set((hooks.finishedTrials ?? []).map((o) => o.seed));
  return cfg.seeds.filter((s) => !done.has(s));
}

export interface PreparedData {
  pool: RawData;
  test: RawData;
}

/** Loads the data and draws the fixed test hold-out; errors name the config's keys. */
export async function prepareData(cfg: Pick<UpdateExperimentConfig, 'data' | 'labelColumn' | 'testData' | 'testSize' | 'splitSeed'>): Promise<PreparedData> {
  const all = await loadData(cfg.data, { labelColumn: cfg.labelColumn });
  if (cfg.testData) return { pool: all, test: await loadData(cfg.testData, { labelColumn: cfg.labelColumn }) };
  const { train, test } = withParamNamesSync('library', { testSize: 'testSize' }, 'config', () => trainTestSplit(rawSize(all), cfg.testSize, cfg.splitSeed));
  return { pool: subsetRaw(all, train), test: subsetRaw(all, test) };
}

/** The config keys of an update experiment's split, by the names splitUpdateScenario gives its parts. */
const SPLIT_KEYS = { initial: 'split.initial', validation: 'split.validation', newBatch: 'split.newBatch' };

/** Trial `seed`'s parts of the pool (methods.md §1); errors name the config's keys. */
function updateSplit(cfg: Pick<UpdateExperimentConfig, 'split'>, pool: RawData, seed: number): UpdateScenario {
  return withParamNamesSync('library', SPLIT_KEYS, 'config', () => splitUpdateScenario(rawSize(pool), { ...cfg.split, seed, source: pool.source }));
}

/** Checks, before any trial, that the split fits the pool (as every trial's would: the sizes do not depend on the seed). */
export function checkUpdateSplit(cfg: Pick<UpdateExperimentConfig, 'split'>, data: PreparedData): void {
  withParamNamesSync('library', SPLIT_KEYS, 'config', () => checkUpdateScenario(rawSize(data.pool), { ...cfg.split, source: data.pool.source }));
}

function testPredictions(model: TrainedModel, test: Dataset): { pred: Int32Array; probs: Float32Array } {
  const K = test.classNames.length;
  const logits = predictLogits(model.model, test.features, test.featureShape);
  return { pred: argmaxRows(logits, K), probs: softmax(logits, K) };
}

/** What one trial (seed) produces. */
export interface TrialOutcome {
  seed: number;
  base: UpdateExperimentResult['base'][number];
  trials: TrialMethodResult[];
  numClasses: number;
}

/**
 * One trial of the update experiment (methods.md §1) for one seed: draw the initial
 * sample, validation sample and new batch; train the base model on the initial sample;
 * train the new model on initial + new batch with every method; measure accuracy, churn
 * and flips on the held-out test set against the base model. Depends on the seed only,
 * so trials can run in any order or in parallel.
 */
export async function runTrial(cfg: UpdateExperimentConfig, seed: number, data: PreparedData, hooks: ExperimentHooks = {}): Promise<TrialOutcome> {
  const log = hooks.log ?? (() => {});
  const { pool, test: testRaw } = data;
  const methods = cfg.methods.map(resolveEntry);
  const split = updateSplit(cfg, pool, seed);
  const initialRaw = subsetRaw(pool, split.initial);
  const spec: PreprocessingSpec = fitPreprocessing(initialRaw, textOptionsFor(cfg.model));
  const classNames = spec.classNames;
  const numClasses = classNames.length;
  const initial = applyPreprocessing(spec, initialRaw);
  const validation = applyPreprocessing(spec, subsetRaw(pool, split.validation));
  const newBatch = applyPreprocessing(spec, subsetRaw(pool, split.newBatch));
  const test = applyPreprocessing(spec, testRaw);
  const updateTrain = concatDatasets(initial, newBatch);

  const { trained: baseModel, result: baseResult } = cfg.retrainOld
    ? await retrainedBase(cfg, seed, { initial, validation, spec }, hooks)
    : await fitModel({
        architecture: cfg.model,
        preprocessing: spec,
        train: initial,
        validation,
        objective: crossEntropyObjective(),
        training: cfg.training,
        seed,
        recipe: { method: 'base' },
        progress: hooks.progress,
        label: `seed ${seed}: base model`,
      });
  const baseTest = testPredictions(baseModel, test);
  const baseAcc = flipMetrics(test.labels, baseTest.pred, baseTest.pred).accuracyOld;
  log(`seed ${seed}: base model test accuracy ${(100 * baseAcc).toFixed(2)}%`);

  // Reference logits (and ensembles) are built once per trial and shared by the methods that read them.
  const references = new ReferenceCache();
  const resolved = new Map<string, Promise<ResolvedReference | undefined>>();
  const referenceFor = async (method: UpdateMethodSpec, ref: ReferenceConfig): Promise<ResolvedReference | undefined> => {
    if (methodNamed(method.method).reference === 'none') return undefined;
    const refSpec: ReferenceSpec = ref; // a config's reference is a spec (referenceConfigSchema's kinds are ReferenceSpec's)
    const key = JSON.stringify(refSpec);
    let source = resolved.get(key);
    if (!source) {
      source = resolveReference(method, refSpec, {
        base: baseModel, train: updateTrain, validation, preprocessing: spec, architecture: cfg.model, training: cfg.training, seed, progress: hooks.progress, label: `seed ${seed}`,
      });
      resolved.set(key, source);
    }
    return source;
  };

  const trials: TrialMethodResult[] = [];
  for (const [m, { spec: method, reference }] of methods.entries()) {
    const outcome = await trainUpdate({
      base: baseModel,
      train: updateTrain,
      validation,
      method,
      reference: (await referenceFor(method, reference))?.source,
      references,
      training: cfg.training,
      seed: newModelSeed(seed),
      progress: hooks.progress,
      label: `seed ${seed}`,
    });
    const newTest = testPredictions(outcome.trained, test);
    const report = compareModels(
      { labels: test.labels, predOld: baseTest.pred, predNew: newTest.pred, probsOld: baseTest.probs, probsNew: newTest.probs, numClasses, classNames },
      { resamples: cfg.bootstrap.resamples, level: cfg.bootstrap.level, seed: `${seed}/${m}` },
    );
    if (!outcome.members) outcome.trained.model.dispose(); // an ensemble's members belong to its reference source
    const label = describeMethod(method);
    trials.push({ seed, methodIndex: m, method: label, spec: method, metrics: report.metrics, epochsRun: outcome.result.epochsRun, inferenceCost: outcome.inferenceCost ?? 1, sweep: outcome.sweep });
    log(`seed ${seed}: ${label}: accuracy ${(100 * report.metrics.accuracyNew.estimate).toFixed(2)}%, churn ${(100 * report.metrics.churn.estimate).toFixed(2)}%`);
  }
  for (const r of resolved.values()) (await r)?.ensemble?.members.forEach((mm) => mm.model.dispose());
  baseModel.model.dispose();
  return { seed, base: { seed, accuracy: baseAcc, epochsRun: baseResult.epochsRun }, trials, numClasses };
}

/** The retrain-old variant: the base model trained with `cfg.retrainOld` (elodi) toward its own ensemble on the initial sample. */
async function retrainedBase(
  cfg: UpdateExperimentConfig,
  seed: number,
  data: { initial: Dataset; validation: Dataset; spec: PreprocessingSpec },
  hooks: ExperimentHooks,
): Promise<{ trained: TrainedModel; result: { epochsRun: number } }> {
  const entry = resolveEntry(cfg.retrainOld!); // checked by the config's parser
  if (entry.reference.kind !== 'ensemble') throw new Error('retrainOld needs an ensemble reference');
  const resolved = await resolveReference(entry.spec, { kind: 'ensemble', members: entry.reference.members, firstMember: OLD_ENSEMBLE_FIRST_MEMBER }, {
    train: data.initial, validation: data.validation, preprocessing: data.spec, architecture: cfg.model, training: cfg.training, seed, progress: hooks.progress, label: `seed ${seed}: old`,
  });
  const ensemble = resolved!.ensemble!.members;
  try {
    const trained = await retrainOldModel({
      method: entry.spec, ensemble, architecture: cfg.model, preprocessing: data.spec, train: data.initial, validation: data.validation,
      training: cfg.training, seed, progress: hooks.progress, label: `seed ${seed}`,
    });
    return { trained, result: { epochsRun: trained.meta.metrics.epochsRun } };
  } finally {
    for (const m of ensemble) m.model.dispose();
  }
}

/**
 * The new model's seed in trial `seed`: `seed·1000 + 1`, so its initialisation and batch
 * order differ from the base model's (seeded `seed`), as in a cold-start retrain, and every
 * method of the trial starts from the same initialisation.
 */
export function newModelSeed(seed: number): number {
  return seed * 1000 + 1;
}

/** Puts trials (in any order) together into the experiment's result, in seed order. */
export function assembleResult(cfg: UpdateExperimentConfig, data: PreparedData, outcomes: TrialOutcome[], startedMs: number): UpdateExperimentResult {
  const order = new Map(cfg.seeds.map((s, i) => [s, i]));
  const sorted = [...outcomes].sort((a, b) => order.get(a.seed)! - order.get(b.seed)!);
  const info = engineInfo();
  return {
    name: cfg.name,
    config: cfg,
    libraryVersion: LIBRARY_VERSION,
    engine: info ? { backend: info.backend, threads: info.threads } : null,
    startedAt: new Date(startedMs).toISOString(),
    durationSeconds: (Date.now() - startedMs) / 1000,
    data: { source: data.pool.source, examples: rawSize(data.pool) + rawSize(data.test), classes: sorted[0]?.numClasses ?? 0, testExamples: rawSize(data.test) },
    base: sorted.map((o) => o.base),
    trials: sorted.flatMap((o) => o.trials),
    summary: summariseTrials(cfg.methods.map((m) => resolveEntry(m).spec), sorted.flatMap((o) => o.trials), cfg.bootstrap.level),
  };
}

/** The whole update experiment, one seed after another in this thread (see runUpdateExperimentParallel). */
export async function runUpdateExperiment(cfg: UpdateExperimentConfig, hooks: ExperimentHooks = {}): Promise<UpdateExperimentResult> {
  const started = Date.now();
  const data = await prepareData(cfg);
  checkUpdateSplit(cfg, data);
  hooks.log?.(`data: ${data.pool.source}, ${rawSize(data.pool)} training-pool examples, ${rawSize(data.test)} test examples`);
  const outcomes: TrialOutcome[] = [...(hooks.finishedTrials ?? [])];
  for (const seed of seedsToRun(cfg, hooks)) {
    const outcome = await runTrial(cfg, seed, data, hooks);
    await hooks.onTrialDone?.(outcome);
    outcomes.push(outcome);
  }
  return assembleResult(cfg, data, outcomes, started);
}

/** Mean ± t-interval across seeds of each method's test metrics, with reductions vs plain retraining. */
export function summariseTrials(methods: UpdateMethodSpec[], trials: TrialMethodResult[], level: number): MethodSummary[] {
  const summaries = methods.map((spec, methodIndex) => {
    const label = describeMethod(spec);
    const rows = trials.filter((t) => t.methodIndex === methodIndex);
    const ci = (get: (m: ComparisonMetrics) => number | null | undefined) =>
      meanCI(rows.map((r) => get(r.metrics)).filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v)), level);
    return {
      methodIndex,
      method: label,
      spec,
      seeds: rows.length,
      inferenceCost: rows[0]?.inferenceCost ?? 1,
      accuracy: ci((m) => m.accuracyNew.estimate),
      churn: ci((m) => m.churn.estimate),
      nfr: ci((m) => m.nfr.estimate),
      pfr: ci((m) => m.pfr.estimate),
      relativeNfr: ci((m) => m.relativeNfr?.estimate),
      predictionDifference: ci((m) => m.predictionDifference?.estimate),
      churnReductionVsPlain: null as number | null,
      accuracyDeltaVsPlain: null as number | null,
    };
  });
  const plain = summaries.find((s) => s.spec.method === 'plain');
  if (plain) {
    for (const s of summaries) {
      s.churnReductionVsPlain = plain.churn.mean > 0 ? 1 - s.churn.mean / plain.churn.mean : null;
      s.accuracyDeltaVsPlain = s.accuracy.mean - plain.accuracy.mean;
    }
  }
  return summaries;
}
