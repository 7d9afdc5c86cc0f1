/**
 * The work units of experiments (TASKS) on a Redis job queue (BullMQ), for experiments
 * that outgrow one machine: `distillery run --queue redis://…` enqueues one job per task
 * and gathers the outputs in task order; `distillery worker --queue redis://…`, on any
 * number of machines, takes jobs. A task is a pure function of its input, so the results
 * equal a local run's. A worker that dies mid-job loses its lock; BullMQ's stalled-job
 * check hands the job to another worker (it is retried, never lost, and its output is
 * recorded once: a job completes once).
 *
 * Redis must persist the queue (append-only file): without it a Redis restart silently
 * drops queued jobs, so both commands refuse a server that reports `aof_enabled:0`.
 */
import { randomBytes } from 'node:crypto';
import type * as BullMQ from 'bullmq';
import type { Job } from 'bullmq';
import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import { DistilleryError, InputError } from '../util/errors.js';
import { closeWithin, connectRedis, watchOutage } from '../util/redis.js';
import { checkOptional, importOptional } from '../util/optional.js';
import { redactUrl } from '../codistill/store.js';
import { memoTable, TASKS, type TaskContext, type TaskKind } from './tasks.js';
import type { Task } from './workerPool.js';
import type { QueueOptions } from './queueOptions.js';
import type { TaskInput, TaskOutput } from './tasks.js';

export const QUEUE_NAME = 'distillery-tasks';

interface JobData {
  kind: TaskKind;
  input: unknown;
  index: number;
}

/** BullMQ and ioredis (optional peer dependencies), or one line saying to install them. */
async function queuePackages(flag: string): Promise<{ bullmq: typeof BullMQ; Redis: typeof IORedis.Redis }> {
  const feature = `the Redis job queue (${flag} redis://…)`;
  checkOptional(['bullmq', 'ioredis'], feature);
  const bullmq = await importOptional<typeof BullMQ>('bullmq', feature, ['ioredis']);
  const { Redis } = await importOptional<typeof IORedis>('ioredis', feature, ['bullmq']);
  return { bullmq, Redis };
}

/** A connection for BullMQ (blocking commands: no per-request retry limit), or an InputError naming `flag` (util/redis.ts). */
async function connect(url: string, flag: string): Promise<Redis> {
  await queuePackages(flag);
  return connectRedis(url, flag, { feature: `the Redis job queue (${flag} redis://…)`, options: { maxRetriesPerRequest: null, retryStrategy: (t) => Math.min(200 * t, 2000) } });
}

/** A connection to a Redis that may hold the queue: refused (and closed) unless it persists jobs or `allowVolatile`. */
async function connectPersistent(opts: QueueOptions, flag: string, log: (line: string) => void): Promise<Redis> {
  const connection = await connect(opts.url, flag);
  try {
    await checkPersistence(connection, opts.url, flag, !!opts.allowVolatile, log);
  } catch (e) {
    connection.disconnect(); // a refusal ends the command: no connection may keep the process alive
    throw e;
  }
  return connection;
}

/** Refuses (exit 2) a Redis without append-only persistence, unless `allowVolatile`, then warns. */
export async function checkPersistence(redis: Redis, url: string, flag: string, allowVolatile: boolean, log: (line: string) => void): Promise<void> {
  const info = await redis.info('persistence');
  if (/^aof_enabled:1\s*$/m.test(info)) return;
  const problem = `Redis at ${redactUrl(url)} runs without append-only persistence (aof_enabled:0): a restart would lose queued jobs; start it with --appendonly yes`;
  if (!allowVolatile) throw new InputError(flag, `${problem} (or pass --allow-volatile-queue)`);
  log(`warning: ${problem}`);
}

export type { QueueOptions } from './queueOptions.js';

export interface RunOnQueueOptions<K extends TaskKind> extends QueueOptions {
  /** Called as each task's output arrives (e.g. to keep it for a resume). */
  onDone?: (index: number, output: TaskOutput<K>) => void | Promise<void>;
}

