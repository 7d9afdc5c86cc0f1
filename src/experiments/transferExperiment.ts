/**
 * The transfer experiment (methods.md §4): per seed, draw training and validation rows, get
 * the teacher (loaded, or trained on the seed's rows), and train the simple student with no
 * transfer, with 1-hop transfer, and through the chain the search picks; measure all three on
 * the held-out test set. Seeds are independent `transfer-trial` tasks.
 */
import * as path from 'node:path';
import type { Dataset, PreprocessingSpec, RawData } from '../data/types.js';
import { rawSize, subsetRaw } from '../data/types.js';
import { applyPreprocessing, fitPreprocessing } from '../data/preprocess.js';
import { checkUpdateScenario, splitUpdateScenario } from '../data/split.js';
import type { TrainedModel } from '../models/types.js';
import type { MlpConfig } from '../models/config.js';
import { loadModel } from '../models/io.js';
import { disposeClassifier, networkClassifier, saveClassifier, type LocalClassifier as Classifier } from '../models/classifier.js';
import { fitModel } from '../methods/fit.js';
import { crossEntropyObjective } from '../objectives/targetObjectives.js';
import { classifierAccuracy } from '../methods/transfer/hop.js';
import { searchChain, type ChainRecord, type HopRecord, type SearchDecision } from '../methods/transfer/chain.js';
import { chooseProbeLayers } from '../methods/exampleWeights.js';
import { autoCandidates, complexity, describeArchitecture } from '../methods/transfer/students.js';
import { meanCI, type MeanCI } from '../metrics/bootstrap.js';
import { engineInfo } from '../engine/index.js';
import { LIBRARY_VERSION } from '../version.js';
import { InputError, ParamError, param, withParamNamesSync } from '../util/errors.js';
import { hopGrid, type TransferExperimentConfig } from './transferConfig.js';
import { prepareData, textOptionsFor, type ExperimentHooks, type PreparedData } from './updateExperiment.js';

/** The data of a transfer experiment and, for a saved teacher, the teacher. */
export interface TransferData extends PreparedData {
  teacher?: TrainedModel;
}

/** The three students of a trial, side by side. */
export const ARMS = ['none', 'oneHop', 'chain'] as const;
export type Arm = (typeof ARMS)[number];
export const ARM_LABELS: Record<Arm, string> = { none: 'no transfer', oneHop: '1-hop', chain: 'chain' };

export interface ArmResult {
  validationAccuracy: number;
  testAccuracy: number;
  /** Intermediate models of the chain (empty for no transfer and 1-hop). */
  intermediates: string[];
  hops: HopRecord[];
}

export interface TransferTrialOutcome {
  seed: number;
  examples: { train: number; validation: number; test: number };
  teacher: { name: string; parameters: number; validationAccuracy: number; testAccuracy: number };
  student: { name: string; parameters: number };
  arms: Record<Arm, ArmResult>;
  search: { candidates: string[]; evaluated: ChainRecord[]; decisions: SearchDecision[] };
  /** Every intermediate trained: its chain prefix, hop (method, validation accuracy) and test accuracy. */
  intermediates: { chain: string[]; hop: HopRecord; testAccuracy: number }[];
}

export interface TransferArmSummary {
  arm: Arm;
  label: string;
  testAccuracy: MeanCI;
  validationAccuracy: MeanCI;
}

export interface TransferExperimentResult {
  kind: 'transfer';
  name: string;
  config: TransferExperimentConfig;
  libraryVersion: string;
  engine: { backend: string; threads: number } | null;
  startedAt: string;
  durationSeconds: number;
  data: { source: string; trainExamples: number; validationExamples: number; testExamples: number; classes: number };
  trials: TransferTrialOutcome[];
  summary: TransferArmSummary[];
  /** Paired over seeds: chain − 1-hop and 1-hop − no transfer, on test and validation accuracy. */
  differences: { chainVsOneHop: { test: MeanCI; validation: MeanCI }; oneHopVsNone: { test: MeanCI; validation: MeanCI }; chainVsNone: { test: MeanCI; validation: MeanCI } };
  teacherTestAccuracy: MeanCI;
}

/**
 * Checks a transfer before any training: the student has fewer parameters than the teacher,
 * and every probe layer a ProfWeight entry names exists in the teacher. Errors name the
 * config's keys (ParamError): `student`, `methods.<i>.layers`.
 */
