/**
 * The tasks a worker thread can run, by kind. A task is a pure function of its input (and
 * the engine), so tasks can run in any order, in any worker, with the same result. New
 * experiment kinds (codistillation workers, transfer hops, ensemble training) add a task here.
 */
import type { ProgressSink } from '../train/progress.js';
import type { UpdateExperimentConfig } from './config.js';
import { prepareData, runTrial, type TrialOutcome } from './updateExperiment.js';
import { trainEnsembleMember, type EnsembleMemberRequest } from '../methods/ensemble.js';
import { modelToTransfer, type ModelTransfer } from '../models/io.js';
import type { TransferExperimentConfig } from './transferConfig.js';
import { prepareTransferData, runTransferTrial, type TransferTrialOutcome } from './transferExperiment.js';
import { prepareReproducibilityData, retrainTestProbs, type ReproducibilityConfig, type ReproducibilityRecipe } from './reproducibility.js';

/** What a task may use besides its input. */
export interface TaskContext {
  log(line: string): void;
  progress?: ProgressSink;
  /** A value computed once per worker and key (e.g. loaded data), then reused by later tasks. */
  memo<T>(key: string, make: () => Promise<T>): Promise<T>;
}

export interface TaskDefinition<I, O> {
  run(input: I, ctx: TaskContext): Promise<O>;
}

/** One trial (seed) of an update experiment. */
const updateTrial: TaskDefinition<{ cfg: UpdateExperimentConfig; seed: number }, TrialOutcome> = {
  async run({ cfg, seed }, ctx) {
    const dataKey = JSON.stringify([cfg.data, cfg.labelColumn, cfg.testData, cfg.testSize, cfg.splitSeed]);
    const data = await ctx.memo(`data:${dataKey}`, () => prepareData(cfg));
    return runTrial(cfg, seed, data, { log: ctx.log, progress: ctx.progress });
  },
};

/** Member `j` of `of` of a reference ensemble (ELODI); the model comes back as plain data. */
const ensembleMember: TaskDefinition<{ request: Omit<EnsembleMemberRequest, 'progress'>; j: number; of: number }, ModelTransfer> = {
  async run({ request, j, of }, ctx) {
    const trained = await trainEnsembleMember({ ...request, progress: ctx.progress }, j, of);
    try {
      return await modelToTransfer(trained);
    } finally {
      trained.model.dispose();
    }
  },
};

/** One trial (seed) of a transfer experiment; a saved teacher is loaded once per worker. */
const transferTrial: TaskDefinition<{ cfg: TransferExperimentConfig; seed: number; saveDir?: string }, TransferTrialOutcome> = {
  async run({ cfg, seed, saveDir }, ctx) {
    const dataKey = JSON.stringify([cfg.data, cfg.labelColumn, cfg.testData, cfg.testSize, cfg.splitSeed, cfg.teacher]);
    const data = await ctx.memo(`transfer-data:${dataKey}`, () => prepareTransferData(cfg));
    return runTransferTrial(cfg, seed, data, { log: ctx.log, progress: ctx.progress }, saveDir);
  },
};

/** Retrain `run` of `recipe` in a reproducibility study: its test probabilities. */
const reproducibilityRetrain: TaskDefinition<{ cfg: ReproducibilityConfig; recipe: ReproducibilityRecipe; run: number }, Float32Array> = {
  async run({ cfg, recipe, run }, ctx) {
    const dataKey = JSON.stringify([cfg.data, cfg.labelColumn, cfg.testSize, cfg.trainSize, cfg.splitSeed]);
    const data = await ctx.memo(`reproducibility-data:${dataKey}`, () => prepareReproducibilityData(cfg));
    return retrainTestProbs(cfg, recipe, run, data);
  },
};

/** Every task kind, by name. */
export const TASKS = { 'update-trial': updateTrial, 'ensemble-member': ensembleMember, 'transfer-trial': transferTrial, 'reproducibility-retrain': reproducibilityRetrain } as const;

export type TaskKind = keyof typeof TASKS;
export type TaskInput<K extends TaskKind> = Parameters<(typeof TASKS)[K]['run']>[0];
export type TaskOutput<K extends TaskKind> = Awaited<ReturnType<(typeof TASKS)[K]['run']>>;

/** A memo table for one worker (or for tasks run in this thread). */
export function memoTable(): TaskContext['memo'] {
  const values = new Map<string, Promise<unknown>>();
  return <T>(key: string, make: () => Promise<T>) => {
    let v = values.get(key) as Promise<T> | undefined;
    if (!v) values.set(key, (v = make()));
    return v;
  };
}
