import type { Command } from 'commander';
import type { QueueOptions } from '../experiments/queueOptions.js';
import { REDIS_OUTAGE_SECONDS } from '../util/redis.js';
import { parseInteger } from './options.js';
import { PATH_KINDS, pathOption } from './pathOptions.js';

/** The flags of a command that uses the job queue (`run --queue`, `worker`). */
export interface QueueFlags {
  queue?: string;
  allowVolatileQueue?: boolean;
  queueOutage: number;
}

/** Adds `--queue` (with this command's help), `--allow-volatile-queue` and `--queue-outage`. */
export function addQueueOptions(cmd: Command, queueHelp: string, opts: { required?: boolean } = {}): Command {
  return cmd
    .addOption(pathOption('--queue <url>', queueHelp, PATH_KINDS.queue, { required: opts.required }))
    .option('--allow-volatile-queue', 'accept a Redis without append-only persistence (a restart loses queued jobs)')
    .option('--queue-outage <s>', "seconds to wait for the queue's Redis when it goes away mid-run (a restart) before giving up", parseInteger('queue-outage', 1, 24 * 3600), REDIS_OUTAGE_SECONDS);
}

/** The queue the flags name, or undefined without --queue. */
export function queueFromFlags(flags: QueueFlags, log?: (line: string) => void): QueueOptions | undefined {
  return flags.queue ? { url: flags.queue, allowVolatile: flags.allowVolatileQueue, outageSeconds: flags.queueOutage, ...(log ? { log } : {}) } : undefined;
}