export function checkTransferSetup(cfg: Pick<TransferExperimentConfig, 'student' | 'methods'>, teacher: TrainedModel): { teacherParams: number; studentParams: number } {
  const K = teacher.meta.classNames.length;
  const teacherParams = teacher.model.countParams();
  const studentParams = complexity(cfg.student, teacher.meta.inputShape, K);
  const teacherName = describeArchitecture(teacher.meta.architecture);
  if (studentParams >= teacherParams) {
    throw new ParamError([param('student')], [`${describeArchitecture(cfg.student)} has ${studentParams} parameters, not fewer than the teacher's (${teacherName}, ${teacherParams}); the student must be the simpler model`], 'config');
  }
  cfg.methods.forEach((m, i) => {
    if (m.method !== 'profweight' || !m.layers) return;
    try {
      chooseProbeLayers(teacher.model, m);
    } catch (e) {
      throw new ParamError([param(`methods.${i}.layers`)], [(e as Error).message.replace(/^probe layers: /, '')], 'config');
    }
  });
  return { teacherParams, studentParams };
}

/** The candidates of a trial, each with its complexity; each must lie between the student and the teacher (errors name `candidates.<i>`). */
function checkedCandidates(configs: MlpConfig[], inputShape: number[], K: number, studentParams: number, teacherParams: number): { config: MlpConfig; complexity: number }[] {
  return configs.map((config, i) => {
    const params = complexity(config, inputShape, K);
    if (!(params > studentParams && params < teacherParams)) {
      throw new ParamError([param(`candidates.${i}`)], [`${describeArchitecture(config)} has ${params} parameters, not between the student's (${studentParams}) and the teacher's (${teacherParams})`], 'config');
    }
    return { config, complexity: params };
  });
}

/** The config keys of a transfer's split, by the names splitUpdateScenario gives its parts. */
const SPLIT_KEYS = { initial: 'split.train', validation: 'split.validation' };

/**
 * Loads the data (and a saved teacher), checking that the split fits the data, that the
 * teacher's classes match the data's, the set-up (checkTransferSetup) and the given candidates.
 * Errors about the config's values name its keys (ParamError).
 */
export async function prepareTransferData(cfg: TransferExperimentConfig): Promise<TransferData> {
  const data = await prepareData(cfg);
  withParamNamesSync('library', SPLIT_KEYS, 'config', () => checkUpdateScenario(rawSize(data.pool), { initial: cfg.split.train, validation: cfg.split.validation, newBatch: 0, source: data.pool.source }));
  if (!('path' in cfg.teacher)) return data;
  const teacher = await loadModel(cfg.teacher.path);
  try {
    for (const raw of [data.pool, data.test]) checkClasses(teacher, raw, cfg.teacher.path);
    const { teacherParams, studentParams } = checkTransferSetup(cfg, teacher);
    if (cfg.candidates !== 'auto') checkedCandidates(cfg.candidates, teacher.meta.inputShape, teacher.meta.classNames.length, studentParams, teacherParams);
  } catch (e) {
    teacher.model.dispose();
    throw e;
  }
  return { ...data, teacher };
}

function checkClasses(teacher: TrainedModel, raw: RawData, teacherDir: string): void {
  const known = new Set(teacher.meta.classNames);
  const seen = new Set(raw.labels);
  const extra = [...seen].filter((c) => !known.has(c));
  if (extra.length) throw new InputError(raw.source, `has classes the teacher ${teacherDir} does not know: ${extra.slice(0, 10).join(', ')}${extra.length > 10 ? ', …' : ''} (teacher classes: ${teacher.meta.classNames.join(', ')})`);
}

function preprocessingFor(cfg: TransferExperimentConfig, data: TransferData, trainRaw: RawData): PreprocessingSpec {
  if (data.teacher) return data.teacher.meta.preprocessing;
  const model = 'model' in cfg.teacher ? cfg.teacher.model : undefined;
  return fitPreprocessing(trainRaw, model ? textOptionsFor(model) : {});
}

/** Seed of a teacher trained by the experiment in trial `seed`. */
export const teacherSeed = (seed: number): number => seed;

/** A trial's rows: the seed's training and validation draw and the test set, preprocessed (the teacher's preprocessing, or one fitted on the training rows). */
export interface TransferTrialRows {
  preprocessing: PreprocessingSpec;
  train: Dataset;
  validation: Dataset;
  test: Dataset;
}

