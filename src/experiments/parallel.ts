import { availableParallelism } from 'node:os';
import { engineInfo } from '../engine/index.js';
import type { UpdateExperimentConfig } from './config.js';
import { assembleResult, prepareData, runUpdateExperiment, seedsToRun, type ExperimentHooks, type TrialOutcome, type UpdateExperimentResult } from './updateExperiment.js';
import { runTasks } from './workerPool.js';

export interface ParallelOptions {
  /** Trials run at once, each in its own worker thread (default: the machine's cores, at most the seed count). */
  jobs?: number;
  /** Progress log line every this many epochs from the workers (0 = none). */
  progressEvery?: number;
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
  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), seeds.length));
  const engine = engineInfo();
  if (jobs === 1 || !engine) return runUpdateExperiment(cfg, hooks);
  const started = Date.now();
  const data = await prepareData(cfg); // validates the data up front, in this thread
  const outcomes = await runTasks(
    seeds.map((seed) => ({ kind: 'update-trial' as const, input: { cfg, seed } })),
    { jobs, engine, progressEvery: opts.progressEvery, log: hooks.log, onDone: (_i, outcome) => hooks.onTrialDone?.(outcome as TrialOutcome) },
  );
  return assembleResult(cfg, data, [...(hooks.finishedTrials ?? []), ...outcomes], started);
}
