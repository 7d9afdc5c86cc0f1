import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineInfo } from '../engine/index.js';
import { DistilleryError, ParamError } from '../util/errors.js';
import type { FromWorker, ToWorker } from './taskWorker.js';
import type { TaskInput, TaskKind, TaskOutput } from './tasks.js';

// Same extension as this module: .js from dist/, .ts when run from the sources under tsx,
// where the worker first registers tsx's loader (worker threads do not inherit it).
const EXTENSION = extname(fileURLToPath(import.meta.url));
const WORKER_URL = new URL(`./taskWorker${EXTENSION}`, import.meta.url);

function startWorker(workerData: unknown): Worker {
  if (EXTENSION !== '.ts') return new Worker(WORKER_URL, { workerData });
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export interface PoolOptions {
  /** Worker threads (each runs one task at a time). */
  jobs: number;
  /** The engine every worker initialises (the parent's). */
  engine: Pick<EngineInfo, 'backend' | 'threads'>;
  /** Progress log line every this many epochs from the workers (0 = none). */
  progressEvery?: number;
  log?: (line: string) => void;
  /** Called with each output as its task finishes (awaited before the pool returns). */
  onDone?: (index: number, output: unknown) => void | Promise<void>;
}

/** A task for the pool: its kind (tasks.ts) and input. */
export interface Task<K extends TaskKind = TaskKind> {
  kind: K;
  input: TaskInput<K>;
}

/**
 * Runs `tasks` on `jobs` worker threads and returns their outputs in the order of `tasks`
 * (by index, whatever order they finish in). The first error ends the pool and is thrown.
 */
export async function runTasks<K extends TaskKind>(tasks: Task<K>[], opts: PoolOptions): Promise<TaskOutput<K>[]> {
  const log = opts.log ?? (() => {});
  const outputs = new Array<TaskOutput<K>>(tasks.length);
  const finishing: Promise<void>[] = [];
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(opts.jobs, tasks.length)) }, () =>
    startWorker({ backend: opts.engine.backend, threads: opts.engine.threads, progressEvery: opts.progressEvery ?? 0 }),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const handOut = () => {
              const index = next < tasks.length ? next++ : undefined;
              const message: ToWorker = index === undefined ? { type: 'exit' } : { type: 'task', index, kind: tasks[index].kind, input: tasks[index].input };
              worker.postMessage(message);
              if (index === undefined) resolve();
            };
            worker.on('message', (m: FromWorker) => {
              if (m.type === 'ready') handOut();
              else if (m.type === 'log') log(m.line);
              else if (m.type === 'done') {
                outputs[m.index] = m.output as TaskOutput<K>;
                if (opts.onDone) {
                  const kept = Promise.resolve(opts.onDone(m.index, m.output));
                  kept.catch(reject);
                  finishing.push(kept);
                }
              }
              else reject(m.param ? new ParamError(m.param.sourceText, m.param.problemText, m.param.names) : m.exitCode === null ? new Error(m.message) : new DistilleryError(m.message, m.exitCode));
            });
            worker.on('error', reject);
            worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`experiment worker exited with code ${code}`))));
          }),
      ),
    );
    await Promise.all(finishing);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return outputs;
}