/** The rows of trial `seed`: what every model of the trial trains, stops early and is tested on. */
export function transferTrialRows(cfg: TransferExperimentConfig, seed: number, data: TransferData): TransferTrialRows {
  const split = withParamNamesSync('library', SPLIT_KEYS, 'config', () =>
    splitUpdateScenario(rawSize(data.pool), { seed, initial: cfg.split.train, validation: cfg.split.validation, newBatch: 0, source: data.pool.source }),
  );
  const trainRaw = subsetRaw(data.pool, split.initial);
  const preprocessing = preprocessingFor(cfg, data, trainRaw);
  return {
    preprocessing,
    train: applyPreprocessing(preprocessing, trainRaw),
    validation: applyPreprocessing(preprocessing, subsetRaw(data.pool, split.validation)),
    test: applyPreprocessing(preprocessing, data.test),
  };
}

/** The teacher of trial `seed` when the experiment trains it (an architecture, not a saved model): cross entropy on the trial's rows. */
export async function trainTransferTeacher(cfg: TransferExperimentConfig, seed: number, rows: TransferTrialRows, hooks: ExperimentHooks = {}): Promise<TrainedModel> {
  if (!('model' in cfg.teacher)) throw new Error('transfer: no teacher');
  const fitted = await fitModel({
    architecture: cfg.teacher.model,
    preprocessing: rows.preprocessing,
    train: rows.train,
    validation: rows.validation,
    objective: crossEntropyObjective(),
    training: cfg.teacher.training ?? cfg.training,
    seed: teacherSeed(seed),
    progress: hooks.progress,
    label: `seed ${seed}: teacher`,
  });
  return fitted.trained;
}

/**
 * One trial: split, teacher, candidates, chain search, test accuracies. With `saveDir`, the
 * three students and every intermediate are saved under `saveDir/seed-<seed>/`.
 */
export async function runTransferTrial(cfg: TransferExperimentConfig, seed: number, data: TransferData, hooks: ExperimentHooks = {}, saveDir?: string): Promise<TransferTrialOutcome> {
  const log = (line: string) => hooks.log?.(`seed ${seed}: ${line}`);
  const rows = transferTrialRows(cfg, seed, data);
  const { train, validation, test } = rows;
  const K = rows.preprocessing.classNames.length;
  const teacher = data.teacher ?? (await trainTransferTeacher(cfg, seed, rows, hooks));
  const teacherModel = networkClassifier(teacher);
  const { teacherParams, studentParams } = checkTransferSetup(cfg, teacher);
  const teacherName = describeArchitecture(teacher.meta.architecture);
  const studentName = describeArchitecture(cfg.student);
  const candidateConfigs = cfg.candidates === 'auto' ? autoCandidates(teacherParams, studentParams, train.featureShape, K, cfg.rungs) : cfg.candidates;
  const candidates = checkedCandidates(candidateConfigs, train.featureShape, K, studentParams, teacherParams);
  const teacherTest = classifierAccuracy(teacherModel, test);
  const teacherValidation = classifierAccuracy(teacherModel, validation);
  log(`teacher ${teacherName} (${teacherParams} parameters): test accuracy ${(100 * teacherTest).toFixed(2)}%; student ${studentName} (${studentParams}); candidates ${candidates.map((c) => describeArchitecture(c.config)).join(', ') || 'none'}`);

  const result = await searchChain({
    teacher,
    student: cfg.student,
    candidates,
    grid: hopGrid(cfg),
    search: cfg.search,
    train,
    validation,
    training: cfg.training,
    seed,
    progress: hooks.progress,
    log,
  });
  const arm = (student: Classifier, record: { validationAccuracy: number; names: string[]; hops: HopRecord[] } | null, validationAccuracy: number): ArmResult => ({
    validationAccuracy,
    testAccuracy: classifierAccuracy(student, test),
    intermediates: record?.names ?? [],
    hops: record?.hops ?? [],
  });
  const arms: Record<Arm, ArmResult> = {
    none: arm(result.none.student, null, result.none.validationAccuracy),
    oneHop: arm(result.oneHop.student, result.oneHop.record, result.oneHop.record.validationAccuracy),
    chain: arm(result.chain.student, result.chain.record, result.chain.record.validationAccuracy),
  };
  log(ARMS.map((a) => `${ARM_LABELS[a]} ${(100 * arms[a].testAccuracy).toFixed(2)}%`).join(', ') + ` on test; chain: teacher → ${[...arms.chain.intermediates, studentName].join(' → ')}`);
  const intermediates = result.intermediates.map((m) => ({ chain: m.prefix.map((i) => result.candidates[i]), hop: m.hop, testAccuracy: classifierAccuracy(m.model, test) }));

  if (saveDir) {
    const dir = path.join(saveDir, `seed-${seed}`);
    await saveClassifier(path.join(dir, 'student-no-transfer'), result.none.student);
    await saveClassifier(path.join(dir, 'student-1-hop'), result.oneHop.student);
    await saveClassifier(path.join(dir, 'student-chain'), result.chain.student);
    for (const m of result.intermediates) await saveClassifier(path.join(dir, 'intermediates', m.prefix.map((i) => result.candidates[i].replace(/ /g, '-')).join('_')), m.model);
  }
  const owned = new Set<Classifier>([result.none.student, result.oneHop.student, result.chain.student, ...result.intermediates.map((m) => m.model)]);
  owned.forEach(disposeClassifier);
  if (!data.teacher) teacher.model.dispose();
  return {
    seed,
    examples: { train: train.labels.length, validation: validation.labels.length, test: test.labels.length },
    teacher: { name: teacherName, parameters: teacherParams, validationAccuracy: teacherValidation, testAccuracy: teacherTest },
    student: { name: studentName, parameters: studentParams },
    arms,
    search: { candidates: result.candidates, evaluated: result.evaluated, decisions: result.decisions },
    intermediates,
  };
}

