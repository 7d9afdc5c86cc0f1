/**
 * A worker thread of the task pool (workerPool.ts): initialises its own engine, then runs
 * the tasks the parent hands it one at a time, of any registered kind (tasks.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, type EngineChoice } from '../engine/index.js';
import { logProgress } from '../train/progress.js';
import { DistilleryError, ParamError } from '../util/errors.js';
import { memoTable, TASKS, type TaskKind } from './tasks.js';

export type ToWorker = { type: 'task'; index: number; kind: TaskKind; input: unknown } | { type: 'exit' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'log'; line: string }
  | { type: 'done'; index: number; output: unknown }
  | { type: 'error'; message: string; exitCode: number | null; param?: Pick<ParamError, 'sourceText' | 'problemText' | 'names'> };

const port = parentPort!;
const { backend, threads, progressEvery } = workerData as { backend: EngineChoice; threads: number; progressEvery: number };
const send = (m: FromWorker) => port.postMessage(m);
const log = (line: string) => send({ type: 'log', line });
const fail = (e: unknown) =>
  send({
    type: 'error',
    message: (e as Error).message,
    exitCode: e instanceof DistilleryError ? e.exitCode : null,
    // the parameters it names, so that the parent can still name them as the user typed them
    ...(e instanceof ParamError ? { param: { sourceText: e.sourceText, problemText: e.problemText, names: e.names } } : {}),
  });
const memo = memoTable();

try {
  tf.env().set('PROD', true); // this thread runs only Distillery's tasks: no tfjs console advice
  await initEngine({ backend, threads });
  port.on('message', async (m: ToWorker) => {
    if (m.type === 'exit') {
      port.close();
      return;
    }
    try {
      const task = TASKS[m.kind] as { run(input: unknown, ctx: Parameters<(typeof TASKS)[TaskKind]['run']>[1]): Promise<unknown> };
      const output = await task.run(m.input, { log, memo, progress: progressEvery > 0 ? logProgress(log, progressEvery) : undefined });
      send({ type: 'done', index: m.index, output });
      send({ type: 'ready' });
    } catch (e) {
      fail(e);
    }
  });
  send({ type: 'ready' });
} catch (e) {
  fail(e);
}
