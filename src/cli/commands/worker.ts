import { Command } from 'commander';
import { createContext, type GlobalFlags } from '../context.js';
import { parseInteger } from '../options.js';
import { logProgress } from '../../train/progress.js';
import { addQueueOptions, queueFromFlags, type QueueFlags } from '../queueOptions.js';

interface WorkerFlags extends QueueFlags {
  lockSeconds: number;
  maxJobs?: number;
}

export function workerCommand(globals: () => GlobalFlags): Command {
  const cmd = new Command('worker').description('take experiment jobs (trials) from a Redis queue filled by `distillery run --queue`, one at a time, until interrupted');
  addQueueOptions(cmd, "the queue's Redis: redis://[user:pass@]host:port/db or rediss://…", { required: true });
  return cmd
    .option('--lock-seconds <s>', 'a job whose worker stops renewing its lock this long is handed to another worker', parseInteger('lock-seconds', 1, 3600), 30)
    .option('--max-jobs <n>', 'exit after this many jobs', parseInteger('max-jobs', 1))
    .action(async (flags: WorkerFlags) => {
      const g = globals();
      const ctx = await createContext(g);
      const { serveQueue } = await import('../../experiments/queue.js'); // BullMQ loads only for this command
      const served = await serveQueue({
        ...queueFromFlags(flags, ctx.log)!, lockSeconds: flags.lockSeconds, maxJobs: flags.maxJobs,
        progress: g.verbose ? logProgress(ctx.log, 10) : undefined,
      });
      ctx.out(`served ${served} job(s)`);
    });
}