const diff = (trials: TransferTrialOutcome[], a: Arm, b: Arm, on: 'testAccuracy' | 'validationAccuracy', level: number) =>
  meanCI(trials.map((t) => t.arms[a][on] - t.arms[b][on]), level);

/** Puts trials together (in seed order) with the summary over seeds. */
export function assembleTransferResult(cfg: TransferExperimentConfig, data: TransferData, outcomes: TransferTrialOutcome[], startedMs: number): TransferExperimentResult {
  const order = new Map(cfg.seeds.map((s, i) => [s, i]));
  const trials = [...outcomes].sort((a, b) => order.get(a.seed)! - order.get(b.seed)!);
  const info = engineInfo();
  const level = cfg.level;
  const both = (a: Arm, b: Arm) => ({ test: diff(trials, a, b, 'testAccuracy', level), validation: diff(trials, a, b, 'validationAccuracy', level) });
  return {
    kind: 'transfer',
    name: cfg.name,
    config: cfg,
    libraryVersion: LIBRARY_VERSION,
    engine: info ? { backend: info.backend, threads: info.threads } : null,
    startedAt: new Date(startedMs).toISOString(),
    durationSeconds: (Date.now() - startedMs) / 1000,
    data: {
      source: data.pool.source,
      trainExamples: trials[0]?.examples.train ?? 0,
      validationExamples: trials[0]?.examples.validation ?? 0,
      testExamples: rawSize(data.test),
      classes: new Set(data.pool.labels).size,
    },
    trials,
    summary: ARMS.map((arm) => ({
      arm,
      label: ARM_LABELS[arm],
      testAccuracy: meanCI(trials.map((t) => t.arms[arm].testAccuracy), level),
      validationAccuracy: meanCI(trials.map((t) => t.arms[arm].validationAccuracy), level),
    })),
    differences: { chainVsOneHop: both('chain', 'oneHop'), oneHopVsNone: both('oneHop', 'none'), chainVsNone: both('chain', 'none') },
    teacherTestAccuracy: meanCI(trials.map((t) => t.teacher.testAccuracy), level),
  };
}

/** The whole experiment, one seed after another in this thread. */
export async function runTransferExperiment(cfg: TransferExperimentConfig, hooks: ExperimentHooks = {}, saveDir?: string): Promise<TransferExperimentResult> {
  const started = Date.now();
  const data = await prepareTransferData(cfg);
  const outcomes: TransferTrialOutcome[] = [];
  for (const seed of cfg.seeds) outcomes.push(await runTransferTrial(cfg, seed, data, hooks, saveDir));
  if (data.teacher) data.teacher.model.dispose();
  return assembleTransferResult(cfg, data, outcomes, started);
}
