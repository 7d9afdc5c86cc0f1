import { availableParallelism } from 'node:os';
import { engineInfo } from '../engine/index.js';
import type { UpdateExperimentConfig } from './config.js';
import { assembleResult, checkUpdateSplit, prepareData, runUpdateExperiment, seedsToRun, type ExperimentHooks, type TrialOutcome, type UpdateExperimentResult } from './updateExperiment.js';
import { runTasks } from './workerPool.js';
import type { TransferExperimentConfig } from './transferConfig.js';
import { assembleTransferResult, prepareTransferData, runTransferExperiment, type TransferExperimentResult } from './transferExperiment.js';
import type { QueueOptions } from './queueOptions.js';

export interface ParallelOptions {
  /** Trials run at once, each in its own worker thread (default: the machine's cores, at most the seed count). */
  jobs?: number;
  /** Progress log line every this many epochs from the workers (0 = none). */
  progressEvery?: number;
  /** Run the trials as jobs of a Redis queue (BullMQ) served by `distillery worker` processes. */
  queue?: QueueOptions;
}

/**
 * The update experiment with its trials (seeds) spread over worker threads as
 * `update-trial` tasks. Each trial depends on its seed only, so the result equals
 * runUpdateExperiment's on the same engine.
 */
export async function runUpdateExperimentParallel(
  cfg: UpdateExperimentConfig,
  hooks: ExperimentHooks = {},
  opts: ParallelOptions = {},
): Promise<UpdateExperimentResult> {
  const seeds = seedsToRun(cfg, hooks);
  const trials = seeds.map((seed) => ({ kind: 'update-trial' as const, input: { cfg, seed } }));
  const onDone = (_i: number, outcome: TrialOutcome) => hooks.onTrialDone?.(outcome);
  if (opts.queue) {
    const started = Date.now();
    const data = await prepareData(cfg);
    checkUpdateSplit(cfg, data);
    const { runTasksOnQueue } = await import('./queue.js'); // BullMQ loads only when a queue is used
    const outcomes = await runTasksOnQueue(trials, { log: hooks.log, onDone, ...opts.queue });
    return assembleResult(cfg, data, [...(hooks.finishedTrials ?? []), ...outcomes], started);
  }
  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), seeds.length));
  const engine = engineInfo();
  if (jobs === 1 || !engine) return runUpdateExperiment(cfg, hooks);
  const started = Date.now();
  const data = await prepareData(cfg); // validates the data and the split up front, in this thread
  checkUpdateSplit(cfg, data);
  const outcomes = await runTasks(
    trials,
    { jobs, engine, progressEvery: opts.progressEvery, log: hooks.log, onDone: (i, outcome) => onDone(i, outcome as TrialOutcome) },
  );
  return assembleResult(cfg, data, [...(hooks.finishedTrials ?? []), ...outcomes], started);
}

/**
 * The experiment with its seeds spread over `jobs` worker threads as `transfer-trial` tasks
 * (each depends on its seed only: the same result as runTransferExperiment on the same engine).
 */
export async function runTransferExperimentParallel(
  cfg: TransferExperimentConfig,
  hooks: ExperimentHooks = {},
  opts: { jobs?: number; progressEvery?: number; saveDir?: string } = {},
): Promise<TransferExperimentResult> {
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, cfg.seeds.length));
  const engine = engineInfo();
  if (jobs === 1 || !engine) return runTransferExperiment(cfg, hooks, opts.saveDir);
  const started = Date.now();
  const data = await prepareTransferData(cfg); // validates data and teacher up front, in this thread
  data.teacher?.model.dispose();
  const outcomes = await runTasks(
    cfg.seeds.map((seed) => ({ kind: 'transfer-trial' as const, input: { cfg, seed, saveDir: opts.saveDir } })),
    { jobs, engine, progressEvery: opts.progressEvery, log: hooks.log },
  );
  return assembleTransferResult(cfg, data, outcomes, started);
}