/** Runs `tasks` through the queue and returns their outputs in task order. */
export async function runTasksOnQueue<K extends TaskKind>(tasks: Task<K>[], opts: RunOnQueueOptions<K>): Promise<TaskOutput<K>[]> {
  const flag = opts.flag ?? '--queue';
  const log = opts.log ?? (() => {});
  const { Queue, QueueEvents } = (await queuePackages(flag)).bullmq;
  const connection = await connectPersistent(opts, flag, log);
  const eventsConnection = connection.duplicate();
  const queue = new Queue<JobData>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection });
  // a Redis that goes away is waited for (a restart keeps the persisted jobs), for a bounded time
  const outage = watchOutage([connection, eventsConnection], flag, opts.url, opts.outageSeconds, 'stopped waiting for the queued jobs (they stay queued; the outputs that arrived were kept)');
  try {
    await events.waitUntilReady();
    const batch = randomBytes(4).toString('hex');
    const jobs = await queue.addBulk(
      tasks.map((t, index) => ({
        name: t.kind,
        data: { kind: t.kind, input: t.input, index },
        opts: { jobId: `${batch}-${index}`, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } },
      })),
    );
    log(`queued ${jobs.length} job(s) on ${redactUrl(opts.url)} (batch ${batch}); waiting for workers (distillery worker --queue …)`);
    let done = 0;
    const outputs = Promise.all(
      jobs.map(async (job, index) => {
        try {
          const out = (await job.waitUntilFinished(events)) as TaskOutput<K>;
          log(`job ${job.id} done (${++done}/${jobs.length})`);
          await opts.onDone?.(index, out);
          return out;
        } catch (e) {
          if (outage.fired) return outage.lost;
          throw new DistilleryError(`job ${job.id} (${job.name}) failed: ${(e as Error).message}`, 1);
        }
      }),
    );
    outputs.catch(() => {}); // after an outage the race has settled: a later rejection is no one's
    return await Promise.race([outputs, outage.lost]);
  } finally {
    outage.stop();
    if (outage.fired) {
      // nothing waits on a server that is away: drop the connections first, then close what is left
      connection.disconnect();
      eventsConnection.disconnect();
    }
    await closeWithin(5000, [() => events.close(), () => queue.close()]);
    connection.disconnect();
    eventsConnection.disconnect();
  }
}

export interface ServeOptions extends QueueOptions {
  /** Seconds a job's lock lasts without renewal: a dead worker's job is retried after about this long. */
  lockSeconds?: number;
  /** Stop after this many jobs (default: serve until interrupted). */
  maxJobs?: number;
  progress?: TaskContext['progress'];
}

/** Takes jobs from the queue, one at a time, until interrupted (or `maxJobs`). */
export async function serveQueue(opts: ServeOptions): Promise<number> {
  const flag = opts.flag ?? '--queue';
  const log = opts.log ?? (() => {});
  const { Worker } = (await queuePackages(flag)).bullmq;
  const connection = await connectPersistent(opts, flag, log);
  const memo = memoTable();
  const lockMs = (opts.lockSeconds ?? 30) * 1000;
  let served = 0;
  return new Promise<number>((resolve, reject) => {
    const worker = new Worker<JobData>(
      QUEUE_NAME,
      async (job: Job<JobData>) => {
        log(`job ${job.id}: ${job.data.kind} #${job.data.index} (attempt ${job.attemptsStarted})`);
        const task = TASKS[job.data.kind] as { run(input: unknown, ctx: TaskContext): Promise<unknown> };
        return task.run(job.data.input as TaskInput<TaskKind>, { log, memo, progress: opts.progress });
      },
      { connection, concurrency: 1, lockDuration: lockMs, stalledInterval: Math.max(1000, lockMs / 2), maxStalledCount: 3 },
    );
    worker.on('completed', async () => {
      served++;
      if (opts.maxJobs !== undefined && served >= opts.maxJobs) {
        outage.stop();
        await worker.close();
        connection.disconnect();
        resolve(served);
      }
    });
    worker.on('error', (e) => log(`queue: ${e.message}`));
    // a Redis that goes away is waited for (a restart keeps the jobs), for a bounded time
    const outage = watchOutage([connection], flag, opts.url, opts.outageSeconds, 'stopped serving (a job in progress goes back to the queue when its lock expires)');
    const stop = async () => {
      outage.stop();
      await worker.close();
      connection.disconnect();
      resolve(served);
    };
    const fail = async (e: unknown) => {
      outage.stop();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      connection.disconnect();
      await closeWithin(5000, [() => worker.close(true)]);
      reject(e);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    outage.lost.catch(fail);
    worker.waitUntilReady().then(() => log(`waiting for jobs on ${redactUrl(opts.url)}`), fail);
  });
}
