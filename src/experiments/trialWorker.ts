/**
 * Worker thread of runUpdateExperimentParallel: initialises its own engine, loads the
 * data once, then runs the trials (seeds) the parent hands it one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initEngine, type EngineChoice } from '../engine/index.js';
import { logProgress } from '../train/progress.js';
import { DistilleryError } from '../util/errors.js';
import type { UpdateExperimentConfig } from './config.js';
import { prepareData, runTrial } from './updateExperiment.js';

export type ToWorker = { type: 'trial'; seed: number } | { type: 'exit' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'log'; line: string }
  | { type: 'done'; outcome: Awaited<ReturnType<typeof runTrial>> }
  | { type: 'error'; message: string; exitCode: number | null };

const port = parentPort!;
const { cfg, backend, threads, progressEvery } = workerData as { cfg: UpdateExperimentConfig; backend: EngineChoice; threads: number; progressEvery: number };
const send = (m: FromWorker) => port.postMessage(m);
const log = (line: string) => send({ type: 'log', line });

try {
  await initEngine({ backend, threads });
  const data = await prepareData(cfg);
  port.on('message', async (m: ToWorker) => {
    if (m.type === 'exit') {
      port.close();
      return;
    }
    try {
      send({ type: 'done', outcome: await runTrial(cfg, m.seed, data, { log, progress: progressEvery > 0 ? logProgress(log, progressEvery) : undefined }) });
      send({ type: 'ready' });
    } catch (e) {
      send({ type: 'error', message: (e as Error).message, exitCode: e instanceof DistilleryError ? e.exitCode : null });
    }
  });
  send({ type: 'ready' });
} catch (e) {
  send({ type: 'error', message: (e as Error).message, exitCode: e instanceof DistilleryError ? e.exitCode : null });
}
