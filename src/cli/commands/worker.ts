import { Command } from 'commander';
import { createContext, type GlobalFlags } from '../context.js';
import { parseInteger } from '../options.js';
import { logProgress } from '../../train/progress.js';
import { PATH_KINDS, pathOption } from '../pathOptions.js';

interface WorkerFlags {
  queue: string;
  lockSeconds: number;
  maxJobs?: number;
  allowVolatileQueue?: boolean;
}

export function workerCommand(globals: () => GlobalFlags): Command {
  return new Command('worker')
    .description('take experiment jobs (trials) from a Redis queue filled by `distillery run --queue`, one at a time, until interrupted')
    .addOption(pathOption('--queue <url>', 'the queue\'s Redis: redis://[user:pass@]host:port/db or rediss://…', PATH_KINDS.queue, { required: true }))
    .option('--lock-seconds <s>', 'a job whose worker stops renewing its lock this long is handed to another worker', parseInteger('lock-seconds', 1, 3600), 30)
    .option('--max-jobs <n>', 'exit after this many jobs', parseInteger('max-jobs', 1))
    .option('--allow-volatile-queue', 'accept a Redis without append-only persistence (a restart loses queued jobs)')
    .action(async (flags: WorkerFlags) => {
      const g = globals();
      const ctx = await createContext(g);
      const { serveQueue } = await import('../../experiments/queue.js'); // BullMQ loads only for this command
      const served = await serveQueue({
        url: flags.queue, lockSeconds: flags.lockSeconds, maxJobs: flags.maxJobs, allowVolatile: flags.allowVolatileQueue, log: ctx.log,
        progress: g.verbose ? logProgress(ctx.log, 10) : undefined,
      });
      ctx.out(`served ${served} job(s)`);
    });
}
