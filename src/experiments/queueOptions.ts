/** Where and how an experiment's tasks go on a Redis job queue (queue.ts; BullMQ and ioredis load only when a queue is used). */
export interface QueueOptions {
  url: string;
  flag?: string;
  allowVolatile?: boolean;
  log?: (line: string) => void;
}
