import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineInfo } from '../engine/index.js';
import { DistilleryError } from '../util/errors.js';
import type { UpdateExperimentConfig } from './config.js';
import { assembleResult, prepareData, runUpdateExperiment, type ExperimentHooks, type TrialOutcome, type UpdateExperimentResult } from './updateExperiment.js';
import type { FromWorker, ToWorker } from './trialWorker.js';

export interface ParallelOptions {
  /** Trials run at once, each in its own worker thread (default: the machine's cores, at most the seed count). */
  jobs?: number;
  /** Progress log line every this many epochs from the workers (0 = none). */
  progressEvery?: number;
}

// Same extension as this module: .js from dist/, .ts when run from the sources under tsx,
// where the worker first registers tsx's loader (worker threads do not inherit it).
const EXTENSION = extname(fileURLToPath(import.meta.url));
const WORKER_URL = new URL(`./trialWorker${EXTENSION}`, import.meta.url);

function startWorker(workerData: unknown): Worker {
  if (EXTENSION !== '.ts') return new Worker(WORKER_URL, { workerData });
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * The update experiment with its trials (seeds) spread over worker threads. Each trial
 * depends on its seed only, so the result equals runUpdateExperiment's on the same engine.
 */
export async function runUpdateExperimentParallel(
  cfg: UpdateExperimentConfig,
  hooks: ExperimentHooks = {},
  opts: ParallelOptions = {},
): Promise<UpdateExperimentResult> {
  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), cfg.seeds.length));
  const engine = engineInfo();
  if (jobs === 1 || !engine) return runUpdateExperiment(cfg, hooks);
  const started = Date.now();
  const data = await prepareData(cfg); // validates the data up front, in this thread
  const log = hooks.log ?? (() => {});
  const queue = [...cfg.seeds];
  const outcomes: TrialOutcome[] = [];
  const workers = Array.from(
    { length: jobs },
    () => startWorker({ cfg, backend: engine.backend, threads: engine.threads, progressEvery: opts.progressEvery ?? 0 }),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const next = () => {
              const seed = queue.shift();
              worker.postMessage((seed === undefined ? { type: 'exit' } : { type: 'trial', seed }) satisfies ToWorker);
              if (seed === undefined) resolve();
            };
            worker.on('message', (m: FromWorker) => {
              if (m.type === 'ready') next();
              else if (m.type === 'log') log(m.line);
              else if (m.type === 'done') outcomes.push(m.outcome);
              else reject(m.exitCode === null ? new Error(m.message) : new DistilleryError(m.message, m.exitCode));
            });
            worker.on('error', reject);
            worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`experiment worker exited with code ${code}`))));
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return assembleResult(cfg, data, outcomes, started);
}
