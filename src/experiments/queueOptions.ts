/** Where and how an experiment's tasks go on a Redis job queue (queue.ts; BullMQ and ioredis load only when a queue is used). */
export interface QueueOptions {
  url: string;
  flag?: string;
  allowVolatile?: boolean;
  /** Seconds the queue's Redis may stay unreachable mid-run before the command gives up (default REDIS_OUTAGE_SECONDS, util/redis.ts). */
  outageSeconds?: number;
  log?: (line: string) => void;
}
